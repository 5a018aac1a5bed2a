"""Clinician: prescription -- the clinician's editor; and the patient's day plan banner.

The rules (validation, phases, the plan, adherence) live in ``formcheck.clinic.prescription``
and ``formcheck.clinic.plan`` and are tested there.
"""
from __future__ import annotations

from datetime import UTC, date, datetime

import pandas as pd
import streamlit as st

from ...clinic.prescription import (
    DEFAULT_REPS,
    DEFAULT_REST_S,
    DEFAULT_SESSIONS_PER_WEEK,
    DEFAULT_SETS,
    PlanStep,
    PrescribedExercise,
    Prescription,
    PrescriptionError,
    adherence,
    parse_prescription,
    phase_caution,
    recovery_phase,
    save_prescription,
    to_toml,
    weeks_since,
)
from ...report import escape_markdown, safe_filename
from ...spec import list_exercises, load_exercise
from ...store import PatientRow, Store, StoreError
from ..widgets import patient_picker

EDITOR_COLUMNS = ["exercise", "sets", "reps", "hold_s", "rest_s", "tempo_s", "target_deg", "acknowledged_phase"]
# The form limits, one row per check of each prescribed exercise: every limit visible with its default.
LIMIT_COLUMNS = ["exercise", "check", "code", "direction", "default", "limit"]


def load_prescription(store: Store, patient_id: int) -> Prescription | None:
    text = store.get_prescription(patient_id)
    if text is None:
        return None
    try:
        return parse_prescription(text)
    except PrescriptionError as exc:  # an exercise file changed since it was saved
        st.warning(f"The stored prescription no longer validates: {escape_markdown(exc)}")
        return None


def show(store: Store) -> None:
    st.title("Prescription")
    st.caption("Which exercises this patient does, how much, and with which limits. The patient's page "
               "follows it: next exercise, set and rep, rest between sets, done for today.")
    patient = patient_picker(store, key="rx-patient", allow_new=False)
    if patient is not None:
        editor(store, patient)


