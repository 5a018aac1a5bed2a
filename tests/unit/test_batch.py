"""``formcheck batch``: a folder in, one output folder per recording, a summary; bad files reported."""
import csv
import json
import os
import shutil
from pathlib import Path

import pytest

from formcheck import cli
from formcheck.batch import Outcome, find_inputs, is_done, plan, summary_table
from formcheck.pipeline import AnalyzeOptions, analyze
from formcheck.spec import load_exercise
from tests.support.paths import FIXTURES

BIRD_DOG_TRACE = FIXTURES / "traces" / "bird_dog_synthetic_2ext.json"
GLUTE_TRACE = FIXTURES / "traces" / "glute_bridge_side_1rep.json"
PDF_BYTES = b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"


@pytest.fixture
def folder(tmp_path):
    """Two good traces and two files that only pretend to be videos."""
    inputs = tmp_path / "in"
    inputs.mkdir()
    shutil.copy(BIRD_DOG_TRACE, inputs / "dog_a.json")
    shutil.copy(BIRD_DOG_TRACE, inputs / "dog_b.json")
    (inputs / "empty.mp4").write_bytes(b"")
    (inputs / "report.mp4").write_bytes(PDF_BYTES)
    (inputs / "notes.txt").write_text("not an input")  # neither video nor trace: left alone
    return inputs


def batch(folder: Path, out: Path, *extra: str) -> int:
    return cli.main(["batch", str(folder), "--exercise", "bird_dog", "--out", str(out), *extra])


def read_summary(out: Path) -> dict[str, dict]:
    with open(out / "batch_summary.csv", newline="", encoding="utf-8") as f:
        return {row["file"]: row for row in csv.DictReader(f)}


@pytest.mark.slow
def test_good_files_succeed_bad_ones_are_reported_and_a_rerun_skips_done_ones(folder, tmp_path, capsys):
    out = tmp_path / "out"
    assert batch(folder, out, "--workers", "2", "--no-video") == 2  # some failed

    rows = read_summary(out)
    assert list(rows) == ["dog_a.json", "dog_b.json", "empty.mp4", "report.mp4"]
    for name in ("dog_a.json", "dog_b.json"):
        assert (rows[name]["status"], rows[name]["reps"], rows[name]["partial"]) == ("ok", "2", "0")
    assert rows["empty.mp4"]["status"] == "failed" and "empty" in rows["empty.mp4"]["error"]
    assert rows["report.mp4"]["status"] == "failed" and "not a video" in rows["report.mp4"]["error"]
    printed = capsys.readouterr().out
    assert "dog_a.json" in printed and "2 ok, 0 skipped, 2 failed" in printed

    # each output folder holds exactly what `formcheck analyze` writes
    direct = tmp_path / "direct"
    analyze(folder / "dog_a.json", load_exercise("bird_dog"), direct, AnalyzeOptions(write_video=False))
    assert sorted(p.name for p in (out / "dog_a").iterdir()) == sorted(p.name for p in direct.iterdir())
    batch_summary = json.loads((out / "dog_a" / "summary.json").read_text())
    assert batch_summary == json.loads((direct / "summary.json").read_text())
    assert not (out / "empty").exists() or not (out / "empty" / "summary.json").exists()

    # rerun: done ones are skipped (their counts read back), failed ones are tried again
    assert batch(folder, out, "--workers", "2", "--no-video") == 2
    rows = read_summary(out)
    assert [rows[n]["status"] for n in rows] == ["skipped", "skipped", "failed", "failed"]
    assert rows["dog_a.json"]["reps"] == "2"

    # an input changed after its analysis is analysed again
    summary_time = (out / "dog_b" / "summary.json").stat().st_mtime
    os.utime(folder / "dog_b.json", (summary_time + 10, summary_time + 10))
    batch(folder, out, "--workers", "1", "--no-video")
    assert read_summary(out)["dog_b.json"]["status"] == "ok"


@pytest.mark.slow
def test_a_folder_with_only_good_files_exits_zero(tmp_path):
    inputs = tmp_path / "in"
    inputs.mkdir()
    shutil.copy(BIRD_DOG_TRACE, inputs / "one.json")
    assert batch(inputs, tmp_path / "out", "--workers", "1") == 0


