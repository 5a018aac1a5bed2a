"""Local SQLite storage: patients, their sessions, reps, flags and landmark traces.

The only module that touches the database. Everything lives in one file,
``<data dir>/formcheck.db``; the data dir is ``$FORMCHECK_DATA_DIR`` or ``./formcheck-data``.

Units: times in seconds (``*_s``), angles in degrees (``*_deg``), pain on the 0-10 numeric
rating scale, timestamps ISO 8601 in UTC, surgery dates ISO ``YYYY-MM-DD``. A missing angle
is ``nan`` in Python and NULL in the database.

A live session survives a crash: ``start_session`` creates its row at once (status 'live'),
``save_progress`` replaces its reps and flags every few seconds, and
``mark_interrupted_sessions`` (called once at start-up) turns sessions a crash left 'live'
into 'interrupted', reps kept.

Each red-flag symptom check the patient answers before exercising is kept too
(``record_symptom_check``): which symptoms they answered "yes" to and whether that stopped the
session, so the clinician sees it (``list_symptom_checks``).

Every failure reaches callers as ``StoreError`` with a message a user can act on, never a
raw sqlite3 traceback.
"""
from __future__ import annotations

import json
import math
import numbers
import os
import sqlite3
import uuid
import zlib
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from enum import Enum
from pathlib import Path
from typing import Iterable, Iterator

from formcheck.outputs import PRIVATE_FILE_MODE, make_private_dir, make_private_file
from formcheck.report import summary_json
from formcheck.clinic.red_flags import CHECK_OUTCOMES, RED_FLAG_SYMPTOMS, symptom_label
from formcheck.measurement import Measurement
from formcheck.types import Flag, Rep, SessionResult

DB_FILENAME = "formcheck.db"
VIDEO_DIR = "videos"  # kept videos (live, uploads, imported bundles) go to <data dir>/videos/
DEFAULT_BUSY_TIMEOUT_S = 5.0

SOURCES = ("live", "upload", "cli")
STATUSES = ("live", "recorded", "interrupted", "complete")
FINAL_STATUSES = ("recorded", "interrupted", "complete")  # what finish_session may set
PAIN_MIN, PAIN_MAX = 0, 10

# The red-flag checklist (codes, labels, outcomes) is formcheck.clinic.red_flags: one list.

# Each migration is a list of statements run in one transaction; PRAGMA user_version counts
# the migrations applied. Never edit a released migration: append a new one (e.g.
# "ALTER TABLE sessions ADD COLUMN ..."), so existing databases upgrade in place.
MIGRATIONS: list[tuple[str, ...]] = [
    # 1: initial schema
    (
        """CREATE TABLE patients (
            id INTEGER PRIMARY KEY,
            name TEXT NOT NULL,               -- a name or a pseudonymous label
            surgery_date TEXT,                -- ISO date, NULL when unknown
            notes TEXT NOT NULL DEFAULT '',
            created_at TEXT NOT NULL          -- ISO 8601, UTC
        )""",
        """CREATE TABLE sessions (
            id INTEGER PRIMARY KEY,
            patient_id INTEGER NOT NULL REFERENCES patients(id),
            exercise TEXT NOT NULL,
            exercise_title TEXT NOT NULL,
            spec_version TEXT NOT NULL,
            source TEXT NOT NULL CHECK (source IN ('live', 'upload', 'cli')),
            status TEXT NOT NULL CHECK (status IN ('live', 'recorded', 'interrupted', 'complete')),
            started_at TEXT NOT NULL,         -- ISO 8601, UTC
            updated_at TEXT NOT NULL,         -- last save; the end time of an interrupted session
            ended_at TEXT,
            duration_s REAL NOT NULL DEFAULT 0,
            frames INTEGER NOT NULL DEFAULT 0,
            frames_with_pose INTEGER NOT NULL DEFAULT 0,
            reps INTEGER NOT NULL DEFAULT 0,
            partial_reps INTEGER NOT NULL DEFAULT 0,
            pain_before INTEGER CHECK (pain_before BETWEEN 0 AND 10),
            pain_after INTEGER CHECK (pain_after BETWEEN 0 AND 10),
            notes TEXT NOT NULL DEFAULT '',
            summary_json TEXT,                -- SessionResult.to_dict()
            video_path TEXT                   -- only when the user chose to keep the video
        )""",
        "CREATE INDEX sessions_by_patient ON sessions (patient_id, started_at)",
        # "index" is an SQL keyword, hence rep_index; it is Rep.index (1-based).
        """CREATE TABLE reps (
            id INTEGER PRIMARY KEY,           -- insertion order = SessionResult.reps order
            session_id INTEGER NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
            rep_index INTEGER NOT NULL,
            side TEXT NOT NULL,
            start_s REAL NOT NULL,
            peak_s REAL NOT NULL,
            end_s REAL NOT NULL,
            peak_deg REAL,
            rom_deg REAL,
            hold_s REAL NOT NULL,
            complete INTEGER NOT NULL CHECK (complete IN (0, 1)),
            flags_json TEXT NOT NULL DEFAULT '[]'   -- JSON list of flag codes
        )""",
        "CREATE INDEX reps_by_session ON reps (session_id)",
        """CREATE TABLE flags (
            id INTEGER PRIMARY KEY,
            session_id INTEGER NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
            code TEXT NOT NULL,
            severity TEXT NOT NULL,
            start_s REAL NOT NULL,
            end_s REAL NOT NULL,
            message TEXT NOT NULL,
            peak_value REAL,
            rep_index INTEGER
        )""",
        "CREATE INDEX flags_by_session ON flags (session_id)",
        # The landmark trace lets a clinician re-score a session without any video.
        """CREATE TABLE traces (
            session_id INTEGER PRIMARY KEY REFERENCES sessions(id) ON DELETE CASCADE,
            trace_zlib BLOB NOT NULL          -- zlib-compressed UTF-8 JSON
        )""",
    ),
    # 2: a clinician's prescription per patient, kept as the TOML text clinicians export and import
    (
        """CREATE TABLE prescriptions (
            patient_id INTEGER PRIMARY KEY REFERENCES patients(id) ON DELETE CASCADE,
            toml TEXT NOT NULL,
            updated_at TEXT NOT NULL          -- ISO 8601, UTC
        )""",
    ),
    # 3: each rep's opposite extreme (e.g. the cow after a cat), Rep.low_deg
    ("ALTER TABLE reps ADD COLUMN low_deg REAL",),
    # 4: the red-flag symptom checks patients answer before exercising
    (
        """CREATE TABLE symptom_checks (
            id INTEGER PRIMARY KEY,
            patient_id INTEGER NOT NULL REFERENCES patients(id),
            checked_at TEXT NOT NULL,         -- ISO 8601, UTC
            symptoms TEXT NOT NULL DEFAULT '[]',  -- JSON list of RED_FLAG_SYMPTOMS codes answered "yes"
            outcome TEXT NOT NULL CHECK (outcome IN ('stopped', 'cleared'))
        )""",
        "CREATE INDEX symptom_checks_by_patient ON symptom_checks (patient_id, checked_at)",
    ),
    # 5: stable ids that travel in session bundles (bundle.py): a clinic matches a patient, a
    # session and a red-flag check by uid, never by name or by the local row id; and what was last
    # exported, so "every session since the last export" needs no date from the patient (a session
    # saved again after it was sent, e.g. completed later, counts as new).
    (
        "ALTER TABLE patients ADD COLUMN uid TEXT",
        "UPDATE patients SET uid = lower(hex(randomblob(16))) WHERE uid IS NULL",
        "CREATE UNIQUE INDEX patients_by_uid ON patients (uid)",
        "ALTER TABLE patients ADD COLUMN last_export_at TEXT",  # ISO 8601, UTC
        "ALTER TABLE sessions ADD COLUMN uid TEXT",
        "UPDATE sessions SET uid = lower(hex(randomblob(16))) WHERE uid IS NULL",
        "CREATE UNIQUE INDEX sessions_by_uid ON sessions (uid)",
        "ALTER TABLE sessions ADD COLUMN exported_as TEXT",  # the updated_at it had when last exported
        "ALTER TABLE symptom_checks ADD COLUMN exported_at TEXT",  # ISO 8601, UTC; NULL: not yet sent
        "ALTER TABLE symptom_checks ADD COLUMN uid TEXT",
        "UPDATE symptom_checks SET uid = lower(hex(randomblob(16))) WHERE uid IS NULL",
        "CREATE UNIQUE INDEX symptom_checks_by_uid ON symptom_checks (uid)",
    ),
    # 6: a red-flag stop holds for the rest of its day until a clinician releases it
    ("ALTER TABLE symptom_checks ADD COLUMN released_at TEXT",),  # ISO 8601, UTC; NULL: not released
]


