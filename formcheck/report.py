"""Outputs built from a SessionResult: per-rep CSV, summary JSON, a printable HTML report.

Pure functions (``write_outputs`` aside, which only writes what the others return); no
database. Units: times in seconds (``*_s``), angles in degrees (``*_deg``), pain 0-10.
"""
from __future__ import annotations

import csv
import html
import io
import json
import math
import re
import unicodedata
from collections.abc import Iterable, Mapping
from datetime import date, datetime
from pathlib import Path
from typing import cast

from formcheck.plaintext import escape_markdown  # noqa: F401 - re-exported: the UI (formcheck.ui) imports it here
from formcheck.summary import summary_json  # used here and re-exported: the summary's one serialization
from formcheck.types import SessionResult

REPS_CSV_COLUMNS = (
    "index", "side", "complete", "start_s", "peak_s", "end_s", "duration_s",
    "peak_deg", "rom_deg", "hold_s", "flags",
)

DISCLAIMER = (
    "This report was produced automatically from a video by pose estimation. Measurements are "
    "approximate and this report does not replace clinical judgement."
)


# -- CSV and JSON -------------------------------------------------------------------------------


def reps_csv(result: SessionResult) -> str:
    """One row per rep (complete and partial, in time order); flag codes joined by ';'.

    A missing angle is an empty cell; times in seconds and angles in degrees, 3 decimals.
    """
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(REPS_CSV_COLUMNS)
    for rep in result.reps:
        writer.writerow(
            [
                rep.index,
                rep.side,
                "true" if rep.complete else "false",
                _csv_number(rep.start_s),
                _csv_number(rep.peak_s),
                _csv_number(rep.end_s),
                _csv_number(rep.duration_s),
                _csv_number(rep.peak_deg),
                _csv_number(rep.rom_deg),
                _csv_number(rep.hold_s),
                ";".join(rep.flags),
            ]
        )
    return out.getvalue()


def write_outputs(result: SessionResult, out_dir: str | Path) -> dict[str, Path]:
    """Write ``reps.csv`` then ``summary.json`` into ``out_dir`` (created if needed), each under
    a temporary name renamed into place (see outputs.OutputFolder); return their paths."""
    from .outputs import OutputFolder

    out_dir = Path(out_dir)
    with OutputFolder(out_dir) as folder:
        folder.write_text("reps.csv", reps_csv(result))
        folder.commit(lambda sizes: summary_json(result, outputs=sizes) + "\n")
    return {"summary": out_dir / "summary.json", "reps": out_dir / "reps.csv"}


# -- file names ---------------------------------------------------------------------------------

MAX_FILENAME_CHARS = 80
_WINDOWS_RESERVED = {"CON", "PRN", "AUX", "NUL", *(f"COM{i}" for i in range(1, 10)), *(f"LPT{i}" for i in range(1, 10))}


def safe_filename(text: str) -> str:
    """A file name made from ``text``: only [A-Za-z0-9._-], no '..', at most 80 characters, never empty."""
    # Accented letters keep their base letter ("Zoë" -> "Zoe") rather than vanishing.
    ascii_text = unicodedata.normalize("NFKD", text or "").encode("ascii", "ignore").decode("ascii")
    name = re.sub(r"[^A-Za-z0-9._-]+", "_", ascii_text)
    name = re.sub(r"\.{2,}", ".", name)
    # No leading dot (hidden file) or dash (read as an option), no trailing dot (Windows drops it).
    name = name[:MAX_FILENAME_CHARS].strip("._-")
    if not name:
        return "untitled"
    if name.split(".")[0].upper() in _WINDOWS_RESERVED:
        name = f"_{name}"[:MAX_FILENAME_CHARS]
    return name


# -- HTML report --------------------------------------------------------------------------------


