"""app.py's pages through Streamlit's AppTest (no browser, no camera).

Each test gets its own data folder through FORMCHECK_DATA_DIR. Sessions are seeded by analysing
the synthetic bird-dog landmark trace (2 extensions, no model needed) and storing the result
the way the upload page does.
"""
from __future__ import annotations

import dataclasses
import gzip
import re
import shutil
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
from streamlit.runtime.scriptrunner import add_script_run_ctx, get_script_run_ctx
from streamlit.runtime.state.safe_session_state import SafeSessionState
from streamlit.testing.v1 import AppTest

from formcheck.pipeline import AnalyzeOptions, analyze
from formcheck.spec import load_exercise
from formcheck.store import Store, open_store
from formcheck.ui.safety_check import submit_red_flag_check
from formcheck.uploads import UploadError, analyze_upload, check_upload
from tests.support.db import write_lock_held
from tests.support.paths import REPO_ROOT, TRACES, VIDEOS

APP = str(REPO_ROOT / "app.py")
TRACE = TRACES / "bird_dog_synthetic_2ext.json"
TIMEOUT = 60
pytestmark = pytest.mark.app  # about 28 s of CPU for the module: left out of `make test-fast`


@pytest.fixture
def data_dir(tmp_path, monkeypatch):
    folder = tmp_path / "data"
    monkeypatch.setenv("FORMCHECK_DATA_DIR", str(folder))
    return folder


def run_app() -> AppTest:
    at = AppTest.from_file(APP, default_timeout=TIMEOUT).run()
    assert not at.exception, at.exception
    return at


def go_to(at: AppTest, page: str) -> AppTest:
    """Open the page ``page`` (its URL path, e.g. "review"), as its sidebar link does."""
    at.switch_page(f"formcheck/ui/pages/{page}.py").run()  # st.navigation's page hash: its URL path
    assert not at.exception, at.exception
    return at


def texts(elements) -> str:
    """The elements' text as the page shows it: Markdown's backslash escapes (user text is escaped) removed."""
    return re.sub(r"\\([!-/:-@\[-`{-~])", r"\1", "\n".join(str(e.value) for e in elements))


def seed_session(data_dir: Path, tmp_path: Path, name: str = "Maria Example") -> tuple[int, int]:
    """A patient with one stored bird-dog session (2 reps); returns (patient id, session id)."""
    store = open_store(data_dir)
    patient = store.add_patient(name, "2026-09-01")
    spec = load_exercise("bird_dog")
    result = analyze(TRACE, spec, tmp_path / "analysis", AnalyzeOptions(write_video=False))
    session = store.start_session(patient, spec.name, spec.title, spec.version, "upload", pain_before=3)
    store.finish_session(session, result, pain_after=2, status="recorded",
                         trace_json=(tmp_path / "analysis" / "trace.json").read_text())
    return patient, session


SYMPTOMS = ("rf_severe_or_worsening_pain", "rf_fever_or_chills", "rf_wound_redness_or_drainage",
            "rf_new_numbness_tingling_or_weakness", "rf_bladder_or_bowel_change", "rf_breathing_or_chest_problem")
SYMPTOM_CODES = dict(zip(SYMPTOMS, ("severe_or_worsening_pain", "fever_or_chills", "wound_redness_or_drainage",
                                    "new_numbness_tingling_or_weakness", "bladder_or_bowel_change",
                                    "breathing_or_chest_problem")))
RED_FLAGS = tuple(zip(SYMPTOMS, SYMPTOM_CODES.values(), (
    "Severe pain, or pain that is getting worse?", "Fever or chills?",
    "Redness, warmth, swelling or fluid (drainage) at your wound?",
    "New numbness, tingling or weakness in your legs or feet?", "Any change in bladder or bowel control?",
    "Trouble breathing, or chest pain?")))


def symptom_radio(at: AppTest, symptom: str):
    """The safety-check question ``symptom`` for the patient picked on the page."""
    return at.radio(key=f"{symptom}-p{at.selectbox(key='patient').value}")


def answer_safety_check(at: AppTest, answers: dict[str, str | None]) -> AppTest:
    """Answer the safety check ("No" unless ``answers`` says otherwise) and press Continue."""
    for symptom in SYMPTOMS:
        symptom_radio(at, symptom).set_value(answers.get(symptom, "No"))
    return continue_button(at).click().run()


def continue_button(at: AppTest):
    return at.button(key=f"rf-continue-p{at.selectbox(key='patient').value}")


# -- patient page ----------------------------------------------------------------------------------


def test_first_visit_shows_the_clearance_note_and_asks_for_a_profile(data_dir):
    at = run_app()
    notes = texts(at.info)
    assert "cleared by their surgeon" in notes and "8-12 weeks" in notes
    assert "does not replace your physiotherapist" in notes
    assert "no patient profile yet" in notes
    assert not at.button or "Start session" not in [b.label for b in at.button]


def test_creating_a_patient_selects_them_and_stores_them(data_dir):
    at = run_app()
    at.text_input[0].input("Jo Smith")
    at.date_input[0].set_value("2026-09-14")
    at.button[0].click().run()  # "Create profile"
    assert not at.exception
    picker = at.selectbox(key="patient")
    patient_id = picker.value
    assert picker.options == ["Jo Smith (surgery 2026-09-14)"]
    [stored] = open_store(data_dir).list_patients()
    assert (stored.id, stored.name, stored.surgery_date.isoformat()) == (patient_id, "Jo Smith", "2026-09-14")
    # The safety check comes next.
    assert symptom_radio(at, "rf_fever_or_chills").label == "Fever or chills?"


