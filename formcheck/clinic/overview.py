"""The clinic overview: every patient on one line, those who reported red flags first.

Pure functions over what ``formcheck.store`` returns (no Streamlit, no database access): the
clinician's first page lays the table out. A row says when the patient last exercised, how many
days they exercised this week against their prescription, where their pain is going, and the
red-flag symptoms they reported recently (date and symptoms).
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import pandas as pd

from ..days import local_day
from ..review import NONE_SHOWN, RED_FLAG_DAYS
from ..store import PatientRow, SessionRow, SymptomCheckRow
from .prescription import Prescription, session_days

RED_FLAG_COLUMN = f"Red flags (last {RED_FLAG_DAYS} days)"


@dataclass(frozen=True)
class PainTrend:
    latest: int  # the last pain rating, 0-10
    previous: int | None  # the rating before it (before the same session, or the session before), if any

    def describe(self) -> str:
        if self.previous is None:
            return f"{self.latest}/10"
        change = self.latest - self.previous
        arrow = "↑" if change > 0 else "↓" if change < 0 else "→"
        return f"{self.latest}/10 {arrow} (was {self.previous})"


@dataclass(frozen=True)
class OverviewRow:
    patient_id: int
    name: str
    last_session: date | None  # local date of the newest session
    days_this_week: int  # days with a counted set (prescription.counted, as adherence), Monday to today
    prescribed_per_week: int | None  # None: no prescription
    pain: PainTrend | None
    red_flags: tuple[SymptomCheckRow, ...]  # "yes" reports in the last RED_FLAG_DAYS, newest first


def overview_rows(patients: Sequence[PatientRow], sessions: dict[int, Sequence[SessionRow]],
                  checks: dict[int, Sequence[SymptomCheckRow]], prescriptions: dict[int, Prescription | None],
                  now: datetime | None = None) -> list[OverviewRow]:
    """One row per patient: red flags first (the newest report first), then the longest without a session."""
    now = now or datetime.now(UTC)
    today = local_day(now)
    monday = today - timedelta(days=today.weekday())
    since = now - timedelta(days=RED_FLAG_DAYS)
    rows = []
    for p in patients:
        done = [s for s in sessions.get(p.id, ()) if s.status != "live"]
        days = {local_day(s.started_at) for s in done}
        exercised = set(session_days(done))  # the days adherence counts: a set with reps kept
        prescription = prescriptions.get(p.id)
        reports = sorted((c for c in checks.get(p.id, ()) if c.stopped and c.checked_at >= since),
                         key=lambda c: c.checked_at, reverse=True)
        rows.append(OverviewRow(
            patient_id=p.id, name=p.name, last_session=max(days) if days else None,
            days_this_week=sum(monday <= d <= today for d in exercised),
            prescribed_per_week=prescription.sessions_per_week if prescription else None,
            pain=pain_trend(done), red_flags=tuple(reports)))
    return sorted(rows, key=_priority)


def _priority(row: OverviewRow) -> tuple:
    newest_flag = row.red_flags[0].checked_at.timestamp() if row.red_flags else 0.0
    last = row.last_session.toordinal() if row.last_session else 0
    return (not row.red_flags, -newest_flag, last, row.name.lower())


def pain_trend(sessions: Sequence[SessionRow]) -> PainTrend | None:
    """The last two pain ratings in time order (each session's before, then after): a rise during
    the last session shows as well as one from session to session."""
    ratings = [r for s in sorted(sessions, key=lambda s: s.started_at) for r in (s.pain_before, s.pain_after)
               if r is not None]
    if not ratings:
        return None
    return PainTrend(ratings[-1], ratings[-2] if len(ratings) > 1 else None)


def overview_table(rows: Sequence[OverviewRow]) -> pd.DataFrame:
    """The rows as the clinician reads them (plain text; sortable columns keep their types)."""
    def week(row: OverviewRow) -> str:
        if row.prescribed_per_week is None:
            return f"{row.days_this_week} (no prescription)"
        return f"{row.days_this_week} of {row.prescribed_per_week}"

    def flags(row: OverviewRow) -> str:
        return "; ".join(f"{c.checked_at.astimezone():%d %b}: {', '.join(c.symptom_labels)}"
                         for c in row.red_flags) or NONE_SHOWN

    return pd.DataFrame([{
        "Patient": row.name,
        RED_FLAG_COLUMN: flags(row),
        "Last session": row.last_session.isoformat() if row.last_session else NONE_SHOWN,
        "Days this week": week(row),
        "Pain": row.pain.describe() if row.pain else NONE_SHOWN,
    } for row in rows], columns=["Patient", RED_FLAG_COLUMN, "Last session", "Days this week", "Pain"])
