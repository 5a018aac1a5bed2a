"""At most so many analysed frames a second (framerate.py), by timestamps, and its effect on analyses."""
import gzip
import json
from pathlib import Path

import numpy as np
import pytest

from formcheck.framerate import FrameRateLimit, limited
from formcheck.pipeline import AnalyzeOptions, analyze
from formcheck.spec import load_exercise
from tests.support.paths import FIXTURES


def kept(times_ms, max_fps=30.0):
    limit = FrameRateLimit(max_fps)
    return [t for t in times_ms if limit.keep(t)], limit


@pytest.mark.parametrize("fps, every", [
    (60.0, 2),     # a 60 fps phone clip: every second frame
    (59.94, 2),    # NTSC 60: the same
    (120.0, 4),    # slow-motion capture: every fourth
    (30.0, 1),     # 30 fps: every frame
    (29.97, 1),    # NTSC 30: every frame although it is a hair slower than 30
    (25.0, 1),     # PAL: every frame
])
def test_constant_rates(fps, every):
    times = [1000.0 * n / fps for n in range(600)]
    out, limit = kept(times)
    assert out == times[::every]
    assert limit.analysed_fps == pytest.approx(fps / every, rel=1e-6)


def test_millisecond_rounded_timestamps_of_a_30_fps_clip_keep_every_frame():
    # Containers give whole milliseconds: 0, 33, 67, 100, ... some steps are 33 ms, under 1/30 s.
    times = [float(round(1000.0 * n / 30.0)) for n in range(300)]
    assert kept(times)[0] == times


def test_variable_frame_rate_is_thinned_by_time_not_by_index():
    # A phone's VFR clip: 60 fps for 2 s, then 24 fps for 2 s (low light), then 60 fps again.
    times = ([1000.0 * n / 60 for n in range(120)] + [2000.0 + 1000.0 * n / 24 for n in range(48)]
             + [4000.0 + 1000.0 * n / 60 for n in range(120)])
    out, limit = kept(times)
    gaps = np.diff(out)
    assert gaps.min() >= 1000.0 / 30 * 0.9  # never two analysed frames closer than 0.9/30 s
    assert gaps.max() <= 1000.0 / 24 + 1e-6  # never a recorded frame lost where the rate is under 30
    assert all(t in out for t in times[120:168])  # the 24 fps stretch is kept whole
    assert limit.analysed_fps <= 30.0 + 1e-6


@pytest.mark.parametrize("fps, analysed", [(50.0, 25.0), (45.0, 22.5), (32.0, 32.0)])
def test_rates_between_30_and_60(fps, analysed):
    # Never two analysed frames closer than 0.9/30 s: 50 fps -> every second frame; up to 33 fps
    # every frame (the margin for millisecond timestamps).
    times = [1000.0 * n / fps for n in range(int(10 * fps))]
    assert kept(times)[1].analysed_fps == pytest.approx(analysed, rel=0.01)


def test_zero_keeps_every_frame_and_the_provenance_says_what_was_done():
    times = [1000.0 * n / 60 for n in range(61)]
    out, limit = kept(times, max_fps=0)
    assert out == times
    assert limit.provenance() == {"max_fps": "every frame", "analysed_fps": 60.0, "frames_skipped": 0}
    _, limit = kept(times)
    assert limit.provenance() == {"max_fps": 30.0, "analysed_fps": 30.0, "frames_skipped": 30}


def test_limited_filters_any_items_by_their_time():
    items = [(n, 1000.0 * n / 60) for n in range(6)]
    assert [n for n, _ in limited(items, FrameRateLimit(30), lambda item: item[1])] == [0, 2, 4]


# -- on real recordings -----------------------------------------------------------------------------------


def sixty_fps_copy(tmp_path, trace: Path) -> Path:
    """A 30 fps trace turned into a 60 fps one: each frame followed by the mean of it and the next."""
    data = json.loads(trace.read_text())
    frames = data["frames"]
    doubled = []
    for a, b in zip(frames, frames[1:] + frames[-1:]):
        doubled.append({**a, "i": len(doubled)})
        middle = {"i": len(doubled), "t": round((a["t"] + b["t"]) / 2, 4)}
        if "image" in a and "image" in b and a is not b:
            for key in ("image", "world"):
                middle[key] = ((np.asarray(a[key]) + np.asarray(b[key])) / 2).tolist()
        if a is not b:
            doubled.append(middle)
    path = tmp_path / "sixty.json.gz"
    path.write_bytes(gzip.compress(json.dumps({**data, "fps": 60.0, "frames": doubled}).encode()))
    return path


@pytest.mark.slow
def test_a_60_fps_trace_gives_the_30_fps_result_with_half_the_frames(tmp_path):
    source = FIXTURES / "traces" / "bird_dog_synthetic_2ext.json"
    spec = load_exercise("bird_dog")
    original = analyze(source, spec, tmp_path / "a", AnalyzeOptions(max_fps=0)).to_dict()
    doubled = sixty_fps_copy(tmp_path, source)
    every = analyze(doubled, spec, tmp_path / "b", AnalyzeOptions(max_fps=0)).to_dict()
    thinned = analyze(doubled, spec, tmp_path / "c", AnalyzeOptions()).to_dict()
    assert every["frames"] == 2 * original["frames"] - 1
    assert thinned["frames"] == original["frames"]  # the inserted frames were the ones skipped
    assert thinned["provenance"]["analysed_fps"] == pytest.approx(original["provenance"]["analysed_fps"], abs=0.1)
    assert thinned["provenance"]["recorded_fps"] == 60.0
    assert thinned["provenance"]["frames_skipped"] == original["frames"] - 1
    for result in (every, thinned):
        assert result["reps"] == original["reps"] == 2
        assert [f["code"] for f in result["flags"]] == [f["code"] for f in original["flags"]]
        for rep, first in zip(result["rep_details"], original["rep_details"]):
            assert rep["start_s"] == pytest.approx(first["start_s"], abs=0.1)
            assert rep["end_s"] == pytest.approx(first["end_s"], abs=0.1)


@pytest.mark.model
def test_a_30_fps_video_is_analysed_whole(tmp_path):
    result = analyze(FIXTURES / "video" / "childs_pose_360.mp4", load_exercise("childs_pose"), tmp_path,
                     AnalyzeOptions(write_video=False)).to_dict()
    assert result["provenance"]["frames_skipped"] == 0 and result["provenance"]["max_fps"] == 30.0
    assert 29.0 <= result["provenance"]["analysed_fps"] <= 30.5