class StoreError(Exception):
    """A storage problem, worded for the person using the app."""


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



class _Keep(Enum):
    """Marks an update_patient argument as "leave unchanged" (None means "clear" for the date)."""

    KEEP = "keep"


KEEP = _Keep.KEEP


def default_data_dir() -> Path:
    """``$FORMCHECK_DATA_DIR`` if set, else ``./formcheck-data`` (relative to the working directory)."""
    return Path(os.environ.get("FORMCHECK_DATA_DIR") or "formcheck-data")


def open_store(data_dir: str | Path | None = None, *, busy_timeout_s: float = DEFAULT_BUSY_TIMEOUT_S) -> Store:
    """Open (creating on first use) the data dir and its database, upgraded to the latest schema."""
    data_dir = Path(data_dir) if data_dir is not None else default_data_dir()
    try:
        # Health data: the folder and the database (with its WAL and SHM files, which SQLite
        # creates with the database's mode) are the owner's only, whatever the umask, and
        # folders made by an older formcheck are tightened too.
        make_private_dir(data_dir)
        make_private_file(data_dir / DB_FILENAME)
    except OSError as exc:
        raise StoreError(f"Cannot create the data folder {data_dir}: {exc.strerror or exc}") from exc
    store = Store(data_dir, busy_timeout_s=busy_timeout_s)
    store.migrate()
    for suffix in ("-wal", "-shm"):
        companion = data_dir / (DB_FILENAME + suffix)
        if companion.exists():
            companion.chmod(PRIVATE_FILE_MODE)
    return store


