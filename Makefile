# The README's commands. Only python3 and make are needed; everything else goes into .venv.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PORT ?= 3000

.PHONY: venv run test proto lint

venv: $(STAMP)

# Reinstall only when pyproject.toml changed since the last install.
$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

# AUTH_TOKEN: yours if set, else the one kept in .local/auth_token (created once, git-ignored).
run: venv
	@if [ -z "$${AUTH_TOKEN:-}" ]; then \
	  mkdir -p .local; \
	  if [ ! -s .local/auth_token ]; then \
	    (umask 077; $(BIN)/python -c 'import secrets; print(secrets.token_urlsafe(32))' > .local/auth_token); \
	  fi; \
	  export AUTH_TOKEN="$$(cat .local/auth_token)"; \
	  echo "AUTH_TOKEN (admin bearer, kept in .local/auth_token): $$AUTH_TOKEN"; \
	fi; \
	PORT=$(PORT) exec $(BIN)/cursor-gateway serve

test: venv
	$(BIN)/python infra/scripts/gen_proto.py --check
	$(BIN)/ruff check .
	$(BIN)/python -m pytest $(PYTEST_ARGS)

proto: venv
	$(BIN)/python infra/scripts/gen_proto.py

lint: venv
	$(BIN)/ruff check .
