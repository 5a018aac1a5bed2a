"""The formcheck command line: results on traces, and one clear line for every kind of bad input."""
import gzip
import json
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

from formcheck.cli import main
from tests.support.paths import FIXTURES

BIRD_DOG_TRACE = FIXTURES / "traces" / "bird_dog_synthetic_2ext.json"
BIRD_DOG_VIDEO = FIXTURES / "video" / "bird_dog_360.mp4"


def run_cli(capsys, *args):
    code = main([str(a) for a in args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_analyze_trace_writes_outputs(tmp_path, capsys):
    code, out, err = run_cli(capsys, "analyze", BIRD_DOG_TRACE, "--exercise", "bird_dog", "--out", tmp_path)
    assert code == 0, err
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["reps"] == 2 and summary["reps_by_side"] == {"left": 1, "right": 1}
    for key in ("exercise", "reps", "partial_reps", "duration_s", "frames", "frames_with_pose", "rep_details",
                "flags", "warnings"):
        assert key in summary
    for key in ("index", "side", "start_s", "peak_s", "end_s", "peak_deg", "rom_deg", "hold_s", "flags"):
        assert key in summary["rep_details"][0]
    assert (tmp_path / "reps.csv").read_text().count("\n") == 3  # header + 2 reps
    frames_csv = (tmp_path / "frames.csv").read_text().splitlines()
    assert len(frames_csv) == 1 + 298 and "bird_dog_reach_left_deg" in frames_csv[0]
    assert "2 complete rep(s)" in out


@pytest.mark.slow
def test_analyze_says_when_the_recording_cannot_measure_the_exercise(tmp_path, capsys):
    # The shared supine clip's trace: the near arm lies along the lower back (tests/unit/test_pelvic_tilt.py).
    trace = tmp_path / "supine.json"
    trace.write_bytes(gzip.decompress((FIXTURES / "traces" / "pelvic_tilt_supine_360.json.gz").read_bytes()))
    code, out, err = run_cli(capsys, "analyze", trace, "--exercise", "pelvic_tilt", "--out", tmp_path / "o")
    assert code == 0, err
    assert "  NOT MEASURED: This recording cannot measure the pelvic tilt: the arm lies along the lower back" in out
    summary = json.loads((tmp_path / "o" / "summary.json").read_text())
    assert summary["measurement"]["status"] == "not_measurable" and summary["reps"] == 0
    code, out, _ = run_cli(capsys, "analyze", BIRD_DOG_TRACE, "--exercise", "bird_dog", "--out", tmp_path / "b")
    assert "NOT MEASURED" not in out
    assert json.loads((tmp_path / "b" / "summary.json").read_text())["measurement"]["status"] == "measured"


def test_analyze_and_trace_take_gzipped_traces(tmp_path, capsys):
    packed = tmp_path / "bird_dog.json.gz"
    packed.write_bytes(gzip.compress(BIRD_DOG_TRACE.read_bytes()))
    code, out, err = run_cli(capsys, "analyze", packed, "--exercise", "bird_dog", "--out", tmp_path / "out")
    assert code == 0, err
    assert json.loads((tmp_path / "out" / "summary.json").read_text())["reps"] == 2
    assert "2 complete rep(s)" in out


def test_exercises_lists_definitions(capsys):
    code, out, _ = run_cli(capsys, "exercises")
    assert code == 0 and "glute_bridge" in out and "Bird dog" in out


def _bad_inputs(tmp_path: Path) -> dict[str, tuple[Path, str]]:
    zero = tmp_path / "zero.mp4"
    zero.write_bytes(b"")
    pdf = tmp_path / "report.mp4"
    pdf.write_bytes(b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\n" * 50)
    truncated = tmp_path / "truncated.mp4"
    data = BIRD_DOG_VIDEO.read_bytes()
    truncated.write_bytes(data[: len(data) // 3])
    bad_trace = tmp_path / "trace.json"
    bad_trace.write_text('{"format": "mediapipe-pose-33/v1", "frames": "oops"}')
    return {
        "missing file": (tmp_path / "nope.mp4", "no such file"),
        "zero bytes": (zero, "empty"),
        "a PDF renamed .mp4": (pdf, "not a video"),
        "truncated mp4": (truncated, "truncated"),
        "malformed trace": (bad_trace, "width"),
        "a folder": (tmp_path, "folder"),
    }


@pytest.mark.parametrize("case", ["missing file", "zero bytes", "a PDF renamed .mp4",
                                  pytest.param("truncated mp4", marks=pytest.mark.model),  # decodes frames
                                  "malformed trace", "a folder"])
def test_bad_input_gives_one_clear_line(tmp_path, capsys, case):
    path, expected = _bad_inputs(tmp_path)[case]
    code, _, err = run_cli(capsys, "analyze", path, "--exercise", "glute_bridge", "--out", tmp_path / "out",
                           "--no-video")
    assert code == 2
    assert expected in err
    assert "Traceback" not in err
    assert len(err.strip().splitlines()) == 1


@pytest.mark.model
def test_truncated_video_keeps_what_was_decoded(tmp_path, capsys):
    path, _ = _bad_inputs(tmp_path)["truncated mp4"]
    run_cli(capsys, "analyze", path, "--exercise", "bird_dog", "--out", tmp_path / "out", "--no-video")
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert 0 < summary["frames"] < 427 and any("truncated" in w for w in summary["warnings"])


def test_unknown_exercise(tmp_path, capsys):
    code, _, err = run_cli(capsys, "analyze", BIRD_DOG_TRACE, "--exercise", "jumping_jacks", "--out", tmp_path)
    assert code == 2 and "Unknown exercise 'jumping_jacks'" in err and "glute_bridge" in err


def test_video_with_zero_frames(tmp_path, capsys):
    import av
    path = tmp_path / "empty_stream.mp4"
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=30)
        stream.width, stream.height = 64, 64
    code, _, err = run_cli(capsys, "analyze", path, "--exercise", "glute_bridge", "--out", tmp_path / "o")
    assert code == 2 and "Traceback" not in err and err.count("\n") == 1


@pytest.mark.model
def test_video_with_nobody_succeeds_with_a_warning(tmp_path, capsys):
    path = tmp_path / "empty_room.mp4"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), 30, (320, 240))
    rng = np.random.default_rng(0)
    wall = np.full((240, 320, 3), (60, 90, 160), np.uint8)
    for _ in range(45):
        writer.write(np.clip(wall + rng.integers(0, 8, wall.shape), 0, 255).astype(np.uint8))
    writer.release()
    code, out, err = run_cli(capsys, "analyze", path, "--exercise", "glute_bridge", "--out", tmp_path / "o")
    assert code == 0, err
    summary = json.loads((tmp_path / "o" / "summary.json").read_text())
    assert summary["reps"] == 0 and summary["frames"] == 45 and summary["frames_with_pose"] == 0
    assert "No person was found in the video." in summary["warnings"]
    assert (tmp_path / "o" / "annotated.mp4").stat().st_size > 0


def test_tasks_backend_without_a_model_is_a_clear_error(tmp_path, capsys):
    code, _, err = run_cli(capsys, "analyze", BIRD_DOG_VIDEO, "-e", "bird_dog", "-o", tmp_path, "--backend", "tasks")
    assert code == 2 and "needs a model file" in err
    fake = tmp_path / "pose.task"
    fake.write_text("<html>404</html>")
    code, _, err = run_cli(capsys, "analyze", BIRD_DOG_VIDEO, "-e", "bird_dog", "-o", tmp_path, "--backend", "tasks",
                           "--model", fake)
    assert code == 2 and "not a MediaPipe .task model bundle" in err


def test_console_script_runs_in_a_fresh_process(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "formcheck.cli", "analyze", str(tmp_path / "missing.mp4"),
                           "-e", "bird_dog", "-o", str(tmp_path)], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    assert proc.stderr.strip() == f"formcheck: error: {tmp_path / 'missing.mp4'}: no such file"
