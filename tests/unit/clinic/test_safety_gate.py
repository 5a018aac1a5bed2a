"""The red-flag gate (formcheck.clinic.safety) and the clinician's release (store.release_symptom_stop)."""
from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from formcheck.clinic.safety import ASK, CLEARED, STOPPED, stops_on, todays_gate
from formcheck.store import StoreError, SymptomCheckRow, open_store

# Local times: the gate works on the patient's calendar day.
MORNING = datetime(2026, 11, 30, 9, 0).astimezone()
NOON = MORNING.replace(hour=12)
EVENING = MORNING.replace(hour=21)
NEXT_DAY = MORNING + timedelta(days=1)


def check(at: datetime, *symptoms: str, released: datetime | None = None, id: int = 1) -> SymptomCheckRow:
    return SymptomCheckRow(id=id, patient_id=1, checked_at=at, symptoms=tuple(symptoms),
                           outcome="stopped" if symptoms else "cleared", released_at=released)


def test_no_check_today_asks():
    assert todays_gate([], NOON).state == ASK
    assert todays_gate([check(MORNING - timedelta(days=1))], NOON).state == ASK  # yesterday's answers do not count


def test_an_all_no_check_holds_for_the_rest_of_the_day_so_the_questions_are_asked_once():
    morning = check(MORNING)
    assert todays_gate([morning], NOON) == todays_gate([morning], EVENING)
    assert todays_gate([morning], EVENING).state == CLEARED
    assert todays_gate([morning], NEXT_DAY).state == ASK


def test_a_stop_holds_all_day_even_after_a_later_all_no_answer():
    stop = check(MORNING, "fever_or_chills", id=1)
    no_after_reload = check(MORNING + timedelta(minutes=1), id=2)
    gate = todays_gate([no_after_reload, stop], EVENING)
    assert gate.state == STOPPED and gate.check == stop
    assert todays_gate([no_after_reload, stop], NEXT_DAY).state == ASK  # a new day: asked afresh


def test_a_released_stop_asks_again_and_only_a_later_check_clears():
    released_at = NOON
    stop = check(MORNING, "fever_or_chills", released=released_at, id=1)
    before_release = check(MORNING + timedelta(minutes=1), id=2)
    assert todays_gate([before_release, stop], EVENING).state == ASK
    after = check(NOON + timedelta(minutes=5), id=3)
    assert todays_gate([after, before_release, stop], EVENING) .state == CLEARED
    assert todays_gate([check(NOON + timedelta(minutes=6), "bladder_or_bowel_change", id=4), after, stop],
                       EVENING).state == STOPPED  # a new "yes" after the release stops again


def test_stops_on_lists_the_days_stops_released_or_not():
    stops = [check(NOON, "fever_or_chills", id=2), check(MORNING, "severe_or_worsening_pain", released=NOON, id=1),
             check(MORNING, id=3), check(NEXT_DAY, "fever_or_chills", id=4)]
    assert [c.id for c in stops_on(stops, MORNING.date())] == [1, 2]


def test_the_store_keeps_a_release_and_refuses_a_second_one(tmp_path):
    store = open_store(tmp_path / "data")
    patient = store.add_patient("Ana")
    stop = store.record_symptom_check(patient, ["fever_or_chills"])
    cleared = store.record_symptom_check(patient, [])
    with pytest.raises(StoreError, match="not a stop"):
        store.release_symptom_stop(cleared)
    store.release_symptom_stop(stop)
    [_, released] = store.list_symptom_checks(patient)
    assert released.id == stop and released.released_at is not None
    with pytest.raises(StoreError, match="not a stop"):
        store.release_symptom_stop(stop)
    with pytest.raises(StoreError, match="no red-flag check"):
        store.release_symptom_stop(999)


def test_the_printable_report_of_that_days_session_names_the_red_flag(tmp_path):
    from formcheck import review
    from formcheck.report import session_report_html

    store = open_store(tmp_path / "data")
    patient = store.add_patient("Ana")
    stop = store.record_symptom_check(patient, ["fever_or_chills"], checked_at=MORNING)
    store.release_symptom_stop(stop, released_at=MORNING + timedelta(hours=1))
    store.record_symptom_check(patient, ["bladder_or_bowel_change"], checked_at=NEXT_DAY)  # another day
    session = store.start_session(patient, "glute_bridge", "Glute bridge", "1", "live", started_at=NOON)
    row, checks = store.get_session(session), store.list_symptom_checks(patient)
    meta = review.report_meta(row, store.get_patient(patient), checks)
    html = session_report_html(store.get_result(session), "Ana", meta)
    assert "Red-flag symptoms reported that day" in html
    assert "Fever or chills" in html and "stop cleared by the clinician at 10:00" in html
    assert "bladder" not in html.lower()
    quiet = review.report_meta(row, store.get_patient(patient), [c for c in checks if c.id != stop])
    assert "red_flag_stops" not in quiet
