"""Home to clinic in real browsers: the patient makes a session file in one app (their data folder),
the clinician imports it in a second app (another data folder), and both review pages show the same
reps, flags, pains, red flags and video."""
from __future__ import annotations

import re
import shutil

import pytest
from playwright.sync_api import expect

from formcheck.pipeline import AnalyzeOptions, analyze
from formcheck.spec import load_exercise
from formcheck.store import open_store
from tests.support.app_pages import APP, VIDEOS, app_page, choose_patient, go_to, open_review
from tests.support.browser import run_streamlit, screenshot, streamlit_exceptions, wait_for_app_idle, wait_for_text

pytestmark = pytest.mark.browser

TRACE = VIDEOS.parent / "traces" / "bird_dog_synthetic_2ext.json"  # 2 bird-dog reps, no model needed
NAME = "Ana Lopez"


def seed_home(data_dir, tmp_path) -> None:
    """The patient's own data: a bird-dog session with a kept video, and a red-flag report."""
    store = open_store(data_dir)
    patient = store.add_patient(NAME, "2026-09-01")
    spec = load_exercise("bird_dog")
    result = analyze(TRACE, spec, tmp_path / "analysis", AnalyzeOptions(write_video=False))
    session = store.start_session(patient, spec.name, spec.title, spec.version, "live", pain_before=3)
    video = data_dir / "videos" / f"session-{session}.mp4"
    video.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(VIDEOS / "bird_dog_360.mp4", video)  # stands in for the kept annotated video
    store.finish_session(session, result, pain_after=2, video_path=video,
                         trace_json=(tmp_path / "analysis" / "trace.json").read_text())
    store.record_symptom_check(patient, ["fever_or_chills"])


def review_text(page) -> dict[str, str]:
    """What the review page shows of the patient's one session."""
    open_review(page, NAME)
    expect(page.get_by_role("combobox", name="Open a session")).to_have_value(re.compile("Bird dog · 2 reps"),
                                                                              timeout=30_000)
    wait_for_app_idle(page)
    # The exports are drawn after the video (formcheck/ui/clinician.py): once they are on the page,
    # so is the video element, if the session has one. (Counted without this, the home page's
    # video was once read as 0 while the page was still drawing.)
    page.get_by_text("Printable report (HTML)").first.wait_for(timeout=30_000)
    tables = page.locator('[data-testid="stDataFrame"]')
    return {
        "red flags": page.locator('[data-testid="stAlert"]').filter(has_text="Red-flag symptoms").inner_text(),
        "sessions": tables.nth(0).inner_text(),
        "reps": page.locator('[data-testid="stDataFrame"]').filter(has_text="Peak angle").first.inner_text(),
        "video": str(page.locator("video").count()),
    }


def test_a_session_file_made_at_home_shows_the_same_review_at_the_clinic(tmp_path, playwright_instance,
                                                                         chromium_available):
    home, clinic = tmp_path / "home", tmp_path / "clinic"
    seed_home(home, tmp_path)
    with run_streamlit(APP, home) as home_url, run_streamlit(APP, clinic) as clinic_url:
        with app_page(playwright_instance, home_url, "bundle_home") as page:
            go_to(page, "Patient: send sessions to my clinic")
            choose_patient(page, NAME)
            page.get_by_text("Include the videos I chose to keep").click()
            wait_for_app_idle(page)
            page.get_by_role("button", name="Make the file").click()
            download_button = page.get_by_role("button", name=re.compile(r"^Download formcheck-Ana_Lopez-"))
            download_button.wait_for(timeout=30_000)
            with page.expect_download() as download:
                download_button.click()
            bundle = tmp_path / download.value.suggested_filename
            download.value.save_as(bundle)
            screenshot(page, "bundle_1_home_file_made")
            at_home = review_text(page)
            assert streamlit_exceptions(page) == []

        with app_page(playwright_instance, clinic_url, "bundle_clinic") as page:
            go_to(page, "Clinician: clinic overview")
            page.locator('[data-testid="stFileUploader"] input[type="file"]').set_input_files(str(bundle))
            page.get_by_role("button", name="Import").click()
            wait_for_text(page, re.compile(r"Ana Lopez \(new patient\): 1 session\(s\) added"), timeout_ms=30_000)
            # The overview above the import already lists the patient, red flag first.
            expect(page.locator('[data-testid="stDataFrame"]').first).to_contain_text("Fever or chills")
            screenshot(page, "bundle_2_clinic_imported")
            at_clinic = review_text(page)
            screenshot(page, "bundle_3_clinic_review")
            assert streamlit_exceptions(page) == []

    assert at_clinic == at_home
    assert "Fever or chills" in at_clinic["red flags"] and at_clinic["video"] == "1"