def test_an_empty_name_is_refused_politely(data_dir):
    at = run_app()
    at.button[0].click().run()
    assert not at.exception
    assert "needs a name" in texts(at.error)
    assert open_store(data_dir).list_patients() == []


@pytest.mark.parametrize("symptom", SYMPTOMS)
def test_any_red_flag_stops_the_session_says_to_contact_the_doctor_and_is_recorded(data_dir, tmp_path, symptom):
    patient, _ = seed_session(data_dir, tmp_path)
    at = run_app()
    answer_safety_check(at, {symptom: "Yes"})
    assert not at.exception
    message = texts(at.error)
    assert "do not exercise today" in message and "Contact your doctor" in message
    question = dict(zip(SYMPTOMS, (q for _, _, q in RED_FLAGS)))[symptom]
    assert f"- {question.rstrip('?')}" in texts(at.markdown)  # what they answered yes to
    assert "not sent to anyone" in texts(at.caption)  # the record does not replace calling the doctor
    # Nothing after the check is offered: no pain question, no exercise, no camera.
    assert not [s for s in at.segmented_control if s.key == "pain_before"]
    assert "Start session" not in [b.label for b in at.button]
    # The answer is recorded for the clinician, with which symptom.
    [check] = open_store(data_dir).list_symptom_checks(patient)
    assert (check.outcome, check.symptoms) == ("stopped", (SYMPTOM_CODES[symptom],))
    # The questions are gone and running the page again does not reopen it (until the page is reloaded).
    assert not [r for r in at.radio if (r.key or "").startswith("rf_")]
    assert "Continue" not in [b.label for b in at.button]
    at.run()
    assert "do not exercise today" in texts(at.error)
    assert "Start session" not in [b.label for b in at.button]
    assert len(open_store(data_dir).list_symptom_checks(patient)) == 1  # recorded once, not once per run


def test_several_red_flags_are_recorded_together_and_a_yes_stops_even_with_questions_unanswered(data_dir, tmp_path):
    patient, _ = seed_session(data_dir, tmp_path)
    at = run_app()
    answer_safety_check(at, {"rf_fever_or_chills": "Yes", "rf_wound_redness_or_drainage": "Yes",
                             "rf_breathing_or_chest_problem": None})
    assert "do not exercise today" in texts(at.error)
    [check] = open_store(data_dir).list_symptom_checks(patient)
    assert check.symptoms == ("fever_or_chills", "wound_redness_or_drainage")
    assert check.symptom_labels == ("Fever or chills", "Wound redness, warmth, swelling or drainage")


def test_all_no_is_recorded_as_cleared_and_an_unanswered_question_records_nothing(data_dir, tmp_path):
    patient, _ = seed_session(data_dir, tmp_path)
    at = run_app()
    assert "Answer every question, then press Continue." in texts(at.caption)
    answer_safety_check(at, {"rf_bladder_or_bowel_change": None})  # one question left unanswered
    assert "Please answer every question" in texts(at.warning)
    assert not [s for s in at.segmented_control if s.key == "pain_before"]
    assert open_store(data_dir).list_symptom_checks(patient) == []
    answer_safety_check(at, {})
    assert not at.error and not at.warning
    [check] = open_store(data_dir).list_symptom_checks(patient)
    assert (check.outcome, check.symptoms) == ("cleared", ())
    assert [s for s in at.segmented_control if s.key == "pain_before"]  # the session goes on


def test_a_red_flag_that_cannot_be_saved_still_stops_the_patient_and_can_be_saved_later(data_dir, tmp_path):
    patient, _ = seed_session(data_dir, tmp_path)
    at = run_app()
    with write_lock_held(data_dir / "formcheck.db"):  # another program holds the write lock: the database is busy
        answered = datetime.now(UTC).replace(microsecond=0)
        answer_safety_check(at, {"rf_new_numbness_tingling_or_weakness": "Yes"})
        assert not at.exception
        assert "do not exercise today" in texts(at.error)  # safety first: stopped although nothing was saved
        warning = texts(at.warning)
        assert "could not be saved" in warning and "database is busy" in warning
        assert "tell your doctor and your physiotherapist" in warning
        assert "Traceback" not in warning
        assert not [s for s in at.segmented_control if s.key == "pain_before"]
        assert "Start session" not in [b.label for b in at.button]
    assert open_store(data_dir).list_symptom_checks(patient) == []
    at.button(key=f"rf-retry-p{patient}").click().run()
    assert not at.warning and "do not exercise today" in texts(at.error)
    [check] = open_store(data_dir).list_symptom_checks(patient)
    assert check.symptoms == ("new_numbness_tingling_or_weakness",)
    assert answered <= check.checked_at <= answered + timedelta(seconds=30)  # the time it was answered


