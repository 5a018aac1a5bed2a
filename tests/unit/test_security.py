"""Issue 10: health data handled like health data.

Each test here failed before the fix it names and passes after it. Where the input space is
large (prescription and exercise TOML, trace JSON) the test is property-based: whatever a file
holds, formcheck either refuses it with its own error naming the field, or accepts values that
are finite, inside their clinical range (formcheck/limits.py) and one of their allowed values.
"""
from __future__ import annotations

import csv
import json
import math
import os
import stat
import string
import sys
import time
import tomllib
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from formcheck import cli, limits
from formcheck.backends.replay import TraceError, load_trace, replay
from formcheck.clinic.prescription import PrescriptionError, parse_prescription, to_toml
from formcheck.outputs import OUTPUT_NAMES, FolderLock, OutputError, is_complete
from formcheck.pipeline import AnalyzeOptions, analyze
from formcheck.plaintext import escape_markdown, printable
from formcheck.spec import SEVERITIES, SpecError, exercises_dir, load_exercise, parse_spec, threshold_range
from formcheck.store import StoreError, open_store
from formcheck.types import SessionResult
from formcheck.uploads import STALE_UPLOAD_S, analyze_upload, remove_stale_uploads
from formcheck.video import VideoInfo, video_limit_problem
from tests.support.paths import FIXTURES

# -- a small TOML writer for generated documents (values TOML can hold, including nan and inf) ----


def toml_value(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf") if math.isinf(value) else repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    return "{" + ", ".join(f"{json.dumps(k)} = {toml_value(v)}" for k, v in value.items()) + "}"


def toml_document(tables: dict) -> str:
    lines = []
    for key, value in tables.items():
        if key == "exercise":
            continue
        lines.append(f"{json.dumps(key)} = {toml_value(value)}")
    for item in tables.get("exercise", []):
        lines.append("[[exercise]]")
        lines += [f"{json.dumps(k)} = {toml_value(v)}" for k, v in item.items()]
    return "\n".join(lines) + "\n"


scalars = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True), st.integers(-10**6, 10**6), st.booleans(),
    st.text(max_size=12), st.sampled_from(["nan", "inf", "abc", 'danger"><img src=x onerror=alert(1)>', ""]),
)
numbers = st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.integers(-10**4, 10**4),
                    st.sampled_from([math.nan, math.inf, -math.inf, -0.5, 0, 15, 360.5, 1e308]))
RULES = {name: [r.code for r in load_exercise(name).rules] for name in ("glute_bridge", "bird_dog", "cat_cow")}


@st.composite
def prescription_documents(draw) -> dict:
    name = draw(st.sampled_from(sorted(RULES)))
    item: dict = {"name": name}
    for key in draw(st.sets(st.sampled_from(["sets", "reps", "hold_s", "rest_s", "tempo_s", "target_deg"]))):
        item[key] = draw(st.one_of(numbers, scalars))
    codes = draw(st.lists(st.sampled_from(RULES[name] + ["no_such_rule"]), max_size=2, unique=True))
    if codes:
        item["limits"] = {
            code: draw(st.dictionaries(st.sampled_from(["above", "below", "min_duration_s", "severity"]),
                                       st.one_of(numbers, scalars, st.sampled_from(SEVERITIES)), max_size=3))
            for code in codes
        }
    doc: dict = {"exercise": [item]}
    if draw(st.booleans()):
        doc["sessions_per_week"] = draw(st.one_of(numbers, scalars))
    return doc


def assert_in_range(value, allowed: limits.Range) -> None:
    assert isinstance(value, (int, float)) and math.isfinite(value) and allowed.low <= value <= allowed.high, value


