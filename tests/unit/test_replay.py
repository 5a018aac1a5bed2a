"""Landmark traces: reading the shared format, writing our own, and replaying both."""
import json

import numpy as np
import pytest

from formcheck.backends.replay import TraceError, TraceRecorder, load_trace, replay
from tests.support.paths import TRACES
from tests.support.synth import frames_from_angles


def test_reads_shared_trace():
    frames = list(replay(load_trace(TRACES / "glute_bridge_side_1rep.json")))
    assert len(frames) == 106
    assert frames[0].width == 500 and frames[0].height == 380
    assert frames[1].t_ms == pytest.approx(1000 / 30, abs=1)
    assert frames[0].pose.image.shape == (33, 4) and frames[0].pose.world.shape == (33, 3)


def test_round_trip_keeps_poses_and_missing_frames(tmp_path):
    frames = frames_from_angles([140, np.nan, 150])
    recorder = TraceRecorder(model="synthetic", label="test")
    for f in frames:
        recorder.add(f)
    path = tmp_path / "t.json"
    path.write_text(recorder.to_json())
    back = list(replay(load_trace(path)))
    assert [f.pose is None for f in back] == [False, True, False]
    assert np.allclose(back[0].pose.image, frames[0].pose.image, atol=1e-5)
    assert json.loads(path.read_text())["format"] == "formcheck-trace/v1"


@pytest.mark.parametrize("content, message", [
    ("not json", "not a JSON landmark trace"),
    ('{"format": "other/v9", "frames": []}', "unsupported trace format"),
    ('{"format": "mediapipe-pose-33/v1", "width": 10, "height": 10, "frames": []}', "non-empty list"),
    ('[1, 2, 3]', "unsupported trace format"),
])
def test_malformed_trace_files(tmp_path, content, message):
    path = tmp_path / "bad.json"
    path.write_text(content)
    with pytest.raises(TraceError, match=message):
        load_trace(path)


def test_malformed_frame_is_named():
    data = {"format": "mediapipe-pose-33/v1", "width": 10, "height": 10,
            "frames": [{"t": 0.0, "image": [[0, 0, 0, 1]] * 5}]}
    with pytest.raises(TraceError, match="frame 0"):
        list(replay(data))


# -- gzipped traces (.json.gz): read directly, with the size limit on the decompressed stream --------


def test_a_gzipped_trace_reads_as_the_plain_one(tmp_path):
    import gzip

    plain = TRACES / "glute_bridge_side_1rep.json"
    packed = tmp_path / "bridge.json.gz"
    packed.write_bytes(gzip.compress(plain.read_bytes()))
    assert load_trace(packed) == load_trace(plain)


def test_a_gzip_bomb_is_refused_with_one_line_before_it_fills_the_memory(tmp_path):
    import gzip

    # 64 MB of spaces compress to about 64 KB; a 1 MB limit must stop the read early.
    bomb = tmp_path / "bomb.json.gz"
    with gzip.open(bomb, "wb") as f:
        for _ in range(64):
            f.write(b" " * (1 << 20))
    assert bomb.stat().st_size < 1 << 20
    with pytest.raises(TraceError, match="decompresses to more than 1 MB") as caught:
        load_trace(bomb, max_bytes=1 << 20)
    assert "\n" not in str(caught.value)


@pytest.mark.parametrize("content, message", [
    (b"not gzip at all", "not a readable gzip file"),
    (None, "not a readable gzip file"),  # a gzip stream cut off half-way
])
def test_damaged_gzip_traces_give_one_clear_line(tmp_path, content, message):
    import gzip

    if content is None:
        content = gzip.compress((TRACES / "glute_bridge_side_1rep.json").read_bytes())[:5000]
    path = tmp_path / "bad.json.gz"
    path.write_bytes(content)
    with pytest.raises(TraceError, match=message):
        load_trace(path)


def test_trace_names_and_stems():
    from formcheck.backends.replay import is_trace_name, trace_stem

    assert is_trace_name("a.json") and is_trace_name("A.JSON.GZ") and not is_trace_name("a.gz")
    assert not is_trace_name("a.mp4")
    assert trace_stem("dir/clip.json.gz") == "clip" and trace_stem("clip.json") == "clip"
