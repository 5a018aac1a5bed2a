# The two commands of the README:
#   make run        start the app on its defaults (bundled model, SQLite in ./formcheck-data)
#   make test       install everything the tests need (Chromium included), lint, run the whole suite
# and for a developer's loop:
#   make test-fast  lint, then the quick unit tests (no pose model, no browser, no AppTest)
#   make lint       ruff and mypy, as configured in pyproject.toml
.PHONY: run test test-fast lint check-install bench

run:
	scripts/setup-env.sh
	.venv/bin/streamlit run app.py

# Lint first (seconds), then the suite whatever lint said, so one run shows both; fails if either did.
test:
	scripts/setup-env.sh test
	@status=0; scripts/lint.sh || status=1; \
	.venv/bin/python -m pytest -q -rs || status=1; \
	[ $$status = 0 ] || echo "make test: FAILED (lint or tests, see above)"; exit $$status

# The markers are declared in pyproject.toml: `model` (the MediaPipe model), `browser` (Chromium),
# `slow` (seconds each without them), `app` (Streamlit AppTest).
test-fast:
	scripts/setup-env.sh test-tools
	@status=0; scripts/lint.sh || status=1; \
	.venv/bin/python -m pytest -q -rs -m "not model and not browser and not slow and not app" || status=1; \
	[ $$status = 0 ] || echo "make test-fast: FAILED (lint or tests, see above)"; exit $$status

lint:
	scripts/lint.sh

# A fresh venv per promised Python found on this machine: both locks installed, pip check (minutes).
check-install:
	scripts/check-install.sh

# Every figure of the README's benchmark table in one run (about 8 minutes; needs Chromium too).
bench:
	scripts/setup-env.sh test
	.venv/bin/python benchmarks/report.py --out test-artifacts/bench.md --json test-artifacts/bench.json
