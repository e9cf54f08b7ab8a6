# Sourced by scripts/demo and scripts/test: make sure .venv exists and holds this checkout
# with the extras named in GATEKEEPER_EXTRAS, reinstalling when pyproject.toml changes.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
python="${PYTHON:-python3}"
if ! "$python" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
    echo "gatekeeper needs Python 3.11 or newer; set PYTHON=/path/to/python3.11" >&2
    exit 1
fi
extras="${GATEKEEPER_EXTRAS:-}"
stamp=".venv/.installed-$( (cat pyproject.toml; echo "$extras") | sha256sum | cut -c1-16)"
if [ ! -f "$stamp" ]; then
    [ -x .venv/bin/python ] || "$python" -m venv .venv
    .venv/bin/python -m pip install --quiet --upgrade pip
    .venv/bin/python -m pip install --quiet -e ".${extras:+[$extras]}"
    rm -f .venv/.installed-*
    touch "$stamp"
fi
