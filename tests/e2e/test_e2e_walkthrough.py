"""Issue 12's walk-through, in a real browser: what broke for a new patient and a new clinician.

(a) a kept video plays on the review page (its URL answers 200/206, the page gets a duration)
    and choosing a rep moves the video there;
(b) a live bird-dog set at 1366 x 768 with "save a video" ticked: no red error box while the
    video is written, every action (the count, the message, pain after, Finish) on screen
    beside the video without scrolling, a "get into position" guide with the camera picture
    before counting, the set's end announced instead of "keep going", and with a stubbed
    ``speechSynthesis`` each rep and the set's end spoken exactly once, never two lines at the
    same time; afterwards the kept live video plays for the clinician;
(c) the red-flag gate: a stop survives a reload, and nothing but the questions is offered
    until they are sent.

Screenshots go to test-artifacts/screenshots/walk_*.png.
"""
from __future__ import annotations

import re
import time
from pathlib import Path

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout
from playwright.sync_api import expect

from formcheck import review
from formcheck.spec import load_exercise
from formcheck.store import open_store
from formcheck.uploads import analyze_upload
from tests.support.app_pages import (
    APP,
    SETUP_PICTURE,
    answer_safety_check,
    camera_file,
    choose_exercise,
    choose_pain,
    create_patient,
    go_to,
    ready_to_start,
)
from tests.support.browser import (
    click_webrtc_start,
    launch_chromium,
    open_app,
    run_streamlit,
    screenshot,
    screenshots_if_failed,
    select_option,
    streamlit_exceptions,
    wait_for_app_idle,
    wait_for_text,
    wait_for_webrtc_video,
    wait_until,
)
from tests.support.paths import VIDEOS

pytestmark = pytest.mark.browser

LAPTOP = {"width": 1366, "height": 768}
CLIP = VIDEOS / "bird_dog_360.mp4"

# Replaces the browser's voice: records each line and whether it started while another was being
# said (each "says" for 0.8 s). Installed before the page's own scripts run.
FAKE_SPEECH_JS = """
window.fcSaid = []; window.fcOverlaps = 0;
const fake = {
  speaking: false,
  speak(u) {
    if (this.speaking) window.fcOverlaps += 1;
    this.speaking = true; window.fcSaid.push(u.text);
    setTimeout(() => { this.speaking = false; if (u.onend) u.onend(); }, 800);
  },
  cancel() {}, pause() {}, resume() {}, getVoices() { return []; },
};
Object.defineProperty(window, "speechSynthesis", {value: fake, configurable: true});
window.SpeechSynthesisUtterance = function (text) { this.text = text; };
"""
ERROR_BOX = '[data-testid="stAlertContentError"]'


@pytest.fixture(scope="module")
def data_with_kept_video(tmp_path_factory):
    """A data folder with one uploaded bird-dog session whose annotated video was kept."""
    data = tmp_path_factory.mktemp("walk") / "data"
    store = open_store(data)
    patient = store.add_patient("Video Patient")
    with open(CLIP, "rb") as clip:
        session, result = analyze_upload(store, patient, load_exercise("bird_dog"), clip, CLIP.name,
                                         CLIP.stat().st_size, keep_video=True)
    return data, session, result


@pytest.fixture(scope="module")
def server(data_with_kept_video):
    with run_streamlit(APP, data_with_kept_video[0]) as url:
        yield url


def video_state(page, selector: str = "video") -> dict:
    return page.locator(selector).first.evaluate(
        "v => ({src: v.currentSrc || v.src, duration: v.duration, t: v.currentTime, ready: v.readyState,"
        " error: v.error ? v.error.code : null})")


def check_kept_video_plays(page, shot: str, server, data_dir) -> dict:
    """The review's <video>: its URL answers, the browser reads a duration; returns its state."""
    video = page.locator('[data-testid="stVideo"]').first
    try:
        video.wait_for(timeout=30_000)
    except PlaywrightTimeout:
        raise AssertionError(f"no video on the review page\n{why_no_video(page, server, data_dir)}") from None
    wait_for_app_idle(page)  # the run that drew it may still redraw it (then the element is replaced)
    video.scroll_into_view_if_needed()
    src = video_state(page, '[data-testid="stVideo"]')["src"]
    for headers in ({}, {"Range": "bytes=0-"}, {"Accept-Encoding": "gzip, deflate", "Range": "bytes=0-"}):
        response = page.request.get(src, headers=headers)
        assert response.status in (200, 206), f"{src} {headers}: HTTP {response.status}"
        assert "content-encoding" not in response.headers
    wait_until(lambda: (video_state(page, '[data-testid="stVideo"]')["duration"] or 0) > 0, timeout_s=30,
               message=lambda: f"the video never loaded: {video_state(page, '[data-testid=stVideo]')}")
    screenshot(page, shot)
    return video_state(page, '[data-testid="stVideo"]')