@pytest.mark.parametrize("answers, outcome", [({"rf_fever_or_chills": "Yes"}, "stopped"), ({}, "cleared")])
def test_continue_pressed_twice_quickly_records_one_check(data_dir, tmp_path, monkeypatch, answers, outcome):
    """Two quick presses of Continue: one check recorded, no traceback (was "pop from empty list").

    On a server, a press while the run of the previous one is under way makes Streamlit
    (``runner.fastReruns``) stop that run and start a new one on another thread at once, so the
    second press's callback runs while the first one is still saving (the button stays on screen
    until the first run redraws the page). Here the second callback is started on a thread of its
    own, in the same browser session, from inside the first one's database write.
    """
    patient, _ = seed_session(data_dir, tmp_path)
    at = run_app()
    record = Store.record_symptom_check
    second, errors = [], []

    def record_while_pressed_again(store, *args, **kwargs):
        if not second:  # the first press is saving: the second press comes in
            submit = submit_red_flag_check

            def press_again():
                try:
                    submit(store, patient)
                except BaseException as exc:  # noqa: BLE001 - reported by the test
                    errors.append(exc)

            # The new script thread's context: the same session's state, but, as each ScriptRunner
            # of a server wraps it in a SafeSessionState (with a lock) of its own, another wrapper.
            ctx = get_script_run_ctx()
            own_state = SafeSessionState(ctx.session_state._state, lambda: None)
            thread = threading.Thread(target=press_again)
            add_script_run_ctx(thread, dataclasses.replace(ctx, session_state=own_state))
            second.append(thread)
            thread.start()
            thread.join(timeout=1.0)  # done at once, or waiting for the first press to finish
        return record(store, *args, **kwargs)

    monkeypatch.setattr(Store, "record_symptom_check", record_while_pressed_again)
    answer_safety_check(at, answers)
    [thread] = second
    thread.join(timeout=TIMEOUT)
    assert not thread.is_alive()
    assert not at.exception, at.exception
    assert errors == []
    [check] = open_store(data_dir).list_symptom_checks(patient)
    assert check.outcome == outcome
    assert "could not be saved" not in texts(at.warning)


def test_once_cleared_the_questions_are_gone_until_the_patient_reports_something_new(data_dir, tmp_path):
    """No unsent answers beside "Start session": a "Yes" ticked in a form not yet sent is not seen
    by the app, so once all "no" is taken the form goes, and reporting something new takes the
    Start button away until the new answers are sent."""
    patient, _ = seed_session(data_dir, tmp_path)
    at = run_app()
    answer_safety_check(at, {})
    assert not [r for r in at.radio if (r.key or "").startswith("rf_")]  # nothing left to tick
    assert "Safety check done today" in texts(at.success)
    at.segmented_control(key="pain_before").set_value(3).run()
    at.selectbox(key="exercise").set_value("bird_dog").run()
    assert "Start session" in [b.label for b in at.button]
    at.button(key=f"rf-new-p{patient}").click().run()
    assert symptom_radio(at, "rf_severe_or_worsening_pain").value is None  # asked afresh
    assert "Start session" not in [b.label for b in at.button]
    assert not [s for s in at.segmented_control if s.key == "pain_before"]
    answer_safety_check(at, {"rf_severe_or_worsening_pain": "Yes"})
    assert "do not exercise today" in texts(at.error)
    outcomes = [c.outcome for c in open_store(data_dir).list_symptom_checks(patient)]
    assert outcomes == ["stopped", "cleared"]  # newest first


def test_the_questions_are_asked_once_a_day_not_before_every_set(data_dir, tmp_path):
    patient, _ = seed_session(data_dir, tmp_path)
    answer_safety_check(run_app(), {})
    at = run_app()  # a reload, or the next set
    assert not [r for r in at.radio if (r.key or "").startswith("rf_")]
    assert "Safety check done today" in texts(at.success)
    assert [s for s in at.segmented_control if s.key == "pain_before"]
    assert len(open_store(data_dir).list_symptom_checks(patient)) == 1


def test_a_stop_holds_after_a_reload_until_the_clinician_clears_it(data_dir, tmp_path):
    patient, _ = seed_session(data_dir, tmp_path)
    answer_safety_check(run_app(), {"rf_fever_or_chills": "Yes"})
    at = run_app()  # the patient reloads the page to answer "No"
    assert "do not exercise today" in texts(at.error)
    assert "holds for the rest of today" in texts(at.caption)
    assert not [r for r in at.radio if (r.key or "").startswith("rf_")]
    assert "Start session" not in [b.label for b in at.button]
    # The clinician clears it on the review page (after speaking with the patient).
    clinician = go_to(run_app(), "review")
    assert "stopped today" in texts(clinician.warning)
    clinician.checkbox(key=f"rf-release-ok-p{patient}").check().run()
    clinician.checkbox(key=f"rf-release-ok-p{patient}").uncheck()
    clinician.button(key=f"rf-release-p{patient}").click().run()  # unticked, page not yet redrawn
    assert "stopped today" in texts(clinician.warning) and "cleared" not in texts(clinician.success)
    clinician.checkbox(key=f"rf-release-ok-p{patient}").check().run()
    clinician.button(key=f"rf-release-p{patient}").click().run()
    assert not clinician.exception
    assert "cleared" in texts(clinician.success)
    at = run_app()
    assert not at.error and symptom_radio(at, "rf_fever_or_chills").value is None  # asked afresh
    answer_safety_check(at, {})
    assert [s for s in at.segmented_control if s.key == "pain_before"]
    [newest, stop] = open_store(data_dir).list_symptom_checks(patient)
    assert newest.outcome == "cleared" and stop.released_at is not None


def test_a_red_flag_stops_only_the_patient_who_reported_it(data_dir, tmp_path):
    anna, _ = seed_session(data_dir, tmp_path, name="Anna First")
    at = run_app()
    answer_safety_check(at, {"rf_wound_redness_or_drainage": "Yes"})
    assert "do not exercise today" in texts(at.error)
    at.text_input[0].input("Ben Second")
    at.button[0].click().run()  # another patient on the same computer
    assert at.selectbox(key="patient").options[at.selectbox(key="patient").index].startswith("Ben Second")
    assert not at.error and symptom_radio(at, "rf_wound_redness_or_drainage").value is None
    ben = at.selectbox(key="patient").value
    at.selectbox(key="patient").select_index(0).run()  # back to Anna: still stopped
    assert "do not exercise today" in texts(at.error)
    store = open_store(data_dir)
    assert [c.outcome for c in store.list_symptom_checks(anna)] == ["stopped"]
    assert store.list_symptom_checks(ben) == []


