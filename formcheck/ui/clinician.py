"""What the clinician pages share: the patient header with the red-flag reports (and the release
of today's stop), and one session's detail (numbers, reps, chart, video, exports)."""
from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import streamlit as st

from .. import review
from ..clinic import safety as safety_gate
from ..report import escape_markdown, reps_csv, session_report_html, summary_json
from ..spec import SpecError, load_exercise
from ..store import PatientRow, Store
from ..types import SessionResult
from .resources import angle_series
from .state import ui
from .widgets import duration_text, pain_text, patient_picker, polite


def clinician_patient(store: Store, title: str, key: str) -> PatientRow | None:
    """A clinician page's title and patient picker; the patient's red-flag reports come first."""
    st.title(title)
    patient = patient_picker(store, key=key, allow_new=False)
    if patient is not None:
        red_flag_reports(store, patient)
    return patient


def red_flag_reports(store: Store, patient: PatientRow) -> None:
    """The patient's red-flag safety checks: a warning listing the recent "yes" reports, the counts, all checks."""
    with polite("show the red-flag safety checks"):
        checks = store.list_symptom_checks(patient.id)
        summary = review.red_flag_summary(checks)
        alert = review.red_flag_alert(summary)
        if alert:
            st.warning(alert, icon=":material/flag:")
        st.caption(review.red_flag_caption(summary))
        release_panel(store, patient, checks)
        if checks:
            with st.expander(f"All red-flag safety checks ({len(checks)})"):
                st.dataframe(review.symptom_checks_table(checks), hide_index=True)


def release_panel(store: Store, patient: PatientRow, checks) -> None:
    """A stop that holds today, with the clinician's way to clear it (after speaking with the patient)."""
    state = ui()
    if patient.id in state.released:
        st.success(f"Today's stop is cleared: {patient.name} is asked the safety questions again before exercising.")
    gate = safety_gate.todays_gate(checks, datetime.now(UTC))
    if gate.state != safety_gate.STOPPED:
        return
    assert gate.check is not None, "a STOPPED gate always holds the stop"
    st.warning(f"**{patient.name} was stopped today** ({review.red_flag_stop_line(gate.check)}). The patient's page "
               "will not offer exercise again today unless you clear the stop.", icon=":material/block:")
    ok = st.checkbox("I have spoken with the patient and they may exercise today", key=release_ok_key(patient.id))
    st.button("Clear today's stop", key=f"rf-release-p{patient.id}", disabled=not ok, on_click=release_stop,
              args=(store, gate.check.id, patient.id))


def release_ok_key(patient_id: int) -> str:
    return f"rf-release-ok-p{patient_id}"


def release_stop(store: Store, check_id: int, patient_id: int) -> None:
    # The confirmation as the click sent it: the button was enabled by the run that drew it, and
    # an untick just before the click (the page not yet redrawn) must not clear a stop.
    if not st.session_state.get(release_ok_key(patient_id)):
        return
    with polite("clear the stop"):
        store.release_symptom_stop(check_id)
        ui().released.add(patient_id)


def session_detail(store: Store, session_id: int, patient: PatientRow | None, key: str) -> None:
    """One session: numbers, reps, chart, video, exports."""
    row = store.get_session(session_id)
    result = store.get_result(session_id)
    st.subheader(f"{row.exercise_title}, {review.session_label(row).split(' · ')[0]}")
    by_side = result.to_dict()["reps_by_side"]
    cols = st.columns(5)
    cols[0].metric("Reps", len(result.complete_reps),
                   help=", ".join(f"{s} {n}" for s, n in sorted(by_side.items())) or None)
    cols[1].metric("Partial reps", len(result.partial_reps))
    cols[2].metric("Form flags", review.form_flag_count(row.summary_json))
    cols[3].metric("Pain before → after", f"{pain_text(row.pain_before)} → {pain_text(row.pain_after)}")
    cols[4].metric("Duration", duration_text(row.duration_s))
    st.caption(f"Status: {review.STATUS_WORDS.get(row.status, row.status)} · source: {row.source}"
               + (f" · reps by side: {', '.join(f'{s} {n}' for s, n in sorted(by_side.items()))}" if by_side else ""))
    if not result.measurement.measured:
        st.error(escape_markdown(result.measurement.sentence(result.exercise_title)), icon=":material/videocam_off:")
    for warning in result.warnings:
        st.warning(warning)

    st.markdown("#### Repetitions")
    if result.reps:
        st.dataframe(review.dash_missing(review.reps_table(result.reps)), hide_index=True)
    else:
        st.caption("No repetitions were detected.")
    if result.flags:
        st.markdown("#### Flags")
        st.dataframe(review.dash_missing(review.flags_table(result.flags)), hide_index=True)

    marks = review.moments(result.reps, result.flags)
    moment = None
    if marks:
        moment = st.selectbox("Go to a rep or flag", marks, format_func=lambda m: m.label,
                              key=f"{key}-moment-{session_id}",
                              index=None, placeholder="Choose a rep or flag to see it in the chart and video")
    with polite("draw the angle chart"):
        angle_chart(store, row, result, moment)
    video = Path(row.video_path) if row.video_path else None
    if video is not None:
        if video.is_file():
            st.markdown("#### Video")
            st.video(str(video), start_time=review.video_start(moment.t_s) if moment else 0)
        else:
            st.caption(f"The kept video {escape_markdown(video)} is no longer on this computer.")

    st.markdown("#### Export")
    c1, c2, c3 = st.columns(3)
    c1.download_button("Reps (CSV)", reps_csv(result), file_name=review.export_name(patient, row, "csv"),
                       mime="text/csv", on_click="ignore", key=f"{key}-csv-{session_id}")
    c2.download_button("Summary (JSON)", summary_json(result), file_name=review.export_name(patient, row, "json"),
                       mime="application/json", on_click="ignore", key=f"{key}-json-{session_id}")
    checks = store.list_symptom_checks(patient.id) if patient is not None else []
    report = session_report_html(result, patient.name if patient else None, review.report_meta(row, patient, checks))
    c3.download_button("Printable report (HTML)", report, file_name=review.export_name(patient, row, "html"),
                       mime="text/html", on_click="ignore", key=f"{key}-html-{session_id}")


def angle_chart(store: Store, row, result: SessionResult, moment: review.Moment | None) -> None:
    st.markdown("#### Movement over time")
    try:
        spec = load_exercise(row.exercise)
    except SpecError:
        st.info(f"The exercise definition “{escape_markdown(row.exercise)}” is no longer installed, "
                "so the chart cannot be drawn.")
        return
    series = angle_series(str(store.data_dir), row.id, row.exercise, row.updated_at.isoformat())
    if series is None:
        st.info("This session has no stored movement trace (it was interrupted before it was finished), "
                "so the chart is not available. Its reps and flags above were saved.")
        return
    fig = review.angle_figure(series, spec, result.reps, result.flags, marker_s=moment.t_s if moment else None)
    st.plotly_chart(fig, config={"displaylogo": False})
    st.caption("Green band: target zone. Blue: counted reps; grey: partial reps. Red / orange: form flags "
               "(danger / warning). Bottom: the form-check angles with their limits.")