class Store:
    """Patients and sessions in ``<data_dir>/formcheck.db``. Get one with ``open_store``.

    A new connection per call, closed at its end: sqlite3 connections must not be shared
    between threads by default, and Streamlit runs every rerun (and streamlit-webrtc every
    frame callback) on its own thread. Opening a local SQLite file costs well under a
    millisecond, needs no lock of ours, and leaves SQLite's own file locking (WAL plus the busy
    timeout) to serialise writers, including other processes such as the CLI.
    """

    def __init__(self, data_dir: Path, *, busy_timeout_s: float = DEFAULT_BUSY_TIMEOUT_S) -> None:
        self.data_dir = Path(data_dir)
        self.db_path = self.data_dir / DB_FILENAME
        self.busy_timeout_s = busy_timeout_s

    # -- schema -----------------------------------------------------------------------------

    def migrate(self) -> None:
        """Apply the migrations this database has not had yet; a no-op when it is up to date."""
        with self._connect() as conn:
            # WAL: readers (the UI) never block the writer (a live session) nor the reverse.
            # The mode is stored in the file, so setting it once per open is enough.
            conn.execute("PRAGMA journal_mode = WAL")
            version = _schema_version(conn)
        if version == len(MIGRATIONS):
            return  # the common case takes no write lock, so opening never waits for a writer
        with self._write() as conn:
            version = _schema_version(conn)  # again: another process may have migrated meanwhile
            for number in range(version + 1, len(MIGRATIONS) + 1):
                for statement in MIGRATIONS[number - 1]:
                    conn.execute(statement)
                conn.execute(f"PRAGMA user_version = {number}")  # part of the same transaction

    def schema_version(self) -> int:
        """How many migrations this database has had."""
        with self._connect() as conn:
            return _schema_version(conn)

    # -- patients ---------------------------------------------------------------------------

    def add_patient(self, name: str, surgery_date: date | str | None = None, notes: str = "") -> int:
        """Add a patient and return their id. ``surgery_date`` is a date or ``YYYY-MM-DD``."""
        row = (_check_name(name), _iso_date_or_none(surgery_date), notes or "", _iso(_utc_now()), new_uid())
        with self._write() as conn:
            cursor = conn.execute(
                "INSERT INTO patients (name, surgery_date, notes, created_at, uid) VALUES (?, ?, ?, ?, ?)", row
            )
            return int(cursor.lastrowid)

    def list_patients(self) -> list[PatientRow]:
        """All patients, by name."""
        with self._connect() as conn:
            rows = conn.execute("SELECT * FROM patients ORDER BY name COLLATE NOCASE, id").fetchall()
        return [_patient_row(r) for r in rows]

    def get_patient(self, patient_id: int) -> PatientRow:
        with self._connect() as conn:
            return _patient_row(_fetch_patient(conn, patient_id))

    def update_patient(
        self,
        patient_id: int,
        *,
        name: str | _Keep = KEEP,
        surgery_date: date | str | None | _Keep = KEEP,
        notes: str | _Keep = KEEP,
    ) -> None:
        """Change the given fields; omitted ones stay. ``surgery_date=None`` clears the date."""
        changes: dict[str, object] = {}
        if name is not KEEP:
            changes["name"] = _check_name(name)
        if surgery_date is not KEEP:
            changes["surgery_date"] = _iso_date_or_none(surgery_date)
        if notes is not KEEP:
            changes["notes"] = notes or ""
        with self._write() as conn:
            _fetch_patient(conn, patient_id)
            if changes:
                assignments = ", ".join(f"{column} = ?" for column in changes)  # fixed column names
                conn.execute(f"UPDATE patients SET {assignments} WHERE id = ?", (*changes.values(), patient_id))

    # -- sessions ---------------------------------------------------------------------------

    def start_session(
        self,
        patient_id: int,
        exercise: str,
        exercise_title: str,
        spec_version: str,
        source: str,
        pain_before: int | None = None,
        *,
        started_at: datetime | None = None,
    ) -> int:
        """Create a session with status 'live' and return its id.

        ``started_at`` defaults to now; an upload may pass the recording's own time (a naive
        datetime is taken as local time).
        """
        if not exercise:
            raise StoreError("A session needs an exercise name.")
        if source not in SOURCES:
            raise StoreError(f"Unknown session source {source!r}; expected one of {list(SOURCES)}.")
        pain_before = _check_pain(pain_before, "Pain before")
        now = _iso(_utc_now())
        started = _iso(started_at.astimezone(timezone.utc)) if started_at is not None else now
        with self._write() as conn:
            _fetch_patient(conn, patient_id)
            cursor = conn.execute(
                """INSERT INTO sessions (patient_id, exercise, exercise_title, spec_version, source,
                                         status, started_at, updated_at, pain_before, uid)
                   VALUES (?, ?, ?, ?, ?, 'live', ?, ?, ?, ?)""",
                (patient_id, exercise, exercise_title, spec_version, source, started, now, pain_before, new_uid()),
            )
            return int(cursor.lastrowid)

    def save_progress(self, session_id: int, result: SessionResult) -> None:
        """Replace the reps, flags and summary of a live session with ``result``, atomically.

        Call it every few seconds during a live session: a crash then loses only what happened
        since the last call.
        """
        with self._write() as conn:
            session = _fetch_session(conn, session_id)
            if session["status"] != "live":
                raise StoreError(f"Session {session_id} is already {session['status']}; it cannot be updated.")
            _write_result(conn, session, result)

    def finish_session(
        self,
        session_id: int,
        result: SessionResult,
        pain_after: int | None = None,
        status: str = "complete",
        video_path: str | Path | None = None,
        trace_json: str | None = None,
        *,
        notes: str | None = None,
    ) -> None:
        """Store the final result of a live session and close it.

        ``video_path`` only when the user chose to keep the video; ``trace_json`` is the
        landmark trace (stored zlib-compressed); ``notes`` replaces the session notes if given.
        """
        if status not in FINAL_STATUSES:
            raise StoreError(f"A session cannot finish as {status!r}; expected one of {list(FINAL_STATUSES)}.")
        pain_after = _check_pain(pain_after, "Pain after")
        # Compressed before the write lock is taken: a long session's trace takes seconds, and
        # autosaves and red-flag checks wait for the lock no longer than the busy timeout.
        trace_zlib = zlib.compress(trace_json.encode("utf-8")) if trace_json is not None else None
        with self._write() as conn:
            session = _fetch_session(conn, session_id)
            if session["status"] != "live":
                raise StoreError(f"Session {session_id} is already {session['status']}; it cannot be finished again.")
            _write_result(conn, session, result)
            conn.execute(
                """UPDATE sessions SET status = ?, ended_at = updated_at, pain_after = ?, video_path = ?,
                                       notes = COALESCE(?, notes)
                   WHERE id = ?""",
                (status, pain_after, str(video_path) if video_path is not None else None, notes, session_id),
            )
            if trace_zlib is not None:
                conn.execute("INSERT OR REPLACE INTO traces (session_id, trace_zlib) VALUES (?, ?)",
                             (session_id, trace_zlib))

    def mark_interrupted_sessions(self) -> int:
        """Turn sessions still 'live' into 'interrupted' (reps kept); return how many.

        Call once at start-up, before any new session starts: a session still 'live' then was
        cut short by a crash or a closed window, and it ended at its last save.
        """
        with self._write() as conn:
            cursor = conn.execute(
                "UPDATE sessions SET status = 'interrupted', ended_at = updated_at WHERE status = 'live'"
            )
            return cursor.rowcount

    def list_sessions(self, patient_id: int) -> list[SessionRow]:
        """The patient's sessions, newest first."""
        with self._connect() as conn:
            _fetch_patient(conn, patient_id)
            rows = conn.execute(
                "SELECT * FROM sessions WHERE patient_id = ? ORDER BY started_at DESC, id DESC", (patient_id,)
            ).fetchall()
        return [_session_row(r) for r in rows]

    def get_session(self, session_id: int) -> SessionRow:
        with self._connect() as conn:
            return _session_row(_fetch_session(conn, session_id))

    def get_reps(self, session_id: int) -> list[Rep]:
        """The session's reps, complete and partial, in the order the engine reported them."""
        with self._connect() as conn:
            _fetch_session(conn, session_id)
            return _read_reps(conn, session_id)

    def get_flags(self, session_id: int) -> list[Flag]:
        with self._connect() as conn:
            _fetch_session(conn, session_id)
            return _read_flags(conn, session_id)

    def get_result(self, session_id: int) -> SessionResult:
        """The session rebuilt as a SessionResult (e.g. to print the report of a past session)."""
        with self._connect() as conn:
            session = _fetch_session(conn, session_id)
            reps, flags = _read_reps(conn, session_id), _read_flags(conn, session_id)
        summary = json.loads(session["summary_json"]) if session["summary_json"] else {}
        return SessionResult(
            exercise=session["exercise"],
            exercise_title=session["exercise_title"],
            spec_version=session["spec_version"],
            duration_s=session["duration_s"],
            frames=session["frames"],
            frames_with_pose=session["frames_with_pose"],
            reps=reps,
            flags=flags,
            warnings=list(summary.get("warnings", [])),
            provenance=dict(summary.get("provenance", {})),
            kind=str(summary.get("kind", "reps")),
            measurement=Measurement.from_dict(summary.get("measurement")),
        )

    def get_trace(self, session_id: int) -> str | None:
        """The landmark trace JSON stored with the session, or None if it has none."""
        with self._connect() as conn:
            _fetch_session(conn, session_id)
            row = conn.execute("SELECT trace_zlib FROM traces WHERE session_id = ?", (session_id,)).fetchone()
        if row is None:
            return None
        try:
            return zlib.decompress(row["trace_zlib"]).decode("utf-8")
        except (zlib.error, UnicodeDecodeError) as exc:
            raise StoreError(f"The stored trace of session {session_id} is damaged: {exc}") from exc

    # -- prescriptions -------------------------------------------------------------------------

    def set_prescription(self, patient_id: int, toml_text: str) -> None:
        """Store a patient's prescription (validated first: a bad one is a StoreError, nothing saved)."""
        from .clinic.prescription import PrescriptionError, parse_prescription

        try:
            parse_prescription(toml_text)
        except PrescriptionError as exc:
            raise StoreError(f"The prescription was not saved: {exc}") from exc
        with self._write() as conn:
            _fetch_patient(conn, patient_id)
            conn.execute(
                "INSERT INTO prescriptions (patient_id, toml, updated_at) VALUES (?, ?, ?) "
                "ON CONFLICT(patient_id) DO UPDATE SET toml = excluded.toml, updated_at = excluded.updated_at",
                (patient_id, toml_text, _iso(_utc_now())),
            )

    def get_prescription(self, patient_id: int) -> str | None:
        """The patient's prescription as TOML text, or None if the clinician has not set one."""
        with self._connect() as conn:
            _fetch_patient(conn, patient_id)
            row = conn.execute("SELECT toml FROM prescriptions WHERE patient_id = ?", (patient_id,)).fetchone()
        return None if row is None else str(row["toml"])

    def delete_session(self, session_id: int) -> None:
        """Delete a session with its reps, flags and trace.

        A kept video inside the data dir is deleted too (the user asked for the session to go);
        a video elsewhere is the user's own file and stays.
        """
        with self._write() as conn:
            video_path = _fetch_session(conn, session_id)["video_path"]
            conn.execute("DELETE FROM sessions WHERE id = ?", (session_id,))
        if video_path and _is_inside(Path(video_path), self.data_dir):
            try:
                Path(video_path).unlink(missing_ok=True)
            except OSError as exc:
                raise StoreError(f"The session was deleted but its video {video_path} could not be: {exc}") from exc

    def progress(self, patient_id: int) -> list[ProgressRow]:
        """One row per session of the patient, oldest first, for the progress-over-weeks chart."""
        with self._connect() as conn:
            patient = _fetch_patient(conn, patient_id)
            rows = conn.execute(
                """SELECT s.id, s.started_at, s.exercise, s.exercise_title, s.status, s.reps, s.partial_reps,
                          (SELECT AVG(r.rom_deg) FROM reps r WHERE r.session_id = s.id AND r.complete = 1)
                              AS mean_rom_deg,
                          (SELECT COUNT(*) FROM flags f WHERE f.session_id = s.id) AS flag_count
                   FROM sessions s WHERE s.patient_id = ? ORDER BY s.started_at, s.id""",
                (patient_id,),
            ).fetchall()
        surgery = _date_or_none(patient["surgery_date"])
        result = []
        for r in rows:
            started = _datetime(r["started_at"])
            local_date = started.astimezone().date()
            result.append(
                ProgressRow(
                    session_id=r["id"],
                    started_at=started,
                    date=local_date,
                    exercise=r["exercise"],
                    exercise_title=r["exercise_title"],
                    status=r["status"],
                    reps=r["reps"],
                    partial_reps=r["partial_reps"],
                    mean_rom_deg=_nan_if_none(r["mean_rom_deg"]),
                    flag_count=r["flag_count"],
                    weeks_since_surgery=(local_date - surgery).days / 7 if surgery else None,
                )
            )
        return result

    # -- red-flag symptom checks ----------------------------------------------------------------

    def record_symptom_check(
        self, patient_id: int, symptoms: Iterable[str] = (), *, checked_at: datetime | None = None
    ) -> int:
        """Record a red-flag check and return its id.

        ``symptoms`` are the ``RED_FLAG_SYMPTOMS`` codes the patient answered "yes" to (none: all
        "no"). The outcome follows from them: any symptom means 'stopped', none 'cleared'.
        ``checked_at`` defaults to now (a naive datetime is taken as local time), so a check
        that could not be saved at once can be saved later with the time it was answered.
        """
        codes = _check_symptoms(symptoms)
        outcome = "stopped" if codes else "cleared"
        when = _iso(_utc_now() if checked_at is None else _check_datetime(checked_at, "The check time"))
        with self._write() as conn:
            _fetch_patient(conn, patient_id)
            cursor = conn.execute(
                "INSERT INTO symptom_checks (patient_id, checked_at, symptoms, outcome, uid) VALUES (?, ?, ?, ?, ?)",
                (patient_id, when, json.dumps(list(codes)), outcome, new_uid()),
            )
            return int(cursor.lastrowid)

    def release_symptom_stop(self, check_id: int, *, released_at: datetime | None = None) -> None:
        """A clinician releases a red-flag stop: the patient may answer the check afresh today.

        A stop otherwise holds for the rest of the day it was reported on (``safety_gate``), so a
        patient who reloads the page cannot answer "no" straight away. Releasing a check that
        did not stop anything, or one released already, is refused.
        """
        when = _iso(_utc_now() if released_at is None else _check_datetime(released_at, "The release time"))
        with self._write() as conn:
            row = conn.execute("SELECT outcome, released_at FROM symptom_checks WHERE id = ?", (check_id,)).fetchone()
            if row is None:
                raise StoreError(f"There is no red-flag check {check_id}.")
            if row["outcome"] != "stopped" or row["released_at"]:
                raise StoreError(f"The red-flag check {check_id} is not a stop that still holds.")
            conn.execute("UPDATE symptom_checks SET released_at = ? WHERE id = ?", (when, check_id))

    def list_symptom_checks(self, patient_id: int, since: date | datetime | None = None) -> list[SymptomCheckRow]:
        """The patient's red-flag checks, newest first; with ``since``, only those from then on.

        ``since`` is a datetime (naive: local time) or a date (from the start of that local day).
        """
        query = "SELECT * FROM symptom_checks WHERE patient_id = ?"
        params: list[object] = [patient_id]
        if since is not None:
            if isinstance(since, datetime):
                moment = _check_datetime(since, "The start of the period")
            elif isinstance(since, date):
                moment = datetime.combine(since, datetime.min.time()).astimezone()  # local midnight
            else:
                raise StoreError(f"The start of the period must be a date or a date and time, got {since!r}.")
            query += " AND checked_at >= ?"
            params.append(_iso(moment))
        with self._connect() as conn:
            _fetch_patient(conn, patient_id)
            rows = conn.execute(query + " ORDER BY checked_at DESC, id DESC", params).fetchall()
        return [_symptom_check_row(r) for r in rows]

    # -- session bundles (bundle.py packs and checks the file; here are the rows) ------------

    def find_patient_by_uid(self, uid: str) -> PatientRow | None:
        with self._connect() as conn:
            row = conn.execute("SELECT * FROM patients WHERE uid = ?", (uid,)).fetchone()
        return None if row is None else _patient_row(row)

    def bundle_rows(self, patient_id: int, since: datetime | None = None, *, after_last_export: bool = False) -> dict:
        """The patient's profile, finished sessions (with reps, flags and the compressed trace) and
        red-flag checks, as plain values; with ``since``, only what was saved or checked from then on;
        with ``after_last_export``, only what no bundle has carried yet in its current version.

        A session still 'live' is left out: it is exported once it has ended.
        """
        since_iso = _iso(since) if since is not None else ""
        unsent = {"sessions": "AND (exported_as IS NULL OR exported_as != updated_at)",
                  "checks": "AND exported_at IS NULL"} if after_last_export else {"sessions": "", "checks": ""}
        with self._connect() as conn:
            patient = dict(_fetch_patient(conn, patient_id))
            sessions = []
            for row in conn.execute(
                f"SELECT * FROM sessions WHERE patient_id = ? AND status != 'live' AND updated_at >= ? {unsent['sessions']} "
                "ORDER BY started_at, id", (patient_id, since_iso),
            ).fetchall():
                session = dict(row)
                session["rep_rows"] = [dict(r) for r in conn.execute(
                    "SELECT * FROM reps WHERE session_id = ? ORDER BY id", (row["id"],))]
                session["flag_rows"] = [dict(f) for f in conn.execute(
                    "SELECT * FROM flags WHERE session_id = ? ORDER BY id", (row["id"],))]
                trace = conn.execute("SELECT trace_zlib FROM traces WHERE session_id = ?", (row["id"],)).fetchone()
                session["trace_zlib"] = None if trace is None else bytes(trace["trace_zlib"])
                sessions.append(session)
            checks = [dict(r) for r in conn.execute(
                f"SELECT * FROM symptom_checks WHERE patient_id = ? AND checked_at >= ? {unsent['checks']} "
                "ORDER BY checked_at, id",
                (patient_id, since_iso))]
        return {"patient": patient, "sessions": sessions, "symptom_checks": checks}

    def mark_exported(self, patient_id: int, sessions: dict[str, str], check_uids: Iterable[str]) -> None:
        """Remember what a bundle carried: each session uid with the ``updated_at`` it was sent with,
        and the red-flag checks, so the next "since the last export" sends only what is new or saved
        again since (exact, whatever the clock's resolution)."""
        now = _iso(_utc_now())
        with self._write() as conn:
            _fetch_patient(conn, patient_id)
            conn.executemany("UPDATE sessions SET exported_as = ? WHERE uid = ? AND patient_id = ?",
                             [(version, uid, patient_id) for uid, version in sessions.items()])
            conn.executemany("UPDATE symptom_checks SET exported_at = ? WHERE uid = ? AND patient_id = ?",
                             [(now, uid, patient_id) for uid in check_uids])
            conn.execute("UPDATE patients SET last_export_at = ? WHERE id = ?", (now, patient_id))

    def merge_bundle_rows(self, data: dict, videos: dict[str, str]) -> BundleMerge:
        """Add a bundle's rows (checked by bundle.py) in one transaction: the patient matched by uid
        (created when new), each session added when new, replaced when the bundle's copy was saved
        later (an interrupted session completed afterwards), skipped otherwise; checks added once.

        ``videos`` maps a session uid to the path its video already has in the data folder.
        Returns what happened, with the paths of kept videos that the replaced sessions no longer use.
        """
        p = data["patient"]
        merge = BundleMerge()
        with self._write() as conn:
            row = conn.execute("SELECT id FROM patients WHERE uid = ?", (p["uid"],)).fetchone()
            if row is None:
                cursor = conn.execute(
                    "INSERT INTO patients (name, surgery_date, notes, created_at, uid) VALUES (?, ?, ?, ?, ?)",
                    (_check_name(p["name"]), _iso_date_or_none(p["surgery_date"]), p["notes"] or "",
                     p["created_at"], p["uid"]))
                merge.patient_id, merge.patient_created = int(cursor.lastrowid), True
            else:
                merge.patient_id = int(row["id"])
            for s in data["sessions"]:
                old = conn.execute("SELECT id, patient_id, updated_at, video_path FROM sessions WHERE uid = ?",
                                   (s["uid"],)).fetchone()
                if old is not None and old["patient_id"] != merge.patient_id:
                    raise StoreError(f"Session {s['uid']} in the bundle belongs to another patient here; nothing was imported.")
                if old is not None and s["updated_at"] <= old["updated_at"]:
                    merge.sessions_unchanged += 1
                    continue
                if old is not None:
                    conn.execute("DELETE FROM sessions WHERE id = ?", (old["id"],))  # reps, flags, trace cascade
                    if old["video_path"] and old["video_path"] != videos.get(s["uid"]):
                        merge.stale_videos.append(old["video_path"])
                    merge.sessions_updated += 1
                else:
                    merge.sessions_added += 1
                _insert_bundle_session(conn, merge.patient_id, s, videos.get(s["uid"]))
                merge.written_uids.add(s["uid"])
            for c in data["symptom_checks"]:
                cursor = conn.execute(
                    "INSERT OR IGNORE INTO symptom_checks (patient_id, checked_at, symptoms, outcome, uid) "
                    "VALUES (?, ?, ?, ?, ?)",
                    (merge.patient_id, c["checked_at"], json.dumps(list(_check_symptoms(c["symptoms"]))),
                     c["outcome"], c["uid"]))
                merge.checks_added += cursor.rowcount
        return merge

    # -- connections ------------------------------------------------------------------------

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        """A fresh connection in autocommit mode (we issue BEGIN ourselves), closed on exit."""
        try:
            # timeout is SQLite's busy_timeout: how long to wait for another writer's lock.
            conn = sqlite3.connect(self.db_path, timeout=self.busy_timeout_s, isolation_level=None)
        except sqlite3.Error as exc:
            raise self._store_error(exc) from exc
        try:
            conn.row_factory = sqlite3.Row
            conn.execute("PRAGMA foreign_keys = ON")  # off by default, per connection
            yield conn
        except sqlite3.Error as exc:
            raise self._store_error(exc) from exc
        finally:
            conn.close()

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """A connection inside one write transaction: committed on success, rolled back on error."""
        with self._connect() as conn:
            # IMMEDIATE takes the write lock now, so a busy database fails here, after the busy
            # timeout, and not halfway through our statements.
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
                conn.execute("COMMIT")
            except BaseException:
                if conn.in_transaction:  # SQLite may already have rolled back (e.g. on a full disk)
                    conn.execute("ROLLBACK")
                raise

    def _store_error(self, exc: sqlite3.Error) -> StoreError:
        """Translate an sqlite3 error into words a user can act on."""
        code = _primary_error_code(exc)
        if code in (_SQLITE_BUSY, _SQLITE_LOCKED):
            return StoreError(
                "The database is busy: another formcheck window or program is writing to it. "
                "Wait a moment and try again."
            )
        if code == _SQLITE_FULL:
            return StoreError(
                f"The disk holding {self.db_path} is full, so nothing was saved. "
                "Free some space and try again."
            )
        if code in (_SQLITE_READONLY, _SQLITE_PERM, _SQLITE_CANTOPEN):
            return StoreError(f"Cannot write to {self.db_path}: check that the folder exists and is writable.")
        if code in (_SQLITE_CORRUPT, _SQLITE_NOTADB):
            return StoreError(f"{self.db_path} is damaged or is not a formcheck database.")
        return StoreError(f"Database error in {self.db_path}: {exc}")