def test_all_clear_then_pain_then_exercise_offers_the_start_button(data_dir, tmp_path):
    seed_session(data_dir, tmp_path)
    at = run_app()
    answer_safety_check(at, {})
    assert not at.error
    assert "Start session" not in [b.label for b in at.button]  # pain not answered yet
    at.segmented_control(key="pain_before").set_value(3).run()
    assert not at.exception
    at.selectbox(key="exercise").set_value("bird_dog").run()
    page = texts(at.markdown)
    assert "On hands and knees" in page  # the exercise's description
    assert "side-on" in page  # camera set-up for a side view
    assert "Start session" in [b.label for b in at.button]
    assert at.checkbox(key="keep_video").value is False  # video is not kept unless asked


def test_high_pain_gets_a_warning_but_is_not_blocked(data_dir, tmp_path):
    seed_session(data_dir, tmp_path)
    at = run_app()
    answer_safety_check(at, {})
    at.segmented_control(key="pain_before").set_value(8).run()
    assert "pain is high" in texts(at.warning)
    assert "Start session" not in [b.label for b in at.button]  # no exercise is chosen for the patient
    at.selectbox(key="exercise").set_value("glute_bridge").run()
    assert "Start session" in [b.label for b in at.button]


def ready_to_start(at: AppTest, name: str = "Live Patient") -> None:
    """Patient page up to "Start session": a new patient, the safety check all "No", pain before 3, bird dog."""
    at.text_input[0].input(name)
    at.button[0].click().run()
    answer_safety_check(at, {})
    at.segmented_control(key="pain_before").set_value(3).run()
    at.selectbox(key="exercise").set_value("bird_dog").run()


def start_live_session(at: AppTest):
    """Patient page up to "Start session"; returns the LiveSession the page created.

    WebRTC needs a browser, so the camera view reports that it could not start; the test
    feeds frames to the LiveSession itself, as the camera callback would.
    """
    ready_to_start(at)
    [start] = [b for b in at.button if b.label == "Start session"]
    start.click().run()
    assert not at.exception
    live = at.session_state["formcheck"].live
    assert live is not None and live.pain_before == 3
    return live


@pytest.mark.model
def test_start_takes_the_choices_on_screen_at_the_click_even_before_their_own_run_has_drawn(data_dir):
    """Ticked "save a video" and changed the reps, then Start before the page had redrawn (a busy
    laptop): the session keeps the video and plans those reps. (A callback's arguments were the
    values of the run that drew the button, so such a video was silently not kept.)"""
    at = run_app()
    ready_to_start(at, "Quick Patient")
    at.checkbox(key="keep_video").check()
    at.number_input(key="set_reps").set_value(4)
    at.segmented_control(key="pain_before").set_value(5)
    [start] = [b for b in at.button if b.label == "Start session"]
    start.click().run()  # one run: the tick, the reps, the pain and the click arrive together
    assert not at.exception
    state = at.session_state["formcheck"]
    assert state.live is not None
    assert (state.live.keep_video, state.set_plan.reps, state.live.pain_before) == (True, 4, 5)
    assert [h.value for h in at.subheader] == ["Bird dog"]  # the live view, drawn at once


@pytest.mark.model
def test_a_live_session_guides_the_set_up_and_finishing_saves_it_with_the_pain(data_dir):
    at = run_app()
    live = start_live_session(at)
    assert [h.value for h in at.subheader] == ["Bird dog"]  # the checks make way for the live view
    for i in range(5):  # nobody in the picture
        live.on_frame(np.zeros((360, 640, 3), np.uint8), 33.0 * i)
    at.run()
    panel = texts(at.markdown)
    # Getting into position: the camera set-up picture stands where the counts (0 until the go) will be.
    assert 'aria-label="Camera set-up: side-on' in panel and 'class="fc-counters"' not in panel
    assert "Move so that your whole body is in view." in panel  # set-up guidance in the big box

    [finish] = [b for b in at.button if b.label == "Finish session"]
    finish.click().run()  # no pain level yet
    assert "choose your pain level" in texts(at.warning)
    assert open_store(data_dir).get_session(live.session_id).status == "live"

    at.segmented_control(key="pain_after").set_value(2)
    [finish] = [b for b in at.button if b.label == "Finish session"]
    finish.click().run()
    assert not at.exception
    assert "Your session is saved." in texts(at.success)
    assert {m.label: m.value for m in at.metric}["Pain before → after"] == "3 → 2"
    row = open_store(data_dir).get_session(live.session_id)
    # Finished before the 3-2-1's go: the session counts and records nothing before it (wait_for_go;
    # the set from the go on: tests/test_app_live_go.py).
    assert (row.status, row.frames, row.pain_before, row.pain_after) == ("complete", 0, 3, 2)
    assert open_store(data_dir).get_trace(live.session_id) is None

    [again] = [b for b in at.button if b.label == "Start another session"]
    again.click().run()
    assert "Safety check done today" in texts(at.success)  # asked once a day, not before every set
    assert at.segmented_control(key="pain_before").value is None  # the pain is asked afresh


