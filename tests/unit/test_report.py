"""formcheck.report: CSV, JSON, the HTML report and safe file names."""
from __future__ import annotations

import csv
import io
import json
import math
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from formcheck.measurement import NOT_MEASURABLE, Measurement
from formcheck.report import (
    REPS_CSV_COLUMNS,
    reps_csv,
    safe_filename,
    session_report_html,
    summary_json,
    write_outputs,
)
from formcheck.types import Flag, Rep, SessionResult

MALICIOUS = '<script>alert("x")</script><img src=x onerror=alert(1)>&'


def make_result(**overrides) -> SessionResult:
    fields = dict(
        exercise="glute_bridge",
        exercise_title="Glute bridge",
        spec_version="1.2",
        duration_s=42.25,
        frames=1000,
        frames_with_pose=950,
        reps=[
            Rep(index=1, side="left", start_s=1.0, peak_s=2.0, end_s=3.5, peak_deg=85.0,
                rom_deg=40.1234, hold_s=0.8, complete=True),
            Rep(index=1, side="right", start_s=4.0, peak_s=5.0, end_s=6.25, peak_deg=82.5,
                rom_deg=38.0, hold_s=0.5, complete=True, flags=("spinal_flexion", "hip_drop")),
            Rep(index=1, side="left", start_s=7.0, peak_s=7.5, end_s=8.0, peak_deg=math.nan,
                rom_deg=math.nan, hold_s=0.0, complete=False),
        ],
        flags=[
            Flag(code="spinal_flexion", severity="danger", start_s=4.4, end_s=5.1,
                 message="Keep your lower back flat", peak_value=31.0, rep_index=2),
        ],
        warnings=["Lighting was poor for 3 s"],
        provenance={"model": "mediapipe-pose-full-0.10.21", "spec_file": Path("exercises/glute_bridge.toml")},
    )
    fields.update(overrides)
    return SessionResult(**fields)


# -- CSV and JSON -------------------------------------------------------------------------------


def test_reps_csv_has_the_documented_columns_and_one_row_per_rep():
    rows = list(csv.DictReader(io.StringIO(reps_csv(make_result()))))
    assert tuple(rows[0].keys()) == REPS_CSV_COLUMNS == (
        "index", "side", "complete", "start_s", "peak_s", "end_s", "duration_s",
        "peak_deg", "rom_deg", "hold_s", "flags",
    )
    assert rows[0] == {
        "index": "1", "side": "left", "complete": "true", "start_s": "1.0", "peak_s": "2.0", "end_s": "3.5",
        "duration_s": "2.5", "peak_deg": "85.0", "rom_deg": "40.123", "hold_s": "0.8", "flags": "",
    }
    assert rows[1]["flags"] == "spinal_flexion;hip_drop"
    assert rows[1]["duration_s"] == "2.25"
    # the partial rep: marked as such, its missing angles are empty cells (not 0, not "nan")
    assert (rows[2]["complete"], rows[2]["peak_deg"], rows[2]["rom_deg"]) == ("false", "", "")


def test_reps_csv_of_a_session_without_reps_is_just_the_header():
    assert reps_csv(make_result(reps=[])) == ",".join(REPS_CSV_COLUMNS) + "\n"


def test_summary_json_is_to_dict_with_paths_as_text():
    result = make_result()
    parsed = json.loads(summary_json(result))
    assert parsed["reps"] == 2 and parsed["partial_reps"] == 1
    assert parsed["provenance"]["spec_file"] == str(Path("exercises/glute_bridge.toml"))
    assert parsed["rep_details"] == json.loads(json.dumps(result.to_dict()["rep_details"]))
    assert summary_json(result).startswith('{\n  "exercise"')  # indent 2, for people reading it


def test_write_outputs_writes_summary_and_reps_into_a_new_folder(tmp_path):
    result = make_result()
    paths = write_outputs(result, tmp_path / "out" / "session-1")
    assert paths == {"summary": tmp_path / "out/session-1/summary.json", "reps": tmp_path / "out/session-1/reps.csv"}
    written = json.loads(paths["summary"].read_text(encoding="utf-8"))
    assert written.pop("outputs") == {"reps.csv": paths["reps"].stat().st_size}  # the commit marker lists them
    assert written == json.loads(summary_json(result))
    assert paths["reps"].read_bytes().decode("utf-8") == reps_csv(result)


# -- HTML report --------------------------------------------------------------------------------


def test_the_report_escapes_everything_users_typed():
    result = make_result(
        exercise_title=f"Bridge {MALICIOUS}",
        warnings=[f"warning {MALICIOUS}"],
        flags=[Flag(code="spinal_flexion", severity="danger", start_s=1.0, end_s=2.0, message=MALICIOUS)],
    )
    page = session_report_html(result, patient_name=MALICIOUS, session_meta={"notes": MALICIOUS})
    assert "<script" not in page
    assert "<img" not in page
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in page
    # page title, name, exercise title, notes, flag, warning
    assert page.count("&lt;img src=x onerror=alert(1)&gt;&amp;") == 6


