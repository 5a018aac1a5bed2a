"""formcheck.review's red-flag helpers: what the clinician pages say about symptom checks."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

from formcheck.review import red_flag_alert, red_flag_caption, red_flag_summary, symptom_checks_table
from formcheck.store import SymptomCheckRow

NOW = datetime(2024, 6, 1, 12, 0, tzinfo=UTC)


def check(id_: int, days_ago: float, *symptoms: str) -> SymptomCheckRow:
    return SymptomCheckRow(id=id_, patient_id=1, checked_at=NOW - timedelta(days=days_ago), symptoms=symptoms,
                           outcome="stopped" if symptoms else "cleared")


def local(moment: datetime) -> str:
    return moment.astimezone().strftime("%Y-%m-%d %H:%M")


def test_the_alert_lists_each_recent_red_flag_newest_first_with_its_symptoms():
    checks = [check(4, 1, "fever_or_chills"), check(3, 2), check(2, 29.9, "new_numbness_tingling_or_weakness",
                                                                   "bladder_or_bowel_change"),
              check(1, 31, "breathing_or_chest_problem")]
    summary = red_flag_summary(checks, now=NOW)
    assert (summary.checks, summary.recent_checks, summary.reports) == (4, 3, 3)
    assert [c.id for c in summary.recent_reports] == [4, 2]
    alert = red_flag_alert(summary)
    assert alert.startswith("**Red-flag symptoms reported: 2 times in the last 30 days** (of 3 safety checks).")
    assert alert.splitlines()[1:] == [
        f"- {local(NOW - timedelta(days=1))}: Fever or chills",
        f"- {local(NOW - timedelta(days=29.9))}: New numbness, tingling or weakness in the legs or feet; "
        "Change in bladder or bowel control",
    ]  # the report 31 days ago is only counted
    assert "chest" not in alert
    assert red_flag_caption(summary) == ("Safety checks done: 3 in the last 30 days, 4 in all. "
                                         "Red flags reported: 2 in the last 30 days, 3 in all.")


def test_no_alert_without_a_recent_red_flag_but_the_counts_are_given():
    summary = red_flag_summary([check(2, 3), check(1, 45, "fever_or_chills")], now=NOW)
    assert red_flag_alert(summary) is None
    assert red_flag_caption(summary) == ("Safety checks done: 1 in the last 30 days, 2 in all. "
                                         "Red flags reported: 0 in the last 30 days, 1 in all.")
    assert red_flag_caption(red_flag_summary([], now=NOW)) == (
        "No red-flag safety check has been recorded for this patient yet.")


def test_the_window_can_be_changed_and_one_report_is_singular():
    summary = red_flag_summary([check(1, 5, "fever_or_chills")], now=NOW, days=7)
    assert red_flag_alert(summary).startswith("**Red-flag symptoms reported: 1 time in the last 7 days** "
                                              "(of 1 safety check).")
    assert red_flag_alert(red_flag_summary([check(1, 8, "fever_or_chills")], now=NOW, days=7)) is None


def test_the_checks_table_has_one_row_per_check_in_clinician_words():
    table = symptom_checks_table([check(2, 1, "wound_redness_or_drainage"), check(1, 2)])
    assert list(table.columns) == ["Date", "Result", "Symptoms answered yes"]
    assert list(table["Result"]) == ["Red flag: told not to exercise and to contact their doctor", "No red flags"]
    assert list(table["Symptoms answered yes"]) == ["Wound redness, warmth, swelling or drainage", "–"]
    assert list(symptom_checks_table([]).columns) == ["Date", "Result", "Symptoms answered yes"]


def test_an_unknown_symptom_code_from_a_newer_formcheck_is_shown_readably():
    row = SymptomCheckRow(id=1, patient_id=1, checked_at=NOW, symptoms=("calf_swelling",), outcome="stopped")
    assert row.symptom_labels == ("Calf swelling",)


def test_missing_values_show_as_a_dash_and_complete_columns_keep_their_numbers():
    import pandas as pd

    from formcheck.review import NONE_SHOWN, dash_missing

    table = pd.DataFrame({"Pain before": pd.array([3, None], dtype="Int64"), "Reps": [8, 10],
                          "Range (°)": [41.5, float("nan")]})
    shown = dash_missing(table)
    assert shown["Pain before"].tolist() == ["3", NONE_SHOWN] and shown["Range (°)"].tolist() == ["41.5", NONE_SHOWN]
    assert shown["Reps"].dtype == table["Reps"].dtype  # nothing missing: still numbers, sorted as numbers
    assert table["Pain before"].isna().sum() == 1  # the input is left as it was
