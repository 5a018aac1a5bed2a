"""The app with its live frames timed on the server: ``benchmarks/live_page.py --server-times``.

Runs exactly ``app.py`` (formcheck.ui.main) after wrapping the live page's frame callback so
that, for every camera frame the server analyses, it appends one line to the file named by
``FORMCHECK_BENCH_TIMES``: the frame's marker (live_page.py's stamp, read at the same fractions
of whatever size the browser sent), the wall-clock milliseconds when the callback got the frame,
and when it returned the annotated one. live_page.py puts these beside the page's own capture
and display times, which splits the camera-to-screen delay into browser + network in, server,
and network + browser out. Only a benchmark runs this file; the product never does.
"""
from __future__ import annotations

import os
import time

import numpy as np

import formcheck.ui.camera as camera
from formcheck.ui.main import main

TIMES_PATH = os.environ.get("FORMCHECK_BENCH_TIMES", "")
# The marker column as fractions of the frame (live_page.marker_geometry, given by the benchmark).
GEOMETRY = [float(v) for v in os.environ.get("FORMCHECK_BENCH_MARKER", "0,0,0,0,0").split(",")]


def read_marker_scaled(bgr: np.ndarray) -> int:
    """live_page.read_marker at any frame size: each square's centre, parity checked; -1 if unreadable."""
    bits_n, x, y, _w, h = GEOMETRY
    height, width = bgr.shape[:2]
    squares = int(bits_n) + 1
    column = int((x + (1.0 - x) / 2.0) * width)
    bits = [int(bgr[min(height - 1, int((y + (i + 0.5) * h / squares) * height)), min(width - 1, column)].mean() > 128)
            for i in range(squares)]
    index = int("".join(map(str, bits[:-1])), 2)
    return index if sum(bits) % 2 == 0 else -1


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
