"""Checks of what callers hand the store (names, pain scores, symptom codes, times, dates).

Each raises ``StoreError`` with a message naming the field and the allowed values, and returns
the value in the form the database keeps.
"""
from __future__ import annotations

import math
import numbers
from collections.abc import Iterable
from datetime import UTC, date, datetime

from formcheck.clinic.red_flags import RED_FLAG_SYMPTOMS

from .errors import StoreError
from .schema import PAIN_MAX, PAIN_MIN


def check_name(name: str) -> str:
    name = (name or "").strip()
    if not name:
        raise StoreError("A patient needs a name or a label.")
    return name


def check_pain(value: int | None, what: str) -> int | None:
    """Pain on the 0-10 numeric rating scale, a whole number, or None (not asked)."""
    if value is None:
        return None
    is_number = isinstance(value, numbers.Real) and not isinstance(value, bool)
    if not (is_number and math.isfinite(value) and value == int(value) and PAIN_MIN <= value <= PAIN_MAX):
        raise StoreError(f"{what} must be a whole number from {PAIN_MIN} to {PAIN_MAX}, got {value!r}.")
    return int(value)


def check_symptoms(symptoms: Iterable[str]) -> tuple[str, ...]:
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


def check_datetime(value: datetime, what: str) -> datetime:
    """A datetime (naive means local time) in UTC."""
    if not isinstance(value, datetime):
        raise StoreError(f"{what} must be a date and time, got {value!r}.")
    return value.astimezone(UTC)


def iso_date_or_none(value: date | str | None) -> str | None:
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

