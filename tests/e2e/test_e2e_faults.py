"""Faults and concurrency end to end: a real Streamlit server, headless Chromium, fake webcams.

(a) Two browser tabs, two patients, one server and one database: both tabs run a live bird-dog
    session at the same time (both streams analysed over the same seconds), then each finishes.
    Each session is stored once, under its own patient, with the reps, sides and pain ratings
    its own tab showed; there is no third session. (Two streams on a small machine make WebRTC
    lower the camera resolution mid-session, which used to stop the pose model for good: see
    LiveSession._same_size.)
(b) The app process is killed (SIGKILL, no clean shutdown) in the middle of a live session,
    after a rep has been counted and autosaved. A new server on the same data folder lists the
    session as interrupted, with the reps saved before the crash, and shows no traceback.

Screenshots of every step go to test-artifacts/screenshots/faults_*.png. Each test has its own
server and data folder: (b) kills its server, and (a) must see only its own two sessions.
"""
from __future__ import annotations

import contextlib
import re
import time

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout
from playwright.sync_api import expect

from formcheck import review
from formcheck.store import SessionRow, open_store
from tests.support.app_pages import (
    APP,
    LIVE_SECONDS_RE,
    VIEWPORT,
    camera_file,
    choose_pain,
    count,
    live_status,
    open_review,
    ready_to_start,
)
from tests.support.browser import (
    REPO_ROOT,
    click_webrtc_start,
    launch_chromium,
    open_app,
    run_streamlit,
    screenshot,
    screenshots_if_failed,
    streamlit_exceptions,
    wait_for_app_idle,
    wait_for_text,
    wait_for_webrtc_video,
    wait_until,
)

pytestmark = pytest.mark.browser

# Two pose models share 2 cores (with Chromium and whatever else runs), so each stream is slower
# than a lone session: the timeouts below are generous on purpose.
START_TIMEOUT_MS = 90_000
REP_TIMEOUT_S = 150


@pytest.fixture(scope="module")
def bird_dog_cam(tmp_path_factory):
    return camera_file("bird_dog_360.mp4", tmp_path_factory.mktemp("cam"))  # 2 reps in 14 s, looped


# -- page helpers ----------------------------------------------------------------------------------


def prepare_live_session(page, patient: str, pain_before: int) -> None:
    """Patient page up to the camera view (bird dog), camera not started."""
    ready_to_start(page, patient, "Bird dog", pain_before)
    wait_for_text(page, "On hands and knees")  # bird dog's description
    page.get_by_role("button", name="Start session").click()
    wait_for_app_idle(page, timeout_ms=START_TIMEOUT_MS)  # the first one loads the pose model


def start_camera(page) -> None:
    click_webrtc_start(page, timeout_ms=START_TIMEOUT_MS)
    wait_for_webrtc_video(page, timeout_ms=START_TIMEOUT_MS)


def reps_shown(page) -> int:
    """The page's total rep counter (0 while the live panel is being redrawn)."""
    try:
        return count(page, ".fc-total")
    except PlaywrightTimeout:
        return 0


def live_seconds(page) -> int | None:
    """The session time the live caption shows, or None before the first frame was analysed."""
    caption = page.get_by_text(LIVE_SECONDS_RE).first
    try:
        match = LIVE_SECONDS_RE.search(caption.inner_text(timeout=5_000))
    except Exception:  # noqa: BLE001 - the fragment may be re-rendering it: "not yet"
        return None
    return int(match.group(1)) if match else None


def metric(page, label: str) -> str:
    return (page.locator('[data-testid="stMetric"]').filter(has_text=label).first
            .locator('[data-testid="stMetricValue"]').inner_text(timeout=10_000))


def finish_live_session(page, pain_after: int) -> tuple[int, str]:
    """Press Finish; return the summary's repetitions and its "By side" text."""
    choose_pain(page, "pain_after", pain_after)
    page.get_by_role("button", name="Finish session").click()
    wait_for_text(page, "Your session is saved.", timeout_ms=60_000)  # not "... marked as interrupted"
    return int(metric(page, "Repetitions")), metric(page, "By side")


def session_picker(page):
    return page.get_by_role("combobox", name="Open a session")


