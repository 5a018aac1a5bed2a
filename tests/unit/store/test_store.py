"""formcheck.store against real SQLite files in tmp_path."""
from __future__ import annotations

import json
import math
import sqlite3
import threading
import time
import zlib
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from formcheck.store import MIGRATIONS, StoreError, default_data_dir, open_store
from formcheck.store import database as store_module
from formcheck.store import schema as schema_module
from formcheck.types import Flag, Rep, SessionResult
from tests.support.db import write_lock_held

T0 = datetime(2024, 5, 6, 12, 0, tzinfo=UTC)  # a Monday, noon UTC


def rep(index: int, start_s: float, rom_deg: float = 40.0, complete: bool = True, side: str = "", flags=()) -> Rep:
    return Rep(
        index=index, side=side, start_s=start_s, peak_s=start_s + 1.0, end_s=start_s + 2.0,
        peak_deg=rom_deg + 10.0, rom_deg=rom_deg, hold_s=0.5, complete=complete, flags=tuple(flags),
    )


def result(reps=(), flags=(), exercise: str = "glute_bridge", duration_s: float = 30.0) -> SessionResult:
    return SessionResult(
        exercise=exercise, exercise_title="Glute bridge", spec_version="1.2", duration_s=duration_s,
        frames=900, frames_with_pose=880, reps=list(reps), flags=list(flags),
        warnings=["Camera moved at 12 s"], provenance={"model": "blazepose-full", "spec_file": Path("x.toml")},
    )


def flexion_flag(start_s: float, rep_index: int | None = 1) -> Flag:
    return Flag(code="spinal_flexion", severity="warning", start_s=start_s, end_s=start_s + 1.5,
                message="Keep your back straight", peak_value=24.5, rep_index=rep_index)


@pytest.fixture
def store(tmp_path):
    return open_store(tmp_path / "data")


@pytest.fixture
def patient(store) -> int:
    return store.add_patient("Ana", surgery_date="2024-04-01")


# -- opening, schema, migrations ----------------------------------------------------------------


def test_first_open_creates_folder_and_schema_and_data_survive_reopening(tmp_path):
    data_dir = tmp_path / "new" / "data"
    store = open_store(data_dir)
    assert (data_dir / "formcheck.db").is_file()
    assert store.schema_version() == len(MIGRATIONS)
    with sqlite3.connect(data_dir / "formcheck.db") as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"

    patient_id = store.add_patient("Ana", surgery_date=date(2024, 4, 1), notes="L4-L5 microdiscectomy")
    session_id = store.start_session(patient_id, "glute_bridge", "Glute bridge", "1.2", "live", pain_before=3)
    store.finish_session(session_id, result([rep(1, 0.0), rep(2, 3.0)]), pain_after=2, trace_json='{"frames": []}')
    del store

    reopened = open_store(data_dir)
    assert [p.name for p in reopened.list_patients()] == ["Ana"]
    assert reopened.get_patient(patient_id).surgery_date == date(2024, 4, 1)
    session = reopened.get_session(session_id)
    assert (session.status, session.reps, session.pain_before, session.pain_after) == ("complete", 2, 3, 2)
    assert len(reopened.get_reps(session_id)) == 2
    assert reopened.get_trace(session_id) == '{"frames": []}'


def test_default_data_dir_comes_from_the_environment_else_the_working_directory(tmp_path, monkeypatch):
    monkeypatch.setenv("FORMCHECK_DATA_DIR", str(tmp_path / "elsewhere"))
    assert default_data_dir() == tmp_path / "elsewhere"

    monkeypatch.delenv("FORMCHECK_DATA_DIR")
    monkeypatch.chdir(tmp_path)
    assert default_data_dir() == Path("formcheck-data")
    open_store()
    assert (tmp_path / "formcheck-data" / "formcheck.db").is_file()


def test_migrating_again_changes_nothing(store, patient):
    def schema(db: Path) -> list:
        with sqlite3.connect(db) as conn:
            return conn.execute("SELECT type, name, sql FROM sqlite_master ORDER BY name").fetchall()

    before = schema(store.db_path)
    store.migrate()
    open_store(store.data_dir)
    assert schema(store.db_path) == before
    assert store.schema_version() == len(MIGRATIONS)
    assert [p.id for p in store.list_patients()] == [patient]


