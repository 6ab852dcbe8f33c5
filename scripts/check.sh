#!/usr/bin/env bash
# The test command: lint, format check, strict typing, then the test suite.
# Extra arguments go to pytest (e.g. scripts/check.sh -k quotes).
set -euo pipefail
cd "$(dirname "$0")/.."
.venv/bin/ruff check .
.venv/bin/ruff format --check .
.venv/bin/mypy
.venv/bin/python -m pytest "$@"