def session_report_html(
    result: SessionResult,
    patient_name: str | None = None,
    session_meta: Mapping[str, object] | None = None,
) -> str:
    """A self-contained, printable one-page HTML report of a session, for a clinician to file.

    ``session_meta`` may hold (all optional; other keys are ignored, so
    ``dataclasses.asdict(store.get_session(id))`` works): ``started_at`` (datetime or ISO
    text), ``pain_before`` and ``pain_after`` (0-10), ``notes``, ``source``, ``status``,
    ``surgery_date``, ``red_flag_stops`` (lines on the red-flag symptoms reported that day, from
    ``review.report_meta``). All text is HTML-escaped.
    """
    meta = dict(session_meta or {})
    by_side = result.to_dict()["reps_by_side"]
    reps_text = f"{len(result.complete_reps)} complete, {len(result.partial_reps)} partial"
    if by_side:
        reps_text += " (" + ", ".join(f"{side} {n}" for side, n in sorted(by_side.items())) + ")"
    pose_share = (f"{100 * result.frames_with_pose / result.frames:.0f}% of {result.frames} frames"
                  if result.frames else "no frames")

    facts: list[tuple[str, object]] = [
        ("Patient", patient_name or "not given"),
        ("Date", _format_moment(meta.get("started_at"))),
        ("Exercise", f"{result.exercise_title} ({result.exercise})"),
        ("Repetitions", reps_text),
        ("Duration", f"{_num(result.duration_s, 0)} s"),
        ("Pain before / after (0-10)", f"{_pain(meta.get('pain_before'))} / {_pain(meta.get('pain_after'))}"),
        ("Body found in", pose_share),
        ("Measurement", _measurement_text(result)),
    ]
    if meta.get("surgery_date"):
        facts.append(("Surgery date", _format_moment(meta["surgery_date"])))
    if meta.get("status") and meta["status"] != "complete":
        facts.append(("Session status", meta["status"]))

    sections = [
        "<h1>Exercise session report</h1>",
        *([f'<p class="not-measurable">{_e(result.measurement.sentence(result.exercise_title))}</p>']
          if not result.measurement.measured else []),
        _facts_table(facts),
    ]
    if meta.get("red_flag_stops"):
        stops = cast("Iterable[object]", meta["red_flag_stops"])  # lines of text (see the docstring)
        items = "".join(f"<li>{_e(line)}</li>" for line in stops)
        sections += ['<h2 class="red-flag">Red-flag symptoms reported that day</h2>',
                     '<p class="red-flag">The patient answered "yes" to the safety check; the app told them not '
                     'to exercise and to contact their doctor.</p>', f'<ul class="red-flag">{items}</ul>']
    sections += [
        "<h2>Repetitions</h2>",
        _reps_table(result),
        "<h2>Form flags</h2>",
        _flags_table(result),
    ]
    if result.warnings:
        items = "".join(f"<li>{_e(w)}</li>" for w in result.warnings)
        sections += ["<h2>Warnings</h2>", f'<ul class="warnings">{items}</ul>']
    if meta.get("notes"):
        sections += ["<h2>Notes</h2>", f'<p class="notes">{_e(meta["notes"])}</p>']
    sections += [
        "<footer>",
        f'<p class="provenance">{_provenance_line(result)}</p>',
        f'<p class="disclaimer">{_e(DISCLAIMER)}</p>',
        "</footer>",
    ]
    title = f"Exercise session report: {patient_name or result.exercise_title}"
    return _PAGE.format(title=_e(title), css=_CSS, body="\n".join(sections))


def _measurement_text(result: SessionResult) -> str:
    m = result.measurement
    snr = f" (signal-to-noise {m.signal_to_noise:.0f})" if m.signal_to_noise is not None else ""
    return ("measured" if m.measured else "not measurable: the counts above say nothing about the exercise") + snr


def _facts_table(facts: list[tuple[str, object]]) -> str:
    rows = "".join(f"<tr><th>{_e(label)}</th><td>{_e(value)}</td></tr>" for label, value in facts)
    return f'<table class="facts">{rows}</table>'


