"""How values are written in the database: timestamps, dates, missing numbers and stable ids.

Timestamps are ISO 8601 text in UTC to the second (so they sort in time order in SQL), dates
ISO ``YYYY-MM-DD``, a missing measurement NULL (``nan`` in Python).
"""
from __future__ import annotations

import math
import uuid
from datetime import UTC, date, datetime


def new_uid() -> str:
    """A stable id for a patient, a session or a check: 32 hex digits, random (no name or time in it)."""
    return uuid.uuid4().hex


def utc_now() -> datetime:
    return datetime.now(UTC)


def iso(moment: datetime) -> str:
    # Always UTC and always to the second, so the text sorts in time order in SQL.
    return moment.astimezone(UTC).isoformat(timespec="seconds")


def parse_datetime(text: str) -> datetime:
    return datetime.fromisoformat(text)


def date_or_none(text: str | None) -> date | None:
    return date.fromisoformat(text) if text else None


def none_if_nan(value: float | None) -> float | None:
    """NULL in the database for a missing measurement (SQLite would store nan as NULL anyway)."""
    return None if value is None or not math.isfinite(value) else float(value)


def nan_if_none(value: float | None) -> float:
    return math.nan if value is None else float(value)

