"""The database's schema: the migrations, the schema version, and the values its CHECKs allow.

``PRAGMA user_version`` counts the migrations a database has had; ``Store.migrate`` applies the
missing ones, each in one transaction. The latest schema version is ``len(MIGRATIONS)``.

**Never edit a released migration**: a database out there has had it already and will not run
it again. Append a new one (e.g. ``ALTER TABLE sessions ADD COLUMN ...``), so existing databases
upgrade in place.
"""
from __future__ import annotations

import sqlite3

from .errors import StoreError

SOURCES = ("live", "upload", "cli")
STATUSES = ("live", "recorded", "interrupted", "complete")
FINAL_STATUSES = ("recorded", "interrupted", "complete")  # what finish_session may set
PAIN_MIN, PAIN_MAX = 0, 10

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

def latest_version() -> int:
    """The schema version this formcheck writes: how many migrations it knows."""
    return len(MIGRATIONS)


def read_version(conn: sqlite3.Connection) -> int:
    """The database's schema version; a StoreError when a newer formcheck wrote it."""
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    if version > len(MIGRATIONS):
        raise StoreError(
            f"This database was written by a newer formcheck (schema {version}, this one knows "
            f"{len(MIGRATIONS)}). Update formcheck to open it."
        )
    return version


def apply_migrations(conn: sqlite3.Connection, version: int) -> None:
    """Run the migrations after ``version`` inside the caller's write transaction."""
    for number in range(version + 1, len(MIGRATIONS) + 1):
        for statement in MIGRATIONS[number - 1]:
            conn.execute(statement)
        conn.execute(f"PRAGMA user_version = {number}")  # part of the same transaction
