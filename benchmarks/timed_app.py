"""The app with its live frames timed on the server: ``benchmarks/live_page.py --server-times``.

Runs exactly ``app.py`` (formcheck.ui.main) after wrapping the live page's frame callback so
that, for every camera frame the server analyses, it appends one line to the file named by
``FORMCHECK_BENCH_TIMES``: the frame's marker (live_page.py's stamp, read by
``live_page.read_marker`` from the frame scaled back to the camera file's size, whatever size the
browser sent), the wall-clock milliseconds when the callback got the frame, and when it returned
the annotated one. live_page.py puts these beside the page's own capture and display times,
which splits the camera-to-screen delay into browser + network in, server, and network + browser
out. Only a benchmark runs this file; the product never does.
"""
from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import cv2

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

import formcheck.ui.camera as camera  # noqa: E402 - after the sys.path line, as live_page
import live_page  # noqa: E402 - found through the sys.path line above (benchmarks/ is no package)
from formcheck.ui.main import main  # noqa: E402 - as camera

TIMES_PATH = os.environ.get("FORMCHECK_BENCH_TIMES", "")
# The camera file's frame size (live_page.py sets it): the marker is read at that size.
CAMERA_SIZE = tuple(int(v) for v in os.environ.get("FORMCHECK_BENCH_CAMERA", "360x640").split("x"))


def read_marker_scaled(bgr) -> int:
    """live_page.read_marker on the frame scaled back to the camera file's size; -1 if unreadable."""
    gray = cv2.cvtColor(cv2.resize(bgr, CAMERA_SIZE, interpolation=cv2.INTER_LINEAR), cv2.COLOR_BGR2GRAY)
    return live_page.read_marker(gray)


def timed(make_callback):
    def make(session):
        inner = make_callback(session)

        def callback(frame):
            got_ms = time.time() * 1000.0
            out = inner(frame)
            done_ms = time.time() * 1000.0
            marker = read_marker_scaled(frame.to_ndarray(format="bgr24"))
            with open(TIMES_PATH, "a", encoding="ascii") as f:
                f.write(f"{marker} {got_ms:.1f} {done_ms:.1f}\n")
            return out
        return callback
    return make


if TIMES_PATH and not getattr(camera, "_bench_timed", False):
    camera.webrtc_callback = timed(camera.webrtc_callback)
    camera._bench_timed = True  # Streamlit reruns this script: wrap once

if __name__ == "__main__":
    main()