def _reps_table(result: SessionResult) -> str:
    if not result.reps:
        return "<p>No repetitions were detected.</p>"
    head = "".join(
        f"<th>{h}</th>"
        for h in ("#", "Side", "Status", "Start (s)", "Duration (s)", "Peak (°)", "Range (°)", "Hold (s)", "Flags")
    )
    rows = []
    for rep in result.reps:
        cells = (
            rep.index, rep.side or "–", "complete" if rep.complete else "partial",
            _num(rep.start_s, 1), _num(rep.duration_s, 1), _num(rep.peak_deg, 0),
            _num(rep.rom_deg, 0), _num(rep.hold_s, 1), ", ".join(rep.flags) or "–",
        )
        css = "" if rep.complete else ' class="partial"'
        rows.append(f"<tr{css}>" + "".join(f"<td>{_e(c)}</td>" for c in cells) + "</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


def _flags_table(result: SessionResult) -> str:
    if not result.flags:
        return "<p>No form flags were raised.</p>"
    head = "".join(f"<th>{h}</th>" for h in ("Time (s)", "Severity", "Flag", "Rep", "Message"))
    rows = []
    for flag in result.flags:
        cells = (
            f"{_num(flag.start_s, 1)}–{_num(flag.end_s, 1)}", flag.severity, flag.code,
            flag.rep_index if flag.rep_index is not None else "–", flag.message,
        )
        # The severity is written out as well as coloured, so a black-and-white print keeps it.
        css = f' class="sev-{_e(flag.severity)}"'
        rows.append(f"<tr{css}>" + "".join(f"<td>{_e(c)}</td>" for c in cells) + "</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


def _provenance_line(result: SessionResult) -> str:
    provenance = dict(result.provenance)
    parts = [
        f"Model: {provenance.pop('model', 'not recorded')}",
        f"exercise definition: {result.exercise} version {result.spec_version}",
    ]
    for key, value in sorted(provenance.items()):
        text = json.dumps(value, default=str, sort_keys=True) if isinstance(value, (dict, list, tuple)) else str(value)
        parts.append(f"{key}: {text}")
    return _e("; ".join(parts) + ".")


def _e(value: object) -> str:
    return html.escape(str(value), quote=True)


def _num(value: float | None, digits: int) -> str:
    """A number for people: fixed decimals, '–' when missing."""
    if value is None or not math.isfinite(value):
        return "–"
    return f"{value:.{digits}f}"


def _csv_number(value: float) -> str:
    """Rounded to 3 decimals (milliseconds, thousandths of a degree); '' when missing."""
    return "" if value is None or not math.isfinite(value) else repr(round(float(value), 3))


def _pain(value: object) -> str:
    return "not recorded" if value is None else str(value)


def _format_moment(value: object) -> str:
    """A datetime (shown in local time), a date, or ISO text; 'not recorded' when missing."""
    if value is None or value == "":
        return "not recorded"
    if isinstance(value, str):
        text = value
        try:
            # A bare date stays a date; anything longer is a moment.
            value = date.fromisoformat(text) if len(text) == 10 else datetime.fromisoformat(text)
        except ValueError:
            return text  # escaped by the caller
    if isinstance(value, datetime):
        return (value.astimezone() if value.tzinfo else value).strftime("%Y-%m-%d %H:%M")
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{title}</title>
<style>{css}</style>
</head>
<body>
{body}
</body>
</html>
"""

# Inline and system fonts only: the report must open the same on a clinic PC with no internet.
_CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, Arial, sans-serif; font-size: 11pt;
       color: #111; max-width: 190mm; margin: 1.5em auto; padding: 0 1em; line-height: 1.35; }
h1 { font-size: 16pt; margin: 0 0 0.6em; }
h2 { font-size: 12pt; margin: 1.2em 0 0.4em; border-bottom: 1px solid #999; }
.red-flag { color: #b00020; font-weight: 600; }
table { border-collapse: collapse; width: 100%; font-size: 10pt; }
th, td { border: 1px solid #bbb; padding: 2px 6px; text-align: left; vertical-align: top; }
thead th { background: #eee; }
table.facts { width: auto; }
table.facts th { background: #f4f4f4; font-weight: 600; }
tr.partial td { color: #555; font-style: italic; }
tr.sev-danger td { background: #fde2e2; font-weight: 600; }
tr.sev-warning td { background: #fff3cd; }
.notes { white-space: pre-wrap; }
.not-measurable { border: 2px solid #b00; background: #fde2e2; padding: 0.5em 0.8em; font-weight: 600; }
footer { margin-top: 1.5em; font-size: 8.5pt; color: #444; border-top: 1px solid #999; padding-top: 0.4em; }
@page { size: A4; margin: 12mm; }
@media print {
  body { margin: 0; padding: 0; max-width: none; font-size: 9.5pt; }
  tr { break-inside: avoid; }
  thead { display: table-header-group; }
  tr.sev-danger td, tr.sev-warning td, thead th, .not-measurable {
    -webkit-print-color-adjust: exact; print-color-adjust: exact;
  }
}
"""
