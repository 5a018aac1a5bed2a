"""The clinic overview (formcheck/overview.py): red flags first, this week's days against the
prescription, the pain trend, a dash where nothing was recorded."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

from formcheck.clinic.overview import NONE_SHOWN, RED_FLAG_COLUMN, overview_rows, overview_table, pain_trend
from formcheck.clinic.prescription import parse_prescription, save_prescription
from formcheck.store import open_store
from formcheck.types import Rep, SessionResult

NOW = datetime(2026, 12, 3, 15, 0, tzinfo=UTC)  # a Thursday


def _session(store, patient_id: int, days_ago: float, pain_before: int | None, pain_after: int | None,
             reps: int = 1) -> None:
    started = NOW - timedelta(days=days_ago)
    sid = store.start_session(patient_id, "glute_bridge", "Glute bridge", "1", "live", pain_before=pain_before,
                              started_at=started)
    done = [Rep(i + 1, "", 2.0 * i, 2.0 * i + 1, 2.0 * i + 2, 170.0, 40.0, 0.5, True) for i in range(reps)]
    store.finish_session(sid, SessionResult("glute_bridge", "Glute bridge", "1", 30.0, 900, 900, reps=done),
                         pain_after=pain_after)


def _rows(store):
    patients = store.list_patients()
    return overview_rows(
        patients,
        {p.id: store.list_sessions(p.id) for p in patients},
        {p.id: store.list_symptom_checks(p.id) for p in patients},
        {p.id: parse_prescription(t) if (t := store.get_prescription(p.id)) else None for p in patients},
        now=NOW)


def test_red_flags_come_first_then_who_has_waited_longest(tmp_path):
    store = open_store(tmp_path / "data")
    quiet, flagged, new = (store.add_patient(n) for n in ("Quiet Quinn", "Flagged Fran", "New Ned"))
    save_prescription(store, quiet, '[[exercise]]\nname = "glute_bridge"\n')  # 7 a week by default
    save_prescription(store, flagged, 'sessions_per_week = 3\n[[exercise]]\nname = "glute_bridge"\n')
    _session(store, quiet, 0.1, 2, 2)
    _session(store, quiet, 1.0, 3, 2)
    _session(store, quiet, 9.0, 4, 4)  # last week: not this week
    _session(store, quiet, 2.0, 4, 4, reps=0)  # started, nothing counted: not a day exercised (as adherence)
    _session(store, flagged, 2.0, 3, 5)
    store.record_symptom_check(flagged, ["fever_or_chills"], checked_at=NOW - timedelta(days=1))
    store.record_symptom_check(quiet, ["fever_or_chills"], checked_at=NOW - timedelta(days=45))  # too long ago

    rows = _rows(store)
    assert [r.name for r in rows] == ["Flagged Fran", "New Ned", "Quiet Quinn"]
    fran, ned, quinn = rows
    assert (quinn.days_this_week, quinn.prescribed_per_week, quinn.pain.describe()) == (2, 7, "2/10 → (was 2)")
    assert (fran.days_this_week, fran.prescribed_per_week, fran.pain.describe()) == (1, 3, "5/10 ↑ (was 3)")
    assert (ned.last_session, ned.pain, ned.prescribed_per_week, ned.red_flags) == (None, None, None, ())

    table = overview_table(rows)
    assert table.loc[0, RED_FLAG_COLUMN].endswith("Fever or chills")
    assert table.loc[1].tolist() == ["New Ned", NONE_SHOWN, NONE_SHOWN, "0 (no prescription)", NONE_SHOWN]
    assert table.loc[2, "Days this week"] == "2 of 7" and table.loc[2, RED_FLAG_COLUMN] == NONE_SHOWN


def test_pain_trend_is_the_last_two_ratings_in_time_order():
    class S:  # just the fields pain_trend reads
        def __init__(self, day, before, after):
            self.started_at, self.pain_before, self.pain_after = NOW + timedelta(days=day), before, after

    assert pain_trend([]) is None
    assert pain_trend([S(0, None, None)]) is None
    assert pain_trend([S(0, 4, None)]).describe() == "4/10"
    assert pain_trend([S(1, 2, 5), S(0, 6, None)]).describe() == "5/10 ↑ (was 2)"  # a rise during the last session
    assert pain_trend([S(1, 2, None), S(0, 6, 4)]).describe() == "2/10 ↓ (was 4)"  # ordered by time, not by list
