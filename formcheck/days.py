"""The patient's calendar day: the one meaning of "today" in formcheck.

A day is the computer's local calendar day (the patient's day, not UTC's): an evening set at
23:30 belongs to that evening's day wherever the computer is. Timestamps are stored in UTC
(``formcheck.store``); these helpers turn them into the local day and back. Pure, standard
library only, so the store, the clinic rules and the pages share them.
"""
from __future__ import annotations

from datetime import date, datetime


def local_day(moment: datetime) -> date:
    """The local calendar day of an aware datetime (a naive one is taken as local time)."""
    return moment.astimezone().date()


def local_midnight(day: date) -> datetime:
    """The start of a local calendar day, as an aware datetime."""
    return datetime.combine(day, datetime.min.time()).astimezone()


def local_time(moment: datetime) -> str:
    """``HH:MM`` on this computer's clock."""
    return moment.astimezone().strftime("%H:%M")