def test_a_new_migration_upgrades_an_existing_database_once(store, patient, monkeypatch):
    extra = ("ALTER TABLE patients ADD COLUMN clinic TEXT NOT NULL DEFAULT ''",)
    monkeypatch.setattr(schema_module, "MIGRATIONS", [*MIGRATIONS, extra])

    upgraded = open_store(store.data_dir)
    open_store(store.data_dir)  # a second run of the ALTER would fail: "duplicate column name"
    assert upgraded.schema_version() == len(MIGRATIONS) + 1
    with sqlite3.connect(store.db_path) as conn:
        columns = [row[1] for row in conn.execute("PRAGMA table_info(patients)")]
    assert "clinic" in columns
    assert upgraded.get_patient(patient).name == "Ana"


def test_a_database_from_a_newer_formcheck_is_refused(store):
    with sqlite3.connect(store.db_path) as conn:
        conn.execute(f"PRAGMA user_version = {len(MIGRATIONS) + 1}")
    with pytest.raises(StoreError, match="newer formcheck"):
        open_store(store.data_dir)


def test_a_file_that_is_not_a_database_gives_a_store_error(tmp_path):
    (tmp_path / "formcheck.db").write_bytes(b"this is a text file, not SQLite" * 100)
    with pytest.raises(StoreError, match="not a formcheck database"):
        open_store(tmp_path)


# -- patients -----------------------------------------------------------------------------------


def test_update_patient_changes_only_the_given_fields(store, patient):
    store.update_patient(patient, notes="Cleared for bridges")
    assert store.get_patient(patient).name == "Ana"
    assert store.get_patient(patient).surgery_date == date(2024, 4, 1)
    assert store.get_patient(patient).notes == "Cleared for bridges"

    store.update_patient(patient, name="  Ana M.  ", surgery_date=None)  # None clears the date
    updated = store.get_patient(patient)
    assert (updated.name, updated.surgery_date, updated.notes) == ("Ana M.", None, "Cleared for bridges")


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda s: s.add_patient("   "), "needs a name"),
        (lambda s: s.add_patient("Bo", surgery_date="01/04/2024"), "not a date"),
        (lambda s: s.get_patient(999), "No patient with id 999"),
        (lambda s: s.update_patient(999, name="X"), "No patient with id 999"),
        (lambda s: s.list_sessions(999), "No patient with id 999"),
        (lambda s: s.progress(999), "No patient with id 999"),
        (lambda s: s.start_session(999, "glute_bridge", "Glute bridge", "1.2", "live"), "No patient with id 999"),
        (lambda s: s.get_session(999), "No session with id 999"),
        (lambda s: s.get_reps(999), "No session with id 999"),
        (lambda s: s.get_trace(999), "No session with id 999"),
        (lambda s: s.save_progress(999, result()), "No session with id 999"),
        (lambda s: s.delete_session(999), "No session with id 999"),
    ],
)
def test_bad_ids_and_values_give_a_clear_store_error(store, call, message):
    with pytest.raises(StoreError, match=message):
        call(store)


# -- sessions -----------------------------------------------------------------------------------


def test_sessions_are_listed_newest_first(store, patient):
    # Started out of order (an upload may carry an older recording time); equal times by id.
    ids = {
        "tuesday": store.start_session(patient, "glute_bridge", "Glute bridge", "1.2", "upload",
                                       started_at=T0 + timedelta(days=1)),
        "monday": store.start_session(patient, "glute_bridge", "Glute bridge", "1.2", "upload", started_at=T0),
        "friday": store.start_session(patient, "bird_dog", "Bird dog", "1.0", "live",
                                      started_at=T0 + timedelta(days=4)),
        "friday_again": store.start_session(patient, "bird_dog", "Bird dog", "1.0", "live",
                                            started_at=T0 + timedelta(days=4)),
    }
    other = store.add_patient("Ben")
    store.start_session(other, "glute_bridge", "Glute bridge", "1.2", "live")

    listed = [s.id for s in store.list_sessions(patient)]
    assert listed == [ids["friday_again"], ids["friday"], ids["tuesday"], ids["monday"]]
    assert store.get_session(ids["monday"]).started_at == T0


