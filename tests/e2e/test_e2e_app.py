"""app.py end to end: a real Streamlit server, headless Chromium and a fake webcam playing a clip.

(a) a live bird-dog session counts the clip's reps and, after Finish, the review lists it;
(b) a cat-cow clip done as "bird dog" rounds the back: the flat-back cue appears on the page;
(c) an uploaded bird-dog video is analysed and reviewed with its 2 reps;
(d) a red-flag answer stops the session before any camera, and the review warns the clinician.

Screenshots of every step go to test-artifacts/screenshots/app_*.png (and app_<test>_failed_page.png
shows the page when a test fails). One server (one data folder) serves all the tests of this
module; each test uses its own patient and browser.
"""
from __future__ import annotations

import re
import time

import pytest
from playwright.sync_api import expect

from tests.support.app_pages import (
    APP,
    COUNT_AUDIO_JS,
    VIDEOS,
    answer_safety_check,
    app_page,
    camera_file,
    choose_exercise,
    choose_pain,
    count,
    create_patient,
    go_to,
    live_fps,
    live_status,
    open_review,
    start_live_session,
    wait_for_chart,
)
from tests.support.browser import (
    run_streamlit,
    screenshot,
    streamlit_exceptions,
    wait_for_app_idle,
    wait_for_text,
    wait_until,
)

pytestmark = pytest.mark.browser

@pytest.fixture(scope="module")
def server(tmp_path_factory):
    data = tmp_path_factory.mktemp("e2e-app") / "data"
    with run_streamlit(APP, data) as url:
        yield url


@pytest.fixture(scope="module")
def bird_dog_cam(tmp_path_factory):
    return camera_file("bird_dog_360.mp4", tmp_path_factory.mktemp("cam"))  # 2 reps in 14 s


@pytest.fixture(scope="module")
def cat_cow_cam(tmp_path_factory):
    return camera_file("cat_cow_360.mp4", tmp_path_factory.mktemp("cam"))


def test_live_bird_dog_counts_reps_and_the_session_reaches_the_review(server, bird_dog_cam, playwright_instance,
                                                                     chromium_available):
    with app_page(playwright_instance, server, "app_a", fake_camera_y4m=bird_dog_cam) as page:
        start_live_session(page, "Live Bird Dog")
        started = time.monotonic()
        page.get_by_text("Tones", exact=True).click()  # a chime for each rep
        wait_for_app_idle(page)
        page.evaluate(COUNT_AUDIO_JS)
        screenshot(page, "app_a1_live_started")

        wait_until(lambda: count(page, ".fc-total") >= 1, timeout_s=40,
                   message=lambda: f"no rep counted; page shows {live_status(page)}")
        screenshot(page, "app_a2_first_rep")
        wait_until(lambda: count(page, ".fc-total") >= 2, timeout_s=40,
                   message=lambda: f"second rep not counted; page shows {live_status(page)}")
        two_reps_s = time.monotonic() - started
        assert count(page, ".fc-left") >= 1 and count(page, ".fc-right") >= 1
        fps = live_fps(page)
        screenshot(page, "app_a3_two_reps")
        assert page.evaluate("window.fcAudioPlayed") >= 1, "no chime was played for the reps"

        choose_pain(page, "pain_after", 1)
        page.get_by_role("button", name="Finish session").click()
        wait_for_text(page, "Well done! Your session is saved.", timeout_ms=30_000)
        reps_done = int(page.locator('[data-testid="stMetric"]').filter(has_text="Repetitions")
                        .locator('[data-testid="stMetricValue"]').inner_text())
        assert reps_done >= 2
        screenshot(page, "app_a4_finished")

        open_review(page, "Live Bird Dog")
        expect(page.get_by_role("combobox", name="Open a session")).to_have_value(
            re.compile(rf"Bird dog · {reps_done} reps · complete"), timeout=30_000)
        wait_for_chart(page)
        assert streamlit_exceptions(page) == []
        screenshot(page, "app_a5_review")
        print(f"\n[e2e live] 2 reps counted {two_reps_s:.1f} s after the video started; "
              f"{reps_done} reps saved; live page showed {fps[0]} fps, {fps[1]} ms per frame" if fps else "")


def test_live_rounded_back_shows_the_flat_back_cue(server, cat_cow_cam, playwright_instance, chromium_available):
    with app_page(playwright_instance, server, "app_b", fake_camera_y4m=cat_cow_cam) as page:
        start_live_session(page, "Rounded Back")
        cue = page.locator(".fc-danger").filter(has_text="Keep your back flat")
        cue.wait_for(state="visible", timeout=45_000)
        fps = live_fps(page)
        screenshot(page, "app_b1_flat_back_cue")
        assert streamlit_exceptions(page) == []
        choose_pain(page, "pain_after", 2)
        page.get_by_role("button", name="Finish session").click()
        wait_for_text(page, "Your session is saved.", timeout_ms=30_000)
        advice = page.locator('[data-testid="stMarkdownContainer"]').filter(has_text="For next time")
        expect(advice).to_contain_text("Keep your back flat")
        screenshot(page, "app_b2_finished_with_advice")
        print(f"\n[e2e cue] live page {fps[0]} fps, {fps[1]} ms per frame" if fps else "")


def test_upload_bird_dog_video_is_analysed_and_reviewed(server, playwright_instance, chromium_available):
    with app_page(playwright_instance, server, "app_c") as page:
        go_to(page, "Clinician: upload a video")
        create_patient(page, "Upload Patient")
        choose_exercise(page, "Bird dog")  # no default exercise
        page.locator('[data-testid="stFileUploaderDropzoneInput"]').set_input_files(str(VIDEOS / "bird_dog_360.mp4"))
        wait_for_text(page, "bird_dog_360.mp4")
        wait_for_app_idle(page)
        screenshot(page, "app_c1_upload_ready")
        started = time.monotonic()
        page.get_by_role("button", name="Analyse").click()
        wait_for_text(page, re.compile(r"Analysed and saved as session \d+: 2 reps"), timeout_ms=80_000)
        analysed_s = time.monotonic() - started
        wait_for_chart(page)
        assert page.locator('[data-testid="stMetric"]').filter(has_text="Reps").first \
            .locator('[data-testid="stMetricValue"]').inner_text() == "2"
        assert streamlit_exceptions(page) == []
        screenshot(page, "app_c2_upload_reviewed")
        print(f"\n[e2e upload] 14 s clip analysed in {analysed_s:.1f} s")


def test_red_flag_stops_the_session_before_the_camera(server, playwright_instance, chromium_available):
    with app_page(playwright_instance, server, "app_d") as page:
        create_patient(page, "Red Flag Patient")
        answer_safety_check(page, yes_to="Fever")
        wait_for_text(page, "Please stop: do not exercise today.")
        wait_for_text(page, "Contact your doctor")
        wait_for_text(page, "You answered yes to:")
        assert page.get_by_role("button", name="Start session").count() == 0
        assert page.locator('iframe[title="streamlit_webrtc.component.webrtc_streamer"]').count() == 0
        screenshot(page, "app_d1_red_flag_stop")

        open_review(page, "Red Flag Patient")
        alert = page.locator('[data-testid="stAlertContentWarning"]').filter(has_text="Red-flag symptoms reported")
        expect(alert).to_contain_text("1 time in the last 30 days", timeout=30_000)
        expect(alert).to_contain_text("Fever or chills")
        assert streamlit_exceptions(page) == []
        screenshot(page, "app_d2_review_red_flag_warning")