@pytest.mark.model
def test_a_live_session_finished_while_the_page_was_away_is_reported_as_interrupted(data_dir):
    at = run_app()
    live = start_live_session(at)
    live.on_frame(np.zeros((360, 640, 3), np.uint8), 0.0)
    live.stop(status="interrupted")  # what the clean-up does when no frame came for a minute
    at.run()
    assert "marked as interrupted" in texts(at.warning)
    assert open_store(data_dir).get_session(live.session_id).status == "interrupted"


# -- clinician pages ------------------------------------------------------------------------------


def test_review_lists_the_stored_session_with_its_reps(data_dir, tmp_path):
    _, session = seed_session(data_dir, tmp_path)
    at = go_to(run_app(), "review")
    sessions = at.dataframe[0].value
    assert list(sessions["Session"]) == [session]
    row = sessions.iloc[0]
    assert (row["Exercise"], row["Reps"], row["Pain before"], row["Pain after"]) == ("Bird dog", 2, 3, 2)
    assert row["Status"] == "uploaded video"
    reps = at.dataframe[1].value
    assert list(reps["Rep"]) == ["1", "2"]
    assert sorted(reps["Side"]) == ["left", "right"]
    assert (reps["Range (°)"] > 20).all()
    # Exports with safe file names.
    names = {b.label: b for b in at.get("download_button")}
    assert set(names) == {"Reps (CSV)", "Summary (JSON)", "Printable report (HTML)"}
    assert not at.exception and not at.error


def test_clinician_pickers_list_a_patient_created_in_another_tab(data_dir, tmp_path):
    """The patient list is read from the database on every run (nothing cached per server or tab)."""
    seed_session(data_dir, tmp_path, name="Anna First")
    clinician = go_to(run_app(), "review")
    assert clinician.selectbox(key="review_patient").options == ["Anna First (surgery 2026-09-01)"]
    patient_tab = run_app()  # another browser tab: a new profile, with a red flag
    patient_tab.text_input[0].input("Zoe Later")
    patient_tab.button[0].click().run()
    answer_safety_check(patient_tab, {"rf_fever_or_chills": "Yes"})
    for page, key in (("review", "review_patient"), ("progress", "progress_patient")):
        go_to(clinician, page)
        picker = clinician.selectbox(key=key)
        assert picker.options == ["Anna First (surgery 2026-09-01)", "Zoe Later"]
        picker.set_value(patient_tab.selectbox(key="patient").value).run()
        assert "Red-flag symptoms reported: 1 time in the last 30 days" in texts(clinician.warning)


def seed_symptom_checks(data_dir: Path, patient: int) -> None:
    """A red flag 40 days ago, an all-clear 3 days ago and a red flag (two symptoms) 2 days ago at 09:30 local."""
    store = open_store(data_dir)
    now = datetime.now(UTC)
    store.record_symptom_check(patient, ["bladder_or_bowel_change"], checked_at=now - timedelta(days=40))
    store.record_symptom_check(patient, [], checked_at=now - timedelta(days=3))
    two_days_ago = (now - timedelta(days=2)).astimezone().replace(hour=9, minute=30, second=0, microsecond=0)
    store.record_symptom_check(patient, ["wound_redness_or_drainage", "fever_or_chills"], checked_at=two_days_ago)


@pytest.mark.parametrize("page", ["review", "progress"])
def test_clinician_pages_show_the_recent_red_flag_reports_prominently(data_dir, tmp_path, page):
    patient, _ = seed_session(data_dir, tmp_path)
    seed_symptom_checks(data_dir, patient)
    at = go_to(run_app(), page)
    assert not at.exception and not at.error
    alert = at.warning[0]  # the first warning on the page, above the sessions
    day = (datetime.now(UTC) - timedelta(days=2)).astimezone().date().isoformat()
    assert "Red-flag symptoms reported: 1 time in the last 30 days" in alert.value
    assert f"- {day} 09:30: Fever or chills; Wound redness, warmth, swelling or drainage" in alert.value
    assert "bladder" not in alert.value.lower()  # 40 days ago: counted below, not in the 30-day warning
    assert ("Safety checks done: 2 in the last 30 days, 3 in all. "
            "Red flags reported: 1 in the last 30 days, 2 in all.") in texts(at.caption)
    table = at.dataframe[0].value  # all checks, newest first (in an expander)
    assert list(table["Symptoms answered yes"]) == [
        "Fever or chills; Wound redness, warmth, swelling or drainage", "–", "Change in bladder or bowel control"]
    assert list(table["Result"])[1] == "No red flags"
    assert len(at.dataframe) >= 2  # the page's own tables follow


def test_a_red_flag_answered_on_the_patient_page_reaches_the_review_even_without_sessions(data_dir):
    open_store(data_dir).add_patient("No Sessions Yet")
    at = run_app()
    answer_safety_check(at, {"rf_breathing_or_chest_problem": "Yes", "rf_severe_or_worsening_pain": "Yes"})
    assert "do not exercise today" in texts(at.error)
    go_to(at, "review")
    assert not at.exception
    alert = at.warning[0]
    assert "Red-flag symptoms reported: 1 time in the last 30 days" in alert.value
    assert "Severe or worsening pain; Trouble breathing or chest pain" in alert.value
    assert "has no sessions yet" in texts(at.info)


def test_clinician_pages_show_the_check_count_when_there_is_no_red_flag(data_dir, tmp_path):
    patient, _ = seed_session(data_dir, tmp_path)
    at = go_to(run_app(), "review")
    assert "Red-flag" not in texts(at.warning)
    assert "No red-flag safety check has been recorded" in texts(at.caption)
    open_store(data_dir).record_symptom_check(patient, [])
    at.run()
    assert "Red-flag" not in texts(at.warning)
    assert "Safety checks done: 1 in the last 30 days, 1 in all. Red flags reported: 0" in texts(at.caption)