def test_a_started_session_exists_at_once_as_live(store, patient):
    session_id = store.start_session(patient, "glute_bridge", "Glute bridge", "1.2", "live", pain_before=4)
    session = store.get_session(session_id)
    assert (session.status, session.reps, session.pain_before, session.summary_json) == ("live", 0, 4, None)


def test_save_progress_replaces_the_previous_save(store, patient):
    session_id = store.start_session(patient, "glute_bridge", "Glute bridge", "1.2", "live")
    store.save_progress(session_id, result([rep(1, 0.0), rep(2, 3.0)], [flexion_flag(1.0)]))
    store.save_progress(session_id, result([rep(1, 0.0), rep(2, 3.0), rep(1, 6.0, complete=False)], []))

    assert [(r.index, r.complete) for r in store.get_reps(session_id)] == [(1, True), (2, True), (1, False)]
    assert store.get_flags(session_id) == []
    session = store.get_session(session_id)
    assert (session.reps, session.partial_reps) == (2, 1)
    assert json.loads(session.summary_json)["partial_reps"] == 1


def test_a_crash_before_finishing_keeps_the_saved_reps_as_interrupted(store, patient):
    session_id = store.start_session(patient, "glute_bridge", "Glute bridge", "1.2", "live")
    saved = result([rep(1, 0.0), rep(2, 3.0, flags=["spinal_flexion"])], [flexion_flag(3.5, rep_index=2)])
    store.save_progress(session_id, saved)
    data_dir = store.data_dir
    del store  # the app crashes: finish_session never runs

    restarted = open_store(data_dir)
    assert restarted.mark_interrupted_sessions() == 1
    assert restarted.mark_interrupted_sessions() == 0  # only once

    session = restarted.get_session(session_id)
    assert session.status == "interrupted"
    assert session.ended_at == session.updated_at  # it ended at its last save
    assert restarted.get_reps(session_id) == saved.reps
    assert restarted.get_flags(session_id) == saved.flags
    with pytest.raises(StoreError, match="already interrupted"):
        restarted.save_progress(session_id, saved)


def test_finish_session_stores_the_result_pain_video_and_trace(store, patient):
    session_id = store.start_session(patient, "glute_bridge", "Glute bridge", "1.2", "upload", pain_before=5)
    final = result([rep(1, 0.0, side="left"), rep(1, 3.0, side="right", flags=["spinal_flexion"])], [flexion_flag(3.2)])
    trace = json.dumps({"fps": 30, "frames": [[0.5] * 132] * 50})
    store.finish_session(session_id, final, pain_after=3, video_path="videos/s1.mp4", trace_json=trace,
                         notes="Felt fine")

    session = store.get_session(session_id)
    assert (session.status, session.pain_after, session.video_path, session.notes) == (
        "complete", 3, "videos/s1.mp4", "Felt fine")
    assert (session.duration_s, session.frames, session.frames_with_pose) == (30.0, 900, 880)
    assert session.ended_at is not None
    assert json.loads(session.summary_json) == json.loads(json.dumps(final.to_dict(), default=str))
    assert store.get_trace(session_id) == trace
    with sqlite3.connect(store.db_path) as conn:  # stored compressed
        (blob,) = conn.execute("SELECT trace_zlib FROM traces").fetchone()
    assert len(blob) < len(trace) / 10

    rebuilt = store.get_result(session_id)
    assert (rebuilt.reps, rebuilt.flags, rebuilt.warnings) == (final.reps, final.flags, final.warnings)
    assert rebuilt.measurement == final.measurement
    assert rebuilt.provenance == {"model": "blazepose-full", "spec_file": "x.toml"}

    with pytest.raises(StoreError, match="already complete"):
        store.finish_session(session_id, final)


def test_finish_without_trace_has_no_trace(store, patient):
    session_id = store.start_session(patient, "glute_bridge", "Glute bridge", "1.2", "cli")
    store.finish_session(session_id, result(), status="recorded")
    assert store.get_trace(session_id) is None
    assert store.get_session(session_id).status == "recorded"