@contextlib.contextmanager
def chromium(playwright, fake_camera_y4m=None):
    """A headless Chromium (with the fake camera, if given), closed at the end."""
    browser = launch_chromium(playwright, fake_camera_y4m=fake_camera_y4m)
    try:
        yield browser
    finally:
        browser.close()


# -- database helpers (the test reads the server's SQLite file directly; WAL lets it read while
#    the server writes) -----------------------------------------------------------------------------


def sessions_by_patient(data) -> dict[str, list[SessionRow]]:
    store = open_store(data)
    return {p.name: store.list_sessions(p.id) for p in store.list_patients()}


def only_session(data, patient: str) -> SessionRow | None:
    """The patient's one session (None before its first frame created it); fails on more."""
    sessions = sessions_by_patient(data).get(patient, [])
    assert len(sessions) <= 1, f"{patient} has {len(sessions)} sessions: {sessions}"
    return sessions[0] if sessions else None


def by_side_text(data, session_id: int) -> str:
    """A stored session's reps per side, written as the finished page writes them."""
    by_side = open_store(data).get_result(session_id).to_dict()["reps_by_side"]
    return ", ".join(f"{side} {n}" for side, n in sorted(by_side.items()))


# -- (a) two tabs, two patients, one database ------------------------------------------------------

TABS = {  # patient -> (pain before, pain after): different in each tab, so a mix-up would show
    "Tab A Patient": (3, 2),
    "Tab B Patient": (5, 4),
}


def test_two_tabs_two_patients_run_live_sessions_at_the_same_time(tmp_path, bird_dog_cam, playwright_instance,
                                                                  chromium_available):
    started = time.monotonic()
    data = tmp_path / "data"
    name_a, name_b = TABS
    pages = {}  # patient -> page
    with (run_streamlit(APP, data) as url, chromium(playwright_instance, bird_dog_cam) as browser,
          screenshots_if_failed("faults_a", pages)):
        # Two contexts: separate cookies and storage, as two tabs or two machines would have;
        # each page is its own Streamlit session on the one server.
        for name in TABS:
            pages[name] = browser.new_context(viewport=VIEWPORT).new_page()
        for name, page in pages.items():
            open_app(page, url)
            prepare_live_session(page, name, pain_before=TABS[name][0])
        for page in pages.values():  # cameras started back to back, so the streams overlap
            start_camera(page)
        for tag, page in zip("ab", pages.values()):
            screenshot(page, f"faults_a1_tab_{tag}_live")

        overlap = watch_both_streams(pages)

        # Each tab counts its own reps while the other stream runs too.
        for name, page in pages.items():
            wait_until(lambda page=page: reps_shown(page) >= 1, timeout_s=REP_TIMEOUT_S,
                       message=lambda name=name, page=page: f"{name}: no rep counted; page shows {live_status(page)}")
        for tag, page in zip("ab", pages.values()):
            screenshot(page, f"faults_a2_tab_{tag}_counting")

        # Tab A finishes while tab B is still streaming: B must carry on.
        shown, live_counts = {}, {}
        live_counts[name_a] = count(pages[name_a], ".fc-total")
        shown[name_a] = finish_live_session(pages[name_a], pain_after=TABS[name_a][1])
        b_at_a_finish = wait_until(lambda: live_seconds(pages[name_b]), timeout_s=30)
        wait_until(lambda: (live_seconds(pages[name_b]) or 0) > b_at_a_finish, timeout_s=60,
                   message=lambda: f"{name_b}'s stream stopped when {name_a} finished: {live_status(pages[name_b])}")
        live_counts[name_b] = count(pages[name_b], ".fc-total")
        shown[name_b] = finish_live_session(pages[name_b], pain_after=TABS[name_b][1])
        for tag, page in zip("ab", pages.values()):
            assert streamlit_exceptions(page) == []
            screenshot(page, f"faults_a3_tab_{tag}_finished")

        # The review, from tab A, of tab B's patient: both tabs share one database.
        open_review(pages[name_a], name_b)
        expect(session_picker(pages[name_a])).to_have_value(
            re.compile(rf"Bird dog · {shown[name_b][0]} reps · {re.escape(review.STATUS_WORDS['complete'])}"),
            timeout=30_000)
        assert streamlit_exceptions(pages[name_a]) == []
        screenshot(pages[name_a], "faults_a4_review_of_tab_b_from_tab_a")

    # After the server has stopped: exactly one complete session per patient, the tab's own.
    stored = sessions_by_patient(data)
    assert sorted(stored) == sorted(TABS), f"patients in the database: {sorted(stored)}"
    assert sum(len(s) for s in stored.values()) == 2, f"sessions in the database: {stored}"
    store = open_store(data)
    for name, (pain_before, pain_after) in TABS.items():
        [session] = stored[name]
        reps, by_side = shown[name]
        # Finishing closes a rep that was on its way back, so the summary may have one more.
        assert reps >= live_counts[name] >= 1, f"{name}: the page counted {live_counts[name]}, the summary {reps}"
        assert (session.status, session.source) == ("complete", "live")
        assert session.reps == reps, f"{name}: the tab showed {reps} reps, the database has {session.reps}"
        assert by_side_text(data, session.id) == by_side, f"{name}: reps per side differ from the tab's"
        assert (session.pain_before, session.pain_after) == (pain_before, pain_after), f"{name}: pain mixed up"
        assert session.frames > 0 and session.duration_s > 0, f"{name}: no frames recorded: {session}"
        assert store.get_trace(session.id) is not None, f"{name}: the landmark trace was not stored"
    print(f"\n[e2e two tabs] {overlap}; "
          + "; ".join(f"{name}: {live_counts[name]} reps live, {shown[name][0]} saved ({shown[name][1]}), "
                      f"{stored[name][0].frames} frames in {stored[name][0].duration_s:.0f} s" for name in TABS)
          + f"; test took {time.monotonic() - started:.0f} s")


