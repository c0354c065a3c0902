#!/usr/bin/env bash
# Print a directory holding a real python3.12 executable, for `sam build` (Runtime: python3.12).
# SAM validates the interpreter it finds on PATH by running it; a pyenv shim for a version that is not
# the active one fails that check, so the shim directory is useless and we look for the real binary:
#   $PYTHON312_DIR, then every pyenv 3.12.x prefix, then the usual system locations.
set -uo pipefail

works() { [ -x "$1/python3.12" ] && "$1/python3.12" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 12))' 2>/dev/null; }

candidates=()
[ -n "${PYTHON312_DIR:-}" ] && candidates+=("$PYTHON312_DIR")
if command -v pyenv >/dev/null 2>&1; then
    while read -r version; do
        prefix="$(pyenv prefix "$version" 2>/dev/null)" && candidates+=("$prefix/bin")
    done < <(pyenv versions --bare 2>/dev/null | grep -E '^3\.12(\.[0-9]+)?$' | sort -t. -k3 -n -r)
fi
candidates+=(/usr/local/bin /usr/bin)

for dir in "${candidates[@]}"; do
    if works "$dir"; then
        echo "$dir"
        exit 0
    fi
done
cat >&2 <<'MSG'
make build: no python3.12 found. `sam build` needs a real python3.12 interpreter (the Lambda runtime's
version) to install the layer's dependencies. Install one (`pyenv install 3.12`, or your distribution's
python3.12 package) or point PYTHON312_DIR at the directory that holds its python3.12 executable.
MSG
exit 1
