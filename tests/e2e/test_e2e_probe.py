"""Proves the end-to-end browser pipeline: clip -> Y4M fake webcam -> headless Chromium ->
streamlit-webrtc -> the server's frame callback.

If this test fails, every other browser test will too: fix this one first.
"""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import cv2
import numpy as np
import pytest

from tests.support.browser import (
    REPO_ROOT,
    click_webrtc_start,
    click_webrtc_stop,
    launch_chromium,
    open_app,
    run_streamlit,
    screenshot,
    streamlit_exceptions,
    wait_for_text,
    wait_for_webrtc_video,
    wait_until,
    webrtc_button,
    write_y4m,
)
from tests.support.paths import VIDEOS

pytestmark = pytest.mark.browser

CLIP = VIDEOS / "bird_dog_360.mp4"
PROBE_APP = REPO_ROOT / "tests" / "e2e" / "e2e_probe_app.py"
CLIP_SECONDS = 4  # Chromium loops the file; a few seconds keep the Y4M small (~41 MB)
MIN_FRAMES = 30
FRAMES_TIMEOUT_S = 30


def _read_probe(path: Path):
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):  # not written yet
        return None


def _best_match_mse(snapshot_png: Path, clip: Path, n_frames: int) -> float:
    """Smallest mean squared grey-level error between the snapshot and any of the first
    ``n_frames`` clip frames, both scaled to 90x160."""
    snap = cv2.imread(str(snapshot_png), cv2.IMREAD_GRAYSCALE)
    assert snap is not None, f"cannot read {snapshot_png}"
    size = (90, 160)
    snap = cv2.resize(snap, size, interpolation=cv2.INTER_AREA).astype(np.float32)
    cap = cv2.VideoCapture(str(clip))
    best = float("inf")
    try:
        for _ in range(n_frames):
            ok, bgr = cap.read()
            if not ok:
                break
            grey = cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY)
            grey = cv2.resize(grey, size, interpolation=cv2.INTER_AREA).astype(np.float32)
            best = min(best, float(np.mean((grey - snap) ** 2)))
    finally:
        cap.release()
    return best


def test_fake_webcam_frames_reach_server_callback(tmp_path, playwright_instance, chromium_available):
    y4m = tmp_path / "cam.y4m"
    write_info = write_y4m(CLIP, y4m, max_frames=30 * CLIP_SECONDS)
    assert (write_info["width"], write_info["height"]) == (360, 640)
    clip_brightness = write_info["mean_brightness"]

    probe_out = tmp_path / "probe.json"
    with run_streamlit(PROBE_APP, tmp_path / "data", env={"PROBE_OUT": str(probe_out)}) as url:
        browser = launch_chromium(playwright_instance, fake_camera_y4m=y4m)
        try:
            page = browser.new_page(viewport={"width": 1000, "height": 1100})
            open_app(page, url)
            wait_for_text(page, "formcheck e2e probe")
            wait_for_text(page, "Frames received: 0")
            start = webrtc_button(page, "start")
            start.wait_for(state="visible", timeout=30_000)
            assert not probe_out.exists(), "frames arrived before START was clicked"
            screenshot(page, "e2e_probe_before_start")

            clicked_at = time.monotonic()
            click_webrtc_start(page)
            data = wait_until(
                lambda: (d := _read_probe(probe_out)) and d["frames"] > MIN_FRAMES and d,
                timeout_s=FRAMES_TIMEOUT_S,
                message=lambda: (
                    f"server callback saw too few frames: {_read_probe(probe_out)}. If the "
                    "server log below says 'resetting stale state', streamlit-webrtc stopped "
                    "the worker (see the workaround in tests/e2e/e2e_probe_app.py)."
                ),
            )
            first_frames_s = time.monotonic() - clicked_at
            assert data["mean_brightness"] > 20, f"frames look black: {data}"
            # The frames are the clip, not Chromium's built-in test pattern (640x480, brightness
            # ~88, grey MSE ~2150 against the clip): portrait like the clip (WebRTC may scale
            # under load, so no exact size), same brightness and a frame matching a clip frame
            # (MSE ~6 here).
            assert data["height"] > data["width"], f"not the portrait clip: {data}"
            assert abs(data["mean_brightness"] - clip_brightness) < 20, (data, clip_brightness)
            snapshot_png = Path(str(probe_out) + ".frame.png")
            assert snapshot_png.is_file()
            mse = _best_match_mse(snapshot_png, CLIP, write_info["frames"])
            assert mse < 150, f"received frame does not look like the clip (grey MSE {mse:.0f})"

            # The page shows the count (st.fragment refresh) and the processed video plays.
            wait_for_text(page, "Playing: True")
            wait_for_text(page, re.compile(r"Frames received: [1-9]\d+"))
            video = wait_for_webrtc_video(page)
            assert video["width"] > 0 and video["height"] > 0
            screenshot(page, "e2e_probe_after_start")

            click_webrtc_stop(page)
            assert streamlit_exceptions(page) == []
            print(
                f"\n[e2e probe] >{MIN_FRAMES} frames {first_frames_s:.1f} s after START; "
                f"server frames {data['width']}x{data['height']}, brightness "
                f"{data['mean_brightness']:.1f} (clip {clip_brightness:.1f}), snapshot MSE {mse:.0f}, "
                f"browser video {video['width']}x{video['height']}"
            )
        finally:
            browser.close()