def watch_both_streams(pages: dict, windows_needed: int = 3, window_s: float = 3.0, timeout_s: float = 90) -> str:
    """Watch both tabs until, in ``windows_needed`` windows of ``window_s``, both session clocks moved.

    A session's clock (the caption's "N s") is the time of its last analysed frame, so it moves
    only while that stream is being processed: both moving within the same few seconds means
    the server analysed both streams at the same time, not one tab behind the other. The
    windows need not be consecutive: on a busy machine a stream may pause for a few seconds.
    """
    def clocks() -> dict:
        return {name: live_seconds(page) for name, page in pages.items()}

    first = before = wait_until(lambda: (c := clocks()) and None not in c.values() and c, timeout_s=60,
                                message=lambda: f"a tab analyses no frames: {clocks()}")
    both = windows = 0
    deadline = time.monotonic() + timeout_s
    while both < windows_needed:
        if time.monotonic() > deadline:
            raise AssertionError(
                f"both streams moved in only {both} of {windows} windows of {window_s:g} s; now "
                + "; ".join(f"{n}: {live_status(p)}" for n, p in pages.items()))
        time.sleep(window_s)
        after = clocks()
        windows += 1
        both += all(after[n] is not None and after[n] > before[n] for n in pages)
        before = {n: after[n] if after[n] is not None else before[n] for n in pages}
    return (f"both streams analysed in {both} of {windows} windows of {window_s:g} s (session clocks "
            + ", ".join(f"{first[n]}->{before[n]} s" for n in pages) + ")")


# -- (b) the app process is killed mid-session -----------------------------------------------------

CRASH_PATIENT = "Crash Patient"