def editor(store: Store, patient: PatientRow) -> None:
    """The clinician's editor: table of exercises, phase cautions, save, export, import, adherence."""
    today = date.today()
    phase = recovery_phase(patient.surgery_date, today)
    if phase is None:
        st.info("Add the date of surgery to the patient's profile to see the recovery phase and phase cautions.")
    else:
        assert patient.surgery_date is not None, "recovery_phase gives a phase only for a known surgery date"
        st.markdown(f"**Recovery phase:** {phase} (week {weeks_since(patient.surgery_date, today):.0f} after surgery)")

    current = load_prescription(store, patient.id)
    table = _to_table(current)
    titles = {name: load_exercise(name).title for name in list_exercises()}

    def title_of(option: str | int | float | bool) -> str:
        return titles[str(option)]  # Streamlit calls it on the column's options only: the names in ``titles``
    edited = st.data_editor(
        table, num_rows="dynamic", use_container_width=True, key=f"rx-editor-{patient.id}",
        column_config={
            "exercise": st.column_config.SelectboxColumn("Exercise", options=list(titles), required=True,
                                                         format_func=title_of, width="medium"),
            "sets": st.column_config.NumberColumn("Sets", min_value=1, max_value=10, step=1),
            "reps": st.column_config.NumberColumn("Reps (or holds) per set", min_value=1, max_value=100, step=1),
            "hold_s": st.column_config.NumberColumn("Hold (s)", min_value=0, max_value=600),
            "rest_s": st.column_config.NumberColumn("Rest between sets (s)", min_value=0, max_value=900),
            "tempo_s": st.column_config.NumberColumn("Tempo (s per rep)", min_value=0.5, max_value=60),
            "target_deg": st.column_config.NumberColumn("Target (top of the rep, deg)"),
            "acknowledged_phase": st.column_config.CheckboxColumn("Phase caution acknowledged"),
        },
    )
    names = [n for n in edited["exercise"].tolist() if isinstance(n, str) and n]
    limits_table = _limits_table(names, current)
    edited_limits = limits_table
    if not limits_table.empty:
        st.markdown("**Form limits** (blank: the exercise's default; the patient is warned beyond the limit)")
        edited_limits = st.data_editor(
            limits_table, use_container_width=True, hide_index=True,
            disabled=["exercise", "check", "direction", "default"],
            key=f"rx-limits-{patient.id}-{'-'.join(names)}",  # new rows when the exercises change
            column_config={
                "exercise": st.column_config.SelectboxColumn("Exercise", options=list(titles), format_func=title_of),
                "check": "Check", "code": None, "direction": "Warn when the angle is",
                "default": st.column_config.NumberColumn("Default (deg)"),
                "limit": st.column_config.NumberColumn("Prescribed limit (deg)", min_value=-360, max_value=360),
            })
    per_week = st.number_input("Sessions per week", 1, 21,
                               value=current.sessions_per_week if current else DEFAULT_SESSIONS_PER_WEEK,
                               key=f"rx-per-week-{patient.id}")
    notes = st.text_area("Notes for the patient", value=current.notes if current else "", key=f"rx-notes-{patient.id}")
    draft, error = _from_table(edited, int(per_week), notes, edited_limits)
    if error:
        st.error(escape_markdown(error))
    elif draft is not None:
        for item in draft.exercises:
            caution = phase_caution(item, patient.surgery_date, today)
            if caution:
                st.warning(caution + " Tick 'Phase caution acknowledged' to prescribe it anyway.")
    save = st.button("Save prescription", type="primary", disabled=draft is None, key=f"rx-save-{patient.id}")
    if save and draft is not None:  # the button is disabled without a draft: the check only tells the type checker so
        try:
            save_prescription(store, patient.id, to_toml(draft))
            st.success("Prescription saved.")
            current = draft  # export it at once, without another click
        except StoreError as exc:
            st.error(escape_markdown(exc))

    col_export, col_import = st.columns(2)
    if current is not None:
        col_export.download_button("Export prescription (TOML)", to_toml(current).encode("utf-8"),
                                   file_name=f"prescription-{safe_filename(patient.name)}.toml",
                                   mime="application/toml",
                                   key=f"rx-export-{patient.id}")
    uploaded = col_import.file_uploader("Import a prescription (TOML)", type=["toml"], key=f"rx-import-{patient.id}")
    if uploaded is not None and col_import.button("Import", key=f"rx-import-go-{patient.id}"):
        try:
            save_prescription(store, patient.id, uploaded.getvalue().decode("utf-8"))
            st.success("Prescription imported.")
            st.rerun()
        except UnicodeDecodeError:
            st.error("That file is not a text (TOML) prescription.")
        except StoreError as exc:
            st.error(escape_markdown(exc))

    if current is not None:
        _adherence_chart(store, patient, current)


def _to_table(prescription: Prescription | None) -> pd.DataFrame:
    rows = []
    for item in (prescription.exercises if prescription else ()):
        rows.append({
            "exercise": item.name, "sets": item.sets, "reps": item.reps, "hold_s": item.hold_s, "rest_s": item.rest_s,
            "tempo_s": item.tempo_s, "target_deg": item.target_deg,
            "acknowledged_phase": item.acknowledged_phase,
        })
    return pd.DataFrame(rows, columns=EDITOR_COLUMNS).astype(
        {"sets": "Int64", "reps": "Int64", "hold_s": "float", "rest_s": "float", "tempo_s": "float",
         "target_deg": "float", "acknowledged_phase": "bool"})


