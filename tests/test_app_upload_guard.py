"""The upload page analyses only with a patient, an exercise and a file chosen (AppTest, no browser).

The "Analyse" button is disabled until all three are there; AppTest clicks disabled buttons, so
these tests also check the page's own guard: a click without an exercise analyses nothing and
shows no error, and with the exercise chosen a file that is not a video gets the clear message.
(The second test is tests/test_app.py's not-a-video test with the exercise chosen, as a patient
must; the lead may fold it back into that file.)
"""
from __future__ import annotations

import pytest

import test_app
from formcheck.store import open_store
from test_app import go_to, run_app, seed_session, texts

pytestmark = pytest.mark.app
data_dir = test_app.data_dir  # the fixture: each test gets its own data folder


def upload_not_a_video(data_dir, tmp_path, exercise: str | None):
    seed_session(data_dir, tmp_path)
    at = go_to(run_app(), "upload")
    if exercise is not None:
        at.selectbox(key="upload_exercise").set_value(exercise)
    at.file_uploader(key="upload_file").upload("holiday.mp4", b"this is not a video at all", "video/mp4")
    at.run()
    [analyse] = [b for b in at.button if b.label == "Analyse"]
    assert analyse.disabled == (exercise is None)
    analyse.click().run()
    assert not at.exception
    return at


def test_analyse_without_an_exercise_analyses_nothing(data_dir, tmp_path):
    at = upload_not_a_video(data_dir, tmp_path, exercise=None)
    assert not at.error
    assert len(open_store(data_dir).list_sessions(1)) == 1


def test_upload_of_a_file_that_is_not_a_video_shows_a_clear_message(data_dir, tmp_path):
    at = upload_not_a_video(data_dir, tmp_path, exercise="glute_bridge")
    message = texts(at.error)
    assert "could not be read as a video" in message and "holiday.mp4" in message
    assert "Traceback" not in message and str(data_dir) not in message
    assert len(open_store(data_dir).list_sessions(1)) == 1  # nothing half-stored
    assert not list((data_dir / "tmp").iterdir())  # the upload was not kept