def test_review_chart_is_drawn_from_the_stored_trace(data_dir, tmp_path):
    seed_session(data_dir, tmp_path)
    at = go_to(run_app(), "review")
    charts = at.get("plotly_chart")
    assert len(charts) == 1
    # Pick a rep: the chart marks it and nothing breaks.
    [moment] = [s for s in at.selectbox if (s.key or "").startswith("review-moment")]
    assert moment.options[0].startswith("Rep 1 (right) at 0.8 s")
    moment.select_index(0).run()
    assert not at.exception and not at.error
    assert len(at.get("plotly_chart")) == 1


def test_choosing_a_rep_jumps_the_kept_video_to_it(data_dir, tmp_path):
    store = open_store(data_dir)
    patient = store.add_patient("Video Patient")
    spec = load_exercise("bird_dog")
    result = analyze(TRACE, spec, tmp_path / "analysis", AnalyzeOptions(write_video=False))
    video = data_dir / "videos" / "kept.mp4"
    video.parent.mkdir()
    shutil.copy(VIDEOS / "bird_dog_360.mp4", video)  # stands in for the annotated copy
    session = store.start_session(patient, spec.name, spec.title, spec.version, "upload")
    store.finish_session(session, result, status="recorded", video_path=video,
                         trace_json=(tmp_path / "analysis" / "trace.json").read_text())
    at = go_to(run_app(), "review")
    [player] = at.get("video")
    assert player.proto.start_time == 0
    [moment] = [s for s in at.selectbox if (s.key or "").startswith("review-moment")]
    assert moment.options == ["Rep 1 (right) at 0.8 s", "Rep 2 (left) at 7.2 s"]
    moment.select_index(1).run()
    [player] = at.get("video")
    assert player.proto.start_time == 6  # a second before rep 2 starts
    assert not at.exception and not at.error


def test_data_survive_a_restart(data_dir, tmp_path):
    at = run_app()
    at.text_input[0].input("Restart Patient")
    at.button[0].click().run()
    _, session = seed_session(data_dir, tmp_path, name="Second Patient")
    del at
    again = run_app()  # a new app run on the same data folder
    options = again.selectbox(key="patient").options
    assert {"Restart Patient", "Second Patient"} <= {o.split(" (")[0] for o in options}
    go_to(again, "review")
    again.selectbox(key="review_patient").select_index(
        [o.startswith("Second Patient") for o in again.selectbox(key="review_patient").options].index(True)).run()
    assert list(again.dataframe[0].value["Session"]) == [session]
    assert list(again.dataframe[0].value["Reps"]) == [2]


def test_a_session_left_live_by_a_crash_is_shown_as_interrupted(data_dir, tmp_path):
    store = open_store(data_dir)
    patient = store.add_patient("Crash Test")
    store.start_session(patient, "bird_dog", "Bird dog", "1", "live", pain_before=1)
    at = go_to(run_app(), "review")
    assert list(at.dataframe[0].value["Status"]) == ["interrupted (saved up to the last moment)"]
    assert "no stored movement trace" in texts(at.info)
    assert not at.exception


def test_upload_of_a_file_that_is_not_a_video_shows_a_clear_message(data_dir, tmp_path):
    seed_session(data_dir, tmp_path)
    at = go_to(run_app(), "upload")
    at.selectbox(key="upload_exercise").set_value("glute_bridge")  # Analyse is disabled without an exercise
    at.file_uploader(key="upload_file").upload("holiday.mp4", b"this is not a video at all", "video/mp4")
    at.run()
    [analyse] = [b for b in at.button if b.label == "Analyse"]
    analyse.click().run()
    assert not at.exception
    message = texts(at.error)
    assert "could not be read as a video" in message and "holiday.mp4" in message
    assert "Traceback" not in message and str(data_dir) not in message
    assert len(open_store(data_dir).list_sessions(1)) == 1  # nothing half-stored
    assert not list((data_dir / "tmp").iterdir())  # the upload was not kept


def test_progress_page_charts_each_session(data_dir, tmp_path):
    seed_session(data_dir, tmp_path)
    at = go_to(run_app(), "progress")
    assert len(at.get("plotly_chart")) == 1
    table = at.dataframe[0].value
    assert list(table["Reps"]) == [2]
    assert table["Weeks since surgery"].notna().all()
    assert not at.exception


@pytest.mark.model
def test_an_uploaded_video_is_stored_with_its_annotated_copy_only_when_asked(data_dir):
    store = open_store(data_dir)
    patient = store.add_patient("Upload Patient")
    clip = VIDEOS / "bird_dog_360.mp4"
    progress = []
    with open(clip, "rb") as data:
        session, result = analyze_upload(store, patient, load_exercise("bird_dog"), data, "Maria's clip.MP4",
                                         clip.stat().st_size, keep_video=True,
                                         progress=lambda done, total: progress.append((done, total)))
    assert [(r.side, r.complete) for r in result.reps] == [("left", True), ("right", True)]
    row = store.get_session(session)
    assert (row.source, row.status, row.reps) == ("upload", "recorded", 2)
    kept = Path(row.video_path)
    assert kept.is_file() and kept.parent == data_dir / "videos" and kept.suffix == ".mp4"
    assert store.get_trace(session) is not None
    assert progress[-1][0] == 427 and progress[-1][1] >= 427
    assert not list((data_dir / "tmp").iterdir())  # the uploaded copy is gone


