#!/usr/bin/env bash
# Creates .venv if missing and installs lifecycle with its development tools into it.
# Re-installs only when pyproject.toml changed since the last install.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  echo "creating .venv with $($PYTHON --version)" >&2
  "$PYTHON" -m venv .venv
fi
stamp=.venv/.lifecycle-installed
want=$(sha256sum pyproject.toml | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  echo "installing lifecycle and its dependencies into .venv" >&2
  # This machine's pip configuration names package folders that may not exist; its warnings
  # about them are noise, everything else pip says is kept.
  quiet() { "$@" 2> >(grep -v "^WARNING: Location '.*' is ignored" >&2); }
  quiet .venv/bin/python -m pip install --quiet --upgrade pip >/dev/null
  quiet .venv/bin/python -m pip install --quiet -e ".[dev]"
  echo "$want" > "$stamp"
fi