def test_missing_angles_come_back_as_nan(store, patient):
    session_id = store.start_session(patient, "glute_bridge", "Glute bridge", "1.2", "live")
    unmeasured = Rep(index=1, side="", start_s=0.0, peak_s=1.0, end_s=2.0, peak_deg=math.nan,
                     rom_deg=math.nan, hold_s=0.0, complete=False)
    store.finish_session(session_id, result([unmeasured]))
    (back,) = store.get_reps(session_id)
    assert math.isnan(back.peak_deg) and math.isnan(back.rom_deg)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(status="live"), "cannot finish as 'live'"),  # finishing means leaving 'live'
        (dict(status="done"), "cannot finish as 'done'"),  # not a status at all
        (dict(pain_after=11), "Pain after must be"),
    ],
)
def test_finish_session_rejects_bad_arguments(store, patient, kwargs, message):
    session_id = store.start_session(patient, "glute_bridge", "Glute bridge", "1.2", "live")
    with pytest.raises(StoreError, match=message):
        store.finish_session(session_id, result(), **kwargs)
    assert store.get_session(session_id).status == "live"


def test_a_result_of_another_exercise_is_refused(store, patient):
    session_id = store.start_session(patient, "glute_bridge", "Glute bridge", "1.2", "live")
    with pytest.raises(StoreError, match="cannot store a 'bird_dog' result"):
        store.save_progress(session_id, result(exercise="bird_dog"))


def test_unknown_source_is_refused(store, patient):
    with pytest.raises(StoreError, match="Unknown session source 'webcam'"):
        store.start_session(patient, "glute_bridge", "Glute bridge", "1.2", "webcam")


@pytest.mark.parametrize(
    "pain, ok",
    [
        (None, True),  # not asked
        (0, True),  # lower end of the scale
        (10, True),  # upper end of the scale
        (7.0, True),  # a whole number given as a float
        (-1, False),  # below the scale
        (11, False),  # above the scale
        (5.5, False),  # the numeric rating scale has whole numbers only
        (math.nan, False),  # a failed read-out of a widget
        ("3", False),  # text, not a number
        (True, False),  # a bool is an int in Python, but not a pain score
    ],
)
def test_pain_is_a_whole_number_from_0_to_10(store, patient, pain, ok):
    if ok:
        session_id = store.start_session(patient, "glute_bridge", "Glute bridge", "1.2", "live", pain_before=pain)
        assert store.get_session(session_id).pain_before == pain
    else:
        with pytest.raises(StoreError, match="Pain before must be a whole number from 0 to 10"):
            store.start_session(patient, "glute_bridge", "Glute bridge", "1.2", "live", pain_before=pain)
        assert store.list_sessions(patient) == []


def test_delete_session_removes_its_rows_and_its_kept_video(store, patient, tmp_path):
    kept_video = store.data_dir / "videos" / "s1.mp4"
    kept_video.parent.mkdir()
    kept_video.write_bytes(b"video")
    users_video = tmp_path / "my_recording.mp4"  # outside the data dir: the user's own file
    users_video.write_bytes(b"video")

    ids = []
    for video in (kept_video, users_video):
        session_id = store.start_session(patient, "glute_bridge", "Glute bridge", "1.2", "upload")
        store.finish_session(session_id, result([rep(1, 0.0)], [flexion_flag(0.5)]), video_path=video, trace_json="{}")
        ids.append(session_id)
    for session_id in ids:
        store.delete_session(session_id)

    assert store.list_sessions(patient) == []
    with sqlite3.connect(store.db_path) as conn:
        for table in ("reps", "flags", "traces"):
            assert conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0] == 0, table
    assert not kept_video.exists()
    assert users_video.exists()


