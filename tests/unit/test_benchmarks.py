"""Smoke tests of the benchmark scripts' own logic (no browser, no pose model: a few ms).

The measurements themselves run with ``python benchmarks/report.py``; here: the live-page
benchmark's frame markers and its matching of camera frames, cues and movements on made-up
observations, and the report's table from made-up figures.
"""
from __future__ import annotations

import sys

import numpy as np
import pytest

from tests.support.paths import REPO_ROOT

BENCHMARKS = REPO_ROOT / "benchmarks"
sys.path.insert(0, str(BENCHMARKS))

import live_page  # noqa: E402 - found through the sys.path line above (benchmarks/ is no package)
import report  # noqa: E402 - as live_page


@pytest.mark.parametrize("index", [0, 1, 127, 128, 506, 1023])
def test_a_stamped_marker_reads_back(index):
    height, width = 640, 360
    y = np.full((height, width), 90, np.uint8)
    u = np.full((height // 2, width // 2), 100, np.uint8)
    v = np.full((height // 2, width // 2), 160, np.uint8)
    live_page.stamp_marker(y, u, v, index)
    assert live_page.read_marker(y) == index
    y[live_page.MARKER_TOP + live_page.MARKER_BLOCK // 2, width - 8] ^= 0xFF  # one bit flipped: parity fails
    assert live_page.read_marker(y) == -1


def test_cue_episodes_start_at_the_crossing_and_know_whether_another_cue_was_up():
    message = "Keep your back flat"
    values = [0, 0, 16, 20, 30, 30, 30, 10, 0, 0, 18, 25, 25]
    cues = ["", "", "", "", message, message, message, message, "", "x", "x", "x", message]
    ref = {"message": message, "limit": 15.0,
           "frames": [{"index": i, "value": v, "cue": c} for i, (v, c) in enumerate(zip(values, cues))]}
    assert live_page.cue_episodes(ref) == [{"cross": 2, "flag": 4, "until": 7, "raw_cross": None, "band": True},
                                           {"cross": 10, "flag": 12, "until": 12, "raw_cross": None, "band": False}]
    raws = [0, 17, 18, 20, 30, 30, 30, 10, 0, 0, 18, 25, 25]
    for frame, raw in zip(ref["frames"], raws):
        frame["raw"] = raw
    assert [e["raw_cross"] for e in live_page.cue_episodes(ref)] == [1, 10]


def camera_reads(loops: int, frames: int, fps: float, start_ms: float, skip: int = 3) -> list:
    """[read ms, index, capture us] of a steady camera whose clock starts at 77 ms: every
    ``skip``-th frame read, 5 ms late but the first (the least-delayed read sets the clock)."""
    step = 1000.0 / fps
    rows = []
    for n in range(loops * frames):
        if n % skip == 0:
            capture = start_ms + n * step
            rows.append([capture + (5.0 if n else 0.0), n % frames, 1000.0 * (capture - start_ms + 77.0)])
    return rows


def test_camera_timeline_interpolates_within_a_loop_and_tells_loops_apart():
    timeline = live_page.CameraTimeline(camera_reads(3, 100, 25.0, 1_000_000.0), 25.0, 100)
    assert len(timeline.loops) == 3
    assert timeline.capture(1, 50) == pytest.approx(1_000_000.0 + 150 * 40.0)  # 40 ms a frame, loop 1
    assert timeline.rate() == pytest.approx(25.0)
    loop, t = timeline.latest_capture(50, before_ms=1_000_000.0 + 260 * 40.0)
    assert loop == 2 and t == pytest.approx(1_000_000.0 + 250 * 40.0)


def test_cue_latency_is_matched_by_marker_not_by_time():
    fps, frames, t0 = 30.0, 150, 1_000_000.0  # a 5 s loop, one movement a loop
    timeline = live_page.CameraTimeline(camera_reads(4, frames, fps, t0, skip=1), fps, frames)

    def capture(loop: int, index: int) -> float:
        return t0 + (loop * frames + index) * 1000.0 / fps

    # The video runs 4 s behind, every 3rd frame shown: the band turns on with frame 117 (movement
    # at frame 100, cue from frame 115). The panel is quicker: 300 ms after frame 120's capture,
    # nearer in time to the previous loop's band than to its own.
    lag = 4000.0
    remote = [[capture(loop, i) + lag, i, int(115 <= i < 140)] for loop in range(4) for i in range(0, frames, 3)]
    events = [[t0, 0]] + [[capture(loop, i) + 300.0, on] for loop in range(4) for i, on in ((120, 1), (140, 0))]
    raw = {"remote": remote, "events": events, "end_ms": capture(3, frames - 1) + lag}
    episodes = [{"cross": 100, "flag": 115, "until": 139, "raw_cross": 98, "band": True}]
    cues = live_page.cue_latencies(raw, timeline, episodes, start_ms=t0 + 2000.0)
    assert cues["band_ms"] == pytest.approx([17 * 1000.0 / fps + lag] * 4)
    assert cues["panel_ms"] == pytest.approx([20 * 1000.0 / fps + 300.0] * 4)
    assert cues["band_frame_age_ms"] == pytest.approx([lag] * 4)
    assert cues["expected"] == 3  # loop 3's movement is too near the end to expect its cue
    assert cues["video_missed"] == 0 and cues["panel_unpaired"] == 0 and cues["video_false"] == 0

    # In loop 2 the band also comes on for frames 30-44, where the offline run shows no cue: one
    # false cue, which is neither timed nor taken for the next movement's cue.
    for row in remote:
        if row[0] - lag >= capture(2, 0) and row[0] - lag < capture(3, 0) and 30 <= row[1] < 45:
            row[2] = 1
    cues = live_page.cue_latencies(raw, timeline, episodes, start_ms=t0 + 2000.0)
    assert cues["video_false"] == 1
    assert cues["band_ms"] == pytest.approx([17 * 1000.0 / fps + lag] * 4)


def test_the_report_table_has_every_measure_and_survives_a_failed_step():
    summary = {"median": 10.0, "min": 8.0, "max": 12.0, "p90": 12.0, "n": 20}
    results = {
        "throughput": {"repeat": 1, "rows": [
            {"kind": k, "frames": 427, "fps": f, "cpu_ms_per_frame": 25.0, "peak_rss_mb": 300.0}
            for k, f in (("bare", 40.0), ("analyze", 30.0), ("analyze_novideo", 36.0))]},
        "live_page": {"seconds": 60.0, "page_fps": summary, "page_ms_per_frame": summary, "shown_fps": 9.5,
                      "camera_fps": 30.0, "video_delay_ms": summary, "cue_video_s": summary,
                      "cue_panel_s": summary, "debounce_s": 0.5, "smoothing_lag_ms": summary,
                      "episodes": {"expected": 6, "video_missed": 0, "panel_unpaired": 0}},
        "memory": {"error": "exit code 1"},
        "startup": {"health_s": {"best": 2.0, "median": 2.1, "runs": [2.0, 2.1, 2.2]},
                    "first_page_s": {"best": 4.0, "median": 4.2, "runs": [4.0, 4.2, 4.4]},
                    "imports_s": {"all of app.py's imports": 3.1, "streamlit": 0.8,
                                  "pose model created and closed": 2.3}},
    }
    text = report.table(results)
    assert text.splitlines()[0] == "| measure | figure | unit | notes |"
    assert "| bare MediaPipe loop (decode + pose), 360 x 640 test clip | 40.0 | frames/s |" in text
    assert "phone clip" not in text  # that step was not run

    results["throughput_phone"] = {"repeat": 1, "rows": [
        {"kind": k, "frames": 427, "fps": f, "cpu_ms_per_frame": 50.0, "peak_rss_mb": 500.0}
        for k, f in (("bare", 20.0), ("analyze", 26.0), ("analyze_fullsize", 12.0))]}
    text = report.table(results)
    assert "| CLI pipeline: `analyze`, annotated video, 1080 x 1920 phone clip | 26.0 | frames/s |" in text
    assert "1.30 x bare" in text and "0.60 x bare" in text
    assert "0.75 x bare" in text and "0.25 x bare" in text  # CLI 30/40, live page 10/40
    assert "| peak memory on a long video (memory_long_video.py) | failed |" in text
    assert "| app start-up: first page drawn | 4.00 | s |" in text
    assert "| app.py's imports (fresh process) | 3.10 | s | of which streamlit 0.8 s" in text
