"""The clinician's view of stored sessions: tables, the angle-over-time chart, progress chart.

Pure helpers over what ``formcheck.store`` returns (no Streamlit, no database access), so the
app only lays them out. Units as everywhere: seconds and degrees.

The angle chart needs the per-frame signal, which the database does not keep: the stored
landmark trace is re-scored with the exercise definition (``rescore``, through
``pipeline.replay_series``: the same engine and filters as when the CLI replays a trace).
Re-scoring with today's definition may differ from the stored reps if the
definition changed since; the chart's reps and flags are the stored ones.
"""
from __future__ import annotations

import json
import math
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from .backends.replay import validate_trace
from .clinic import safety as safety_gate
from .clinic.red_flags import OUTCOME_WORDS
from .days import local_day, local_time
from .limits import most_severe_first
from .pipeline import replay_series
from .report import MAX_FILENAME_CHARS, safe_filename
from .spec import ExerciseSpec
from .store import PatientRow, ProgressRow, SessionRow, SymptomCheckRow
from .types import Flag, Rep, SessionResult

STATUS_WORDS = {
    "complete": "complete",
    "recorded": "uploaded video",
    "interrupted": "interrupted (saved up to the last moment)",
    "live": "in progress",
}
SEVERITY_COLOURS = {"danger": "#d62728", "warning": "#ff7f0e", "info": "#7f7f7f"}
SIDE_COLOURS = {"left": "#1f77b4", "right": "#9467bd", "": "#1f77b4"}
RED_FLAG_DAYS = 30  # the clinician's warning lists the red flags reported in this many days
NONE_SHOWN = "–"  # how the clinician pages show "nothing recorded"


# -- tables -------------------------------------------------------------------------------------


def flag_counts(summary_json: str | None) -> dict[str, int]:
    """Flags of a stored session by severity ({"danger": 1, "warning": 0, "info": 2})."""
    counts = {"danger": 0, "warning": 0, "info": 0}
    if not summary_json:
        return counts
    try:
        flags = json.loads(summary_json).get("flags", [])
    except (ValueError, AttributeError):
        return counts
    for flag in flags:
        severity = flag.get("severity", "info")
        counts[severity] = counts.get(severity, 0) + 1
    return counts


def form_flag_count(summary_json: str | None) -> int:
    """Form flags that matter for safety and technique (warning and danger; not the info notes)."""
    counts = flag_counts(summary_json)
    return counts["danger"] + counts["warning"]


def sessions_table(sessions: Sequence[SessionRow]) -> pd.DataFrame:
    """One row per session, in the order given (the store lists newest first)."""
    rows = [
        {
            "Session": s.id,
            "Date": _local(s.started_at),
            "Exercise": s.exercise_title,
            "Reps": s.reps,
            "Partial": s.partial_reps,
            "Form flags": form_flag_count(s.summary_json),
            "Pain before": s.pain_before,
            "Pain after": s.pain_after,
            "Duration (s)": round(s.duration_s),
            "Source": s.source,
            "Status": STATUS_WORDS.get(s.status, s.status),
        }
        for s in sessions
    ]
    columns = ["Session", "Date", "Exercise", "Reps", "Partial", "Form flags", "Pain before", "Pain after",
               "Duration (s)", "Source", "Status"]
    return pd.DataFrame(rows, columns=columns).astype({"Pain before": "Int64", "Pain after": "Int64"})


def dash_missing(table: pd.DataFrame) -> pd.DataFrame:
    """The table as the clinician reads it: a dash, not "None", where nothing was recorded (only the
    columns with a gap become text; complete columns keep their numbers and their sort order)."""
    shown = table.copy()
    for column in shown.columns:
        if shown[column].isna().any():
            shown[column] = [NONE_SHOWN if pd.isna(v) else str(v) for v in shown[column]]
    return shown


def session_label(s: SessionRow) -> str:
    """A one-line name for a session in a picker."""
    return f"{_local(s.started_at)} · {s.exercise_title} · {s.reps} reps · {STATUS_WORDS.get(s.status, s.status)}"


