#!/usr/bin/env bash
# ruff, then mypy, as configured in pyproject.toml; both always run, and the lint fails if either did.
set -uo pipefail
cd "$(dirname "$0")/.."
status=0
.venv/bin/ruff check . || status=1
.venv/bin/mypy || status=1
exit $status