# -- helpers: validation ------------------------------------------------------------------------


def _check_name(name: str) -> str:
    name = (name or "").strip()
    if not name:
        raise StoreError("A patient needs a name or a label.")
    return name


def _check_pain(value: int | None, what: str) -> int | None:
    """Pain on the 0-10 numeric rating scale, a whole number, or None (not asked)."""
    if value is None:
        return None
    is_number = isinstance(value, numbers.Real) and not isinstance(value, bool)
    if not (is_number and math.isfinite(value) and value == int(value) and PAIN_MIN <= value <= PAIN_MAX):
        raise StoreError(f"{what} must be a whole number from {PAIN_MIN} to {PAIN_MAX}, got {value!r}.")
    return int(value)


def _check_symptoms(symptoms: Iterable[str]) -> tuple[str, ...]:
    """Known red-flag codes, each once, in the checklist's order."""
    if isinstance(symptoms, (str, bytes)):  # a lone code would otherwise be read letter by letter
        symptoms = (symptoms,)
    try:
        given = list(symptoms or ())
    except TypeError:
        raise StoreError(f"The red-flag symptoms must be a list of symptom codes, got {symptoms!r}.") from None
    unknown = [s for s in given if not isinstance(s, str) or s not in RED_FLAG_SYMPTOMS]
    if unknown:
        raise StoreError(
            f"Unknown red-flag symptom {unknown[0]!r}; expected some of {list(RED_FLAG_SYMPTOMS)}."
        )
    return tuple(code for code in RED_FLAG_SYMPTOMS if code in given)


