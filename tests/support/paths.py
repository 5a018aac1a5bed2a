"""Where the repository and its test fixtures are (tests/fixtures/README.md documents them)."""
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
FIXTURES = REPO_ROOT / "tests" / "fixtures"
VIDEOS = FIXTURES / "video"
TRACES = FIXTURES / "traces"
