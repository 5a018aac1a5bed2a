"""How long the app takes to start: server up, first page drawn, and what the imports cost.

    python benchmarks/startup.py [--repeat 3] [--no-imports] [--json]

Each repetition starts the real app, ``python -m streamlit run app.py`` with a fresh, empty data
folder (``tests/support/browser.run_streamlit``, headless, on a free port), and measures the wall
time from just before the process is launched to:

  (a) health      ``/_stcore/health`` answering ``ok`` (polled every 0.2 s by run_streamlit, so
                  up to 0.2 s late);
  (b) first page  then, in headless Chromium (launched beforehand, not timed; a new browser
                  context each time, so an empty cache), the patient page's title "Today's
                  exercise session" visible and the first script run finished: what a patient
                  opening the app waits for.

The best and the median of the repetitions are printed (other jobs only ever slow a start down).
The pose model is not loaded by the first page: it loads when a session starts (``warm_up_pose_model``
in formcheck/ui/resources.py), so it is timed separately with the imports: each heavy module imported in a fresh
Python process (time of the ``import`` statement alone, interpreter start excluded; the OS file
cache is warm after the first repetition): all of app.py's imports together, then the heavy ones
one by one (they share dependencies, so they do not add up), and ``make_backend("mediapipe")``
created and closed.
"""
from __future__ import annotations

import argparse
import ast
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

PAGE_TITLE = "Today's exercise session"  # the patient page's st.title, the app's first page
QUIET_ENV = {"GLOG_minloglevel": "2", "TF_CPP_MIN_LOG_LEVEL": "3"}
APP_IMPORTS = "all of app.py's imports"
IMPORTS = {  # label -> statement timed in a fresh process (APP_IMPORTS: see app_imports)
    APP_IMPORTS: None,
    "streamlit": "import streamlit",
    "streamlit_webrtc (+aiortc)": "import streamlit_webrtc",
    "cv2": "import cv2",
    "mediapipe": "import mediapipe",
    "formcheck.live (pipeline, engine, store)": "import formcheck.live",
    "pose model created and closed": "from formcheck.backends import make_backend; make_backend('mediapipe').close()",
}


def time_start(browser) -> dict:
    """One cold start of the app: seconds to (a) health ok and (b) the first page drawn."""
    from playwright.sync_api import expect

    from tests.support.browser import run_streamlit, wait_for_app_idle

    with tempfile.TemporaryDirectory(prefix="fc-startup-") as tmp:
        start = time.perf_counter()
        with run_streamlit(ROOT / "app.py", Path(tmp) / "data", timeout_s=120) as url:
            health = time.perf_counter() - start
            context = browser.new_context()
            try:
                page = context.new_page()
                page.goto(url, timeout=120_000)
                expect(page.get_by_role("heading", name=PAGE_TITLE)).to_be_visible(timeout=120_000)
                wait_for_app_idle(page, timeout_ms=120_000)
                first_page = time.perf_counter() - start
            finally:
                context.close()
    return {"health_s": health, "first_page_s": first_page}


def app_imports() -> str:
    """app.py's top-level import statements, as one line of Python (what its first run imports)."""
    tree = ast.parse((ROOT / "app.py").read_text(encoding="utf-8"))
    imports = [node for node in tree.body if isinstance(node, ast.Import)
               or (isinstance(node, ast.ImportFrom) and node.module != "__future__")]
    return "; ".join(ast.unparse(node) for node in imports)


def time_import(statement: str) -> float:
    """Seconds ``statement`` takes in a fresh Python process (interpreter start not included)."""
    code = ("import time; _t = time.perf_counter(); " + statement +
            "; print(time.perf_counter() - _t)")
    path = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
    env = {**os.environ, **QUIET_ENV, "PYTHONPATH": path}
    proc = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, cwd=str(ROOT))
    if proc.returncode != 0:
        raise SystemExit(f"startup: `{statement}` failed:\n{proc.stderr[-2000:]}")
    return float(proc.stdout.strip().splitlines()[-1])


def best_median(values: list[float]) -> dict:
    return {"best": round(min(values), 2), "median": round(statistics.median(values), 2),
            "runs": [round(v, 2) for v in values]}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="cold starts to time")
    parser.add_argument("--no-imports", action="store_true", help="skip the import and model-load timings")
    parser.add_argument("--json", action="store_true", help="end with one line of JSON with every figure")
    args = parser.parse_args(argv)

    from playwright.sync_api import sync_playwright

    from tests.support.browser import launch_chromium

    print(f"{os.cpu_count()} CPU(s), load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}", flush=True)
    runs = []
    with sync_playwright() as pw:
        browser = launch_chromium(pw)
        try:
            for i in range(max(1, args.repeat)):
                runs.append(time_start(browser))
                print(f"  start {i + 1}: health {runs[-1]['health_s']:.2f} s, "
                      f"first page {runs[-1]['first_page_s']:.2f} s", file=sys.stderr, flush=True)
        finally:
            browser.close()
    result = {"health_s": best_median([r["health_s"] for r in runs]),
              "first_page_s": best_median([r["first_page_s"] for r in runs])}
    print(f"app start-up over {len(runs)} cold start(s), best / median:")
    print(f"  (a) server answering /_stcore/health   {result['health_s']['best']:6.2f} / "
          f"{result['health_s']['median']:.2f} s")
    print(f"  (b) first page drawn in the browser    {result['first_page_s']['best']:6.2f} / "
          f"{result['first_page_s']['median']:.2f} s")
    if not args.no_imports:
        result["imports_s"] = {}
        print("imports, each in a fresh process:")
        for label, statement in IMPORTS.items():
            seconds = time_import(statement or app_imports())
            result["imports_s"][label] = round(seconds, 2)
            print(f"  {label:42s} {seconds:6.2f} s", flush=True)
    result["load_after"] = [round(x, 2) for x in os.getloadavg()]
    if args.json:
        print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