def _check_datetime(value: datetime, what: str) -> datetime:
    """A datetime (naive means local time) in UTC."""
    if not isinstance(value, datetime):
        raise StoreError(f"{what} must be a date and time, got {value!r}.")
    return value.astimezone(timezone.utc)


def _iso_date_or_none(value: date | str | None) -> str | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    try:
        return date.fromisoformat(str(value).strip()).isoformat()
    except ValueError:
        raise StoreError(f"Surgery date {value!r} is not a date like 2024-03-31.") from None


# -- helpers: reading and writing rows ------------------------------------------------------------


def _schema_version(conn: sqlite3.Connection) -> int:
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    if version > len(MIGRATIONS):
        raise StoreError(
            f"This database was written by a newer formcheck (schema {version}, this one knows "
            f"{len(MIGRATIONS)}). Update formcheck to open it."
        )
    return version


def _fetch_patient(conn: sqlite3.Connection, patient_id: int) -> sqlite3.Row:
    row = conn.execute("SELECT * FROM patients WHERE id = ?", (patient_id,)).fetchone()
    if row is None:
        raise StoreError(f"No patient with id {patient_id!r}.")
    return row


def _fetch_session(conn: sqlite3.Connection, session_id: int) -> sqlite3.Row:
    row = conn.execute("SELECT * FROM sessions WHERE id = ?", (session_id,)).fetchone()
    if row is None:
        raise StoreError(f"No session with id {session_id!r}.")
    return row