def _limits_table(names: list[str], current: Prescription | None) -> pd.DataFrame:
    """One row per form check of each named exercise: its default limit and the prescribed one (if any)."""
    prescribed = {item.name: item.limits for item in (current.exercises if current else ())}
    rows = []
    for name in dict.fromkeys(names):
        for rule in load_exercise(name).rules:
            direction = "above" if rule.above == rule.above else "below"  # NaN != NaN: the unused side
            rows.append({"exercise": name, "check": rule.title or rule.code, "code": rule.code, "direction": direction,
                         "default": getattr(rule, direction),
                         "limit": prescribed.get(name, {}).get(rule.code, {}).get(direction)})
    return pd.DataFrame(rows, columns=LIMIT_COLUMNS).astype({"default": "float", "limit": "float"})


def _from_table(table: pd.DataFrame, per_week: int, notes: str,
                limits: pd.DataFrame | None = None) -> tuple[Prescription | None, str]:
    """The editors' rows as a validated Prescription, or an error message naming the row."""
    chosen: dict[str, dict[str, dict[str, float]]] = {}
    for row in (limits.to_dict("records") if limits is not None else ()):
        if _given(row.get("limit")):
            chosen.setdefault(row["exercise"], {})[row["code"]] = {row["direction"]: float(row["limit"])}
    items = []
    for row in table.to_dict("records"):
        name = row.get("exercise")
        if not isinstance(name, str) or not name:
            continue  # an empty new row
        limits = chosen.get(name, {})
        items.append(PrescribedExercise(
            name=name,
            sets=int(row["sets"]) if _given(row.get("sets")) else DEFAULT_SETS,
            reps=int(row["reps"]) if _given(row.get("reps")) else DEFAULT_REPS,
            hold_s=float(row["hold_s"]) if _given(row.get("hold_s")) else None,
            rest_s=float(row["rest_s"]) if _given(row.get("rest_s")) else DEFAULT_REST_S,
            tempo_s=float(row["tempo_s"]) if _given(row.get("tempo_s")) else None,
            target_deg=float(row["target_deg"]) if _given(row.get("target_deg")) else None,
            limits=limits,
            acknowledged_phase=bool(row.get("acknowledged_phase")) if _given(row.get("acknowledged_phase")) else False,
        ))
    if not items:
        return None, ""
    draft = Prescription(exercises=tuple(items), sessions_per_week=per_week, notes=notes)
    try:
        return parse_prescription(to_toml(draft)), ""  # the same validation as an imported file
    except PrescriptionError as exc:
        return None, str(exc)


def _given(value) -> bool:
    return value is not None and not (isinstance(value, float) and value != value) and value is not pd.NA


def _adherence_chart(store: Store, patient: PatientRow, prescription: Prescription) -> None:
    weeks = adherence(store.list_sessions(patient.id), prescription, datetime.now(UTC))  # local days
    if not weeks:
        st.caption("Adherence: no sessions yet.")
        return
    frame = pd.DataFrame({
        "week of": [w.week_start.isoformat() for w in weeks],
        "sessions done": [w.sessions_done for w in weeks],
        "sessions prescribed": [w.sessions_prescribed for w in weeks],
    })
    st.subheader("Adherence")
    st.bar_chart(frame, x="week of", y=["sessions done", "sessions prescribed"], stack=False)


# --- the patient's day -------------------------------------------------------------------------

def plan_banner(step: PlanStep, prescription: Prescription) -> None:
    """What to do next, in plain words."""
    if step.done_for_today:
        st.success("Done for today - every prescribed set is finished. Well done! Rest and come back tomorrow.")
        return
    total = len(prescription.exercises)
    st.info(f"Today's program, exercise {step.exercise_number} of {total}. {step.describe()}")
    if step.rest_remaining_s > 0:
        st.warning(f"Rest for {step.rest_remaining_s:.0f} more seconds before the next set.")
    if prescription.notes:
        # Readable, and shown as typed: a note is text, never Markdown (no links or images fetched).
        st.info(f"**From your clinician:**\n\n{escape_markdown(prescription.notes)}", icon=":material/chat:")

