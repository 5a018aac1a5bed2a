"""An installed wheel must find the exercise definitions too (they live outside the package folder)."""
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests.support.paths import REPO_ROOT


def _source_copy(tmp_path: Path) -> Path:
    """The files a wheel is built from, copied: pip builds in the source folder, and setuptools never
    empties the build/ it leaves there, so a module moved or deleted since the last build would
    still go into every later wheel built from the repo itself."""
    source = tmp_path / "source"
    source.mkdir()
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        shutil.copy2(REPO_ROOT / name, source / name)
    for name in ("formcheck", "exercises"):
        shutil.copytree(REPO_ROOT / name, source / name, ignore=shutil.ignore_patterns("__pycache__"))
    return source


def test_wheel_contains_every_exercise_definition(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
                           "-w", str(tmp_path), str(_source_copy(tmp_path))], capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 0, proc.stderr
    wheel = next(tmp_path.glob("formcheck-*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    for toml in (REPO_ROOT / "exercises").glob("*.toml"):
        assert f"formcheck/exercises/{toml.name}" in names
    assert "formcheck/backends/replay.py" in names
    # Every module of the source tree and nothing else: a new subpackage missing from pyproject's
    # [tool.setuptools] packages, or a stale module from an old build, would fail here.
    modules = {n for n in names if n.startswith("formcheck/") and n.endswith(".py")
               and not n.startswith("formcheck/exercises/")}
    assert modules == {p.relative_to(REPO_ROOT).as_posix() for p in (REPO_ROOT / "formcheck").rglob("*.py")}


@pytest.mark.slow
def test_installed_wheel_loads_definitions_outside_the_repo(tmp_path):
    wheel_dir = tmp_path / "wheel"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
                    "-w", str(wheel_dir), str(_source_copy(tmp_path))], check=True, capture_output=True, timeout=300)
    target = tmp_path / "site"
    wheel = next(wheel_dir.glob("formcheck-*.whl"))
    zipfile.ZipFile(wheel).extractall(target)  # what an install puts on sys.path
    code = ("import formcheck.spec as s; print(s.exercises_dir()); "
            "print(s.load_exercise('bird_dog').title)")
    proc = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True,
                          env={"PYTHONPATH": str(target), "PATH": "/usr/bin:/bin"}, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert str(target) in proc.stdout and "Bird dog" in proc.stdout