# -- 1. prescriptions and exercise definitions ---------------------------------------------------------


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(prescription_documents())
def test_any_prescription_is_refused_with_a_named_field_or_holds_only_clinical_values(doc):
    text = toml_document(doc)
    try:
        prescription = parse_prescription(text)
    except PrescriptionError as exc:
        assert "exercise 1" in str(exc) or "sessions_per_week" in str(exc) or "TOML" in str(exc)
        return
    assert_in_range(prescription.sessions_per_week, limits.SESSIONS_PER_WEEK)
    for item in prescription.exercises:
        spec = item.spec()
        for rule in spec.rules:
            assert rule.severity in SEVERITIES
            assert_in_range(rule.min_duration_s, limits.DEBOUNCE_S)
            for bound in (rule.above, rule.below):
                assert math.isnan(bound) or bound in threshold_range(rule.signal)
            assert not (math.isnan(rule.above) and math.isnan(rule.below))
        for key, allowed in (("hold_s", limits.HOLD_S), ("rest_s", limits.REST_S), ("tempo_s", limits.TEMPO_S),
                             ("target_deg", limits.ANGLE_DEG)):
            if getattr(item, key) is not None:
                assert_in_range(getattr(item, key), allowed)
    assert parse_prescription(to_toml(prescription)) == prescription  # what is exported imports the same


@pytest.mark.parametrize("line, field", [
    ("above = nan", "spinal_flexion.above"),
    ("above = inf", "spinal_flexion.above"),
    ("above = -inf", "spinal_flexion.above"),
    ('above = "abc"', "spinal_flexion.above"),
    ("above = 1e9", "spinal_flexion.above"),
    ("min_duration_s = -1", "spinal_flexion.min_duration_s"),
    ("min_duration_s = nan", "spinal_flexion.min_duration_s"),
    ('severity = \'danger"><img src=x onerror=alert(1)>\'', "spinal_flexion.severity"),
    ('severity = "critical"', "spinal_flexion.severity"),
])
def test_a_limit_that_would_switch_a_rule_off_or_inject_html_is_refused_naming_the_field(line, field):
    text = f'[[exercise]]\nname = "glute_bridge"\n[exercise.limits.spinal_flexion]\n{line}\n'
    with pytest.raises(PrescriptionError, match=field.replace(".", r"\.")):
        parse_prescription(text)


@pytest.mark.parametrize("line", ["hold_s = nan", "rest_s = inf", "target_deg = nan", "tempo_s = -inf"])
def test_prescribed_targets_must_be_finite(line):
    with pytest.raises(PrescriptionError, match=line.split(" ")[0]):
        parse_prescription(f'[[exercise]]\nname = "glute_bridge"\n{line}\n')


def _definition(name: str) -> dict:
    return tomllib.loads((exercises_dir() / f"{name}.toml").read_text(encoding="utf-8"))


SPEC_FIELDS = [("rep", "rest_deg"), ("rep", "top_deg"), ("rep", "min_duration_s"), ("rep", "min_rest_s"),
               ("rep", "min_rom_deg"), ("rep", "target_hold_s"), ("rep", "baseline_window_s"), ("rep", "min_snr"),
               ("rules", "above"), ("rules", "below"), ("rules", "min_duration_s"), ("rules", "severity"),
               ("rules", "during"), ("rules", "code"), ("", "usual_weeks"), ("", "view")]


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(["glute_bridge", "bird_dog", "childs_pose", "cat_cow"]), st.sampled_from(SPEC_FIELDS),
       st.one_of(numbers, scalars, st.lists(numbers, max_size=3)))
def test_any_exercise_definition_value_is_refused_naming_the_field_or_is_clinical(name, where, value):
    data = _definition(name)
    table, key = where
    target = data if not table else data[table] if table == "rep" else (data.get("rules") or [{}])[0]
    target[key] = value
    try:
        spec = parse_spec(data, name=name, source=f"{name}.toml")
    except SpecError as exc:
        assert key in str(exc) or "rep.top_deg" in str(exc) or "needs 'above' or 'below'" in str(exc), str(exc)
        return
    rep = spec.rep
    for number, allowed in ((rep.rest_deg, limits.ANGLE_DEG), (rep.top_deg, limits.ANGLE_DEG),
                            (rep.min_duration_s, limits.DEBOUNCE_S), (rep.min_rest_s, limits.DEBOUNCE_S),
                            (rep.min_rom_deg, limits.ROM_DEG), (rep.target_hold_s, limits.HOLD_S),
                            (rep.baseline_window_s, limits.DEBOUNCE_S), (rep.min_snr, limits.SNR)):
        assert_in_range(number, allowed)
    for rule in spec.rules:
        assert rule.severity in SEVERITIES and rule.code.replace("_", "").isalnum()
        assert_in_range(rule.min_duration_s, limits.DEBOUNCE_S)
        assert all(math.isnan(b) or b in threshold_range(rule.signal) for b in (rule.above, rule.below))
    for week in spec.usual_weeks or ():
        assert_in_range(week, limits.WEEKS)


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf])
def test_an_exercise_threshold_of_nan_or_inf_is_refused(value):
    data = _definition("glute_bridge")
    data["rules"][0]["above"] = value
    with pytest.raises(SpecError, match=r"rules\[0\]\.above"):
        parse_spec(data, name="glute_bridge")


