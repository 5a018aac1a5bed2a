"""The database as another program sees it: for tests of a busy database."""
from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterator
from pathlib import Path


@contextlib.contextmanager
def write_lock_held(db_path: str | Path) -> Iterator[None]:
    """Another program (the CLI, a second app) holds the database's write lock inside the ``with``;
    it lets go at the end, whatever happened inside."""
    other = sqlite3.connect(db_path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    try:
        yield
    finally:
        other.execute("ROLLBACK")
        other.close()
