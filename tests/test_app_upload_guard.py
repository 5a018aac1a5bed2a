"""The upload page analyses only with a patient, an exercise and a file chosen (AppTest, no browser).

The "Analyse" button is disabled until all three are there; AppTest clicks disabled buttons, so
this also checks the page's own guard: a click without an exercise analyses and stores nothing
and shows no error. (With the exercise chosen, a file that is not a video gets its clear message:
tests/unit/ui/test_app.py.)
"""
from __future__ import annotations

import pytest

from formcheck.store import open_store
from tests.unit.ui import test_app
from tests.unit.ui.test_app import go_to, run_app, seed_session

pytestmark = pytest.mark.app
data_dir = test_app.data_dir  # the fixture: each test gets its own data folder


def test_analyse_without_an_exercise_analyses_nothing(data_dir, tmp_path):
    seed_session(data_dir, tmp_path)
    at = go_to(run_app(), "upload")
    at.file_uploader(key="upload_file").upload("holiday.mp4", b"this is not a video at all", "video/mp4")
    at.run()
    [analyse] = [b for b in at.button if b.label == "Analyse"]
    assert analyse.disabled  # no exercise chosen
    analyse.click().run()
    assert not at.exception and not at.error
    assert len(open_store(data_dir).list_sessions(1)) == 1  # only the seeded session