def test_server_killed_mid_session_keeps_the_autosaved_reps(tmp_path, bird_dog_cam, playwright_instance,
                                                           chromium_available):
    started = time.monotonic()
    data = tmp_path / "data"
    pages = {}  # "patient" (the tab open during the crash), "clinician" (after the restart)
    with chromium(playwright_instance, bird_dog_cam) as browser, screenshots_if_failed("faults_b", pages):
        page = pages["patient"] = browser.new_page(viewport=VIEWPORT)
        with run_streamlit(APP, data, own_process_group=True) as first:
            open_app(page, first)
            prepare_live_session(page, CRASH_PATIENT, pain_before=2)
            start_camera(page)
            wait_until(lambda: reps_shown(page) >= 1, timeout_s=REP_TIMEOUT_S,
                       message=lambda: f"no rep counted; page shows {live_status(page)}")
            shown = count(page, ".fc-total")
            screenshot(page, "faults_b1_rep_counted")

            saved = wait_for_autosave_after(data, CRASH_PATIENT, reps_at_least=shown)
            first.kill()  # SIGKILL: no Finish, no clean-up, no last save
            frozen = count(page, ".fc-total")  # the page keeps showing the last count it was sent
            screenshot(page, "faults_b2_server_killed")

        # Nothing writes to the database now: this is what the crash left.
        at_crash = only_session(data, CRASH_PATIENT)
        assert at_crash.status == "live", "killed without a clean shutdown, the session is still open"
        assert at_crash.reps >= shown, (
            f"the page showed {shown} reps before an autosave, but only {at_crash.reps} were saved")
        assert at_crash.frames >= saved.frames > 0 and at_crash.duration_s > 0

        # A new server on the same port and data folder, with the patient's tab still open.
        with run_streamlit(APP, data, port=first.port) as second, chromium(playwright_instance) as checker:
            clinician = pages["clinician"] = checker.new_page(viewport=VIEWPORT)  # a fresh browser
            open_app(clinician, second)
            open_review(clinician, CRASH_PATIENT)
            interrupted = review.STATUS_WORDS["interrupted"]
            expect(session_picker(clinician)).to_have_value(
                re.compile(rf"Bird dog · {at_crash.reps} reps · {re.escape(interrupted)}"), timeout=30_000)
            assert int(metric(clinician, "Reps")) == at_crash.reps
            wait_for_text(clinician, f"Status: {interrupted} · source: live")
            # No Finish ran, so no landmark trace: the page says so instead of a chart.
            wait_for_text(clinician, "has no stored movement trace")
            assert streamlit_exceptions(clinician) == []
            screenshot(clinician, "faults_b3_review_after_restart")

            # The patient's old tab reconnects to the new server, which has no memory of its
            # session: the page starts again at step 1, without an error on screen.
            wait_for_text(page, "1. Who is exercising?", timeout_ms=60_000)
            assert streamlit_exceptions(page) == []
            screenshot(page, "faults_b4_old_tab_after_restart")
            assert app_tracebacks(second.stderr(None)) == [], "the restarted app logged an error"

    after = only_session(data, CRASH_PATIENT)
    assert after.id == at_crash.id
    assert after.status == "interrupted" and after.ended_at is not None
    assert (after.reps, after.frames) == (at_crash.reps, at_crash.frames), "the restart changed the saved reps"
    # The count and the reps' own rows were saved in one transaction, which the kill did not tear.
    assert len(open_store(data).get_result(after.id).complete_reps) == after.reps
    print(f"\n[e2e crash] page showed {shown} reps, autosaved {saved.reps} ({saved.frames} frames) before the "
          f"kill; the page froze at {frozen}; {after.reps} reps, {after.frames} frames, {after.duration_s:.0f} s "
          f"kept as interrupted; test took {time.monotonic() - started:.0f} s")


def app_tracebacks(log: str) -> list[str]:
    """The tracebacks in a server log that pass through formcheck's own code (app.py, formcheck/).

    Streamlit 1.60's own static-file serving sometimes logs an ASGI RuntimeError while the
    browser loads the page ("Expected ASGI message 'http.response.start'..."), crash or not;
    that is not the app's doing, so only tracebacks through our code count.
    """
    ours = (str(APP), str(REPO_ROOT / "formcheck"))
    return [tb for tb in re.split(r"(?=Traceback \(most recent call last\))", log)
            if tb.startswith("Traceback") and any(path in tb for path in ours)]


def wait_for_autosave_after(data, patient: str, reps_at_least: int, timeout_s: float = 60) -> SessionRow:
    """Wait for an autosave made after now that holds at least ``reps_at_least`` reps; return it.

    The live page's count comes from frames already analysed, and the engine's complete reps
    never go away, so any save made after the count was read holds at least that many. A save
    is recognised as newer by its frame count (every save stores the frames analysed so far;
    the time stamp has only whole seconds). Autosaves come every 5 s while frames arrive (and
    one more within a second of the camera going quiet), so this normally takes 5-6 s.
    """
    before = only_session(data, patient)
    frames_before = before.frames if before is not None else -1
    return wait_until(
        lambda: (s := only_session(data, patient)) and s.frames > frames_before and s.reps >= reps_at_least and s,
        timeout_s=timeout_s,
        message=lambda: (f"no autosave with {reps_at_least} reps after {frames_before} frames: "
                         f"{only_session(data, patient)}"))
