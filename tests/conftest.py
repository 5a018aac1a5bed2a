"""Shared pytest fixtures."""

import os as _os

import pytest

# Shared helpers are imported as `tests.support.<module>`: pyproject's pytest `pythonpath`
# puts the repository root on the path, however pytest is started.

# ---------------------------------------------------------------- browser (e2e) fixtures
# Helpers live in tests/support/browser.py; tests using these are marked @pytest.mark.browser.

@pytest.fixture(scope="session")
def chromium_available():
    """Path of the Chromium the browser tests drive; fails (never skips) when it is missing."""
    from tests.support.browser import CHROMIUM_PATH

    if not (_os.path.isfile(CHROMIUM_PATH) and _os.access(CHROMIUM_PATH, _os.X_OK)):
        pytest.fail(
            f"Chromium is required by the browser tests but {CHROMIUM_PATH} is missing. "
            "Install Debian's package (`scripts/setup-env.sh test` does: apt-get install chromium); "
            "do not run `playwright install`, the test machines are offline.",
            pytrace=False,
        )
    return CHROMIUM_PATH


@pytest.fixture(scope="session")
def playwright_instance():
    """One sync Playwright driver for the whole session (browsers are launched per test)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        yield pw
