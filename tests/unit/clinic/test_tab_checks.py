"""The red-flag checks of one browser tab (formcheck.clinic.safety.TabChecks), without Streamlit:
one check per set of answers, a stop at once even when saving fails, the retry queue, the lock."""
from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

from formcheck.clinic.red_flags import RED_FLAGS
from formcheck.clinic.safety import TabChecks

NOW = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
ALL_NO = {flag.code: "No" for flag in RED_FLAGS}
FEVER = {**ALL_NO, "fever_or_chills": "Yes"}


class Refusing(Exception):
    pass


class Recorder:
    """A database stand-in: records checks, or refuses while ``refuse`` is set."""

    def __init__(self):
        self.saved, self.refuse, self.calls = [], None, 0

    def __call__(self, patient_id, symptoms, checked_at):
        self.calls += 1
        if self.refuse is not None:
            raise self.refuse
        self.saved.append((patient_id, symptoms, checked_at))


def test_all_no_clears_and_queues_one_check():
    checks, record = TabChecks(), Recorder()
    assert checks.submit(1, ALL_NO, NOW)
    checks.save(1, record)
    assert 1 in checks.cleared and 1 not in checks.stopped
    assert record.saved == [(1, (), NOW)] and checks.pending(1) == []


def test_a_yes_stops_even_with_other_questions_unanswered():
    checks = TabChecks()
    answers = {flag.code: None for flag in RED_FLAGS} | {"fever_or_chills": "Yes"}
    assert checks.submit(1, answers, NOW)
    assert checks.stopped[1] == ("fever_or_chills",)


def test_no_answers_need_every_question_and_record_nothing_until_then():
    checks = TabChecks()
    answers = dict(ALL_NO, fever_or_chills=None)
    assert not checks.submit(1, answers, NOW)
    assert 1 in checks.incomplete and checks.pending(1) == [] and 1 not in checks.cleared
    assert checks.submit(1, ALL_NO, NOW)
    assert 1 not in checks.incomplete


def test_a_repeated_press_records_nothing():
    checks, record = TabChecks(), Recorder()
    assert checks.submit(1, FEVER, NOW)
    checks.save(1, record)
    assert not checks.submit(1, FEVER, NOW + timedelta(seconds=1))
    assert not checks.submit(1, ALL_NO, NOW + timedelta(seconds=2))  # a stop is not undone by a later "no"
    assert len(record.saved) == 1 and checks.stopped[1] == ("fever_or_chills",)


def test_a_refused_check_keeps_its_reason_and_is_saved_by_the_retry_with_its_own_time():
    checks, record = TabChecks(), Recorder()
    record.refuse = Refusing("The database is busy.")
    checks.submit(1, FEVER, NOW)
    checks.save(1, record, expected=(Refusing,))
    assert checks.pending_stop(1) and checks.pending(1)[0].error == "The database is busy."
    assert checks.stopped[1] == ("fever_or_chills",)  # stopped in this tab all the same
    record.refuse = None
    checks.save(1, record, expected=(Refusing,))
    assert record.saved == [(1, ("fever_or_chills",), NOW)] and not checks.pending_stop(1)


def test_an_unexpected_error_is_described_not_raised():
    checks, record = TabChecks(), Recorder()
    record.refuse = RuntimeError("boom")
    checks.submit(1, ALL_NO, NOW)
    checks.save(1, record, expected=(Refusing,))
    assert checks.pending_clear(1)
    assert "unexpected problem" in checks.pending(1)[0].error


def test_the_queue_is_saved_oldest_first_and_stops_at_the_first_refusal():
    checks, record = TabChecks(), Recorder()
    record.refuse = Refusing("busy")
    checks.submit(1, ALL_NO, NOW)
    checks.save(1, record, expected=(Refusing,))
    checks.report_new(1)  # the patient has something new to report
    assert 1 not in checks.cleared and 1 in checks.reporting_new
    checks.submit(1, FEVER, NOW + timedelta(minutes=5))
    assert 1 not in checks.reporting_new
    checks.save(1, record, expected=(Refusing,))
    assert record.calls == 2 and len(checks.pending(1)) == 2  # the second was not tried past the first
    record.refuse = None
    checks.save(1, record, expected=(Refusing,))
    assert [s for _, s, _ in record.saved] == [(), ("fever_or_chills",)]


def test_two_presses_at_once_record_one_check():
    """Streamlit can run a second press's callback on another thread while the first is saving."""
    checks = TabChecks()
    saved, errors = [], []
    inside = threading.Event()

    def slow_record(patient_id, symptoms, checked_at):
        inside.set()
        threading.Event().wait(0.2)  # the second press arrives meanwhile
        saved.append(symptoms)

    def press():
        try:
            with checks.lock:
                if checks.submit(1, FEVER, datetime.now(UTC)):
                    checks.save(1, slow_record)
        except BaseException as exc:  # noqa: BLE001 - reported by the test
            errors.append(exc)

    first = threading.Thread(target=press)
    first.start()
    inside.wait(5)
    second = threading.Thread(target=press)
    second.start()
    first.join(5)
    second.join(5)
    assert errors == [] and saved == [("fever_or_chills",)] and checks.pending(1) == []