def test_the_live_cue_box_escapes_its_kind():
    from formcheck.ui.widgets import box  # the UI's big message box (imports Streamlit)

    html_out = box("Stop", 'danger"><img src=x onerror=alert(1)>')
    assert "<img" not in html_out and '"><' not in html_out


# -- 7. user text as text ---------------------------------------------------------------------------------

_PUNCT = set(string.punctuation)


def _unescape(text: str) -> str:
    out, i = [], 0
    while i < len(text):
        if text[i] == "\\" and i + 1 < len(text) and text[i + 1] in _PUNCT:
            out.append(text[i + 1])
            i += 2
        else:
            assert text[i] not in _PUNCT, f"unescaped {text[i]!r} in {text!r}"
            out.append(text[i])
            i += 1
    return "".join(out)


@given(st.text())
def test_escape_markdown_leaves_no_markdown_syntax_and_keeps_every_character(text):
    shown = escape_markdown(text)
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    assert shown.split("\n") == [escape_markdown(line) for line in lines]  # a note keeps its lines
    assert [_unescape(line) for line in shown.split("\n")] == [printable(line) for line in lines]


def test_an_image_link_in_a_note_is_not_an_image():
    shown = escape_markdown("Call me ![x](https://tracker.example/p.png) <img src=x> :red[stop]")
    assert r"\!\[x\]\(https\:\/\/tracker\.example\/p\.png\)" in shown  # shown as typed, not fetched
    assert r"\<img src\=x\>" in shown and r"\:red\[stop\]" in shown


@given(st.text())
@example("a\u2028b\u2029c")  # line and paragraph separators: str.splitlines() breaks on them
def test_printable_never_lets_a_control_character_through(text):
    assert not any(c in printable(text) for c in "\n\r\x1b\x00\u202e\u2028\u2029")
    assert len(printable(text).splitlines()) <= 1


def test_export_names_keep_date_and_session_id_for_a_long_patient_name():
    from formcheck.review import export_name
    from formcheck.store import PatientRow, SessionRow

    patient = PatientRow(id=1, name="Maria " + "Longname-" * 20, surgery_date=None, notes="",
                         created_at=datetime.now(UTC))
    started = datetime(2026, 11, 3, 10, 0, tzinfo=UTC)
    names = set()
    for session_id in (7, 8):
        row = SessionRow(**{**_session_fields(), "id": session_id, "started_at": started})
        name = export_name(patient, row, "csv")
        assert len(name) <= 84 and name.endswith(f"_session{session_id}.csv") and "2026-11-03" in name, name
        assert name.startswith("Maria_Longname")
        names.add(name)
    assert len(names) == 2


def _session_fields() -> dict:
    from dataclasses import fields

    from formcheck.store import SessionRow

    now = datetime.now(UTC)
    defaults = {"patient_id": 1, "exercise": "glute_bridge", "exercise_title": "Glute bridge", "spec_version": "1",
                "source": "upload", "status": "recorded", "started_at": now, "updated_at": now, "ended_at": now}
    return {f.name: defaults.get(f.name) for f in fields(SessionRow)}


# -- 2 and 3. outputs: never over the input, all at once or not at all, one run at a time, private ----


TRACE = FIXTURES / "traces" / "glute_bridge_side_1rep.json"
VIDEO = FIXTURES / "video" / "bird_dog_360.mp4"
GLUTE = load_exercise("glute_bridge")