def test_progress_gives_one_point_per_session_oldest_first(store, patient):
    # Surgery 2024-04-01; sessions 5 and 7 weeks later (noon UTC: the same calendar day in any time zone
    # from UTC-11 to UTC+11).
    week5 = store.start_session(patient, "glute_bridge", "Glute bridge", "1.2", "live", started_at=T0)
    store.finish_session(week5, result([rep(1, 0.0, rom_deg=30.0), rep(2, 3.0, rom_deg=40.0),
                                        rep(1, 6.0, rom_deg=5.0, complete=False)],  # partial: not in the mean
                                       [flexion_flag(1.0), flexion_flag(4.0)]))
    week7 = store.start_session(patient, "glute_bridge", "Glute bridge", "1.2", "live",
                                started_at=T0 + timedelta(weeks=2))
    store.finish_session(week7, result([rep(1, 0.0, rom_deg=50.0)]))

    points = store.progress(patient)
    assert [p.session_id for p in points] == [week5, week7]
    assert [(p.date, p.reps, p.partial_reps, p.flag_count) for p in points] == [
        (date(2024, 5, 6), 2, 1, 2), (date(2024, 5, 20), 1, 0, 0)]
    assert [p.mean_rom_deg for p in points] == pytest.approx([35.0, 50.0])
    assert [p.weeks_since_surgery for p in points] == pytest.approx([5.0, 7.0])

    no_date = store.add_patient("Ben")
    session_id = store.start_session(no_date, "glute_bridge", "Glute bridge", "1.2", "live")
    (point,) = store.progress(no_date)
    assert point.weeks_since_surgery is None
    assert math.isnan(point.mean_rom_deg)  # no reps yet
    assert point.session_id == session_id


# -- concurrency and failures -------------------------------------------------------------------


