"""The store's one exception, ``StoreError``, and the translation of SQLite's errors into it.

Every failure reaches the store's callers as a ``StoreError`` with a message a user can act on
(the database is busy, the disk is full, the file is damaged...), never a raw sqlite3 traceback.
"""
from __future__ import annotations

import sqlite3
from pathlib import Path


class StoreError(Exception):
    """A storage problem, worded for the person using the app."""


def store_error(exc: sqlite3.Error, db_path: Path) -> StoreError:
    """Translate an sqlite3 error on ``db_path`` into words a user can act on."""
    code = primary_error_code(exc)
    if code in (_SQLITE_BUSY, _SQLITE_LOCKED):
        return StoreError(
            "The database is busy: another formcheck window or program is writing to it. "
            "Wait a moment and try again."
        )
    if code == _SQLITE_FULL:
        return StoreError(
            f"The disk holding {db_path} is full, so nothing was saved. "
            "Free some space and try again."
        )
    if code in (_SQLITE_READONLY, _SQLITE_PERM, _SQLITE_CANTOPEN):
        return StoreError(f"Cannot write to {db_path}: check that the folder exists and is writable.")
    if code in (_SQLITE_CORRUPT, _SQLITE_NOTADB):
        return StoreError(f"{db_path} is damaged or is not a formcheck database.")
    return StoreError(f"Database error in {db_path}: {exc}")


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


def primary_error_code(exc: sqlite3.Error) -> int | None:
    code = getattr(exc, "sqlite_errorcode", None)  # Python 3.11+
    if code is not None:
        return code & 0xFF  # extended codes carry the primary code in their low byte
    message = str(exc).lower()
    return next((c for text, c in _CODE_BY_MESSAGE.items() if text in message), None)