def run_cli(capsys, *args) -> tuple[int, str]:
    code = cli.main([str(a) for a in args])
    return code, capsys.readouterr().err


def outputs_in(folder: Path) -> set[str]:
    return {p.name for p in folder.iterdir() if p.name != ".formcheck.lock"}


@pytest.mark.parametrize("name", ["trace.json", "annotated.mp4", "frames.csv"])
def test_analyze_refuses_to_write_over_its_own_input(tmp_path, capsys, name):
    out = tmp_path / "out"
    out.mkdir()
    source = TRACE if name.endswith(".json") else VIDEO
    recording = out / name
    recording.write_bytes(source.read_bytes())
    code, err = run_cli(capsys, "analyze", recording, "-e", "glute_bridge", "-o", out, "--no-video")
    assert code == 2 and err.count("\n") == 1 and "write over" in err, err
    assert recording.read_bytes() == source.read_bytes()  # the patient's recording is untouched
    assert outputs_in(out) == {name}


def test_a_hard_link_to_an_output_name_is_the_input_too(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    original = tmp_path / "session.json"
    original.write_bytes(TRACE.read_bytes())
    (out / "trace.json").hardlink_to(original)
    with pytest.raises(OutputError, match="write over"):
        analyze(original, GLUTE, out, AnalyzeOptions(write_video=False))
    assert original.read_bytes() == TRACE.read_bytes()


def test_outputs_are_renamed_into_place_with_the_summary_last_and_listed_in_it(tmp_path, monkeypatch):
    import os

    renamed = []
    real_replace = os.replace
    monkeypatch.setattr(os, "replace", lambda a, b: (renamed.append(Path(b).name), real_replace(a, b)))
    analyze(TRACE, GLUTE, tmp_path, AnalyzeOptions(write_video=False))
    assert renamed[-1] == "summary.json" and set(renamed) == {"frames.csv", "reps.csv", "trace.json", "summary.json"}
    listed = json.loads((tmp_path / "summary.json").read_text())["outputs"]
    assert listed == {n: (tmp_path / n).stat().st_size for n in ("frames.csv", "reps.csv", "trace.json")}
    assert is_complete(tmp_path) and not list(tmp_path.glob(".*.part"))


def test_a_run_that_fails_half_way_leaves_no_partial_file_and_the_earlier_outputs_as_they_were(tmp_path):
    analyze(TRACE, GLUTE, tmp_path, AnalyzeOptions(write_video=False))
    before = {n: (tmp_path / n).read_bytes() for n in outputs_in(tmp_path)}

    def disk_full(done: int, total: int) -> None:
        if done == 20:
            raise OSError(28, "No space left on device")

    with pytest.raises(OSError):
        analyze(TRACE, GLUTE, tmp_path, AnalyzeOptions(write_video=False), progress=disk_full)
    assert {n: (tmp_path / n).read_bytes() for n in outputs_in(tmp_path)} == before
    assert is_complete(tmp_path)


def test_a_failed_first_run_leaves_an_empty_folder(tmp_path):
    broken = tmp_path / "broken.json"
    data = json.loads(TRACE.read_text())
    data["frames"][30]["t"] = -1  # time goes backwards half way: found only while replaying
    broken.write_text(json.dumps(data))
    code = cli.main(["analyze", str(broken), "-e", "glute_bridge", "-o", str(tmp_path / "out")])
    assert code == 2
    assert outputs_in(tmp_path / "out") == set()


@pytest.mark.slow
def test_batch_redoes_a_folder_whose_trace_was_cut_while_its_summary_is_valid(tmp_path, capsys):
    inputs, out = tmp_path / "in", tmp_path / "out"
    inputs.mkdir()
    (inputs / "s1.json").write_bytes(TRACE.read_bytes())
    args = ["batch", str(inputs), "-e", "glute_bridge", "-o", str(out), "--workers", "1"]
    assert cli.main(args) == 0
    trace = out / "s1" / "trace.json"
    trace.write_bytes(trace.read_bytes()[:1000])  # the disk filled up while an older formcheck wrote it
    capsys.readouterr()
    assert cli.main(args) == 0
    assert "s1.json: ok" in capsys.readouterr().err  # analysed again, not "skipped"
    assert is_complete(out / "s1") and json.loads(trace.read_text())["frames"]


def test_a_second_run_into_a_folder_in_use_is_refused_with_one_line(tmp_path, capsys):
    with FolderLock(tmp_path, "run"):  # another run holds the folder
        code, err = run_cli(capsys, "analyze", TRACE, "-e", "glute_bridge", "-o", tmp_path)
    assert code == 2 and err.count("\n") == 1 and "another formcheck run" in err, err
    assert outputs_in(tmp_path) == set()
    code, err = run_cli(capsys, "analyze", TRACE, "-e", "glute_bridge", "-o", tmp_path)  # free again
    assert code == 0, err


def test_two_processes_into_one_folder_never_interleave(tmp_path):
    import subprocess

    command = [sys.executable, "-m", "formcheck.cli", "analyze",
               str(FIXTURES / "traces" / "bird_dog_synthetic_2ext.json"), "-e", "bird_dog", "-o", str(tmp_path)]
    runs = [subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    results = [(r.wait(timeout=300), r.stderr.read()) for r in runs]
    assert sorted(code for code, _ in results) in ([0, 0], [0, 2])  # one after the other, or one refused
    assert all("another formcheck run" in err for code, err in results if code == 2)
    assert is_complete(tmp_path)
    assert b"\0" not in (tmp_path / "frames.csv").read_bytes()


@pytest.mark.model
def test_outputs_are_private_whatever_the_umask(tmp_path):
    import os
    import stat

    old = os.umask(0o022)
    try:
        analyze(VIDEO, load_exercise("bird_dog"), tmp_path, AnalyzeOptions(max_side_px=320))
    finally:
        os.umask(old)
    for name in OUTPUT_NAMES:
        assert stat.S_IMODE((tmp_path / name).stat().st_mode) == 0o600, name


# -- 5. bounded inputs: refused before the work starts, one line, exit 2 ------------------------------



def assert_refused(capsys, path: Path, out: Path, words: str) -> None:
    code, err = run_cli(capsys, "analyze", path, "-e", "glute_bridge", "-o", out, "--no-video")
    assert code == 2 and err.count("\n") == 1 and err.startswith("formcheck: error:"), err
    assert words in err, err
    assert not out.exists() or outputs_in(out) == set()


@pytest.mark.parametrize("key", ["width", "height", "fps"])
@pytest.mark.parametrize("value", ["Infinity", "-Infinity", "NaN", '"abc"', "-1", "0", "1e300", "true", "[]"])
def test_a_trace_header_that_is_not_a_finite_positive_number_is_refused(tmp_path, capsys, key, value):
    data = json.loads(TRACE.read_text())
    data[key] = "@@"
    path = tmp_path / "t.json"
    path.write_text(json.dumps(data).replace('"@@"', value))
    assert_refused(capsys, path, tmp_path / "out", f"'{key}'")


def test_a_trace_nested_two_hundred_thousand_deep_is_refused_with_exit_2(tmp_path, capsys):
    path = tmp_path / "deep.json"
    path.write_text("[" * 200_000 + "]" * 200_000)
    assert_refused(capsys, path, tmp_path / "out", "nested too deeply")


def test_a_million_frame_trace_is_refused_before_replaying_it(tmp_path, capsys):
    import time

    frames = ",".join(f'{{"t":{i / 30:.4f}}}' for i in range(1_000_000))
    path = tmp_path / "long.json"
    path.write_text(f'{{"format":"formcheck-trace/v1","width":640,"height":480,"fps":30,"frames":[{frames}]}}')
    started = time.perf_counter()
    assert_refused(capsys, path, tmp_path / "out", "at most")
    assert time.perf_counter() - started < 15  # parsing only (about 2 s idle); replaying took 27 s


def test_a_trace_longer_than_the_limit_is_refused(tmp_path, capsys):
    data = json.loads(TRACE.read_text())
    data["frames"][-1]["t"] = limits.MAX_DURATION_S + 1
    path = tmp_path / "t.json"
    path.write_text(json.dumps(data))
    assert_refused(capsys, path, tmp_path / "out", "minutes")


json_values = st.recursive(
    st.one_of(st.none(), st.booleans(), st.floats(allow_nan=True, allow_infinity=True), st.integers(),
              st.text(max_size=5)),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=6), children, max_size=4),
    max_leaves=30,
)


