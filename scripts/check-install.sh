#!/usr/bin/env bash
# The install, checked on every Python that pyproject.toml's requires-python and the README promise:
# for each one found on this machine, a throw-away venv gets requirements.lock and formcheck
# (then `pip check` and a smoke test: every formcheck module and mediapipe's bundled pose model
# import, the CLI lists the exercises), then requirements-test.lock on top (then `pip check` again). Promised versions that are
# not on this machine are named at the end; with --require-all they fail the check.
# Costs minutes per Python (pip's cache makes the second run quicker); `.ci/run` runs it.
# Usage: scripts/check-install.sh [--require-all]
set -euo pipefail
cd "$(dirname "$0")/.."
require_all=${1:-}

# Keep in step with requires-python (">=3.11,<3.13") and README's set-up; tests/unit/test_tooling.py checks.
PROMISED="3.11 3.12"

find_python() {  # find_python 3.12: the first interpreter of that version here, or nothing
  local v=$1 candidates=() py
  candidates+=("python$v" "/usr/bin/python$v" "/usr/local/bin/python$v")
  if command -v pyenv >/dev/null 2>&1; then
    # pyenv keeps versions that its shims do not put on PATH unless selected.
    for py in "$(pyenv root)"/versions/"$v".*/bin/python"$v"; do candidates+=("$py"); done
  fi
  for py in "${candidates[@]}"; do
    if "$py" -c "import sys; sys.exit(0 if '%d.%d' % sys.version_info[:2] == '$v' else 1)" >/dev/null 2>&1; then
      command -v "$py" || echo "$py"
      return 0
    fi
  done
  return 1
}

IMPORT_ALL='import importlib, pkgutil, formcheck, mediapipe.python.solutions.pose
for m in pkgutil.walk_packages(formcheck.__path__, "formcheck."):
    importlib.import_module(m.name)'

check_one() {  # check_one PYTHON VENV: each step must pass (set -e does not reach into an `if`)
  local py=$1 venv=$2 pip="$2/bin/python -m pip" out
  "$py" -m venv "$venv" || return 1
  $pip install -q --upgrade pip || return 1
  $pip install -q -r requirements.lock || return 1
  # Built from a copy: a build/ folder left in the repo would leak stale modules into later wheels.
  $pip install -q --no-deps --no-build-isolation "$work/src" || return 1
  out=$($pip check) || { echo "$out" >&2; return 1; }
  echo "   requirements.lock: $out"
  # The run lock alone must do: every formcheck module imports, the bundled pose model's module
  # loads, the CLI answers. Outside the repo, so the installed package is what is imported.
  (cd "$work" && "$venv/bin/python" -c "$IMPORT_ALL") || return 1
  (cd "$work" && "$venv/bin/formcheck" exercises >/dev/null) || return 1
  $pip install -q -r requirements.lock -r requirements-test.lock || return 1
  out=$($pip check) || { echo "$out" >&2; return 1; }
  echo "   + requirements-test.lock: $out"
}

work=$(mktemp -d "${TMPDIR:-/tmp}/formcheck-check-install.XXXXXX")
trap 'rm -rf "$work"' EXIT
mkdir "$work/src"
cp -r pyproject.toml README.md LICENSE formcheck exercises "$work/src/"
checked=() missing=() failed=()

for v in $PROMISED; do
  if ! py=$(find_python "$v"); then
    missing+=("$v")
    continue
  fi
  echo "== Python $v ($py, $("$py" -c 'import platform; print(platform.python_version())'))"
  venv="$work/py$v"
  started=$SECONDS
  if check_one "$py" "$venv"; then
    checked+=("$v")
    echo "   ok in $((SECONDS - started)) s"
  else
    failed+=("$v")
    echo "   FAILED after $((SECONDS - started)) s" >&2
  fi
  rm -rf "$venv"
done

echo "check-install: installs and passes pip check on: ${checked[*]:-none}"
[ ${#failed[@]} = 0 ] || echo "check-install: FAILED on: ${failed[*]}" >&2
if [ ${#missing[@]} != 0 ]; then
  echo "check-install: promised but not on this machine, NOT checked: ${missing[*]}" >&2
fi
[ ${#failed[@]} = 0 ] || exit 1
if [ "$require_all" = "--require-all" ] && [ ${#missing[@]} != 0 ]; then exit 1; fi
[ ${#checked[@]} != 0 ] || { echo "check-install: no promised Python found" >&2; exit 1; }
