#!/usr/bin/env bash
# Sets up (first run only) and runs every check: lint, format, types, the dependency rule,
# and the whole test suite on SQLite and PostgreSQL (LIFECYCLE_TEST_DATABASE_URL, default
# postgresql://postgres@127.0.0.1:5432/test; outside CI the PostgreSQL tests are skipped with
# a reason when no server answers, with CI=true they fail). Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
echo "== ruff" && .venv/bin/ruff check lifecycle tests scripts
echo "== ruff format" && .venv/bin/ruff format --check lifecycle tests scripts
echo "== mypy (strict)" && .venv/bin/mypy
echo "== import rules" && .venv/bin/lint-imports
echo "== pytest" && .venv/bin/pytest "$@"
