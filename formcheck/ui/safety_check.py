"""The patient's red-flag safety check on screen: the questions, the stop message, the retry.

The rules (one check per set of answers, a stop that holds for the day, the queue of checks the
database refused) are ``formcheck.clinic.safety``'s; the questions are ``clinic.red_flags``'.
"""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import streamlit as st

from ..clinic import safety as safety_gate
from ..clinic.red_flags import RED_FLAGS, STOP_MESSAGE
from ..days import local_time
from ..store import Store, StoreError
from .state import UiState, ui


def red_flag_check(store: Store, state: UiState, patient_id: int) -> bool:
    """The symptoms that mean "do not exercise, contact your doctor". True when the patient may go on.

    The answers are sent together with "Continue" and recorded (``store.record_symptom_check``),
    "no" answers too, so the clinician sees every check and which symptoms were reported. The
    rules of the day are ``formcheck.clinic.safety``'s: a "yes" stops this patient for the rest of
    the day (a reload does not undo it; a clinician can release it); all "no" holds for the day,
    so the questions are asked once a day, and the patient can report something new at any time.
    A stop that could not be saved still stops the patient in this tab.
    """
    checks = state.checks
    gate = todays_gate(store, patient_id)
    if gate is not None and gate.state == safety_gate.STOPPED:
        assert gate.check is not None, "a STOPPED gate always holds the stop"
        stop_view(store, state, patient_id, gate.check.symptoms, gate.check.checked_at)
        return False
    if checks.pending_stop(patient_id) or (gate is None and patient_id in checks.stopped):
        stop_view(store, state, patient_id, checks.stopped[patient_id], None)
        return False
    checks.stopped.pop(patient_id, None)  # released by the clinician since
    if not checks.pending_clear(patient_id) and gate is not None and gate.state != safety_gate.CLEARED:
        checks.cleared.discard(patient_id)  # a new day, or cleared by a check that was released
    if patient_id not in checks.reporting_new:
        if gate is not None and gate.state == safety_gate.CLEARED:
            assert gate.check is not None, "a CLEARED gate always holds today's all-no check"
            checks.cleared.add(patient_id)
            st.success(f"Safety check done today at {local_time(gate.check.checked_at)}: "
                       "no warning signs. If something has changed since, tell us.")
            st.button("I have a new symptom to report", key=f"rf-new-p{patient_id}", on_click=report_new_symptom,
                      args=(patient_id,))
            return True
        if patient_id in checks.cleared:  # all "no" in this tab, not saved (the notice says so)
            unsaved_check_notice(store, state, patient_id)
            return True
    keys = [symptom_key(flag.code, patient_id) for flag in RED_FLAGS]
    with st.form(f"red-flags-p{patient_id}", border=False):
        st.markdown("Since your last session, have you had any of the following?")
        for flag, key in zip(RED_FLAGS, keys):
            st.radio(flag.question, ("No", "Yes"), index=None, horizontal=True, key=key)
        st.form_submit_button("Continue", type="primary", key=f"rf-continue-p{patient_id}",
                              on_click=submit_red_flag_check, args=(store, patient_id))
    unsaved_check_notice(store, state, patient_id)
    if patient_id in checks.incomplete:
        st.warning("Please answer every question, then press Continue.")
    else:
        st.caption("Answer every question, then press Continue.")
    return False


def symptom_key(code: str, patient_id: int) -> str:
    """The widget key of one safety-check question for one patient."""
    return f"rf_{code}-p{patient_id}"


def todays_gate(store: Store, patient_id: int) -> safety_gate.Gate | None:
    """Today's gate from the stored checks; None (and a message) when the database cannot be read."""
    now = datetime.now(UTC)
    try:
        checks = store.list_symptom_checks(patient_id, since=now - timedelta(days=1))
    except StoreError as exc:
        st.warning(f"Today's earlier safety checks could not be read ({exc}), so the questions are asked here.")
        return None
    return safety_gate.todays_gate(checks, now)


def stop_view(store: Store, state: UiState, patient_id: int, symptoms, checked_at: datetime | None) -> None:
    """The stop message: what was answered "yes", that it holds today, and who can release it."""
    st.error(STOP_MESSAGE)
    when = f"Reported at {local_time(checked_at)}. " if checked_at is not None else ""
    st.markdown("You answered **yes** to:\n" + "\n".join(
        f"- {flag.question.rstrip('?')}" for flag in RED_FLAGS if flag.code in symptoms))
    if not unsaved_check_notice(store, state, patient_id):
        st.caption("Your answers are kept on this computer for your physiotherapist to see when they review "
                   "your sessions. They are not sent to anyone, so please contact your doctor yourself.")
    st.caption(f"{when}This stop holds for the rest of today. If you pressed Yes by mistake, ask your "
               "physiotherapist: they can clear it on their review page.")


def report_new_symptom(patient_id: int) -> None:
    """"I have a new symptom to report": the questions again, and no exercise until they are answered."""
    ui().checks.report_new(patient_id)
    for flag in RED_FLAGS:
        st.session_state.pop(symptom_key(flag.code, patient_id), None)


def submit_red_flag_check(store: Store, patient_id: int) -> None:
    """"Continue" callback: record the check; any "yes" stops the session first, even if saving fails.

    One set of answers is one check, however often Continue is pressed (``TabChecks.submit``).
    Two quick presses can run this callback at the same time: Streamlit (``runner.fastReruns``)
    starts the second press's run on a new thread while the first one is still saving, so the
    check and the save happen under the tab's lock.
    """
    checks = ui().checks
    answers = {flag.code: st.session_state.get(symptom_key(flag.code, patient_id)) for flag in RED_FLAGS}
    with checks.lock:
        if checks.submit(patient_id, answers, datetime.now(UTC)):
            save_symptom_checks(store, patient_id)


def save_symptom_checks(store: Store, patient_id: int) -> None:
    """Record the patient's checks not saved yet (also the "Try saving again" callback)."""
    ui().checks.save(patient_id, lambda pid, symptoms, at: store.record_symptom_check(pid, symptoms, checked_at=at),
                     expected=(StoreError,))


def unsaved_check_notice(store: Store, state: UiState, patient_id: int) -> bool:
    """Say that the patient's answers could not be saved, with a retry button. True when it says so."""
    pending = state.checks.pending(patient_id)
    if not pending:
        return False
    stopped = state.checks.pending_stop(patient_id)
    st.warning("**Your answers could not be saved**, so your physiotherapist will not see them in this app. "
               + ("Please tell your doctor and your physiotherapist about your symptoms yourself. " if stopped else "")
               + pending[0].error)
    st.button("Try saving again", key=f"rf-retry-p{patient_id}", on_click=save_symptom_checks,
              args=(store, patient_id))
    return True