def reps_table(reps: Sequence[Rep]) -> pd.DataFrame:
    """One row per rep (complete and partial, in time order)."""
    rows = [
        {
            "Rep": r.index if r.complete else f"partial {r.index}",
            "Side": r.side or NONE_SHOWN,
            "Start (s)": round(r.start_s, 1),
            "End (s)": round(r.end_s, 1),
            "Duration (s)": round(r.duration_s, 1),
            "Peak angle (°)": _round(r.peak_deg),
            "Range (°)": _round(r.rom_deg),
            "Hold (s)": round(r.hold_s, 1),
            "Flags": ", ".join(r.flags) or NONE_SHOWN,
        }
        for r in reps
    ]
    columns = ["Rep", "Side", "Start (s)", "End (s)", "Duration (s)", "Peak angle (°)", "Range (°)", "Hold (s)",
               "Flags"]
    return pd.DataFrame(rows, columns=columns).astype({"Rep": str})


def flags_table(flags: Sequence[Flag]) -> pd.DataFrame:
    rows = [
        {
            "Start (s)": round(f.start_s, 1),
            "End (s)": round(f.end_s, 1),
            "Severity": f.severity,
            "Flag": f.code,
            "Rep": f.rep_index,
            "Worst value": _round(f.peak_value),
            "Message": f.message,
        }
        for f in flags
    ]
    columns = ["Start (s)", "End (s)", "Severity", "Flag", "Rep", "Worst value", "Message"]
    return pd.DataFrame(rows, columns=columns).astype({"Rep": "Int64"})


def patient_label(p: PatientRow) -> str:
    return p.name + (f" (surgery {p.surgery_date.isoformat()})" if p.surgery_date else "")


# -- red-flag symptom checks --------------------------------------------------------------------


@dataclass(frozen=True)
class RedFlagSummary:
    """A patient's red-flag checks as the clinician pages show them."""

    days: int  # the recent window
    checks: int  # checks recorded in all
    recent_checks: int  # checks in the last ``days`` days
    recent_reports: tuple[SymptomCheckRow, ...]  # "yes" reports in the window, newest first
    reports: int  # "yes" reports in all


def red_flag_summary(checks: Sequence[SymptomCheckRow], now: datetime | None = None,
                     days: int = RED_FLAG_DAYS) -> RedFlagSummary:
    """Counts of checks and the red-flag reports of the last ``days`` days (up to ``now``, default now)."""
    since = (now or datetime.now(UTC)) - timedelta(days=days)
    recent = [c for c in checks if c.checked_at >= since]
    reports = sorted((c for c in recent if c.stopped), key=lambda c: c.checked_at, reverse=True)
    return RedFlagSummary(days=days, checks=len(checks), recent_checks=len(recent),
                          recent_reports=tuple(reports), reports=sum(c.stopped for c in checks))


def red_flag_alert(summary: RedFlagSummary) -> str | None:
    """Markdown for the clinician's warning box; None when no red flag was reported in the window."""
    if not summary.recent_reports:
        return None
    n = len(summary.recent_reports)
    lines = [f"**Red-flag symptoms reported: {n} {'time' if n == 1 else 'times'} in the last {summary.days} days** "
             f"(of {summary.recent_checks} safety {_plural(summary.recent_checks, 'check')}). The app told the "
             "patient not to exercise and to contact their doctor."]
    lines += [f"- {_local(c.checked_at)}: {'; '.join(c.symptom_labels)}" for c in summary.recent_reports]
    return "\n".join(lines)


def red_flag_caption(summary: RedFlagSummary) -> str:
    """One line with the counts, e.g. for a patient with no recent red flag."""
    if summary.checks == 0:
        return "No red-flag safety check has been recorded for this patient yet."
    text = (f"Safety checks done: {summary.recent_checks} in the last {summary.days} days, {summary.checks} in all. "
            f"Red flags reported: {len(summary.recent_reports)} in the last {summary.days} days, "
            f"{summary.reports} in all.")
    return text


