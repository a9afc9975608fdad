#!/usr/bin/env bash
# Sets up (first run only) and runs `lifecycle demo` on the embedded SQLite store.
# Extra arguments go to the demo, e.g. ./scripts/demo.sh --seed 3 --json
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
exec .venv/bin/lifecycle demo "$@"