@pytest.mark.parametrize("name, size, problem", [
    ("clip.mp4", 0, "empty"),  # a 0-byte upload
    ("clip.mov", 501 * 1024 * 1024, "limit is 500 MB"),  # beyond the app's own limit
    ("notes.txt", 10, "not one of the video types"),  # not a video type
])
def test_uploads_are_checked_before_analysis(name, size, problem):
    with pytest.raises(UploadError, match=problem):
        check_upload(name, size)
    assert check_upload("Clip.MP4", 10) == ".mp4"


def test_export_file_names_are_safe_and_say_what_they_hold(data_dir, tmp_path):
    from formcheck.review import export_name

    patient_id, session_id = seed_session(data_dir, tmp_path, name="Zoë / O'Brien")
    store = open_store(data_dir)
    row, patient = store.get_session(session_id), store.get_patient(patient_id)
    name = export_name(patient, row, "html")
    day = row.started_at.astimezone().date().isoformat()
    assert name == f"Zoe_O_Brien_{day}_bird_dog_session{session_id}.html"


# -- prescriptions ---------------------------------------------------------------------------------


def _prescribe(data_dir: Path, tmp_path: Path):
    from formcheck.clinic.prescription import PrescribedExercise, Prescription, save_prescription, to_toml

    patient, _ = seed_session(data_dir, tmp_path, name="Rx Patient")
    store = open_store(data_dir)
    rx = Prescription(exercises=(PrescribedExercise("bird_dog", sets=2, reps=6, rest_s=45),
                                 PrescribedExercise("glute_bridge", sets=1, reps=8, hold_s=3)))
    save_prescription(store, patient, to_toml(rx))
    return store, patient


def test_prescription_page_shows_the_stored_prescription_and_phase(data_dir, tmp_path):
    _prescribe(data_dir, tmp_path)
    at = go_to(run_app(), "prescription")
    page = texts(at.markdown)
    assert "Recovery phase" in page
    assert at.button(key=f"rx-save-{at.selectbox(key='rx-patient').value}") is not None
    assert not at.error


def test_patient_page_follows_the_prescription(data_dir, tmp_path):
    store, patient = _prescribe(data_dir, tmp_path)
    at = run_app()
    answer_safety_check(at, {})
    at.segmented_control(key="pain_before").set_value(2).run()
    plan = texts(at.info)
    # the seeded bird dog session is an uploaded recording: it is not one of today's sets
    assert "exercise 1 of 2" in plan and "Bird dog: set 1 of 2, 0 of 6 reps" in plan
    for _ in range(2):  # two live sets of bird dog, each with reps
        session = store.start_session(patient, "bird_dog", "Bird dog", "1", "live")
        store.finish_session(session, store.get_result(store.list_sessions(patient)[-1].id))
    at = run_app()  # the next set: the safety check was answered today already
    assert "Safety check done today" in texts(at.success)
    at.segmented_control(key="pain_before").set_value(2).run()
    assert "Glute bridge: set 1 of 1" in texts(at.info)
    session = store.start_session(patient, "glute_bridge", "Glute bridge", "1", "live")
    result = store.get_result(store.list_sessions(patient)[-1].id)
    result.exercise = "glute_bridge"
    store.finish_session(session, result)
    at = run_app()
    at.segmented_control(key="pain_before").set_value(2).run()
    assert "Done for today" in texts(at.success)


# -- home to clinic: the patient's file and the clinic overview ---------------------------------------


def test_the_patient_makes_a_file_for_the_clinic_and_the_overview_lists_red_flags_first(data_dir, tmp_path):
    patient, _ = seed_session(data_dir, tmp_path, name="Maria Example")
    seed_session(data_dir, tmp_path, name="Quiet Quinn")
    open_store(data_dir).record_symptom_check(patient, ["fever_or_chills"])
    at = go_to(run_app(), "send")
    at.selectbox(key="send_patient").set_value(patient).run()
    at.button[0].click().run()  # Make the file
    assert not at.exception and not at.error
    [download] = [b for b in at.get("download_button")]
    label = download.proto.label
    assert label.startswith("Download formcheck-Maria_Example-") and label.endswith(".formcheck")
    [made] = (data_dir / "exports").glob("*.formcheck")
    assert (made.stat().st_mode & 0o777) == 0o600
    from formcheck.bundle import read_bundle
    data = read_bundle(made)
    assert [s["reps"] for s in data["sessions"]] == [2] and len(data["symptom_checks"]) == 1

    at = go_to(at, "overview")
    table = at.dataframe[0].value
    assert list(table["Patient"]) == ["Maria Example", "Quiet Quinn"]  # the red flag first
    red_flags = table["Red flags (last 30 days)"]
    assert "Fever or chills" in red_flags.iloc[0] and red_flags.iloc[1] == "–"
    assert "1 patient(s) reported red-flag symptoms" in texts(at.warning)


def test_review_says_plainly_when_a_recording_could_not_measure_the_exercise(data_dir, tmp_path):
    # The shared supine clip's trace analysed as a pelvic tilt: the arm lies along the lower back.
    store = open_store(data_dir)
    patient = store.add_patient("Maria Example", "2026-09-01")
    spec = load_exercise("pelvic_tilt")
    trace = tmp_path / "supine.json"
    trace.write_bytes(gzip.decompress((TRACE.parent / "pelvic_tilt_supine_360.json.gz").read_bytes()))
    result = analyze(trace, spec, tmp_path / "analysis", AnalyzeOptions(write_video=False))
    session = store.start_session(patient, spec.name, spec.title, spec.version, "upload")
    store.finish_session(session, result, status="recorded")
    at = go_to(run_app(), "review")
    assert not at.exception
    assert ("This recording cannot measure the pelvic tilt: the arm lies along the lower back"
            in texts(at.error))


