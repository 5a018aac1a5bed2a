#!/usr/bin/env bash
# Creates .venv (Python 3.11 or 3.12) with formcheck and its pinned dependencies.
# Usage: scripts/setup-env.sh [test]   -- "test" also installs the test tools and Chromium.
set -euo pipefail
cd "$(dirname "$0")/.."
want_test=${1:-}

pick_python() {
  for py in python3.11 python3.12 python3; do
    if command -v "$py" >/dev/null 2>&1 &&
       "$py" -c 'import sys; sys.exit(0 if (3, 11) <= sys.version_info[:2] <= (3, 12) else 1)'; then
      echo "$py"; return 0
    fi
  done
  echo "formcheck needs Python 3.11 or 3.12 (mediapipe 0.10.21 has no wheels for 3.13; the pinned packages need 3.11+)." >&2
  return 1
}

if [ ! -x .venv/bin/python ]; then
  "$(pick_python)" -m venv .venv
fi
stamp=.venv/.formcheck-installed
if [ ! -f "$stamp" ] || [ requirements.lock -nt "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
  .venv/bin/python -m pip install -q --upgrade pip
  # The lock pins every package (solved once, checked with `pip check`), so installs are
  # fast and repeatable; -e keeps the repo's exercises/ live for clinicians editing them.
  .venv/bin/python -m pip install -q -r requirements.lock
  .venv/bin/python -m pip install -q --no-deps --no-build-isolation -e .
  .venv/bin/python -m pip check
  touch "$stamp"
fi

if [ "$want_test" = "test" ] && [ ! -x /usr/bin/chromium ]; then
  # Debian's Chromium drives the browser tests; Playwright's own browser download cannot work offline.
  if [ "$(id -u)" = 0 ]; then
    apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium
  else
    sudo apt-get update -q && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium
  fi
fi