def _write_result(conn: sqlite3.Connection, session: sqlite3.Row, result: SessionResult) -> None:
    """Replace the session's summary, reps and flags with ``result`` (inside the caller's transaction)."""
    if result.exercise != session["exercise"]:
        raise StoreError(
            f"Session {session['id']} is a {session['exercise']!r} session; "
            f"it cannot store a {result.exercise!r} result."
        )
    session_id = session["id"]
    conn.execute(
        """UPDATE sessions SET updated_at = ?, duration_s = ?, frames = ?, frames_with_pose = ?,
                               reps = ?, partial_reps = ?, summary_json = ?
           WHERE id = ?""",
        (
            _iso(_utc_now()),
            result.duration_s,
            result.frames,
            result.frames_with_pose,
            len(result.complete_reps),
            len(result.partial_reps),
            summary_json(result, indent=None),
            session_id,
        ),
    )
    conn.execute("DELETE FROM reps WHERE session_id = ?", (session_id,))
    conn.executemany(
        """INSERT INTO reps (session_id, rep_index, side, start_s, peak_s, end_s, peak_deg, rom_deg,
                             hold_s, complete, flags_json, low_deg)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
        [
            (
                session_id, rep.index, rep.side, rep.start_s, rep.peak_s, rep.end_s,
                _none_if_nan(rep.peak_deg), _none_if_nan(rep.rom_deg), rep.hold_s,
                int(rep.complete), json.dumps(list(rep.flags)), _none_if_nan(rep.low_deg),
            )
            for rep in result.reps
        ],
    )
    conn.execute("DELETE FROM flags WHERE session_id = ?", (session_id,))
    conn.executemany(
        """INSERT INTO flags (session_id, code, severity, start_s, end_s, message, peak_value, rep_index)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?)""",
        [
            (
                session_id, flag.code, flag.severity, flag.start_s, flag.end_s, flag.message,
                _none_if_nan(flag.peak_value), flag.rep_index,
            )
            for flag in result.flags
        ],
    )


# The columns a bundle carries for a session, a rep and a flag (the local ids are not among them).
BUNDLE_SESSION_COLUMNS = (
    "uid", "exercise", "exercise_title", "spec_version", "source", "status", "started_at", "updated_at",
    "ended_at", "duration_s", "frames", "frames_with_pose", "reps", "partial_reps", "pain_before",
    "pain_after", "notes", "summary_json",
)
BUNDLE_REP_COLUMNS = ("rep_index", "side", "start_s", "peak_s", "end_s", "peak_deg", "rom_deg", "hold_s",
                      "complete", "flags_json", "low_deg")
BUNDLE_FLAG_COLUMNS = ("code", "severity", "start_s", "end_s", "message", "peak_value", "rep_index")


def _insert_bundle_session(conn: sqlite3.Connection, patient_id: int, s: dict, video_path: str | None) -> None:
    columns = ("patient_id", *BUNDLE_SESSION_COLUMNS, "video_path")
    values = (patient_id, *(s[c] for c in BUNDLE_SESSION_COLUMNS), video_path)
    cursor = conn.execute(f"INSERT INTO sessions ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})",
                          values)  # fixed column names
    session_id = cursor.lastrowid
    for table, names, rows in (("reps", BUNDLE_REP_COLUMNS, s["rep_rows"]),
                               ("flags", BUNDLE_FLAG_COLUMNS, s["flag_rows"])):
        conn.executemany(
            f"INSERT INTO {table} (session_id, {', '.join(names)}) VALUES (?, {', '.join('?' * len(names))})",
            [(session_id, *(r[n] for n in names)) for r in rows])
    if s.get("trace_zlib") is not None:
        conn.execute("INSERT INTO traces (session_id, trace_zlib) VALUES (?, ?)", (session_id, s["trace_zlib"]))


def _read_reps(conn: sqlite3.Connection, session_id: int) -> list[Rep]:
    rows = conn.execute("SELECT * FROM reps WHERE session_id = ? ORDER BY id", (session_id,)).fetchall()
    return [
        Rep(
            index=r["rep_index"],
            side=r["side"],
            start_s=r["start_s"],
            peak_s=r["peak_s"],
            end_s=r["end_s"],
            peak_deg=_nan_if_none(r["peak_deg"]),
            rom_deg=_nan_if_none(r["rom_deg"]),
            hold_s=r["hold_s"],
            complete=bool(r["complete"]),
            flags=tuple(json.loads(r["flags_json"])),
            low_deg=r["low_deg"],
        )
        for r in rows
    ]


def _read_flags(conn: sqlite3.Connection, session_id: int) -> list[Flag]:
    rows = conn.execute("SELECT * FROM flags WHERE session_id = ? ORDER BY id", (session_id,)).fetchall()
    return [
        Flag(
            code=r["code"],
            severity=r["severity"],
            start_s=r["start_s"],
            end_s=r["end_s"],
            message=r["message"],
            peak_value=_nan_if_none(r["peak_value"]),
            rep_index=r["rep_index"],
        )
        for r in rows
    ]


def _patient_row(r: sqlite3.Row) -> PatientRow:
    return PatientRow(
        id=r["id"],
        name=r["name"],
        surgery_date=_date_or_none(r["surgery_date"]),
        notes=r["notes"],
        created_at=_datetime(r["created_at"]),
        uid=r["uid"] or "",
        last_export_at=_datetime(r["last_export_at"]) if r["last_export_at"] else None,
    )


def _symptom_check_row(r: sqlite3.Row) -> SymptomCheckRow:
    try:
        symptoms = json.loads(r["symptoms"])
        if not isinstance(symptoms, list) or not all(isinstance(s, str) for s in symptoms):
            raise ValueError("not a list of symptom codes")
    except ValueError as exc:
        raise StoreError(f"The stored symptom check {r['id']} is damaged: {exc}") from exc
    return SymptomCheckRow(
        id=r["id"],
        patient_id=r["patient_id"],
        checked_at=_datetime(r["checked_at"]),
        symptoms=tuple(symptoms),
        outcome=r["outcome"],
        uid=r["uid"] or "",
        released_at=_datetime(r["released_at"]) if r["released_at"] else None,
    )


def _session_row(r: sqlite3.Row) -> SessionRow:
    return SessionRow(
        id=r["id"],
        patient_id=r["patient_id"],
        exercise=r["exercise"],
        exercise_title=r["exercise_title"],
        spec_version=r["spec_version"],
        source=r["source"],
        status=r["status"],
        started_at=_datetime(r["started_at"]),
        updated_at=_datetime(r["updated_at"]),
        ended_at=_datetime(r["ended_at"]) if r["ended_at"] else None,
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


# -- helpers: values --------------------------------------------------------------------------


def new_uid() -> str:
    """A stable id for a patient, a session or a check: 32 hex digits, random (no name or time in it)."""
    return uuid.uuid4().hex


def _utc_now() -> datetime:
    return datetime.now(timezone.utc)


def _iso(moment: datetime) -> str:
    # Always UTC and always to the second, so the text sorts in time order in SQL.
    return moment.astimezone(timezone.utc).isoformat(timespec="seconds")


def _datetime(text: str) -> datetime:
    return datetime.fromisoformat(text)


def _date_or_none(text: str | None) -> date | None:
    return date.fromisoformat(text) if text else None


def _none_if_nan(value: float | None) -> float | None:
    """NULL in the database for a missing measurement (SQLite would store nan as NULL anyway)."""
    return None if value is None or not math.isfinite(value) else float(value)


def _nan_if_none(value: float | None) -> float:
    return math.nan if value is None else float(value)


def _is_inside(path: Path, folder: Path) -> bool:
    try:
        path.resolve().relative_to(folder.resolve())
        return True
    except ValueError:
        return False


# SQLite primary result codes (https://sqlite.org/rescode.html).
_SQLITE_PERM, _SQLITE_BUSY, _SQLITE_LOCKED, _SQLITE_READONLY = 3, 5, 6, 8
_SQLITE_CORRUPT, _SQLITE_FULL, _SQLITE_CANTOPEN, _SQLITE_NOTADB = 11, 13, 14, 26

# Python 3.10 exceptions carry no error code, only SQLite's standard message.
_CODE_BY_MESSAGE = {
    "database is locked": _SQLITE_BUSY,
    "database table is locked": _SQLITE_LOCKED,
    "database or disk is full": _SQLITE_FULL,
    "attempt to write a readonly database": _SQLITE_READONLY,
    "unable to open database file": _SQLITE_CANTOPEN,
    "database disk image is malformed": _SQLITE_CORRUPT,
    "file is not a database": _SQLITE_NOTADB,
}


def _primary_error_code(exc: sqlite3.Error) -> int | None:
    code = getattr(exc, "sqlite_errorcode", None)  # Python 3.11+
    if code is not None:
        return code & 0xFF  # extended codes carry the primary code in their low byte
    message = str(exc).lower()
    return next((c for text, c in _CODE_BY_MESSAGE.items() if text in message), None)
