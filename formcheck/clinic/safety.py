"""The red-flag safety check's gate for one patient and one day: ask, stopped, or cleared.

Pure functions over the stored checks (``store.list_symptom_checks``), so the rules are tested
without Streamlit:

* a "yes" (a stop) holds for the rest of the local day it was reported on: a reload, another
  tab or an all-"no" answer a minute later does not undo it; only a clinician's release
  (``store.release_symptom_stop``) does, after which the patient is asked afresh;
* an all-"no" check holds for the rest of its day, so the questions are asked once a day, not
  before every set; the patient can still report something new at any time (the page offers
  it), which is a new check;
* a day's stops are what the printable report of a session that day mentions (``stops_on``).

"Day" is the computer's local calendar day: the patient's day, not UTC's (``formcheck.days``).
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from ..days import local_day, local_time  # noqa: F401 - local_time re-exported: the pages import it here
from ..store import SymptomCheckRow

ASK, STOPPED, CLEARED = "ask", "stopped", "cleared"


@dataclass(frozen=True)
class Gate:
    """Where the patient stands today."""

    state: str  # ASK | STOPPED | CLEARED
    check: SymptomCheckRow | None  # the stop that holds (STOPPED), today's all-"no" check (CLEARED), else None


def todays_gate(checks: Sequence[SymptomCheckRow], now: datetime) -> Gate:
    """The gate on ``now``'s local day from the patient's checks (any order)."""
    today = local_day(now)
    todays = sorted((c for c in checks if local_day(c.checked_at) == today), key=lambda c: c.checked_at, reverse=True)
    holding = [c for c in todays if c.stopped and c.released_at is None]
    if holding:
        return Gate(STOPPED, holding[0])
    # After a clinician's release only a check answered later clears the patient.
    released = max((c.released_at for c in todays if c.released_at is not None), default=None)
    # ">=": the store keeps whole seconds, and a check answered in the second of the release came after it.
    cleared = [c for c in todays if not c.stopped and (released is None or c.checked_at >= released)]
    if cleared:
        return Gate(CLEARED, cleared[0])
    return Gate(ASK, None)


def stops_on(checks: Sequence[SymptomCheckRow], day: date) -> list[SymptomCheckRow]:
    """The red-flag stops reported on a local day, oldest first (released ones too: they happened)."""
    return sorted((c for c in checks if c.stopped and local_day(c.checked_at) == day), key=lambda c: c.checked_at)

