"""An installed wheel must find the exercise definitions too (they live outside the package folder)."""
import subprocess
import sys
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def test_wheel_contains_every_exercise_definition(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
                           "-w", str(tmp_path), str(REPO)], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    wheel = next(tmp_path.glob("formcheck-*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    for toml in (REPO / "exercises").glob("*.toml"):
        assert f"formcheck/exercises/{toml.name}" in names
    assert "formcheck/backends/replay.py" in names


def test_installed_wheel_loads_definitions_outside_the_repo(tmp_path):
    wheel_dir = tmp_path / "wheel"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
                    "-w", str(wheel_dir), str(REPO)], check=True, capture_output=True, timeout=300)
    target = tmp_path / "site"
    wheel = next(wheel_dir.glob("formcheck-*.whl"))
    zipfile.ZipFile(wheel).extractall(target)  # what an install puts on sys.path
    code = ("import formcheck.spec as s; print(s.exercises_dir()); "
            "print(s.load_exercise('bird_dog').title)")
    proc = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True,
                          env={"PYTHONPATH": str(target), "PATH": "/usr/bin:/bin"}, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert str(target) in proc.stdout and "Bird dog" in proc.stdout