def symptom_checks_table(checks: Sequence[SymptomCheckRow]) -> pd.DataFrame:
    """One row per check, in the order given (the store lists newest first)."""
    rows = [
        {
            "Date": _local(c.checked_at),
            "Result": OUTCOME_WORDS.get(c.outcome, c.outcome),
            "Symptoms answered yes": "; ".join(c.symptom_labels) or NONE_SHOWN,
        }
        for c in checks
    ]
    return pd.DataFrame(rows, columns=["Date", "Result", "Symptoms answered yes"])


def _plural(n: int, word: str) -> str:
    return word if n == 1 else word + "s"


# -- moments to jump to in the video -----------------------------------------------------------


@dataclass(frozen=True)
class Moment:
    label: str
    t_s: float  # where it happens in the session (and its video)


def moments(reps: Iterable[Rep], flags: Iterable[Flag]) -> list[Moment]:
    """Reps and flags in time order, each with a label for a picker."""
    items = []
    for r in reps:
        kind = f"Rep {r.index}" if r.complete else f"Partial rep {r.index}"
        side = f" ({r.side})" if r.side else ""
        items.append(Moment(f"{kind}{side} at {r.start_s:.1f} s", r.start_s))
    for f in flags:
        items.append(Moment(f"Flag: {f.code.replace('_', ' ')} at {f.start_s:.1f} s ({f.severity})", f.start_s))
    return sorted(items, key=lambda m: m.t_s)


def video_start(t_s: float, lead_s: float = 1.0) -> int:
    """Whole second to start the video at: a little before the moment (st.video rounds down)."""
    return max(0, int(math.floor(t_s - lead_s)))


# -- the angle chart ----------------------------------------------------------------------------


@dataclass
class AngleSeries:
    """Per-frame signals re-scored from a stored trace."""

    t_s: np.ndarray  # (N,) seconds
    signals: dict[str, np.ndarray]  # name -> (N,) degrees, nan where not measured


def rescore(trace_json: str, spec: ExerciseSpec) -> AngleSeries:
    """Replay a stored landmark trace through the engine and keep the rep and rule signals."""
    data = validate_trace(json.loads(trace_json), "stored trace")
    names = [spec.rep.signal_for(side) for side in (spec.rep.sides or ("",))]
    names += [rule.signal for rule in spec.rules if rule.signal not in names]
    return AngleSeries(*replay_series(data, spec, names))


def signal_label(name: str) -> str:
    """``bird_dog_reach_left_deg`` -> ``Bird dog reach left (°)``."""
    text = name[:-4] if name.endswith("_deg") else name
    return text.replace("_", " ").capitalize() + (" (°)" if name.endswith("_deg") else "")


