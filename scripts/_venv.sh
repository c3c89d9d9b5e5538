# Sourced by the scripts: create .venv and install Podium when missing or out of date.
# Quick when already set up: it compares a stamp of pyproject.toml before touching pip.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
PY="${PYTHON:-}"
if [ -z "$PY" ]; then
  for candidate in python3.13 python3.12 python3.11 python3; do
    if command -v "$candidate" >/dev/null 2>&1 && "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
      PY="$candidate"; break
    fi
  done
fi
[ -n "$PY" ] || { echo "Podium needs Python >= 3.11" >&2; exit 1; }
EXTRAS="${PODIUM_EXTRAS:-dev}"
STAMP=".venv/.podium-installed-$EXTRAS"
WANT="$(cat pyproject.toml | sha256sum | cut -d' ' -f1)"
if [ ! -x .venv/bin/python ]; then
  echo "==> creating .venv with $PY" >&2
  "$PY" -m venv .venv
fi
if [ ! -f "$STAMP" ] || [ "$(cat "$STAMP")" != "$WANT" ]; then
  echo "==> installing Podium and its $EXTRAS dependencies into .venv" >&2
  .venv/bin/python -m pip install --quiet --upgrade pip >&2
  .venv/bin/python -m pip install --quiet -e ".[$EXTRAS]" >&2
  echo "$WANT" > "$STAMP"
fi
