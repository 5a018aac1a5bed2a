"""The red-flag safety check's gate for one patient and one day: ask, stopped, or cleared.

Pure functions over the stored checks (``store.list_symptom_checks``), so the rules are tested
without Streamlit:

* a "yes" (a stop) holds for the rest of the local day it was reported on: a reload, another
  tab or an all-"no" answer a minute later does not undo it; only a clinician's release
  (``store.release_symptom_stop``) does, after which the patient is asked afresh;
* an all-"no" check holds for the rest of its day, so the questions are asked once a day, not
  before every set; the patient can still report something new at any time (the page offers
  it), which is a new check;
* a day's stops are what the printable report of a session that day mentions (``stops_on``);
* ``TabChecks``: the checks answered in one browser tab before the database has them: one
  check per set of answers (a repeated press records nothing), a "yes" stops the patient at
  once even when saving fails, and the checks the database refused wait, oldest first, for a
  retry. Its lock is held while a check is taken in or saved: two presses can run at once.

"Day" is the computer's local calendar day: the patient's day, not UTC's (``formcheck.days``).
"""
from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime

from ..days import local_day
from ..store import SymptomCheckRow

log = logging.getLogger(__name__)

ASK, STOPPED, CLEARED = "ask", "stopped", "cleared"
YES = "Yes"  # the answer that reports a symptom (the patient's page offers "No" and "Yes")


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


# -- the checks answered in one browser tab ------------------------------------------------------


@dataclass
class PendingCheck:
    """A red-flag check answered in this tab that the database has not taken yet."""

    symptoms: tuple[str, ...]  # the codes answered "yes" (none: all "no")
    checked_at: datetime  # when it was answered (UTC), kept for a later retry
    error: str = ""  # why it could not be saved


# What saves a check: (patient id, symptom codes, answered at) -> None; raises on failure.
RecordCheck = Callable[[int, tuple, datetime], object]


@dataclass
class TabChecks:
    """The red-flag checks of one browser tab, per patient (see the module docstring)."""

    stopped: dict = field(default_factory=dict)  # patient id -> symptoms answered "yes" in this tab
    cleared: set = field(default_factory=set)  # patients whose all-"no" answers are taken (this tab or stored today)
    reporting_new: set = field(default_factory=set)  # patients who asked to report a new symptom today
    incomplete: set = field(default_factory=set)  # patients who pressed Continue with questions unanswered
    unsaved: dict = field(default_factory=dict)  # patient id -> [PendingCheck] the database refused
    # Held while a check is taken in or saved: two presses can run their callbacks at once.
    lock: threading.RLock = field(default_factory=threading.RLock, repr=False, compare=False)

    def submit(self, patient_id: int, answers: Mapping[str, str | None], now: datetime) -> bool:
        """Take in one set of answers (code -> "Yes" / "No" / None unanswered); True when a new
        check was queued for saving (then call ``save``).

        One set of answers is one check, however often it is sent: once the patient is stopped
        or cleared in this tab, a repeated press records nothing. A "yes" stops at once; "no"
        needs every question answered.
        """
        symptoms = tuple(code for code, answer in answers.items() if answer == YES)
        with self.lock:
            if patient_id in self.stopped or patient_id in self.cleared:
                return False  # taken already: a repeated press
            self.incomplete.discard(patient_id)
            if not symptoms and any(answer is None for answer in answers.values()):
                self.incomplete.add(patient_id)
                return False
            self.reporting_new.discard(patient_id)
            if symptoms:
                self.stopped[patient_id] = symptoms
            else:
                self.cleared.add(patient_id)
            self.unsaved.setdefault(patient_id, []).append(PendingCheck(symptoms, now))
            return True

    def save(self, patient_id: int, record: RecordCheck, expected: tuple[type[Exception], ...] = ()) -> None:
        """Record the patient's checks not saved yet, oldest first; keep the rest with the reason.

        ``expected`` errors keep their message; any other error is logged and described as
        unexpected (never raised: the patient must still see the stop message). Under the lock,
        so a check is saved once even when two presses run this at the same time.
        """
        with self.lock:
            pending = self.unsaved.get(patient_id, [])
            while pending:
                check = pending[0]
                try:
                    record(patient_id, check.symptoms, check.checked_at)
                except expected as exc:
                    check.error = str(exc)
                    return
                except Exception:  # logged; the patient must still see the stop message
                    log.exception("could not record the red-flag check")
                    check.error = "An unexpected problem occurred; the details are in the app's log."
                    return
                pending.pop(0)

    def pending(self, patient_id: int) -> list[PendingCheck]:
        """The patient's checks the database has not taken yet, oldest first."""
        return self.unsaved.get(patient_id, [])

    def pending_stop(self, patient_id: int) -> bool:
        return any(check.symptoms for check in self.pending(patient_id))

    def pending_clear(self, patient_id: int) -> bool:
        return any(not check.symptoms for check in self.pending(patient_id))

    def report_new(self, patient_id: int) -> None:
        """The patient has something new to report: ask again, no exercise until answered."""
        self.reporting_new.add(patient_id)
        self.cleared.discard(patient_id)