def angle_figure(series: AngleSeries, spec: ExerciseSpec, reps: Sequence[Rep], flags: Sequence[Flag],
                 marker_s: float | None = None) -> go.Figure:
    """The key angle over time with the target band, rep boundaries and flagged spans.

    Top panel: the rep signal (one line per side) with the target zone (green band beyond
    ``top_deg``) and the rest threshold; complete reps shaded blue, partial ones grey. Bottom
    panel: the form rules' signals with their limits. Flagged spans are shaded in both (red:
    danger, orange: warning). ``marker_s`` draws a vertical line (the moment being viewed).
    """
    rule_signals = list(dict.fromkeys(r.signal for r in spec.rules if r.signal in series.signals))
    rows = 2 if rule_signals else 1
    fig = make_subplots(rows=rows, cols=1, shared_xaxes=True, vertical_spacing=0.08,
                        row_heights=[0.62, 0.38][:rows] if rows == 2 else [1.0],
                        subplot_titles=["Movement angle", "Form checks"][:rows])
    rep = spec.rep
    rep_values = []
    for side in rep.sides or ("",):
        name = rep.signal_for(side)
        y = series.signals.get(name)
        if y is None:
            continue
        rep_values.append(y)
        fig.add_trace(go.Scatter(x=series.t_s, y=y, mode="lines", name=signal_label(name),
                                 line=dict(color=SIDE_COLOURS.get(side, None), width=2)), row=1, col=1)
    finite = np.concatenate([v[np.isfinite(v)] for v in rep_values]) if rep_values else np.array([])
    low = min([rep.rest_deg, rep.top_deg, *(finite.min(initial=math.inf),)])
    high = max([rep.rest_deg, rep.top_deg, *(finite.max(initial=-math.inf),)])
    pad = 0.08 * (high - low or 1.0)
    band = (rep.top_deg, high + pad) if rep.rising else (low - pad, rep.top_deg)
    fig.add_hrect(y0=band[0], y1=band[1], fillcolor="#2ca02c", opacity=0.13, line_width=0, row=1, col=1,
                  annotation_text="target", annotation_position="top left")
    fig.add_hline(y=rep.rest_deg, line=dict(color="#555", dash="dot", width=1), row=1, col=1,
                  annotation_text="rest", annotation_position="bottom left")
    fig.update_yaxes(range=[low - pad, high + pad], title_text="degrees", row=1, col=1)

    for r in reps:
        colour = "#1f77b4" if r.complete else "#7f7f7f"
        label = (f"{r.index}" if r.complete else "partial") + (f" {r.side[0].upper()}" if r.side else "")
        fig.add_vrect(x0=r.start_s, x1=r.end_s, fillcolor=colour, opacity=0.10, line_width=0, row=1, col=1,
                      annotation_text=f"rep {label}", annotation_position="top left")

    for name in rule_signals:
        y = series.signals[name]
        fig.add_trace(go.Scatter(x=series.t_s, y=y, mode="lines", name=signal_label(name),
                                 line=dict(width=1.5)), row=2, col=1)
        for rule in spec.rules:
            if rule.signal != name:
                continue
            for limit in (rule.above, rule.below):
                if math.isfinite(limit):
                    fig.add_hline(y=limit, line=dict(color=SEVERITY_COLOURS.get(rule.severity, "#555"),
                                                     dash="dash", width=1), row=2, col=1)
    if rule_signals:
        fig.update_yaxes(title_text="degrees", row=2, col=1)

    for f in flags:
        if f.severity == "info":
            continue  # hold / partial notes are on the reps already
        for row in range(1, rows + 1):
            annotation = (dict(annotation_text=f.code.replace("_", " "), annotation_position="bottom right")
                          if row == 1 else {})
            fig.add_vrect(x0=f.start_s, x1=max(f.end_s, f.start_s + 0.1), fillcolor=SEVERITY_COLOURS[f.severity],
                          opacity=0.22, line_width=0, row=row, col=1, **annotation)
    if marker_s is not None:
        for row in range(1, rows + 1):
            fig.add_vline(x=marker_s, line=dict(color="#111", width=1.5), row=row, col=1)
    fig.update_xaxes(title_text="time (s)", row=rows, col=1)
    fig.update_layout(height=520 if rows == 2 else 380, margin=dict(l=10, r=10, t=40, b=10),
                      legend=dict(orientation="h", yanchor="bottom", y=1.04, x=0), hovermode="x unified")
    return fig


# -- progress -----------------------------------------------------------------------------------


def progress_table(rows: Sequence[ProgressRow], sessions: Sequence[SessionRow]) -> pd.DataFrame:
    """One row per session, oldest first, with weeks since surgery when it is known."""
    by_id = {s.id: s for s in sessions}
    data = []
    for r in rows:
        s = by_id.get(r.session_id)
        summary = s.summary_json if s else None
        data.append({
            "Session": r.session_id,
            "Date": r.date,
            "Weeks since surgery": None if r.weeks_since_surgery is None else round(r.weeks_since_surgery, 1),
            "Exercise": r.exercise_title,
            "Reps": r.reps,
            "Mean range (°)": _round(r.mean_rom_deg),
            "Form flags": form_flag_count(summary),
            "Pain before": s.pain_before if s else None,
            "Pain after": s.pain_after if s else None,
            "Status": STATUS_WORDS.get(r.status, r.status),
        })
    columns = ["Session", "Date", "Weeks since surgery", "Exercise", "Reps", "Mean range (°)", "Form flags",
               "Pain before", "Pain after", "Status"]
    return pd.DataFrame(data, columns=columns).astype({"Pain before": "Int64", "Pain after": "Int64"})