def test_two_threads_saving_two_patients_sessions_do_not_mix(store):
    patients = {name: store.add_patient(name) for name in ("Ana", "Ben")}
    rom_by_name = {"Ana": 30.0, "Ben": 60.0}  # each patient's reps carry their own range of motion
    start = threading.Barrier(2)
    errors: list[BaseException] = []
    session_ids: dict[str, int] = {}

    def live_session(name: str) -> None:
        try:
            session_id = store.start_session(patients[name], "glute_bridge", "Glute bridge", "1.2", "live")
            session_ids[name] = session_id
            start.wait()
            reps = []
            for i in range(25):  # a save per rep, interleaved with the other thread's
                reps.append(rep(i + 1, 3.0 * i, rom_deg=rom_by_name[name], side=name))
                store.save_progress(session_id, result(reps))
            store.finish_session(session_id, result(reps), pain_after=1)
        except BaseException as exc:  # noqa: BLE001 - reported below: an exception in a thread would vanish
            errors.append(exc)

    threads = [threading.Thread(target=live_session, args=(name,)) for name in patients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    for name, patient_id in patients.items():
        (session,) = store.list_sessions(patient_id)
        assert session.id == session_ids[name]
        assert (session.status, session.reps) == ("complete", 25)
        reps = store.get_reps(session.id)
        assert [r.index for r in reps] == list(range(1, 26))
        assert {(r.side, r.rom_deg) for r in reps} == {(name, rom_by_name[name])}


def test_a_write_lock_held_past_the_timeout_gives_database_busy(tmp_path):
    store = open_store(tmp_path, busy_timeout_s=0.2)
    patient_id = store.add_patient("Ana")
    with write_lock_held(store.db_path):  # another program (the CLI, a second app) holds the write lock
        started = time.monotonic()
        with pytest.raises(StoreError, match="The database is busy"):
            store.add_patient("Ben")
        assert time.monotonic() - started >= 0.15  # it waited for the busy timeout first
        with pytest.raises(StoreError, match="The database is busy"):
            store.start_session(patient_id, "glute_bridge", "Glute bridge", "1.2", "live")
        assert [p.name for p in store.list_patients()] == ["Ana"]  # WAL: reading still works
    store.add_patient("Ben")  # and writing works again once the lock is gone
    assert len(store.list_patients()) == 2


def test_a_full_disk_gives_a_store_error_and_saves_nothing(store, patient, monkeypatch):
    real_connect = sqlite3.connect

    def connect_to_a_full_disk(*args, **kwargs):
        conn = real_connect(*args, **kwargs)
        conn.execute("PRAGMA max_page_count = 1")  # clamped to the current size: the file cannot grow
        return conn

    monkeypatch.setattr(store_module.sqlite3, "connect", connect_to_a_full_disk)
    with pytest.raises(StoreError, match="is full, so nothing was saved"):
        store.add_patient("Ben", notes="x" * 200_000)
    monkeypatch.undo()
    assert [p.id for p in store.list_patients()] == [patient]


def test_an_unwritable_data_folder_gives_a_store_error(tmp_path):
    blocker = tmp_path / "a_file"
    blocker.write_text("not a folder")
    with pytest.raises(StoreError, match="Cannot create the data folder"):
        open_store(blocker / "data")


@pytest.mark.parametrize(
    "message, expected",
    [
        ("database is locked", "The database is busy"),  # another writer held on past the timeout
        ("database or disk is full", "is full, so nothing was saved"),  # no space left
        ("file is not a database", "not a formcheck database"),  # someone else's file
        ("no such table: x", "Database error in"),  # anything else: SQLite's own words, with the file
    ],
)
def test_errors_without_an_error_code_are_recognised_by_their_message(tmp_path, message, expected):
    # Python 3.10's sqlite3 exceptions carry no sqlite_errorcode, only SQLite's message.
    error = store_module.Store(tmp_path)._store_error(sqlite3.OperationalError(message))
    assert isinstance(error, StoreError)
    assert expected in str(error)


# -- red-flag symptom checks ----------------------------------------------------------------------


def test_symptom_checks_are_recorded_with_the_outcome_and_listed_newest_first(store, patient):
    first = store.record_symptom_check(patient, [], checked_at=T0)
    second = store.record_symptom_check(patient, ["wound_redness_or_drainage", "fever_or_chills", "fever_or_chills"],
                                        checked_at=T0 + timedelta(days=1))
    other = store.add_patient("Ben")
    store.record_symptom_check(other, ["breathing_or_chest_problem"], checked_at=T0)

    checks = store.list_symptom_checks(patient)
    assert [c.id for c in checks] == [second, first]
    stopped, cleared = checks
    assert (cleared.outcome, cleared.stopped, cleared.symptoms, cleared.checked_at) == ("cleared", False, (), T0)
    # each symptom once, in the checklist's order, whatever order they came in
    assert stopped.symptoms == ("fever_or_chills", "wound_redness_or_drainage")
    assert (stopped.outcome, stopped.stopped, stopped.patient_id) == ("stopped", True, patient)
    assert stopped.symptom_labels == ("Fever or chills", "Wound redness, warmth, swelling or drainage")
    assert stopped.checked_at == T0 + timedelta(days=1) and stopped.checked_at.tzinfo is not None
    # clinician-readable in the database itself, time in UTC like every other timestamp
    with sqlite3.connect(store.db_path) as conn:
        row = conn.execute("SELECT checked_at, symptoms, outcome FROM symptom_checks WHERE id = ?",
                           (second,)).fetchone()
    assert row == ("2024-05-07T12:00:00+00:00", '["fever_or_chills", "wound_redness_or_drainage"]', "stopped")


def test_a_symptom_check_defaults_to_now_and_a_naive_time_is_local(store, patient):
    before = datetime.now(UTC).replace(microsecond=0)
    store.record_symptom_check(patient, "bladder_or_bowel_change")  # one code on its own is fine too
    [check] = store.list_symptom_checks(patient)
    assert before <= check.checked_at <= datetime.now(UTC)
    assert check.symptoms == ("bladder_or_bowel_change",)
    local = datetime(2024, 5, 6, 9, 30)
    store.record_symptom_check(patient, [], checked_at=local)
    assert store.list_symptom_checks(patient)[-1].checked_at == local.astimezone(UTC)


def test_symptom_checks_since_a_moment_or_a_local_date(store, patient):
    for days in (0, 10, 40):
        store.record_symptom_check(patient, [], checked_at=T0 - timedelta(days=days))
    assert len(store.list_symptom_checks(patient, since=T0 - timedelta(days=30))) == 2
    assert len(store.list_symptom_checks(patient, since=T0)) == 1  # the start is included
    assert len(store.list_symptom_checks(patient, since=T0 + timedelta(seconds=1))) == 0
    start_of_day = (T0 - timedelta(days=10)).astimezone().date()  # from local midnight of that day
    assert [c.checked_at for c in store.list_symptom_checks(patient, since=start_of_day)] == [
        T0, T0 - timedelta(days=10)]


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda s, p: s.record_symptom_check(999, []), "No patient with id 999"),
        (lambda s, p: s.list_symptom_checks(999), "No patient with id 999"),
        (lambda s, p: s.record_symptom_check(p, ["fever"]), "Unknown red-flag symptom 'fever'"),
        (lambda s, p: s.record_symptom_check(p, [None]), "Unknown red-flag symptom None"),
        (lambda s, p: s.record_symptom_check(p, 3), "must be a list of symptom codes"),
        (lambda s, p: s.record_symptom_check(p, [], checked_at="yesterday"), "must be a date and time"),
        (lambda s, p: s.list_symptom_checks(p, since="2024-05-01"), "must be a date or a date and time"),
    ],
)
def test_bad_symptom_checks_give_a_clear_store_error_and_save_nothing(store, patient, call, message):
    with pytest.raises(StoreError, match=message):
        call(store, patient)
    assert store.list_symptom_checks(patient) == []


