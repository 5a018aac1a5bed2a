"""The ``Store``: patients, their sessions, reps, flags, landmark traces, prescriptions and
red-flag checks in one SQLite file, ``<data dir>/formcheck.db``; the data dir is
``$FORMCHECK_DATA_DIR`` or ``./formcheck-data``.

Units: times in seconds (``*_s``), angles in degrees (``*_deg``), pain on the 0-10 numeric
rating scale, timestamps ISO 8601 in UTC, surgery dates ISO ``YYYY-MM-DD``. A missing angle
is ``nan`` in Python and NULL in the database. A "day" is the local calendar day
(``formcheck.days``).

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
import os
import sqlite3
import zlib
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from enum import Enum
from pathlib import Path

from formcheck.days import local_day, local_midnight
from formcheck.measurement import Measurement
from formcheck.private_files import PRIVATE_FILE_MODE, make_private_dir, make_private_file
from formcheck.summary import summary_json
from formcheck.types import Flag, Rep, SessionResult

from . import schema
from .checks import check_datetime, check_name, check_pain, check_symptoms, iso_date_or_none
from .errors import StoreError, store_error
from .rows import (
    BundleMerge,
    PatientRow,
    ProgressRow,
    SessionRow,
    SymptomCheckRow,
    patient_row,
    session_row,
    symptom_check_row,
)
from .schema import FINAL_STATUSES, SOURCES
from .values import date_or_none, iso, nan_if_none, new_uid, none_if_nan, parse_datetime, utc_now

DB_FILENAME = "formcheck.db"
VIDEO_DIR = "videos"  # kept videos (live, uploads, imported bundles) go to <data dir>/videos/
DEFAULT_BUSY_TIMEOUT_S = 5.0


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
            version = schema.read_version(conn)
        if version == schema.latest_version():
            return  # the common case takes no write lock, so opening never waits for a writer
        with self._write() as conn:
            version = schema.read_version(conn)  # again: another process may have migrated meanwhile
            schema.apply_migrations(conn, version)

    def schema_version(self) -> int:
        """How many migrations this database has had."""
        with self._connect() as conn:
            return schema.read_version(conn)

    # -- patients ---------------------------------------------------------------------------

    def add_patient(self, name: str, surgery_date: date | str | None = None, notes: str = "") -> int:
        """Add a patient and return their id. ``surgery_date`` is a date or ``YYYY-MM-DD``."""
        row = (check_name(name), iso_date_or_none(surgery_date), notes or "", iso(utc_now()), new_uid())
        with self._write() as conn:
            cursor = conn.execute(
                "INSERT INTO patients (name, surgery_date, notes, created_at, uid) VALUES (?, ?, ?, ?, ?)", row
            )
            return _inserted_id(cursor)

    def list_patients(self) -> list[PatientRow]:
        """All patients, by name."""
        with self._connect() as conn:
            rows = conn.execute("SELECT * FROM patients ORDER BY name COLLATE NOCASE, id").fetchall()
        return [patient_row(r) for r in rows]

    def get_patient(self, patient_id: int) -> PatientRow:
        with self._connect() as conn:
            return patient_row(_fetch_patient(conn, patient_id))

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
            changes["name"] = check_name(name)
        if surgery_date is not KEEP:
            changes["surgery_date"] = iso_date_or_none(surgery_date)
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
        pain_before = check_pain(pain_before, "Pain before")
        now = iso(utc_now())
        started = iso(started_at.astimezone(UTC)) if started_at is not None else now
        with self._write() as conn:
            _fetch_patient(conn, patient_id)
            cursor = conn.execute(
                """INSERT INTO sessions (patient_id, exercise, exercise_title, spec_version, source,
                                         status, started_at, updated_at, pain_before, uid)
                   VALUES (?, ?, ?, ?, ?, 'live', ?, ?, ?, ?)""",
                (patient_id, exercise, exercise_title, spec_version, source, started, now, pain_before, new_uid()),
            )
            return _inserted_id(cursor)

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
        pain_after = check_pain(pain_after, "Pain after")
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
        return [session_row(r) for r in rows]

    def get_session(self, session_id: int) -> SessionRow:
        with self._connect() as conn:
            return session_row(_fetch_session(conn, session_id))

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

    def set_prescription_text(self, patient_id: int, toml_text: str) -> None:
        """Store a patient's prescription TOML as given.

        The store does not read prescriptions: validate first, through
        ``formcheck.clinic.prescription.save_prescription``, which calls this.
        """
        with self._write() as conn:
            _fetch_patient(conn, patient_id)
            conn.execute(
                "INSERT INTO prescriptions (patient_id, toml, updated_at) VALUES (?, ?, ?) "
                "ON CONFLICT(patient_id) DO UPDATE SET toml = excluded.toml, updated_at = excluded.updated_at",
                (patient_id, toml_text, iso(utc_now())),
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
        surgery = date_or_none(patient["surgery_date"])
        result = []
        for r in rows:
            started = parse_datetime(r["started_at"])
            day = local_day(started)
            result.append(
                ProgressRow(
                    session_id=r["id"],
                    started_at=started,
                    date=day,
                    exercise=r["exercise"],
                    exercise_title=r["exercise_title"],
                    status=r["status"],
                    reps=r["reps"],
                    partial_reps=r["partial_reps"],
                    mean_rom_deg=nan_if_none(r["mean_rom_deg"]),
                    flag_count=r["flag_count"],
                    weeks_since_surgery=(day - surgery).days / 7 if surgery else None,
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
        codes = check_symptoms(symptoms)
        outcome = "stopped" if codes else "cleared"
        when = iso(utc_now() if checked_at is None else check_datetime(checked_at, "The check time"))
        with self._write() as conn:
            _fetch_patient(conn, patient_id)
            cursor = conn.execute(
                "INSERT INTO symptom_checks (patient_id, checked_at, symptoms, outcome, uid) VALUES (?, ?, ?, ?, ?)",
                (patient_id, when, json.dumps(list(codes)), outcome, new_uid()),
            )
            return _inserted_id(cursor)

    def release_symptom_stop(self, check_id: int, *, released_at: datetime | None = None) -> None:
        """A clinician releases a red-flag stop: the patient may answer the check afresh today.

        A stop otherwise holds for the rest of the day it was reported on (``safety_gate``), so a
        patient who reloads the page cannot answer "no" straight away. Releasing a check that
        did not stop anything, or one released already, is refused.
        """
        when = iso(utc_now() if released_at is None else check_datetime(released_at, "The release time"))
        with self._write() as conn:
            row = conn.execute("SELECT outcome, released_at FROM symptom_checks WHERE id = ?", (check_id,)).fetchone()
            if row is None:
                raise StoreError(f"There is no red-flag check {check_id}.")
            if row["outcome"] != "stopped" or row["released_at"]:
                raise StoreError(f"The red-flag check {check_id} is not a stop that still holds.")
            # Unsent again: the next bundle "since the last export" carries the release to the clinic.
            conn.execute("UPDATE symptom_checks SET released_at = ?, exported_at = NULL WHERE id = ?", (when, check_id))

    def list_symptom_checks(self, patient_id: int, since: date | datetime | None = None) -> list[SymptomCheckRow]:
        """The patient's red-flag checks, newest first; with ``since``, only those from then on.

        ``since`` is a datetime (naive: local time) or a date (from the start of that local day).
        """
        query = "SELECT * FROM symptom_checks WHERE patient_id = ?"
        params: list[object] = [patient_id]
        if since is not None:
            if isinstance(since, datetime):
                moment = check_datetime(since, "The start of the period")
            elif isinstance(since, date):
                moment = local_midnight(since)
            else:
                raise StoreError(f"The start of the period must be a date or a date and time, got {since!r}.")
            query += " AND checked_at >= ?"
            params.append(iso(moment))
        with self._connect() as conn:
            _fetch_patient(conn, patient_id)
            rows = conn.execute(query + " ORDER BY checked_at DESC, id DESC", params).fetchall()
        return [symptom_check_row(r) for r in rows]

    # -- session bundles (bundle.py packs and checks the file; here are the rows) ------------

    def find_patient_by_uid(self, uid: str) -> PatientRow | None:
        with self._connect() as conn:
            row = conn.execute("SELECT * FROM patients WHERE uid = ?", (uid,)).fetchone()
        return None if row is None else patient_row(row)

    def bundle_rows(self, patient_id: int, since: datetime | None = None, *, after_last_export: bool = False) -> dict:
        """The patient's profile, finished sessions (with reps, flags and the compressed trace) and
        red-flag checks, as plain values; with ``since``, only what was saved or checked from then on;
        with ``after_last_export``, only what no bundle has carried yet in its current version.

        A session still 'live' is left out: it is exported once it has ended.
        """
        since_iso = iso(since) if since is not None else ""
        unsent = {"sessions": "AND (exported_as IS NULL OR exported_as != updated_at)",
                  "checks": "AND exported_at IS NULL"} if after_last_export else {"sessions": "", "checks": ""}
        with self._connect() as conn:
            patient = dict(_fetch_patient(conn, patient_id))
            sessions = []
            for row in conn.execute(
                "SELECT * FROM sessions WHERE patient_id = ? AND status != 'live' AND updated_at >= ? "
                f"{unsent['sessions']} ORDER BY started_at, id", (patient_id, since_iso),
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
                "SELECT * FROM symptom_checks WHERE patient_id = ? AND (checked_at >= ? OR released_at >= ?) "
                f"{unsent['checks']} ORDER BY checked_at, id",
                (patient_id, since_iso, since_iso))]
        return {"patient": patient, "sessions": sessions, "symptom_checks": checks}

    def mark_exported(self, patient_id: int, sessions: dict[str, str], check_uids: Iterable[str]) -> None:
        """Remember what a bundle carried: each session uid with the ``updated_at`` it was sent with,
        and the red-flag checks, so the next "since the last export" sends only what is new or saved
        again since (exact, whatever the clock's resolution)."""
        now = iso(utc_now())
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
                    (check_name(p["name"]), iso_date_or_none(p["surgery_date"]), p["notes"] or "",
                     p["created_at"], p["uid"]))
                merge.patient_id, merge.patient_created = _inserted_id(cursor), True
            else:
                merge.patient_id = int(row["id"])
            for s in data["sessions"]:
                old = conn.execute("SELECT id, patient_id, updated_at, video_path FROM sessions WHERE uid = ?",
                                   (s["uid"],)).fetchone()
                if old is not None and old["patient_id"] != merge.patient_id:
                    raise StoreError(f"Session {s['uid']} in the bundle belongs to another patient here; "
                                     "nothing was imported.")
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
                released = c.get("released_at")  # absent from bundles written before releases travelled
                cursor = conn.execute(
                    "INSERT OR IGNORE INTO symptom_checks "
                    "(patient_id, checked_at, symptoms, outcome, uid, released_at) VALUES (?, ?, ?, ?, ?, ?)",
                    (merge.patient_id, c["checked_at"], json.dumps(list(check_symptoms(c["symptoms"]))),
                     c["outcome"], c["uid"], released))
                merge.checks_added += cursor.rowcount
                if not cursor.rowcount and released:  # a stop that came here before it was released
                    cursor = conn.execute(
                        "UPDATE symptom_checks SET released_at = ? "
                        "WHERE uid = ? AND patient_id = ? AND outcome = 'stopped' AND released_at IS NULL",
                        (released, c["uid"], merge.patient_id))
                    merge.stops_released += cursor.rowcount
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
        return store_error(exc, self.db_path)


# -- reading and writing rows (inside the caller's connection) ---------------------------------


def _inserted_id(cursor: sqlite3.Cursor) -> int:
    """The id of the row a plain INSERT just wrote (typeshed's ``lastrowid`` is ``int | None``: None
    only before any statement ran)."""
    assert cursor.lastrowid is not None, "an INSERT sets lastrowid"
    return int(cursor.lastrowid)


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
            iso(utc_now()),
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
                none_if_nan(rep.peak_deg), none_if_nan(rep.rom_deg), rep.hold_s,
                int(rep.complete), json.dumps(list(rep.flags)), none_if_nan(rep.low_deg),
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
                none_if_nan(flag.peak_value), flag.rep_index,
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
            peak_deg=nan_if_none(r["peak_deg"]),
            rom_deg=nan_if_none(r["rom_deg"]),
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
            peak_value=nan_if_none(r["peak_value"]),
            rep_index=r["rep_index"],
        )
        for r in rows
    ]


def _is_inside(path: Path, folder: Path) -> bool:
    try:
        path.resolve().relative_to(folder.resolve())
        return True
    except ValueError:
        return False