def progress_figure(table: pd.DataFrame) -> go.Figure:
    """Reps and form flags (bars) and mean range of motion (line, right axis) per session.

    The x axis is weeks since surgery when every session has it, else the date.
    """
    by_weeks = len(table) > 0 and table["Weeks since surgery"].notna().all()
    x = table["Weeks since surgery"] if by_weeks else table["Date"].astype(str)
    fig = make_subplots(specs=[[{"secondary_y": True}]])
    hover = table["Exercise"] + " · session " + table["Session"].astype(str)
    fig.add_trace(go.Bar(x=x, y=table["Reps"], name="Reps", marker_color="#1f77b4", hovertext=hover,
                         opacity=0.85), secondary_y=False)
    fig.add_trace(go.Bar(x=x, y=table["Form flags"], name="Form flags", marker_color="#d62728",
                         hovertext=hover, opacity=0.85), secondary_y=False)
    fig.add_trace(go.Scatter(x=x, y=table["Mean range (°)"], name="Mean range of motion (°)", mode="lines+markers",
                             line=dict(color="#2ca02c", width=2), hovertext=hover), secondary_y=True)
    fig.update_layout(barmode="group", height=420, margin=dict(l=10, r=10, t=30, b=10),
                      legend=dict(orientation="h", yanchor="bottom", y=1.02, x=0))
    fig.update_xaxes(title_text="weeks since surgery" if by_weeks else "session date",
                     type="linear" if by_weeks else "category")
    fig.update_yaxes(title_text="count", secondary_y=False, rangemode="tozero")
    fig.update_yaxes(title_text="degrees", secondary_y=True, rangemode="tozero")
    return fig


# -- exports ------------------------------------------------------------------------------------


def export_name(patient: PatientRow | None, session: SessionRow, extension: str) -> str:
    """A safe download name: ``<patient>_<date>_<exercise>_session<id>.<ext>``."""
    # The date and session id come first in the budget: a long name is cut, not them, so two
    # sessions of one patient never export to the same name.
    tail = safe_filename(f"{session.started_at.astimezone().date().isoformat()}_{session.exercise}_session{session.id}")
    who = safe_filename(patient.name if patient else "patient")[: max(1, MAX_FILENAME_CHARS - len(tail) - 1)]
    return f"{who.rstrip('._-') or 'patient'}_{tail}.{extension.lstrip('.')}"


def report_meta(session: SessionRow, patient: PatientRow | None,
                checks: Sequence[SymptomCheckRow] = ()) -> dict:
    """``session_meta`` for report.session_report_html; ``checks``: the patient's red-flag checks,
    whose stops on the session's day the report lists (``red_flag_stops``)."""
    meta = asdict(session)
    meta.pop("summary_json", None)
    if patient is not None and patient.surgery_date:
        meta["surgery_date"] = patient.surgery_date
    stops = safety_gate.stops_on(checks, local_day(session.started_at))
    if stops:
        meta["red_flag_stops"] = [red_flag_stop_line(c) for c in stops]
    return meta


def red_flag_stop_line(check: SymptomCheckRow) -> str:
    """One red-flag stop in the clinician's words, e.g. "2026-11-30 09:12: Fever or chills (stop cleared 10:05)"."""
    line = f"{_local(check.checked_at)}: {'; '.join(check.symptom_labels)}"
    if check.released_at is not None:
        line += f" (stop cleared by the clinician at {local_time(check.released_at)})"
    return line


def patient_summary(result: SessionResult) -> list[str]:
    """Plain-word lines for the patient after a session: what to keep in mind next time."""
    lines = []
    seen: dict[str, int] = {}
    for flag in sorted(result.flags, key=lambda f: most_severe_first(f.severity)):
        seen[flag.message] = seen.get(flag.message, 0) + 1
    for message, times in seen.items():
        lines.append(message + (f" (noticed {times} times)" if times > 1 else ""))
    return lines


# -- helpers ------------------------------------------------------------------------------------


def _local(moment) -> str:
    return moment.astimezone().strftime("%Y-%m-%d %H:%M")


def _round(value: float, digits: int = 0):
    return None if value is None or not math.isfinite(value) else round(float(value), digits)