def test_a_symptom_check_on_a_busy_database_gives_a_store_error(tmp_path):
    store = open_store(tmp_path, busy_timeout_s=0.2)
    patient_id = store.add_patient("Ana")
    with write_lock_held(store.db_path):
        with pytest.raises(StoreError, match="The database is busy"):
            store.record_symptom_check(patient_id, ["fever_or_chills"])
        assert store.list_symptom_checks(patient_id) == []  # reading still works


def test_a_damaged_symptom_check_row_gives_a_store_error(store, patient):
    check = store.record_symptom_check(patient, ["fever_or_chills"])
    with sqlite3.connect(store.db_path) as conn:
        conn.execute("UPDATE symptom_checks SET symptoms = 'not json' WHERE id = ?", (check,))
    with pytest.raises(StoreError, match=f"symptom check {check} is damaged"):
        store.list_symptom_checks(patient)


def test_the_database_refuses_an_unknown_outcome(store, patient):
    with sqlite3.connect(store.db_path) as conn, pytest.raises(sqlite3.IntegrityError):
        conn.execute("INSERT INTO symptom_checks (patient_id, checked_at, outcome) VALUES (?, ?, 'maybe')",
                     (patient, "2024-05-06T12:00:00+00:00"))


def _old_database(data_dir, schema: int) -> tuple[int, int]:
    """A database as formcheck wrote it at ``schema``: the tables of that schema, filled by plain SQL
    (today's code writes columns an old schema lacks). Returns (patient id, finished session id)."""
    with pytest.MonkeyPatch.context() as old:
        old.setattr(schema_module, "MIGRATIONS", MIGRATIONS[:schema])
        assert open_store(data_dir).schema_version() == schema
    with sqlite3.connect(data_dir / "formcheck.db") as conn:
        patient_id = conn.execute("INSERT INTO patients (name, surgery_date, notes, created_at) "
                                  "VALUES ('Ana', '2024-04-01', 'L4-L5', '2024-05-01T09:00:00+00:00')").lastrowid
        session_row = ("INSERT INTO sessions (patient_id, exercise, exercise_title, spec_version, source, status, "
                       "started_at, updated_at, ended_at, reps, partial_reps, pain_before, pain_after, notes) "
                       "VALUES (?, 'glute_bridge', 'Glute bridge', '1.2', 'live', ?, ?, ?, ?, 1, 1, 3, ?, ?)")
        finished = conn.execute(session_row, (patient_id, "complete", T0.isoformat(), T0.isoformat(), T0.isoformat(),
                                              2, "felt fine")).lastrowid
        conn.execute(session_row, (patient_id, "live", T0.isoformat(), T0.isoformat(), None, None, ""))  # a crash
        low = ", low_deg" if schema >= 3 else ""
        for index, complete in ((1, 1), (2, 0)):
            conn.execute(f"INSERT INTO reps (session_id, rep_index, side, start_s, peak_s, end_s, peak_deg, rom_deg, "
                         f"hold_s, complete, flags_json{low}) VALUES (?, ?, '', 0, 1, 2, 180, 40, 1, ?, '[]'"
                         f"{', 130' if low else ''})", (finished, index, complete))
        conn.execute("INSERT INTO flags (session_id, code, severity, start_s, end_s, message, peak_value, rep_index) "
                     "VALUES (?, 'spinal_flexion', 'danger', 1, 2, 'Keep your back straight', 25, 1)", (finished,))
        conn.execute("INSERT INTO traces (session_id, trace_zlib) VALUES (?, ?)",
                     (finished, zlib.compress(b'{"frames": []}')))
        conn.execute("INSERT INTO prescriptions (patient_id, toml, updated_at) VALUES (?, ?, ?)",
                     (patient_id, '[[exercise]]\nname = "glute_bridge"\nsets = 2\nreps = 8\n', T0.isoformat()))
        if schema >= 4:
            conn.execute("INSERT INTO symptom_checks (patient_id, checked_at, symptoms, outcome) "
                         "VALUES (?, ?, '[]', 'cleared')", (patient_id, T0.isoformat()))
    return patient_id, finished


