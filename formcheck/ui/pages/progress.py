"""Clinician: progress -- reps, range of motion and form flags over the weeks since surgery."""
from __future__ import annotations

from datetime import date

import streamlit as st

from ... import review
from ...report import escape_markdown
from ...store import Store
from ..clinician import clinician_patient
from ..widgets import polite


def show(store: Store) -> None:
    patient = clinician_patient(store, "Progress", "progress_patient")
    if patient is None:
        return
    table = review.progress_table(store.progress(patient.id), store.list_sessions(patient.id))
    if table.empty:
        st.info(f"{escape_markdown(patient.name)} has no sessions yet.")
    else:
        # One exercise per chart: a bridge's range and a bird dog's are different angles.
        exercises = table["Exercise"].value_counts().index.tolist()  # the most practised first
        chosen = st.selectbox("Exercise", exercises, key="progress_exercise")
        table = table[table["Exercise"] == chosen]
        st.plotly_chart(review.progress_figure(table), config={"displaylogo": False})
        if patient.surgery_date is None:
            st.caption("Add the date of surgery below to see weeks since surgery on the chart.")
        st.dataframe(review.dash_missing(table), hide_index=True)
    with st.expander("Patient profile"):
        with st.form(f"profile-form-{patient.id}"):
            st.text_input("Name or label", value=patient.name, key=f"profile-name-{patient.id}")
            st.date_input("Date of surgery", value=patient.surgery_date, max_value=date.today(), format="YYYY-MM-DD",
                          key=f"profile-surgery-{patient.id}")
            st.form_submit_button("Save profile", on_click=save_profile, args=(store, patient.id))


def save_profile(store: Store, patient_id: int) -> None:
    with polite("save the profile"):
        store.update_patient(patient_id, name=st.session_state[f"profile-name-{patient_id}"],
                             surgery_date=st.session_state[f"profile-surgery-{patient_id}"])