@st.composite
def traces(draw) -> dict:
    """Traces near the format (so the checks past the header are reached too), with arbitrary holes."""
    frame = st.fixed_dictionaries({"t": st.one_of(st.floats(0, 100), json_values)},
                                  optional={"i": json_values,
                                            "image": st.one_of(json_values, st.just([[0.5, 0.5, 0.0, 1.0]] * 33)),
                                            "world": json_values, "back": json_values})
    data = draw(st.fixed_dictionaries(
        {"format": st.sampled_from(["formcheck-trace/v1", "mediapipe-pose-33/v1", "other"])},
        optional={"width": st.one_of(st.integers(-5, 5000), json_values),
                  "height": st.one_of(st.integers(-5, 5000), json_values),
                  "fps": json_values, "frames": st.lists(frame, max_size=6)}))
    return data


@settings(max_examples=120, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(st.one_of(traces(), json_values))
def test_any_trace_json_is_analysed_or_refused_as_a_trace_error_leaving_no_partial_output(tmp_path, data):
    import shutil

    path = tmp_path / "t.json"
    path.write_text(json.dumps(data))
    out = tmp_path / "out"
    shutil.rmtree(out, ignore_errors=True)
    try:
        analyze(path, GLUTE, out, AnalyzeOptions(write_video=False))
    except TraceError:
        assert outputs_in(out) == set() if out.exists() else True
        return
    assert is_complete(out)


def make_video(path: Path, width: int, height: int, frames: int) -> Path:
    import av
    import numpy as np

    with av.open(str(path), "w", format="mp4") as container:
        stream = container.add_stream("libx264", rate=30)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        for i in range(frames):
            image = np.full((height, width, 3), (i * 40) % 255, np.uint8)
            for packet in stream.encode(av.VideoFrame.from_ndarray(image, format="bgr24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path


def test_a_video_wider_than_4k_is_refused_before_decoding(tmp_path, capsys):
    assert_refused(capsys, make_video(tmp_path / "wide.mp4", 4160, 64, 3), tmp_path / "out", "4160 x 64 pixels")


@pytest.mark.parametrize("fmt, words", [("jpeg", "JPEG picture"), ("png", "PNG picture"), ("gif", "GIF picture")])
def test_a_picture_renamed_mp4_is_refused(tmp_path, capsys, fmt, words):
    from PIL import Image

    path = tmp_path / "photo.mp4"
    Image.new("RGB", (320, 240), (90, 120, 200)).save(path, format=fmt)
    assert_refused(capsys, path, tmp_path / "out", words)


@pytest.mark.model
def test_a_one_frame_video_is_a_picture_not_a_video(tmp_path, capsys):
    assert_refused(capsys, make_video(tmp_path / "one.mp4", 320, 240, 1), tmp_path / "out", "single picture")


@pytest.mark.parametrize("info, words", [
    (VideoInfo(8192, 8192, 30.0, 100), "8192 x 8192"),
    (VideoInfo(1920, 1080, 30.0, limits.MAX_FRAMES + 1), "frames"),
    (VideoInfo(1920, 1080, 1.0, limits.MAX_DURATION_S + 1), "minutes"),
    (VideoInfo(0, 1080, 30.0, 10), "zero size"),
])
def test_video_limits_are_checked_from_the_container_before_decoding(info, words):
    assert words in video_limit_problem(info)
    assert video_limit_problem(VideoInfo(3840, 2160, 60.0, 60 * 60 * 60)) is None  # an hour of 4K at 60 fps


def test_every_real_trace_is_within_the_limits():
    for path in sorted((FIXTURES / "traces").glob("*.json")):
        assert sum(1 for _ in replay(load_trace(path))) > 0


# -- 4. private files; 6. the write lock is not held while compressing ------------------------------------




def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def loose_umask():
    old = os.umask(0o022)  # the usual default: files 0644, folders 0755
    yield
    os.umask(old)


def empty_result() -> SessionResult:
    return SessionResult(exercise="glute_bridge", exercise_title="Glute bridge", spec_version="1", duration_s=1.0,
                         frames=30, frames_with_pose=30, reps=[], flags=[], warnings=[], provenance={})


def test_the_data_folder_and_database_are_private_whatever_the_umask(tmp_path, loose_umask):
    data = tmp_path / "data"
    data.mkdir(mode=0o755)  # made by an older formcheck
    import sqlite3

    store = open_store(data)
    reader = sqlite3.connect(data / "formcheck.db")  # an open window: the WAL and SHM files stay
    reader.execute("SELECT count(*) FROM patients").fetchone()
    patient = store.add_patient("Ana")
    session = store.start_session(patient, "glute_bridge", "Glute bridge", "1", "live")
    store.save_progress(session, empty_result())
    assert mode(data) == 0o700
    for name in ("formcheck.db", "formcheck.db-wal", "formcheck.db-shm"):
        assert (data / name).exists() and mode(data / name) == 0o600, name
    reader.close()
    (data / "formcheck.db").chmod(0o644)  # a database left readable by an older formcheck
    open_store(data)
    assert mode(data / "formcheck.db") == 0o600


def test_a_kept_live_video_is_private(tmp_path, loose_umask):
    import numpy as np

    from formcheck.video import H264Writer

    writer = H264Writer(tmp_path / "data" / "videos" / "session-1.mp4", private=True)
    writer.write(np.zeros((64, 64, 3), np.uint8), 0.0)
    writer.close()
    assert mode(writer.path) == 0o600 and mode(writer.path.parent) == 0o700


@pytest.mark.model
def test_an_upload_and_its_kept_video_are_private(tmp_path, loose_umask, monkeypatch):
    import formcheck.uploads as uploads

    store = open_store(tmp_path / "data")
    patient = store.add_patient("Ana")
    seen = {}
    real_analyze = uploads.analyze

    def spy(video_in, *args, **kwargs):
        seen["input"], seen["folder"] = mode(Path(video_in)), mode(Path(video_in).parent)
        return real_analyze(video_in, *args, **kwargs)

    monkeypatch.setattr(uploads, "analyze", spy)
    video = make_video(tmp_path / "clip.mp4", 160, 120, 10)
    with open(video, "rb") as data:
        session_id, _ = analyze_upload(store, patient, load_exercise("glute_bridge"), data, "clip.mp4",
                                       video.stat().st_size, keep_video=True)
    assert seen == {"input": 0o600, "folder": 0o700}
    kept = Path(store.get_session(session_id).video_path)
    assert mode(kept) == 0o600 and mode(kept.parent) == 0o700
    assert list((store.data_dir / "tmp").iterdir()) == []


def test_stale_upload_folders_are_removed_at_start_up_and_live_ones_kept(tmp_path):
    work = tmp_path / "tmp"
    stale, fresh = work / "upload-crashed", work / "upload-running"
    for folder in (stale, fresh):
        folder.mkdir(parents=True)
        (folder / "input.mp4").write_bytes(b"patient video")
    old = time.time() - STALE_UPLOAD_S - 60
    for path in (stale / "input.mp4", stale):
        os.utime(path, (old, old))
    assert remove_stale_uploads(tmp_path) == 1
    assert not stale.exists() and (fresh / "input.mp4").exists()


def test_the_write_lock_is_free_while_a_long_trace_is_compressed(tmp_path, monkeypatch):
    import formcheck.store.database as store_module

    store = open_store(tmp_path / "data")
    patient = store.add_patient("Ana")
    session = store.start_session(patient, "glute_bridge", "Glute bridge", "1", "live")
    impatient = open_store(tmp_path / "data", busy_timeout_s=0.0)  # another window's autosave
    writes = []
    real_compress = store_module.zlib.compress

    class SlowZlib:
        error = store_module.zlib.error
        decompress = staticmethod(store_module.zlib.decompress)

        @staticmethod
        def compress(data: bytes) -> bytes:
            writes.append(impatient.add_patient("Written while the trace was compressed"))
            return real_compress(data)

    monkeypatch.setattr(store_module, "zlib", SlowZlib)
    try:
        store.finish_session(session, empty_result(), trace_json='{"frames": []}')
    except StoreError as exc:
        pytest.fail(f"the other writer found the database locked: {exc}")
    assert len(writes) == 1 and store.get_trace(session) == '{"frames": []}'


# -- 8. batch: names that collide, links that leave the folder, names that break lines ---------------------



def batch(inputs: Path, out: Path) -> int:
    return cli.main(["batch", str(inputs), "-e", "glute_bridge", "-o", str(out), "--workers", "1"])


def test_an_input_named_like_the_batch_summary_does_not_block_it(tmp_path, capsys):
    inputs, out = tmp_path / "in", tmp_path / "out"
    inputs.mkdir()
    (inputs / "batch_summary.csv.json").write_bytes(TRACE.read_bytes())
    (inputs / "s1.json").write_bytes(TRACE.read_bytes())
    assert batch(inputs, out) == 2  # the clash is reported as a failure...
    table = {row["file"]: row for row in csv.DictReader((out / "batch_summary.csv").open(encoding="utf-8"))}
    assert table["s1.json"]["status"] == "ok"  # ...and the summary is written, with every file
    assert "rename it" in table["batch_summary.csv.json"]["error"]


def test_links_out_of_the_input_folder_are_not_followed(tmp_path, capsys):
    inputs, out, elsewhere = tmp_path / "in", tmp_path / "out", tmp_path / "private"
    inputs.mkdir()
    elsewhere.mkdir()
    (elsewhere / "other_patient.json").write_bytes(TRACE.read_bytes())
    (inputs / "link.json").symlink_to(elsewhere / "other_patient.json")
    (inputs / "s1.json").write_bytes(TRACE.read_bytes())
    (inputs / "inside.json").symlink_to(inputs / "s1.json")  # a link within the folder is fine
    assert batch(inputs, out) == 2
    err = capsys.readouterr().err
    assert "link.json: failed (a link to a file outside the input folder; not followed)" in err
    assert not (out / "link").exists() and is_complete(out / "inside") and is_complete(out / "s1")


@pytest.mark.slow
def test_newlines_and_escapes_in_file_names_do_not_reach_progress_lines_raw(tmp_path, capsys):
    inputs, out = tmp_path / "in", tmp_path / "out"
    inputs.mkdir()
    (inputs / "a\n[9] forged.json: ok\x1b[2K.json").write_bytes(TRACE.read_bytes())
    assert batch(inputs, out) == 0
    captured = capsys.readouterr()
    for line in (captured.err + captured.out).splitlines():
        assert "\x1b" not in line and not line.startswith("[9] forged")
    assert "a\\x0a[9] forged.json: ok\\x1b[2K.json: ok" in captured.err


def test_a_second_batch_into_the_same_folder_is_refused(tmp_path, capsys):
    inputs, out = tmp_path / "in", tmp_path / "out"
    inputs.mkdir()
    (inputs / "s1.json").write_bytes(TRACE.read_bytes())
    out.mkdir()
    with FolderLock(out, "batch", ".formcheck-batch.lock"):
        assert batch(inputs, out) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "another formcheck batch" in err


def test_an_error_line_stays_one_line_whatever_the_file_name(tmp_path, capsys):
    code, err = run_cli(capsys, "analyze", tmp_path / "no\nsuch.mp4", "-e", "glute_bridge", "-o", tmp_path / "o")
    assert code == 2 and err.count("\n") == 1 and "no\\x0asuch.mp4" in err


@pytest.mark.model
def test_trace_refuses_to_write_over_its_video_and_writes_a_private_file(tmp_path, capsys, loose_umask):
    video = tmp_path / "clip.mp4"
    video.write_bytes(VIDEO.read_bytes())
    code, err = run_cli(capsys, "trace", video, "-o", video)
    assert code == 2 and "write over" in err and video.read_bytes() == VIDEO.read_bytes()
    code, err = run_cli(capsys, "trace", make_video(tmp_path / "small.mp4", 160, 120, 5), "-o", tmp_path / "t.json")
    assert code == 0, err
    assert mode(tmp_path / "t.json") == 0o600 and load_trace(tmp_path / "t.json")["frames"]