def why_no_video(page, server, data_dir) -> str:
    """What a missing review video needs explaining: the page's text, the stored sessions and
    their video files, the server's log (a CI failure is read from this alone)."""
    lines = ["--- the page ---", page.locator('[data-testid="stMain"]').inner_text()[:3000], "--- sessions ---"]
    store = open_store(data_dir)
    for patient in store.list_patients():
        for s in store.list_sessions(patient.id):
            on_disk = s.video_path is not None and Path(s.video_path).is_file()
            lines.append(f"{patient.name}: session {s.id} {s.status} video={s.video_path} on disk={on_disk}")
    return "\n".join([*lines, server.logs(6_000)])


def test_a_kept_video_plays_and_jumps_to_a_rep(server, data_with_kept_video, playwright_instance,
                                               chromium_available):
    _, _, result = data_with_kept_video
    browser = launch_chromium(playwright_instance)
    try:
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        with screenshots_if_failed("walk_a", {"page": page}):
            open_app(page, server)
            go_to(page, "Clinician: review")
            select_option(page, "Patient", "Video Patient")
            state = check_kept_video_plays(page, "walk_a1_kept_video", server, data_with_kept_video[0])
            assert state["error"] is None and state["duration"] == pytest.approx(14.2, abs=0.5)
            second = review.moments(result.reps, result.flags)[1]
            select_option(page, "Go to a rep or flag", second.label)
            target = review.video_start(second.t_s)
            wait_until(lambda: abs(video_state(page, '[data-testid="stVideo"]')["t"] - target) < 0.5, timeout_s=30,
                       message=lambda: f"video at {video_state(page, '[data-testid=stVideo]')['t']}, wanted {target}")
            screenshot(page, "walk_a2_jumped_to_rep")
            assert streamlit_exceptions(page) == []
    finally:
        browser.close()


def to_top(page) -> None:
    """Scroll the page back to its top, as a patient who just pressed Start has not scrolled the live view."""
    page.evaluate("""() => { window.scrollTo(0, 0);
        for (const el of document.querySelectorAll('*')) if (el.scrollTop > 0) el.scrollTop = 0; }""")


def on_screen(page, locator) -> bool:
    """The element is inside the window without scrolling (the page is at its top)."""
    box = locator.bounding_box()
    return box is not None and box["y"] >= 0 and box["y"] + box["height"] <= LAPTOP["height"]


# What the patient needs beside the video in every phase (set-up with its camera picture,
# 3-2-1, counting, set finished), none of it below the fold at 1366 x 768. Read in one go in the
# page, so the panel's fragment cannot replace an element between finding and measuring it.
BELOW_THE_FOLD_JS = """setUpPicture => {
  const finish = [...document.querySelectorAll('[data-testid="stButton"] button')]
    .find(b => b.innerText.trim() === 'Finish session');
  const actions = {
    video: document.querySelector("iframe[title='streamlit_webrtc.component.webrtc_streamer']"),
    counts: document.querySelector('.fc-counters'),
    'set-up picture': document.querySelector(setUpPicture),
    message: document.querySelector('.fc-box'),
    'pain after': document.querySelector('.st-key-pain_after'),
    Finish: finish,
  };
  const box = document.querySelector('.fc-box');
  const below = Object.entries(actions).filter(([, el]) => el)
    .filter(([, el]) => { const r = el.getBoundingClientRect(); return r.top < 0 || r.bottom > window.innerHeight; })
    .map(([name]) => name);
  return {phase: box ? box.className : '', below};
}"""


