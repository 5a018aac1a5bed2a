#!/usr/bin/env bash
# Creates .venv (Python 3.11 or 3.12) with formcheck and its pinned dependencies.
# Usage: scripts/setup-env.sh [test|test-tools]   -- both also install requirements-test.lock;
#        "test" also installs Chromium for the browser tests (`make test-fast` needs none).
set -euo pipefail
cd "$(dirname "$0")/.."
want_test=${1:-}
case "$want_test" in
  ""|test|test-tools) ;;
  *) echo "usage: scripts/setup-env.sh [test|test-tools]" >&2; exit 2 ;;
esac

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

# Two locks, each pinning every package it brings (solved once, checked with `pip check`), so
# installs are fast and repeatable: requirements.lock runs the app and the CLI;
# requirements-test.lock adds the test tools (pytest, hypothesis, playwright, ruff, mypy, ray).
# A stamp per lock: an install is redone only when its lock or pyproject.toml is newer.
stale() {  # stale STAMP FILE...: is STAMP missing or older than any FILE?
  local stamp=$1; shift
  [ -f "$stamp" ] || return 0
  local f
  for f in "$@"; do [ "$f" -nt "$stamp" ] && return 0; done
  return 1
}

stamp=.venv/.formcheck-installed
if stale "$stamp" requirements.lock pyproject.toml; then
  .venv/bin/python -m pip install -q --upgrade pip
  # -e keeps the repo's exercises/ live for clinicians editing them.
  .venv/bin/python -m pip install -q -r requirements.lock
  .venv/bin/python -m pip install -q --no-deps --no-build-isolation -e .
  .venv/bin/python -m pip check
  rm -f "$stamp" && touch "$stamp"  # a new file: a venv copied with hard links must not share its stamp
fi

test_stamp=.venv/.formcheck-test-installed
if [ -n "$want_test" ] && stale "$test_stamp" requirements-test.lock requirements.lock pyproject.toml; then
  # Both locks in one resolution: the run pins hold, the test tools come on top.
  .venv/bin/python -m pip install -q -r requirements.lock -r requirements-test.lock
  .venv/bin/python -m pip check
  rm -f "$test_stamp" && touch "$test_stamp"
fi

if [ "$want_test" = "test" ] && [ ! -x /usr/bin/chromium ]; then
  # Debian's Chromium drives the browser tests; Playwright's own browser download cannot work offline.
  if [ "$(id -u)" = 0 ]; then
    apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium
  else
    sudo apt-get update -q && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium
  fi
fi