def test_the_report_is_self_contained_and_printable():
    page = session_report_html(make_result(), patient_name="Ana")
    for external in ("http://", "https://", "<link", "<script", "@import", "src=", "url("):
        assert external not in page, external
    assert "@media print" in page
    assert page.startswith("<!DOCTYPE html>")


def test_the_report_shows_what_a_clinician_files():
    meta = {
        "started_at": datetime(2024, 5, 6, 12, 0, tzinfo=UTC),
        "pain_before": 4,
        "pain_after": 2,
        "notes": "Felt stiff",
        "status": "interrupted",
        "surgery_date": "2024-04-01",
        "unknown_key": "ignored",
    }
    page = session_report_html(make_result(), patient_name="Ana", session_meta=meta)
    text = re.sub(r"<[^>]+>", " ", page)  # the words a reader sees
    assert "Ana" in text
    assert datetime(2024, 5, 6, 12, 0, tzinfo=UTC).astimezone().strftime("%Y-%m-%d %H:%M") in text
    assert "Glute bridge (glute_bridge)" in text
    assert "2 complete, 1 partial (left 1, right 1)" in text
    assert "4 / 2" in text  # pain before / after
    assert "interrupted" in text
    assert "Felt stiff" in text
    assert "4.4–5.1" in text and "Keep your lower back flat" in text and "danger" in text  # the flag
    assert "Lighting was poor for 3 s" in text  # the warning
    assert "Surgery date 2024-04-01 " in re.sub(r"\s+", " ", text)  # a date, no time of day
    assert "Model: mediapipe-pose-full-0.10.21" in text
    assert f"spec_file: {Path('exercises/glute_bridge.toml')}" in text
    assert "exercise definition: glute_bridge version 1.2" in text
    assert "does not replace clinical judgement" in text
    assert text.count("partial") >= 2  # the partial rep is in the table, marked


def test_the_report_of_an_empty_session_says_so():
    page = session_report_html(make_result(reps=[], flags=[], warnings=[], provenance={}))
    assert "No repetitions were detected." in page
    assert "No form flags were raised." in page
    assert "Patient</th><td>not given" in page
    assert "Date</th><td>not recorded" in page
    assert "not recorded / not recorded" in page  # no pain scores
    assert "Model: not recorded" in page
    assert "Warnings" not in page


def test_the_report_says_plainly_when_the_recording_could_not_measure_the_exercise():
    refused = Measurement(NOT_MEASURABLE, "the arm lies along the lower back <b>", "Rest your arms on your chest.", 1.5)
    page = session_report_html(make_result(reps=[], flags=[], measurement=refused))
    assert ('<p class="not-measurable">This recording cannot measure the glute bridge: the arm lies along the '
            'lower back &lt;b&gt;. Rest your arms on your chest.</p>') in page
    assert "Measurement</th><td>not measurable" in page
    measured = session_report_html(make_result())
    assert "not-measurable\"" not in measured and "Measurement</th><td>measured" in measured
    assert json.loads(summary_json(make_result(measurement=refused)))["measurement"] == {
        "status": "not_measurable", "reason": "the arm lies along the lower back <b>",
        "advice": "Rest your arms on your chest.", "signal_to_noise": 1.5}


# -- safe_filename ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, expected",
    [
        ("Ana Maria", "Ana_Maria"),  # spaces become underscores
        ("session-3_v1.2.csv", "session-3_v1.2.csv"),  # already safe: unchanged
        ("../../etc/passwd", "etc_passwd"),  # path traversal: no separators, no ".."
        ("..\\..\\boot.ini", "boot.ini"),  # Windows separators too
        ("report..html", "report.html"),  # ".." inside a name collapses
        (".bashrc", "bashrc"),  # no hidden files
        ("-rf", "rf"),  # no leading dash, which a shell would read as an option
        ("name.", "name"),  # Windows drops a trailing dot
        ("Zoë Ñúñez", "Zoe_Nunez"),  # accents keep their base letter
        ("李小龙", "untitled"),  # nothing representable: still a name
        ("", "untitled"),  # empty
        ("///", "untitled"),  # only separators
        ("CON", "_CON"),  # reserved device name on Windows
        ("nul.txt", "_nul.txt"),  # reserved whatever the extension or case
        ("a" * 100, "a" * 80),  # at most 80 characters
        ("a" * 79 + "/b", "a" * 79),  # cut at 80, then the trailing "_" goes
        ('x<y>:"z"|?*', "x_y_z"),  # characters Windows forbids
    ],
)
def test_safe_filename(text, expected):
    assert safe_filename(text) == expected


@pytest.mark.slow
@given(st.text())
def test_safe_filename_is_always_a_safe_non_empty_name(text):
    name = safe_filename(text)
    assert re.fullmatch(r"[A-Za-z0-9._-]{1,80}", name)
    assert ".." not in name
    assert not name.startswith((".", "-"))
