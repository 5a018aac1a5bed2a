# The two commands of the README:
#   make run    start the app on its defaults (bundled model, SQLite in ./formcheck-data)
#   make test   install everything the tests need (Chromium included) and run the whole suite
.PHONY: run test bench

run:
	scripts/setup-env.sh
	.venv/bin/streamlit run app.py

test:
	scripts/setup-env.sh test
	.venv/bin/python -m pytest -q -rs

# Every figure of the README's benchmark table in one run (about 8 minutes; needs Chromium too).
bench:
	scripts/setup-env.sh test
	.venv/bin/python benchmarks/report.py --out test-artifacts/bench.md --json test-artifacts/bench.json
