"""Live equals offline, in the browser (issue 12): the same real recording through the camera of
the live page and through the offline pipeline gives the same reps and flags.

Each camera file is a real clip between two still holds (the patient in the start position before
and after the set). The session runs for one pass of the clip and is finished on the page; the
stored session's reps and flags are compared with the offline pipeline (``Pipeline``, the code
``formcheck analyze`` runs) over the same frames. The fake camera plays the file at its own pace
and WebRTC lowers the resolution and drops frames under load, which is the point: the live page
must measure through that. Glute bridge has no real footage (only landmark traces), so its parity
is tested without a browser, in test_live_parity.py, with trace-driven poses.
"""
from __future__ import annotations

import json
import time

import pytest

from formcheck.backends import make_backend
from formcheck.pipeline import Pipeline
from formcheck.spec import load_exercise
from formcheck.store import open_store
from tests.support.app_pages import APP, VIDEOS, VIEWPORT, choose_pain, ready_to_start
from tests.support.browser import (
    PEER_CONNECTIONS_JS,
    click_webrtc_start,
    launch_chromium,
    open_app,
    run_streamlit,
    screenshots_if_failed,
    wait_for_app_idle,
    wait_for_text,
    wait_for_webrtc_video,
    webrtc_video_stats,
    write_y4m,
)

pytestmark = pytest.mark.browser

# Before the clip: the start position. Long enough for the stream to connect during it on a busy
# machine (7 s measured with 8 helpers' tests running), so the session never joins mid-clip.
HOLD_S = 8.0
END_HOLD_S = 10.0  # after the clip: the session is finished during this hold
# Below this many analysed frames a second the live page cannot follow a rep at all (a 1 s hold is
# a frame or two), so a mismatch would say nothing about parity: the test says so instead.
MIN_LIVE_FPS = 8.0
NOT_COMPARED = {"partial_rep"}


def camera_frames(clip: str):
    """(fps, BGR frames) of the camera file: first frame held HOLD_S, the clip, last frame held."""
    import cv2

    cap = cv2.VideoCapture(str(VIDEOS / clip))
    fps = cap.get(cv2.CAP_PROP_FPS) or 30.0
    frames = []
    while True:
        ok, frame = cap.read()
        if not ok:
            break
        frames.append(frame)
    cap.release()
    return fps, [frames[0]] * int(HOLD_S * fps) + frames + [frames[-1]] * int(END_HOLD_S * fps)


def write_camera(frames, fps: float, folder):
    import cv2

    avi = folder / "camera.avi"  # lossless enough for the model: MJPG at quality 100
    writer = cv2.VideoWriter(str(avi), cv2.VideoWriter_fourcc(*"MJPG"), fps, frames[0].shape[1::-1])
    writer.set(cv2.VIDEOWRITER_PROP_QUALITY, 100)
    for frame in frames:
        writer.write(frame)
    writer.release()
    return write_y4m(avi, folder / "camera.y4m")


def offline(spec, frames, fps: float):
    pipeline = Pipeline(spec, backend=make_backend("mediapipe", segmentation=spec.needs_back_outline),
                        record_trace=False)
    for i, frame in enumerate(frames):
        pipeline.process_image(frame, 1000.0 * i / fps)
    pipeline.backend.close()
    result = pipeline.finish()
    return ([(r.side, r.complete) for r in result.reps if r.complete],
            sorted({f.code for f in result.flags} - NOT_COMPARED))


def live(playwright, camera: dict, exercise_title: str, clip_s: float, data_dir) -> tuple[dict, float, dict]:
    """Run one live session for HOLD_S + the clip + half the end hold: its stored summary, the
    seconds the camera took to connect, and the browser's WebRTC statistics at the end."""
    with run_streamlit(APP, data_dir) as url:
        browser = launch_chromium(playwright, fake_camera_y4m=camera["path"])
        try:
            page = browser.new_page(viewport=VIEWPORT)
            page.add_init_script(PEER_CONNECTIONS_JS)
            with screenshots_if_failed("parity", {"page": page}):
                open_app(page, url)
                ready_to_start(page, "Parity", exercise_title)
                page.get_by_role("button", name="Start session").click()
                wait_for_app_idle(page, timeout_ms=60_000)
                started = time.monotonic()  # the fake camera starts with START, at the file's first frame
                click_webrtc_start(page)
                wait_for_webrtc_video(page, timeout_ms=45_000)
                connect_s = time.monotonic() - started
                time.sleep(max(0.0, HOLD_S + clip_s + END_HOLD_S / 2 - (time.monotonic() - started)))
                stats = webrtc_video_stats(page)
                choose_pain(page, "pain_after", 2)
                page.get_by_role("button", name="Finish session").click()
                wait_for_text(page, "Your session is saved.", timeout_ms=60_000)
        finally:
            browser.close()
    store = open_store(data_dir)
    row = store.get_session(1)
    return json.loads(row.summary_json), connect_s, stats


@pytest.mark.parametrize("clip, exercise", [
    ("bird_dog_360.mp4", "bird_dog"),
    # Known gap, 2026-12-01: the same 2 reps live and offline, but the offline run (30 fps) flags
    # "jerky_movement" and the live one (8.5 fps) does not. The cause is the back's outline flipping
    # sign for one or two frames (silhouette.py: -38 degrees between +35s at 10.40-10.53 s of this
    # camera file), which the outline's median passes or not depending on which frames are analysed.
    pytest.param("cat_cow_360.mp4", "cat_cow", marks=pytest.mark.xfail(
        reason="outline sign flips read as jerky movement at 30 fps only (see the comment)", strict=False)),
])
def test_the_live_page_counts_and_flags_a_real_recording_as_analyze_does(tmp_path, playwright_instance,
                                                                         chromium_available, clip, exercise):
    spec = load_exercise(exercise)
    fps, frames = camera_frames(clip)
    camera = write_camera(frames, fps, tmp_path)
    expected_reps, expected_codes = offline(spec, frames, fps)
    clip_s = len(frames) / fps - HOLD_S - END_HOLD_S
    summary, connect_s, stats = live(playwright_instance, camera, spec.title, clip_s, tmp_path / "data")
    reps = [(r["side"], r["complete"]) for r in summary["rep_details"]]
    codes = sorted({f["code"] for f in summary["flags"]} - NOT_COMPARED)
    print(f"\n[e2e parity] {exercise}: offline {expected_reps} {expected_codes}; live {reps} {codes}; "
          f"{summary['frames']} frames analysed in {summary['duration_s']:.1f} s; camera connected after "
          f"{connect_s:.1f} s; browser: {stats}")
    live_fps = summary["frames"] / max(summary["duration_s"], 1e-9)
    assert live_fps >= MIN_LIVE_FPS, (
        f"the live page analysed only {live_fps:.1f} frames a second (the machine is too busy): "
        f"parity cannot be judged (live {reps} {codes}, offline {expected_reps} {expected_codes})")
    assert reps == expected_reps
    assert codes == expected_codes
    # The annotated picture is shown as soon as it is decoded (formcheck.ui.webrtc): the server's
    # answer carries the playout-delay extension and Chromium did not hold frames in its jitter
    # buffer (without it, about 100 ms a frame on this machine; with it, under 1 ms).
    assert stats["playout_delay_negotiated"], stats
    assert stats["in_jitter_buffer_ms"] < 20.0, stats