def test_a_live_set_is_spoken_announced_and_saves_its_video_without_an_error(
        server, data_with_kept_video, tmp_path, playwright_instance, chromium_available):
    data_dir = data_with_kept_video[0]
    camera = camera_file("bird_dog_360.mp4", tmp_path)  # 2 reps after 4 s still
    browser = launch_chromium(playwright_instance, fake_camera_y4m=camera)
    try:
        page = browser.new_page(viewport=LAPTOP)
        page.add_init_script(FAKE_SPEECH_JS)
        with screenshots_if_failed("walk_b", {"page": page}):
            open_app(page, server)
            ready_to_start(page, "Walk Patient", "Bird dog")
            reps_box = page.get_by_label("How many repetitions in this set?")
            reps_box.fill("2")
            reps_box.press("Enter")
            wait_for_app_idle(page)
            page.get_by_text("Save a video of this session").click()
            expect(page.get_by_role("checkbox", name=re.compile("Save a video"))).to_be_checked()
            wait_for_app_idle(page)
            page.get_by_role("button", name="Start session").click()
            wait_for_app_idle(page, timeout_ms=60_000)
            click_webrtc_start(page)
            wait_for_webrtc_video(page, timeout_ms=45_000)
            to_top(page)
            screenshot(page, "walk_b1_live_laptop", full_page=False)
            errors_seen, set_up_seen, finish_missing = 0, set(), 0
            below: dict[str, set[str]] = {}  # phase -> the actions seen below the fold in it
            deadline = time.monotonic() + 90
            while time.monotonic() < deadline:
                errors_seen = max(errors_seen, page.locator(ERROR_BOX).count())
                # Every poll: the panel's height changes with its phase.
                fold = page.evaluate(BELOW_THE_FOLD_JS, SETUP_PICTURE)
                if fold["below"]:
                    if not below:
                        screenshot(page, "walk_b_below_the_fold", full_page=False)
                    below.setdefault(fold["phase"], set()).update(fold["below"])
                # The panel redraws twice a second; the Finish area beside it must stay (it once vanished).
                finish_missing += page.get_by_role("button", name="Finish session").count() == 0
                for kind in ("setup", "countdown"):  # "get into position", then 3-2-1, before counting
                    if page.locator(f".fc-box.fc-{kind}").count():
                        set_up_seen.add(kind)
                        if kind == "setup" and page.locator(SETUP_PICTURE).count():
                            if "picture" not in set_up_seen:
                                screenshot(page, "walk_b1_getting_into_position", full_page=False)
                            set_up_seen.add("picture")
                if page.get_by_text("Set finished: 2 of 2").count():
                    break
                time.sleep(0.5)
            to_top(page)
            screenshot(page, "walk_b2_set_finished", full_page=False)
            assert page.get_by_text("Set finished: 2 of 2").count(), page.locator(".fc-box").inner_text()
            assert on_screen(page, page.get_by_role("button", name="Finish session")), "Finish is below the fold"
            assert "Keep going" not in page.locator(".fc-box").inner_text()
            assert errors_seen == 0, "a red error box appeared while the video was being saved"
            assert not below, f"below the fold at 1366 x 768 (by the message's class): {below}"
            assert finish_missing == 0, f"Finish was gone in {finish_missing} polls"
            time.sleep(3)  # the last line is said after the minimum gap
            said = page.evaluate("window.fcSaid")
            overlaps = page.evaluate("window.fcOverlaps")
            counts = [line.split(".")[0] for line in said if re.match(r"^\d+\b", line)]
            assert counts == ["1", "2"], said  # each rep once
            assert sum("Set finished" in line for line in said) == 1, said
            assert overlaps == 0
            assert {"setup", "picture"} <= set_up_seen, set_up_seen  # the position guide with its picture
            assert said.count("Three. Two. One. Go!") <= 1, said
            choose_pain(page, "pain_after", 2)
            page.get_by_role("button", name="Finish session").click()
            wait_for_text(page, "Your session is saved.", timeout_ms=30_000)
            assert page.locator(ERROR_BOX).count() == 0
            go_to(page, "Clinician: review")
            select_option(page, "Patient", "Walk Patient")
            check_kept_video_plays(page, "walk_b3_live_video_reviewed", server, data_dir)
            assert streamlit_exceptions(page) == []
    finally:
        browser.close()


def test_a_red_flag_stop_survives_a_reload_and_unsent_answers_offer_nothing(server, playwright_instance,
                                                                             chromium_available):
    browser = launch_chromium(playwright_instance)
    try:
        page = browser.new_page(viewport=LAPTOP)
        with screenshots_if_failed("walk_c", {"page": page}):
            open_app(page, server)
            create_patient(page, "Gate Patient")
            answer_safety_check(page)  # all "No": the questions go, so no unsent "Yes" can sit beside Start
            fever = page.locator('[data-testid="stRadio"]').filter(has_text="Fever")
            wait_for_text(page, "Safety check done today")
            assert fever.count() == 0
            choose_pain(page, "pain_before", 2)
            choose_exercise(page, "Glute bridge")
            expect(page.get_by_role("button", name="Start session")).to_be_visible()
            # Something new to report: the questions again, and no Start until they are sent.
            page.get_by_role("button", name="I have a new symptom to report").click()
            fever.first.wait_for(timeout=30_000)
            wait_for_app_idle(page)
            fever.get_by_text("Yes", exact=True).click()
            assert page.get_by_role("button", name="Start session").count() == 0
            assert page.locator(".st-key-pain_before").count() == 0
            screenshot(page, "walk_c0_new_symptom_unsent")
            answer_safety_check(page, yes_to="Fever")
            wait_for_text(page, "Please stop: do not exercise today.")
            page.reload()
            open_app(page, server)
            select_option(page, "Patient", "Gate Patient")
            wait_for_text(page, "Please stop: do not exercise today.")
            wait_for_text(page, "This stop holds for the rest of today.")
            assert page.get_by_role("button", name="Continue").count() == 0  # no answering "No" after a reload
            screenshot(page, "walk_c1_stop_after_reload")
            go_to(page, "Clinician: review")
            select_option(page, "Patient", "Gate Patient")
            expect(page.get_by_text("Gate Patient was stopped today")).to_be_visible(timeout=30_000)
            screenshot(page, "walk_c2_clinician_can_clear")
            assert streamlit_exceptions(page) == []
    finally:
        browser.close()
