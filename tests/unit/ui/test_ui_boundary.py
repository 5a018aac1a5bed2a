"""Streamlit only in the UI: no module of formcheck outside formcheck/ui imports it (the rules are
tested without a screen), and app.py is only the entry point."""
from __future__ import annotations

import ast
from pathlib import Path

from tests.support.paths import REPO_ROOT

PACKAGE = REPO_ROOT / "formcheck"


def imported_modules(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


def test_only_formcheck_ui_imports_streamlit():
    offenders = [str(path.relative_to(REPO_ROOT)) for path in sorted(PACKAGE.rglob("*.py"))
                 if PACKAGE / "ui" not in path.parents
                 and imported_modules(path) & {"streamlit", "streamlit_webrtc"}]
    assert offenders == []


def test_app_py_is_only_the_entry_point():
    source = (REPO_ROOT / "app.py").read_text(encoding="utf-8")
    assert len(source.splitlines()) <= 15
    assert imported_modules(REPO_ROOT / "app.py") == {"formcheck"}
