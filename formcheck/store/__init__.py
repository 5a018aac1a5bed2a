"""Local SQLite storage: patients, their sessions, reps, flags, landmark traces, prescriptions
and red-flag checks. The only package that touches the database.

What lives where:

* ``database``: the ``Store`` class (every query), ``open_store``, ``default_data_dir``, the
  data folder's layout (``DB_FILENAME``, ``VIDEO_DIR``) and the columns a session bundle carries;
* ``schema``: the migrations (never edit a released one: append), the schema version, and the
  values the schema allows (sources, statuses, the pain scale);
* ``rows``: the frozen dataclasses the store returns (``PatientRow``, ``SessionRow``,
  ``ProgressRow``, ``SymptomCheckRow``, ``BundleMerge``) and their reading from SQLite rows;
* ``errors``: ``StoreError`` and the translation of SQLite's errors into words a user can act on;
* ``checks``: checks of what callers hand in (names, pain, symptom codes, times, dates);
* ``values``: how timestamps, dates, missing numbers and uids are written in the database.

What the store may import: the standard library, ``formcheck.types`` and what it stands on
(``formcheck.measurement``), and small pure helpers: ``formcheck.summary`` (the summary JSON),
``formcheck.private_files`` (owner-only files), ``formcheck.days`` (the local calendar day) and
``formcheck.clinic.red_flags`` (the red-flag checklist, pure data). Nothing above: no report, no
pipeline, no clinic rules (a prescription is validated by its caller,
``formcheck.clinic.prescription.save_prescription``, before the store keeps its text), no UI.

The public names are re-exported here, so ``from formcheck.store import Store`` keeps working.
"""
from .database import (
    BUNDLE_FLAG_COLUMNS,
    BUNDLE_REP_COLUMNS,
    BUNDLE_SESSION_COLUMNS,
    DB_FILENAME,
    DEFAULT_BUSY_TIMEOUT_S,
    KEEP,
    VIDEO_DIR,
    Store,
    default_data_dir,
    open_store,
)
from .errors import StoreError
from .rows import BundleMerge, PatientRow, ProgressRow, SessionRow, SymptomCheckRow
from .schema import FINAL_STATUSES, MIGRATIONS, PAIN_MAX, PAIN_MIN, SOURCES, STATUSES
from .values import new_uid

__all__ = [
    "BUNDLE_FLAG_COLUMNS", "BUNDLE_REP_COLUMNS", "BUNDLE_SESSION_COLUMNS", "DB_FILENAME", "DEFAULT_BUSY_TIMEOUT_S",
    "FINAL_STATUSES", "KEEP", "MIGRATIONS", "PAIN_MAX", "PAIN_MIN", "SOURCES", "STATUSES", "VIDEO_DIR",
    "BundleMerge", "PatientRow", "ProgressRow", "SessionRow", "Store", "StoreError", "SymptomCheckRow",
    "default_data_dir", "new_uid", "open_store",
]
