"""The promises of the set-up, kept in step: the Python versions, the two locks, the markers."""
from __future__ import annotations

import re
import tomllib

from tests.support.paths import REPO_ROOT

ROOT = REPO_ROOT
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def _name(requirement: str) -> str:
    """The normalised project name of a requirement line ("Foo_Bar>=1; marker" -> "foo-bar")."""
    match = re.match(r"[A-Za-z0-9._-]+", requirement.strip())
    assert match, requirement
    return re.sub(r"[-_.]+", "-", match.group(0)).lower()


def _lock(name: str) -> dict[str, str]:
    pins = {}
    for line in (ROOT / name).read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            assert re.fullmatch(r"[A-Za-z0-9._-]+==[A-Za-z0-9.+!-]+", line), f"{name}: not an exact pin: {line}"
            pins[_name(line)] = line.split("==")[1]
    return pins


def test_check_install_covers_exactly_the_promised_pythons():
    # requires-python ">=3.11,<3.13": 3.11 and 3.12, as the README and setup-env.sh say.
    spec = PYPROJECT["project"]["requires-python"]
    low, high = re.fullmatch(r">=3\.(\d+),<3\.(\d+)", spec).groups()
    promised = [f"3.{minor}" for minor in range(int(low), int(high))]
    script = (ROOT / "scripts" / "check-install.sh").read_text(encoding="utf-8")
    assert re.search(r'^PROMISED="([0-9. ]+)"$', script, re.M).group(1).split() == promised
    assert f"Python {' or '.join(promised)}" in (ROOT / "README.md").read_text(encoding="utf-8")


def test_the_run_lock_runs_and_the_test_lock_only_adds_the_test_tools():
    run, test = _lock("requirements.lock"), _lock("requirements-test.lock")
    assert not set(run) & set(test), "a package pinned in both locks"
    for requirement in PYPROJECT["project"]["dependencies"]:
        if "python_version < '3.11'" not in requirement:
            assert _name(requirement) in run, f"{requirement}: not pinned in requirements.lock"
    extras = PYPROJECT["project"]["optional-dependencies"]
    for requirement in extras["test"] + extras["cluster"]:
        assert _name(requirement) in test, f"{requirement}: not pinned in requirements-test.lock"
    # `make run` installs no test tool (the reason the locks were split).
    assert not {"pytest", "hypothesis", "playwright", "ray", "ruff", "mypy"} & set(run)


def test_the_lint_tools_are_pinned_to_the_same_versions_in_pyproject_and_the_lock():
    test = _lock("requirements-test.lock")
    for requirement in PYPROJECT["project"]["optional-dependencies"]["test"]:
        if "==" in requirement:
            assert test[_name(requirement)] == requirement.split("==")[1], requirement


def test_the_fast_selection_is_declared():
    markers = " ".join(PYPROJECT["tool"]["pytest"]["ini_options"]["markers"])
    for marker in ("model", "browser", "slow", "app"):
        assert f"{marker}:" in markers
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    assert '-m "not model and not browser and not slow and not app"' in makefile
