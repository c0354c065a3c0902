# The README's commands. Only python3 and make are needed; everything else goes into .venv.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PORT ?= 3000

.PHONY: venv tools run test proto lint build bench bench-tab cold-start fuzz soak chromium screenshots

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

test: venv chromium
	$(BIN)/python infra/scripts/gen_proto.py --check
	$(BIN)/ruff check .
	$(BIN)/python -m pytest $(PYTEST_ARGS)

proto: venv
	$(BIN)/python infra/scripts/gen_proto.py

# The admin console's browser tests drive Debian's chromium (Playwright's own download is not used).
# Installed when missing if we are root with apt-get (as in CI); otherwise one line says what to run.
chromium:
	@command -v $${CHROMIUM:-chromium} >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "installing chromium for the browser tests (apt-get)"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else \
	    echo "The browser tests need chromium: run 'sudo apt-get install -y chromium' (or set CHROMIUM=/path/to/chromium)"; \
	    exit 1; \
	  fi; }

# Admin-console screenshots (docs/img/, shown in docs/admin-console.md) taken by the browser tests' own stack and browser.
screenshots: venv chromium
	$(BIN)/python infra/scripts/screenshots.py

# Deployment tools (sam, cfn-lint) live in their own virtualenv; see infra/tools-requirements.txt.
TOOLS := .venv-tools
TOOLS_BIN := $(TOOLS)/bin
TOOLS_STAMP := $(TOOLS)/.installed
# No telemetry, and a region for the tools that insist on one (nothing here talks to AWS).
SAM_ENV := SAM_CLI_TELEMETRY=0 AWS_DEFAULT_REGION=$${AWS_DEFAULT_REGION:-us-east-1}
# The functions' architecture (template.yaml Globals); the built layer's native code must match it.
LAMBDA_ARCH := arm64

tools: $(TOOLS_STAMP)

$(TOOLS_STAMP): infra/tools-requirements.txt
	@test -x $(TOOLS_BIN)/python || $(PYTHON) -m venv $(TOOLS)
	$(TOOLS_BIN)/python -m pip install --quiet --upgrade pip
	$(TOOLS_BIN)/python -m pip install --quiet -r infra/tools-requirements.txt
	@touch $(TOOLS_STAMP)

# Code style, types (mypy --strict, config in pyproject.toml), the package's shape (no import circle, no
# private name across files, no module over 400 lines: two unit tests that `make test` runs as well), the
# layer's pins, the template (SAM + CloudFormation linters) and what no linter sees: that the translated
# template really streams the chat routes.
lint: venv tools
	$(BIN)/ruff check .
	$(BIN)/ruff format --check --extend-exclude '*.md' .  # Python sources; README snippets stay compact
	$(BIN)/mypy
	$(BIN)/python -m pytest -p no:randomly tests/unit/test_import_graph.py tests/unit/test_module_size.py
	$(BIN)/python infra/scripts/layer_requirements.py --check
	$(SAM_ENV) $(TOOLS_BIN)/sam validate --lint --template template.yaml
	$(TOOLS_BIN)/cfn-lint template.yaml
	$(SAM_ENV) $(TOOLS_BIN)/python infra/scripts/check_template.py template.yaml

# sam build without containers: it needs the runtime's python3.12 first on PATH (a pyenv shim is not
# enough), then every .so in the layer must be an $(LAMBDA_ARCH) ELF.
build: tools
	@py312="$$(infra/scripts/python312_dir.sh)" || exit 1; \
	echo "sam build with $$py312/python3.12"; \
	PATH="$$py312:$$PATH" $(SAM_ENV) $(TOOLS_BIN)/sam build --template template.yaml --parallel --cached
	$(PYTHON) infra/scripts/check_layer_elf.py .aws-sam/build/CommonLayer/python --arch $(LAMBDA_ARCH)

# Benchmarks print figures and ratios (never gates): chat through the gateway vs straight to the fake.
bench: venv
	$(BIN)/python bench/bench_chat.py

# Copilot++: added time to the first /cpp/stream event, gateway vs straight to the fake (c=1 and 16).
bench-tab: venv
	$(BIN)/python bench/bench_tab.py

# Import time of every Lambda handler module (a cold start's init), and no network calls in it.
cold-start: venv
	$(BIN)/python bench/cold_start.py

# The whole product offline, for a first look without a Cursor account: the gateway and a fake Cursor
# backend in one process, demo state in a temp dir (never ./data). Ctrl-C stops everything.
.PHONY: demo
demo: venv
	@exec $(BIN)/cursor-gateway demo
# Deeper schema fuzz than the bounded run in `make test` (tests/fuzz): FUZZ_EXAMPLES cases per operation
# and mode, FUZZ_SEED to explore elsewhere. Prints the figures (cases, status classes, 500s, failures).
FUZZ_EXAMPLES ?= 60
FUZZ_SEED ?= 16
fuzz: venv
	FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) FUZZ_SEED=$(FUZZ_SEED) $(BIN)/python -m pytest tests/fuzz -q -s --timeout 1800

# Soak: 32 streams with 5% upstream faults plus concurrent admin writes for SOAK_SECONDS; prints figures
# (served, error classes, p50/p99, RSS growth, writes lost), never gates.
SOAK_SECONDS ?= 60
soak: venv
	$(BIN)/python bench/bench_soak.py --seconds $(SOAK_SECONDS)