@pytest.mark.parametrize("args, message", [
    (["missing_folder"], "no such folder"),  # a typo in the folder name
    (["."], "no videos"),  # a folder without recordings (relative to tmp_path, see below)
])
def test_unusable_folders_give_one_clear_line(tmp_path, capsys, monkeypatch, args, message):
    monkeypatch.chdir(tmp_path)
    assert cli.main(["batch", *args, "--exercise", "bird_dog", "--out", "out"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and message in err[0]


def test_an_unknown_exercise_fails_once_before_any_work(folder, tmp_path, capsys):
    assert cli.main(["batch", str(folder), "--exercise", "no_such", "--out", str(tmp_path / "out")]) == 2
    assert "Unknown exercise" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


# -- the pure parts ------------------------------------------------------------------------------------


def test_find_inputs_takes_videos_and_traces_by_name(tmp_path):
    for name in ("b.MP4", "a.json", "c.mov", "d.json.gz", ".hidden.mp4", "notes.txt", "clip.mp4.part", "e.gz"):
        (tmp_path / name).write_bytes(b"x")
    (tmp_path / "sub.mp4").mkdir()  # a folder, whatever its name
    assert [p.name for p in find_inputs(tmp_path)] == ["a.json", "b.MP4", "c.mov", "d.json.gz"]


def test_is_done_needs_a_summary_newer_than_the_input(tmp_path):
    source, out = tmp_path / "a.json", tmp_path / "a"
    source.write_text("{}")
    assert not is_done(source, out)  # never analysed
    out.mkdir()
    (out / "summary.json").write_text("{}")
    t = source.stat().st_mtime
    os.utime(out / "summary.json", (t + 5, t + 5))
    assert not is_done(source, out)  # a summary that lists no outputs was not written by a complete run
    (out / "reps.csv").write_text("index\n")
    (out / "summary.json").write_text('{"outputs": {"reps.csv": 6}}')
    os.utime(out / "summary.json", (t + 5, t + 5))
    assert is_done(source, out)
    os.utime(source, (t + 10, t + 10))  # the recording was replaced after its analysis
    assert not is_done(source, out)


def test_two_inputs_with_the_same_stem_do_not_share_a_folder(tmp_path):
    a, b = tmp_path / "s1.json", tmp_path / "s1.mp4"
    jobs, known = plan([a, b], tmp_path / "out", load_exercise("bird_dog"), AnalyzeOptions())
    assert [j.input for j in jobs] == [a]
    assert known[0].file == "s1.mp4" and known[0].status == "failed" and "rename" in known[0].error


def test_a_gzipped_trace_gets_the_folder_of_its_name_without_json_gz(tmp_path):
    jobs, known = plan([tmp_path / "clip.json.gz", tmp_path / "clip.json"], tmp_path / "out",
                       load_exercise("bird_dog"), AnalyzeOptions())
    assert jobs[0].out_dir == tmp_path / "out" / "clip" and known[0].status == "failed"


def test_summary_table_aligns_columns_and_puts_errors_last():
    table = summary_table([Outcome("a.mp4", "ok", 2, 0, 1, 12.34), Outcome("broken.mp4", "failed", error="empty")])
    header, ok, failed = table.splitlines()
    assert header.split() == ["file", "status", "reps", "partial", "flags", "seconds", "error"]
    assert ok.split() == ["a.mp4", "ok", "2", "0", "1", "12.3"]
    assert failed.split()[:2] == ["broken.mp4", "failed"] and failed.endswith("empty")


# -- the real model, and Ray -------------------------------------------------------------------------------------


@pytest.mark.model
def test_a_real_video_through_the_local_process_pool(tmp_path):
    inputs = tmp_path / "in"
    inputs.mkdir()
    shutil.copy(FIXTURES / "video" / "bird_dog_360.mp4", inputs / "bird_dog.mp4")
    shutil.copy(GLUTE_TRACE, inputs / "glute.json")
    out = tmp_path / "out"
    assert cli.main(["batch", str(inputs), "--exercise", "bird_dog", "--out", str(out),
                     "--workers", "2", "--engine", "local"]) == 0
    row = read_summary(out)["bird_dog.mp4"]
    assert (row["status"], row["reps"], row["partial"], row["flags"]) == ("ok", "2", "0", "0")
    assert float(row["seconds"]) > 0
    written = {p.name for p in (out / "bird_dog").iterdir()}
    assert written - {".formcheck.lock"} == {"summary.json", "reps.csv", "frames.csv", "trace.json", "annotated.mp4"}
    assert json.loads((out / "bird_dog" / "summary.json").read_text())["frames"] == 427


@pytest.fixture
def ray_module():
    ray = pytest.importorskip("ray", reason="the ray engine needs the optional 'cluster' dependency")
    yield ray
    if ray.is_initialized():  # the batch shuts Ray down itself; this is for a failed test
        ray.shutdown()


@pytest.mark.slow
def test_the_ray_engine_on_a_local_instance(folder, tmp_path, ray_module):
    out = tmp_path / "out"
    assert batch(folder, out, "--engine", "ray", "--workers", "2", "--no-video") == 2
    rows = read_summary(out)
    assert [(rows[n]["status"], rows[n]["reps"]) for n in rows] == \
        [("ok", "2"), ("ok", "2"), ("failed", ""), ("failed", "")]
    assert json.loads((out / "dog_b" / "summary.json").read_text())["reps"] == 2
    assert not ray_module.is_initialized()
