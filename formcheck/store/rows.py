"""What the store returns: one frozen dataclass per kind of row, and their reading from SQLite.

Units as everywhere in the store: times in seconds (``*_s``), angles in degrees (``*_deg``),
pain on the 0-10 numeric rating scale, datetimes aware and in UTC, a missing angle ``nan``.
"""
from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass, field
from datetime import date, datetime

from formcheck.clinic.red_flags import symptom_label

from .errors import StoreError
from .values import date_or_none, parse_datetime


@dataclass(frozen=True)
class PatientRow:
    id: int
    name: str
    surgery_date: date | None
    notes: str
    created_at: datetime  # UTC
    uid: str = ""  # stable id, the same in every formcheck this patient's bundles reach
    last_export_at: datetime | None = None  # UTC, when the patient last exported a bundle


@dataclass(frozen=True)
class SessionRow:
    id: int
    patient_id: int
    exercise: str
    exercise_title: str
    spec_version: str
    source: str  # "live" | "upload" | "cli"
    status: str  # "live" | "recorded" | "interrupted" | "complete"
    started_at: datetime  # UTC
    updated_at: datetime  # UTC, last save
    ended_at: datetime | None  # UTC
    duration_s: float
    frames: int
    frames_with_pose: int
    reps: int  # complete reps
    partial_reps: int
    pain_before: int | None  # 0-10
    pain_after: int | None  # 0-10
    notes: str
    summary_json: str | None  # SessionResult.to_dict() as JSON
    video_path: str | None
    uid: str = ""  # stable id across machines (session bundles)


@dataclass(frozen=True)
class ProgressRow:
    """One session as a point on the progress-over-weeks chart."""

    session_id: int
    started_at: datetime  # UTC
    date: date  # local calendar date of the session
    exercise: str
    exercise_title: str
    status: str
    reps: int  # complete reps
    partial_reps: int
    mean_rom_deg: float  # mean range of motion of the complete reps; nan when none was measured
    flag_count: int
    weeks_since_surgery: float | None  # None when the surgery date is unknown


@dataclass
class BundleMerge:
    """What importing one session bundle did (Store.merge_bundle_rows)."""

    patient_id: int = 0
    patient_created: bool = False
    sessions_added: int = 0
    sessions_updated: int = 0
    sessions_unchanged: int = 0
    checks_added: int = 0
    stops_released: int = 0  # checks already here whose release the bundle brought
    written_uids: set[str] = field(default_factory=set)  # sessions added or replaced
    stale_videos: list[str] = field(default_factory=list)  # kept videos of replaced sessions


@dataclass(frozen=True)
class SymptomCheckRow:
    """One red-flag symptom check a patient answered before exercising."""

    id: int
    patient_id: int
    checked_at: datetime  # UTC
    symptoms: tuple[str, ...]  # RED_FLAG_SYMPTOMS codes answered "yes", in the checklist's order
    outcome: str  # "stopped" (a "yes": no exercise) | "cleared" (all "no")
    uid: str = ""  # stable id across machines (session bundles)
    released_at: datetime | None = None  # when a clinician released this stop for the rest of its day (UTC)

    @property
    def stopped(self) -> bool:
        return self.outcome == "stopped"

    @property
    def symptom_labels(self) -> tuple[str, ...]:
        """The symptoms in the clinician's words."""
        return tuple(symptom_label(code) for code in self.symptoms)


def patient_row(r: sqlite3.Row) -> PatientRow:
    return PatientRow(
        id=r["id"],
        name=r["name"],
        surgery_date=date_or_none(r["surgery_date"]),
        notes=r["notes"],
        created_at=parse_datetime(r["created_at"]),
        uid=r["uid"] or "",
        last_export_at=parse_datetime(r["last_export_at"]) if r["last_export_at"] else None,
    )


def symptom_check_row(r: sqlite3.Row) -> SymptomCheckRow:
    try:
        symptoms = json.loads(r["symptoms"])
        if not isinstance(symptoms, list) or not all(isinstance(s, str) for s in symptoms):
            raise ValueError("not a list of symptom codes")
    except ValueError as exc:
        raise StoreError(f"The stored symptom check {r['id']} is damaged: {exc}") from exc
    return SymptomCheckRow(
        id=r["id"],
        patient_id=r["patient_id"],
        checked_at=parse_datetime(r["checked_at"]),
        symptoms=tuple(symptoms),
        outcome=r["outcome"],
        uid=r["uid"] or "",
        released_at=parse_datetime(r["released_at"]) if r["released_at"] else None,
    )


def session_row(r: sqlite3.Row) -> SessionRow:
    return SessionRow(
        id=r["id"],
        patient_id=r["patient_id"],
        exercise=r["exercise"],
        exercise_title=r["exercise_title"],
        spec_version=r["spec_version"],
        source=r["source"],
        status=r["status"],
        started_at=parse_datetime(r["started_at"]),
        updated_at=parse_datetime(r["updated_at"]),
        ended_at=parse_datetime(r["ended_at"]) if r["ended_at"] else None,
        duration_s=r["duration_s"],
        frames=r["frames"],
        frames_with_pose=r["frames_with_pose"],
        reps=r["reps"],
        partial_reps=r["partial_reps"],
        pain_before=r["pain_before"],
        pain_after=r["pain_after"],
        notes=r["notes"],
        summary_json=r["summary_json"],
        video_path=r["video_path"],
        uid=r["uid"] or "",
    )