def _dump(db) -> dict:
    """Every row of every table, keyed by column name."""
    with sqlite3.connect(db) as conn:
        conn.row_factory = sqlite3.Row
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        return {t: [dict(r) for r in conn.execute(f"SELECT * FROM {t} ORDER BY rowid")] for t in tables}


# Columns each migration after 3 adds to existing tables (the upgrade fills them; all else stays).
ADDED_AFTER_3 = {"patients": {"uid", "last_export_at"}, "sessions": {"uid", "exported_as"},
                 "symptom_checks": {"uid", "exported_at"}}


def test_a_version_3_database_is_upgraded_in_place_with_no_data_lost(tmp_path):
    """A database written before symptom checks existed (schema 3) gains them and stable ids; nothing else changes."""
    data_dir = tmp_path / "data"
    patient_id, finished = _old_database(data_dir, schema=3)
    db = data_dir / "formcheck.db"
    before, inode = _dump(db), db.stat().st_ino
    assert set(before) == {"patients", "sessions", "reps", "flags", "traces", "prescriptions"}

    upgraded = open_store(data_dir)
    assert upgraded.schema_version() == len(MIGRATIONS) == 6
    assert db.stat().st_ino == inode and sorted(p.name for p in data_dir.iterdir() if p.suffix == ".db") == [db.name]
    after = _dump(db)
    assert after.pop("symptom_checks") == []
    added = {t: [{k: v for k, v in row.items() if k in ADDED_AFTER_3.get(t, ())} for row in rows]
             for t, rows in after.items()}
    kept = {t: [{k: v for k, v in row.items() if k not in ADDED_AFTER_3.get(t, ())} for row in rows]
            for t, rows in after.items()}
    assert kept == before  # every row of every table, column by column
    uids = [row["uid"] for row in added["patients"] + added["sessions"]]
    assert all(row["exported_as"] is None for row in added["sessions"])
    assert all(isinstance(u, str) and len(u) == 32 for u in uids) and len(set(uids)) == len(uids)
    # and through the API
    assert upgraded.get_session(finished).notes == "felt fine"
    assert [r.complete for r in upgraded.get_reps(finished)] == [True, False]
    assert upgraded.get_trace(finished) == '{"frames": []}'
    assert upgraded.get_prescription(patient_id) is not None
    # the new table works, and new rows get their own stable ids
    upgraded.record_symptom_check(patient_id, ["new_numbness_tingling_or_weakness"])
    assert [c.outcome for c in open_store(data_dir).list_symptom_checks(patient_id)] == ["stopped"]
    new_patient = upgraded.get_patient(upgraded.add_patient("Ben"))
    assert len(new_patient.uid) == 32 and new_patient.uid not in uids


def test_a_version_4_database_gets_stable_ids_for_every_row(tmp_path):
    """Schema 5 gives each existing patient, session and symptom check a distinct stable id, once."""
    data_dir = tmp_path / "data"
    patient_id, finished = _old_database(data_dir, schema=4)
    store = open_store(data_dir)
    patient = store.get_patient(patient_id)
    assert len(patient.uid) == 32 and patient.last_export_at is None
    assert len(store.get_session(finished).uid) == 32
    assert len(store.list_symptom_checks(patient_id)[0].uid) == 32
    assert open_store(data_dir).get_patient(patient_id).uid == patient.uid  # not re-drawn on the next open
