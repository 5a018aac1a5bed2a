"""A two-exercise prescription followed in a real browser through to "done for today".

The clinician's prescription (bird dog, then cat-cow, one set of two reps each) is stored for a
patient; the patient's page then offers exercise 1, the fake camera plays the bird dog clip,
the set is finished; a new camera (the cat-cow clip) does exercise 2; the page says done.
"""
from __future__ import annotations

from datetime import date, timedelta

import pytest

from formcheck.clinic.prescription import PrescribedExercise, Prescription, save_prescription, to_toml
from formcheck.store import open_store
from tests.support.app_pages import APP, VIEWPORT, answer_safety_check, camera_file, choose_pain, count, live_status
from tests.support.browser import (
    click_webrtc_start,
    launch_chromium,
    open_app,
    run_streamlit,
    screenshot,
    streamlit_exceptions,
    wait_for_app_idle,
    wait_for_text,
    wait_for_webrtc_video,
    wait_until,
)

pytestmark = pytest.mark.browser

PRESCRIPTION = Prescription(
    exercises=(PrescribedExercise("bird_dog", sets=1, reps=2, rest_s=30),
               PrescribedExercise("cat_cow", sets=1, reps=2)),
    sessions_per_week=5,
    notes="Slow and steady.",
)


def do_prescribed_set(playwright, url, camera, expect_text: str, shot: str) -> None:
    browser = launch_chromium(playwright, fake_camera_y4m=camera)
    try:
        page = browser.new_page(viewport=VIEWPORT)
        open_app(page, url)
        wait_for_text(page, "2. Safety check")  # the safety check is drawn: answer it (once a day)
        answer_safety_check(page)
        choose_pain(page, "pain_before", 2)
        wait_for_text(page, expect_text)
        screenshot(page, f"{shot}_plan")
        page.get_by_role("button", name="Start session").click()
        wait_for_app_idle(page, timeout_ms=60_000)
        click_webrtc_start(page)
        wait_for_webrtc_video(page, timeout_ms=45_000)
        wait_until(lambda: count(page, ".fc-total") >= 2, timeout_s=60,
                   message=lambda: f"reps not counted; page shows {live_status(page)}")
        wait_for_text(page, "Set 1 of 1: 2 ")
        screenshot(page, f"{shot}_live")
        choose_pain(page, "pain_after", 2)
        page.get_by_role("button", name="Finish session").click()
        wait_for_text(page, "Your session is saved.", timeout_ms=30_000)
        assert streamlit_exceptions(page) == []
    except Exception:
        screenshot(page, f"{shot}_failed")
        raise
    finally:
        browser.close()


def test_two_exercise_prescription_to_done_for_today(tmp_path, playwright_instance, chromium_available):
    data = tmp_path / "data"
    store = open_store(data)
    patient = store.add_patient("Rx Patient", surgery_date=date.today() - timedelta(weeks=10))
    save_prescription(store, patient, to_toml(PRESCRIPTION))
    cams = tmp_path / "cams"
    cams.mkdir()
    with run_streamlit(APP, data) as url:
        do_prescribed_set(playwright_instance, url, camera_file("bird_dog_360.mp4", cams),
                          "exercise 1 of 2. Bird dog: set 1 of 1", "rx_1_bird_dog")
        do_prescribed_set(playwright_instance, url, camera_file("cat_cow_360.mp4", cams),
                          "exercise 2 of 2. Cat-cow: set 1 of 1", "rx_2_cat_cow")
        browser = launch_chromium(playwright_instance)
        try:
            page = browser.new_page(viewport=VIEWPORT)
            open_app(page, url)
            wait_for_text(page, "2. Safety check")
            answer_safety_check(page)
            choose_pain(page, "pain_before", 1)
            wait_for_text(page, "Done for today")
            screenshot(page, "rx_3_done_for_today")
        finally:
            browser.close()
    sessions = store.list_sessions(patient)
    assert sorted(s.exercise for s in sessions) == ["bird_dog", "cat_cow"]
    assert all(s.reps >= 2 and s.status == "complete" for s in sessions)