@pytest.mark.model
def test_a_reload_mid_set_says_what_was_saved_and_offers_to_continue_or_finish(data_dir):
    first = run_app()
    live = start_live_session(first)
    for i in range(5):
        live.on_frame(np.zeros((360, 640, 3), np.uint8), 33.0 * i)
    at = run_app()  # the patient reloads the page mid-set: a new browser session
    assert "still going when the page was reloaded" in texts(at.warning)
    assert "saved so far: 0 reps" in texts(at.warning)
    assert not [r for r in at.radio if (r.key or "").startswith("rf_")]  # not silently back at the safety check
    [finish] = [b for b in at.button if b.label == "Finish this set"]
    finish.click().run()
    assert "choose your pain level" in texts(at.warning)
    [cont] = [b for b in at.button if b.label == "Continue this set"]
    cont.click().run()
    assert not at.exception
    assert at.session_state["formcheck"].live is live  # this tab took the running set over
    assert [b for b in at.button if b.label == "Finish session"]
    live.stop(pain_after=1)


@pytest.mark.model
def test_a_reloaded_set_can_be_finished_with_the_pain_after(data_dir):
    live = start_live_session(run_app())
    live.on_frame(np.zeros((360, 640, 3), np.uint8), 0.0)
    at = run_app()
    at.segmented_control(key="resume_pain_after").set_value(4).run()
    [finish] = [b for b in at.button if b.label == "Finish this set"]
    finish.click().run()
    assert not at.exception
    assert "Your session is saved." in texts(at.success)
    row = open_store(data_dir).get_session(live.session_id)
    assert (row.status, row.pain_after) == ("complete", 4)


def test_importing_the_app_under_another_name_draws_nothing(data_dir):
    # A "spawn" process pool re-imports the parent's main module as "__mp_main__"; after an AppTest
    # run in the same process that is app.py. Its worker must not run the app (it did: a batch
    # test's workers died in a full-suite run, and each created a data folder).
    import runpy

    runpy.run_path(APP, run_name="__mp_main__")
    assert not data_dir.exists()


# -- the live page's 3-2-1 holds the count ------------------------------------------------------


def blank_frames(live, first: int, count: int) -> None:
    for i in range(first, first + count):
        live.on_frame(np.zeros((360, 640, 3), np.uint8), 33.0 * i)


def finish(at, pain_after: int) -> None:
    at.segmented_control(key="pain_after").set_value(pain_after)
    [button] = [b for b in at.button if b.label == "Finish session"]
    button.click().run()
    assert not at.exception
    assert "Your session is saved." in texts(at.success)


@pytest.mark.model
def test_the_page_starts_the_count_at_the_go_and_the_set_is_stored_from_there(data_dir):
    """The live page holds the count until its 3-2-1 ends (issue 12), through Streamlit's AppTest.

    The page makes its ``LiveSession`` with ``wait_for_go=True``: frames before the go only check the
    view and the start position; when the page's ``Readiness`` reaches GO the page calls
    ``start_counting()`` and the set's reps, trace and autosaves start there, from 0. The go is
    reached here by giving the tab's ``Readiness`` a go time in the past (a real go needs a body
    still in the start position for READY_HOLD_S + COUNTDOWN_S, which blank frames do not show).
    The frames are blank (no body), so the pose model runs and no rep is counted.
    """
    at = run_app()
    live = start_live_session(at)
    blank_frames(live, 0, 5)
    at.run()
    assert not live.counting  # nobody in position: no go, nothing counted
    assert "Move so that your whole body is in view." in texts(at.markdown)

    at.session_state["formcheck"].readiness.go_at = 0.0  # the 3-2-1 has ended
    at.run()
    assert live.counting and live.snapshot().reps == 0  # the set's count starts at 0
    assert 'class="fc-count fc-total">0<' in texts(at.markdown)
    at.run()  # idempotent: a later poll changes nothing
    assert live.counting

    blank_frames(live, 5, 4)
    finish(at, pain_after=2)
    row = open_store(data_dir).get_session(live.session_id)
    # The set's engine starts with the countdown's poses (the 5 frames, all within PREWARM_S), then its own 4.
    assert (row.status, row.frames, row.reps, row.pain_before, row.pain_after) == ("complete", 9, 0, 3, 2)
    assert open_store(data_dir).get_trace(live.session_id) is not None


def test_analyse_without_an_exercise_analyses_nothing(data_dir, tmp_path):
    """The upload page analyses only with a patient, an exercise and a file chosen (AppTest, no browser).

    The "Analyse" button is disabled until all three are there; AppTest clicks disabled buttons, so
    this also checks the page's own guard: a click without an exercise analyses and stores nothing
    and shows no error. (With the exercise chosen, a file that is not a video gets its clear message:
    tests/unit/ui/test_app.py.)
    """
    seed_session(data_dir, tmp_path)
    at = go_to(run_app(), "upload")
    at.file_uploader(key="upload_file").upload("holiday.mp4", b"this is not a video at all", "video/mp4")
    at.run()
    [analyse] = [b for b in at.button if b.label == "Analyse"]
    assert analyse.disabled  # no exercise chosen
    analyse.click().run()
    assert not at.exception and not at.error
    assert len(open_store(data_dir).list_sessions(1)) == 1  # only the seeded session
