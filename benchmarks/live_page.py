"""The live page, measured end to end: its frame rate and the time from a movement to its cue.

    python benchmarks/live_page.py [CLIP] [--seconds 60] [--hold-seconds 4] [--server-times] [--json] [--raw FILE]

Starts the real app (``streamlit run app.py``, a fresh data folder) and headless Chromium whose
fake webcam plays CLIP (default: tests/fixtures/video/cat_cow_360.mp4) in a loop; creates a
patient, starts a live bird-dog session and records for ``--seconds``. The cat-cow clip done as
a bird dog rounds the back twice a loop, so the spinal-flexion cue ("Keep your back flat")
comes and goes: two latency samples a loop (a loop is 4 + 12.9 s).

The camera file. The clip is converted to Y4M (``tests.support.browser.write_y4m``) after
``--hold-seconds`` of its first frame (the patient getting into position: the engine takes the
start posture from the first second it sees, as in test_e2e_app.py), and every frame is stamped
with its index in the file: 11 black/white 16 px squares (10 bits + parity) down the right edge,
on the wall behind the patient, clear of the overlay's panel and cue band. The page reads that
marker (1) from every camera frame as it leaves the camera (a clone of the camera track read with
MediaStreamTrackProcessor in the component's iframe) and (2) from every frame of the annotated
video the server sends back (requestVideoFrameCallback on the page's <video>), so each picture
the patient sees is tied to the camera frame it was computed from, with no assumption about when
the fake camera started or how it loops or drifts under load. Capture times come from each
camera frame's own timestamp, put on the wall clock by the least-delayed read.

Offline reference. The same pipeline, cue hold and model (``formcheck.pipeline.Pipeline``,
``formcheck.live.CueHolder``) run over every frame of the stamped file (one loop, at the file's
frame times) say at which camera frame the cue turns on (``flag``: the rule fired after its
0.5 s debounce) and at which frame the movement happened (``cross``: the first frame of that
run where the engine's spinal flexion exceeds the rule's limit, 15 degrees). A second loop gives
the same frames within one, so one loop is used (about 30 s of the run).

Figures (all times on the one system clock, Date.now() in the page, in milliseconds):

  page fps, ms/frame  what the live page says ("N frames/s analysed (M ms each)"), sampled
                      every 0.5 s after the first 2 s; median (min-max)
  shown fps           distinct annotated frames the page displayed per second (markers)
  camera fps          camera frames per second (the fake camera's own rate under this load)
  video delay         capture of a camera frame -> its annotated version displayed (median, p90)
  cue on video        movement -> first displayed frame with the red cue band across its bottom.
                      That frame's marker names the camera frame (loop and index) the server had
                      just analysed; the movement is the last ``cross`` frame at or before it, in
                      the same loop, and its time is that frame's capture time. Matching by marker
                      rather than by time keeps a late cue from being taken for the next one.
  cue in panel        movement -> the side panel's cue box (.fc-danger with the cue's text)
                      entering the DOM (a MutationObserver); paired with the band onset (the same
                      analysis result, seen twice) whose analysed camera frame was captured last
                      before the panel changed, and timed from that band's movement. The panel
                      refreshes every 0.5 s; the video may lag it by seconds under load.

Where the delay goes. Always printed: the browser's own WebRTC statistics at the end (per frame:
how long Chromium held the annotated frames in its jitter buffer, decoded them, encoded the
camera's). With --server-times the app runs as benchmarks/timed_app.py, which notes when the
server's frame callback got each camera frame and returned it, so the camera-to-screen delay
splits into capture -> server (the browser's encode, network, aiortc's decode), the callback
(analysis and drawing) and callback -> screen (encode, network, the browser's buffer and decode).

Both cue figures include the rule's 0.5 s debounce on purpose: the patient waits for it too.
Uncertainty: about ±1 frame (33 ms) on the movement instant (the live engine sees a
WebRTC-coded, frame-dropped stream, so its flexion may cross the limit a frame or two away from
the offline one; the flexion rises about 2 degrees a frame there); up to one display refresh
(~16 ms) from the DOM change or the video-frame callback to pixels. The engine's smoothing (a
5-frame median and a One Euro filter) makes the smoothed flexion cross the limit later than the
raw outline does; the movement instant is taken from the smoothed signal, so that delay is not
counted, but it is printed (measured offline). Movements in the recording (from 2 s after the
start to 8 s before the end) with no cue on the video are counted as missed; panel onsets that
pair with no band onset as unpaired. The machine's load changes every figure: the load average
is printed with them.
"""
from __future__ import annotations

import argparse
import bisect
import json
import math
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.support.browser import write_y4m  # noqa: E402 - found through the sys.path line above

DEFAULT_CLIP = ROOT / "tests" / "fixtures" / "video" / "cat_cow_360.mp4"
EXERCISE = "bird_dog"
RULE = "spinal_flexion"  # the rule whose cue is timed
HOLD_S = 4.0  # still start position before the clip, as in test_e2e_app.py
VIEWPORT = {"width": 1400, "height": 1000}
CUE_WINDOW_MS = 8000.0  # movements this close to the end are not expected to show their cue yet
# A live cue may start or end a few frames from the offline one (other frames analysed, WebRTC's
# coding): this many camera frames (0.2 s at 30 fps) either side of a reference cue still count as it.
FALSE_CUE_SLACK_FRAMES = 6
PAIR_MS = 1000.0  # tolerance when pairing a panel cue onset with the video's (see cue_latencies)
SETTLE_MS = 2000.0  # the page's frame rate is measured over 2 s: its first captions are skipped
MAX_GAP_FRAMES = 6  # capture times are extrapolated at most this far past a loop's frames read

# Frame marker: MARKER_BITS data bits + 1 parity bit, white/black squares of MARKER_BLOCK px down
# the right edge from MARKER_TOP px (in a 360x640 frame; read at the same fractions of any size).
MARKER_BITS = 10
MARKER_BLOCK = 16
MARKER_TOP = 40


# -- the camera file -------------------------------------------------------------------------------


def marker_bits(index: int) -> list[int]:
    """The marker's squares for frame ``index``: its bits, most significant first, then even parity."""
    bits = [(index >> (MARKER_BITS - 1 - i)) & 1 for i in range(MARKER_BITS)]
    return bits + [sum(bits) % 2]


def stamp_marker(y: np.ndarray, u: np.ndarray, v: np.ndarray, index: int) -> None:
    """Draw frame ``index``'s marker into the I420 planes (in place): white/black, no colour."""
    width = y.shape[1]
    for i, bit in enumerate(marker_bits(index)):
        top = MARKER_TOP + i * MARKER_BLOCK
        y[top:top + MARKER_BLOCK, width - MARKER_BLOCK:] = 235 if bit else 16
        u[top // 2:(top + MARKER_BLOCK) // 2, (width - MARKER_BLOCK) // 2:] = 128
        v[top // 2:(top + MARKER_BLOCK) // 2, (width - MARKER_BLOCK) // 2:] = 128


def read_marker(gray: np.ndarray) -> int:
    """The frame index stamped in a grey (luma) image of the camera's size, -1 if unreadable: what
    the page's decoder does, in Python (each square read at its centre, parity checked)."""
    width, centre = gray.shape[1], MARKER_BLOCK // 2
    bits = [int(gray[MARKER_TOP + i * MARKER_BLOCK + centre, width - centre] > 128) for i in range(MARKER_BITS + 1)]
    index = int("".join(map(str, bits[:MARKER_BITS])), 2)
    return index if sum(bits) % 2 == 0 else -1


def camera_file(clip: str | Path, y4m: str | Path, hold_s: float = HOLD_S) -> dict:
    """Write the fake camera's Y4M: ``hold_s`` of the clip's first frame, then the clip, every
    frame stamped with its index in the file. Returns write_y4m's info with ``frames``,
    ``hold_frames`` and ``seconds`` (one loop) updated."""
    y4m = Path(y4m)
    plain = y4m.with_suffix(".plain.y4m")
    info = write_y4m(clip, plain)
    width, height = info["width"], info["height"]
    frame_size = width * height * 3 // 2
    hold = int(round(hold_s * info["fps"]))
    total = hold + info["frames"]
    if total > 2 ** MARKER_BITS:
        raise ValueError(f"{total} frames do not fit a {MARKER_BITS}-bit marker: use a shorter clip")
    with open(plain, "rb") as src, open(y4m, "wb") as out:
        out.write(src.readline())  # the header
        index = 0
        for n in range(info["frames"]):
            if src.readline() != b"FRAME\n":
                raise RuntimeError(f"{plain}: frame {n} is not where write_y4m put it")
            data = src.read(frame_size)
            for _ in range(hold + 1 if n == 0 else 1):
                frame = np.frombuffer(data, np.uint8).copy()
                y = frame[:width * height].reshape(height, width)
                u = frame[width * height:width * height * 5 // 4].reshape(height // 2, width // 2)
                v = frame[width * height * 5 // 4:].reshape(height // 2, width // 2)
                stamp_marker(y, u, v, index)
                out.write(b"FRAME\n")
                out.write(frame.tobytes())
                index += 1
    plain.unlink()
    return {**info, "path": y4m, "frames": total, "hold_frames": hold, "seconds": total / info["fps"]}


def read_camera_frames(y4m: str | Path, width: int, height: int):
    """(index, BGR image) of every frame of a Y4M file."""
    import cv2

    frame_size = width * height * 3 // 2
    with open(y4m, "rb") as f:
        f.readline()
        index = 0
        while f.readline() == b"FRAME\n":
            i420 = np.frombuffer(f.read(frame_size), np.uint8).reshape(height * 3 // 2, width)
            yield index, cv2.cvtColor(i420, cv2.COLOR_YUV2BGR_I420)
            index += 1


# -- the offline reference: when should the cue come? ---------------------------------------------


class RawTap:
    """Stands in for one of the engine's signal filters and keeps its last input (the raw value) and
    output, so the reference can tell how late the smoothed signal crosses the limit."""

    def __init__(self, inner):
        self.inner, self.raw, self.smooth = inner, math.nan, math.nan

    def update(self, value: float, t_ms: float) -> float:
        self.raw, self.smooth = value, self.inner.update(value, t_ms)
        return self.smooth

    def __getattr__(self, name):
        return getattr(self.inner, name)


def tap_filter(engine, signal: str) -> RawTap | None:
    """Put a RawTap on the filter behind ``signal`` (engine internals: None if they changed)."""
    from formcheck.signals import RELATIVE_TO_START

    filters = getattr(engine, "filters", None)
    source = RELATIVE_TO_START.get(signal, signal)
    if not isinstance(filters, dict) or source not in filters:
        return None
    filters[source] = RawTap(filters[source])
    return filters[source]


def reference(camera: dict, exercise: str = EXERCISE, rule_code: str = RULE) -> dict:
    """Run the live pipeline (model, engine, cue hold) over one loop of the camera file at its frame
    times; return the rule and, per frame, its signal (smoothed as the rule sees it, and raw),
    whether the rule fires and the cue shown."""
    from formcheck.backends import make_backend
    from formcheck.live import CueHolder
    from formcheck.pipeline import Pipeline
    from formcheck.spec import load_exercise

    spec = load_exercise(exercise)
    rule = next(r for r in spec.rules if r.code == rule_code)
    pipeline = Pipeline(spec, backend=make_backend("mediapipe"), record_trace=False)
    tap = tap_filter(pipeline.engine, rule.signal)
    holder = CueHolder(spec.rules)
    frames = []
    try:
        for index, image in read_camera_frames(camera["path"], camera["width"], camera["height"]):
            t_s = index / camera["fps"]
            result = pipeline.process_image(image, 1000.0 * t_s)
            cue, _ = holder.update(result.active_flags, t_s)
            value = result.signals.get(rule.signal, math.nan)
            raw = value + (tap.raw - tap.smooth) if tap is not None else math.nan  # same baseline
            frames.append({"index": index, "value": value, "raw": raw, "fires": rule.code in result.active_flags,
                           "cue": cue})
    finally:
        pipeline.backend.close()
    return {"rule": rule.code, "signal": rule.signal, "limit": rule.above, "debounce_s": rule.min_duration_s,
            "message": rule.message, "frames": frames}


def cue_episodes(ref: dict) -> list[dict]:
    """Each time the cue turns on in the reference: ``flag``, the camera frame it turns on at;
    ``cross``, the frame the movement crossed the limit (the start of that run over the limit);
    ``raw_cross``, the same for the unsmoothed signal (None when unknown); ``until``, the last frame
    the cue shows; ``band``: no other cue was showing, so the video's red band appears then too."""
    frames, message, limit = ref["frames"], ref["message"], ref["limit"]
    episodes = []
    for i, frame in enumerate(frames):
        before = frames[i - 1]["cue"] if i else ""
        if frame["cue"] != message or before == message:
            continue
        start = i
        while start > 0 and frames[start - 1]["value"] > limit:
            start -= 1
        raw_start = start
        while raw_start > 0 and frames[raw_start - 1].get("raw", math.nan) > limit:
            raw_start -= 1
        raw_known = not math.isnan(frames[start].get("raw", math.nan))
        end = i
        while end + 1 < len(frames) and frames[end + 1]["cue"] == message:
            end += 1
        episodes.append({"cross": frames[start]["index"], "flag": frame["index"], "until": frames[end]["index"],
                         "raw_cross": frames[raw_start]["index"] if raw_known else None, "band": before == ""})
    return episodes


# -- in the browser ------------------------------------------------------------------------------------

# Every frame of the page gets this before its own scripts: in the camera component's iframe it wraps
# getUserMedia and reads the marker of every camera frame (a clone of the track, through
# MediaStreamTrackProcessor) as it leaves the camera:
# window.__fcProbe.local = [[epoch ms read, index, the frame's capture timestamp in microseconds]].
PROBE_JS = """
(() => {
  if (window.__fcProbe || !navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) return;
  const M = %(marker)s;
  const probe = window.__fcProbe = {local: [], remote: [], gum: null, errors: []};
  // The marker column is drawn 1:1 (one canvas pixel a frame pixel at 360x640) and each square
  // read at its centre: Chromium's downscaling would blur neighbouring squares together.
  const B = M.block, N = M.bits + 1;
  const decode = (ctx) => {
    const px = ctx.getImageData(0, 0, B, B * N).data;
    let index = 0, ones = 0;
    for (let i = 0; i < N; i++) {
      const at = 4 * ((i * B + B / 2) * B + B / 2);
      const bit = px[at] + px[at + 1] + px[at + 2] > 3 * 128 ? 1 : 0;
      ones += bit;
      if (i < M.bits) index = 2 * index + bit;
    }
    return ones %% 2 === 0 ? index : -1;
  };
  const drawMarker = (ctx, source, w, h) => ctx.drawImage(
    source, w * M.x, h * M.y, w * M.w, h * M.h, 0, 0, B, B * N);
  const markerContext = () => new OffscreenCanvas(B, B * N).getContext("2d", {willReadFrequently: true});
  Object.assign(probe, {decode, drawMarker, markerContext});
  async function readLocal(track) {
    const reader = new MediaStreamTrackProcessor({track}).readable.getReader();
    const ctx = markerContext();
    for (;;) {
      const {value: frame, done} = await reader.read();
      if (done) return;
      const t = Date.now();
      try {
        drawMarker(ctx, frame, frame.displayWidth, frame.displayHeight);
        probe.local.push([t, decode(ctx), frame.timestamp]);
      } finally {
        frame.close();
      }
    }
  }
  const original = navigator.mediaDevices.getUserMedia.bind(navigator.mediaDevices);
  navigator.mediaDevices.getUserMedia = async (constraints) => {
    const stream = await original(constraints);
    probe.gum = Date.now();
    const [track] = stream.getVideoTracks();
    if (track) readLocal(track.clone()).catch(e => probe.errors.push(String(e)));
    return stream;
  };
})();
"""

# In the component's iframe, once the annotated video plays: for every frame it shows, the marker
# (which camera frame it was computed from) and whether the red cue band is drawn across its bottom.
# window.__fcProbe.remote = [[epoch ms, index, red 0/1]].
REMOTE_JS = """
() => {
  const probe = window.__fcProbe;
  const video = document.querySelector("video");
  const marker = probe.markerContext();
  const band = new OffscreenCanvas(32, 1).getContext("2d", {willReadFrequently: true});
  const onFrame = () => {
    const t = Date.now(), w = video.videoWidth, h = video.videoHeight;
    if (w && h) {
      probe.drawMarker(marker, video, w, h);
      band.drawImage(video, 0, h * (1 - 3.5 / 640), w, h / 640, 0, 0, 32, 1);
      const px = band.getImageData(0, 0, 32, 1).data;
      let red = 0;
      for (let i = 0; i < 32; i++) red += px[4*i] > 170 && px[4*i+1] < 90 && px[4*i+2] < 90 ? 1 : 0;
      probe.remote.push([t, probe.decode(marker), red >= 24 ? 1 : 0]);
    }
    video.requestVideoFrameCallback(onFrame);
  };
  video.requestVideoFrameCallback(onFrame);
  return {width: video.videoWidth, height: video.videoHeight};
}
"""

# In the page: when the cue's text box appears in (1) and leaves (0) the DOM, and the frame-rate
# caption's text each time it changes. window.__fcCue = {events: [[epoch ms, 0/1]], captions: [[ms, text]]}.
CUE_JS = """
([message, pattern]) => {
  const probe = window.__fcCue = {events: [], captions: []};
  const fps = new RegExp(pattern);
  let shown = null, caption = "";
  const check = () => {
    const now = [...document.querySelectorAll(".fc-danger")].some(e => e.textContent.includes(message));
    if (now !== shown) { shown = now; probe.events.push([Date.now(), now ? 1 : 0]); }
    for (const e of document.querySelectorAll('[data-testid="stCaptionContainer"]')) {
      const text = e.textContent;
      if (fps.test(text) && text !== caption) { caption = text; probe.captions.push([Date.now(), text]); }
    }
  };
  new MutationObserver(check).observe(document.body, {childList: true, subtree: true, characterData: true});
  check();
  return Date.now();
}
"""


def marker_geometry(width: int, height: int) -> dict:
    """The marker column as fractions of the frame (so a downscaled stream reads the same)."""
    return {"bits": MARKER_BITS, "block": MARKER_BLOCK, "x": (width - MARKER_BLOCK) / width, "y": MARKER_TOP / height,
            "w": MARKER_BLOCK / width, "h": (MARKER_BITS + 1) * MARKER_BLOCK / height}


def run_live(camera: dict, message: str, seconds: float, server_times: bool = False) -> dict:
    """Start the app and a browser on the camera file, start a live bird-dog session and record for
    ``seconds``. Returns the raw observations (epoch milliseconds) that ``figures`` reads; with
    ``server_times``, the app is benchmarks/timed_app.py and ``server`` holds its rows (marker,
    callback got the frame, callback returned it)."""
    from playwright.sync_api import sync_playwright

    from tests.support.app_pages import FPS_RE, start_live_session
    from tests.support.browser import (
        PEER_CONNECTIONS_JS,
        WEBRTC_IFRAME_SELECTOR,
        WEBRTC_STATS_JS,
        launch_chromium,
        open_app,
        run_streamlit,
    )

    geometry = marker_geometry(camera["width"], camera["height"])
    probe_js = PROBE_JS % {"marker": json.dumps(geometry)}
    tmp = tempfile.mkdtemp(prefix="fc-live-bench-")
    times_path = Path(tmp) / "server_times.txt"
    app, env = ROOT / "app.py", {}
    if server_times:
        app = HERE / "timed_app.py"
        env = {"FORMCHECK_BENCH_TIMES": str(times_path),
               "FORMCHECK_BENCH_CAMERA": f"{camera['width']}x{camera['height']}"}
    with run_streamlit(app, Path(tmp) / "data", env=env) as url, sync_playwright() as pw:
        browser = launch_chromium(pw, fake_camera_y4m=camera["path"])
        try:
            context = browser.new_context(viewport=VIEWPORT)
            context.add_init_script(probe_js)
            context.add_init_script(PEER_CONNECTIONS_JS)  # for the browser's WebRTC statistics
            page = context.new_page()
            open_app(page, url)
            start_live_session(page, "Benchmark")  # the browser tests' own steps (tests/support/app_pages.py)
            iframe = page.locator(WEBRTC_IFRAME_SELECTOR).first.element_handle().content_frame()
            video = iframe.evaluate(REMOTE_JS)
            start_ms = page.evaluate(CUE_JS, [message, FPS_RE.pattern])
            time.sleep(seconds)
            probe = iframe.evaluate("() => { const p = window.__fcProbe; "
                                    "return {local: p.local, remote: p.remote, gum: p.gum, errors: p.errors}; }")
            cue = page.evaluate("() => window.__fcCue")
            browser_stats = iframe.evaluate(WEBRTC_STATS_JS)
            end_ms = time.time() * 1000.0
        finally:
            browser.close()
    server = [[float(v) for v in line.split()] for line in times_path.read_text().splitlines()] \
        if times_path.exists() else []
    shutil.rmtree(tmp, ignore_errors=True)
    return {**probe, **cue, "start_ms": start_ms, "end_ms": end_ms, "video": video, "server": server,
            "browser_stats": browser_stats}


# -- from observations to figures ------------------------------------------------------------------


class CameraTimeline:
    """When each camera frame was captured (epoch ms), per loop of the camera file, from the frames
    read in the page. ``local`` rows are [read ms, index (-1: unreadable), capture timestamp us]."""

    def __init__(self, local: list, fps: float, frames_per_loop: int):
        self.step_ms = 1000.0 / fps
        rows = [row for row in local if row[1] >= 0]
        stamps = [row[2] for row in rows if len(row) > 2 and row[2] is not None]
        if len(stamps) == len(rows) and all(b > a for a, b in zip(stamps, stamps[1:])):
            # The frame's own capture timestamp, on the wall clock via the least-delayed read.
            offset = min(read - stamp / 1000.0 for read, _, stamp in rows)
            times = [stamp / 1000.0 + offset for _, _, stamp in rows]
        else:
            times = [row[0] for row in rows]  # no usable timestamps: the read time, a little late
        self.loops: list[tuple[list[int], list[float]]] = []
        previous = math.inf
        for (_, index, *_), t in zip(rows, times):
            if index < previous - frames_per_loop // 2 or not self.loops:
                self.loops.append(([], []))
            if not self.loops[-1][0] or index > self.loops[-1][0][-1]:
                self.loops[-1][0].append(index)
                self.loops[-1][1].append(t)
            previous = index

    def capture(self, loop: int, index: int) -> float | None:
        """Capture time of frame ``index`` in ``loop``: interpolated between the frames read around
        it, extrapolated at most MAX_GAP_FRAMES beyond the loop's first or last frame read; else None."""
        indices, times = self.loops[loop]
        at = bisect.bisect_left(indices, index)
        if at < len(indices) and indices[at] == index:
            return times[at]
        if 0 < at < len(indices):
            (i0, t0), (i1, t1) = (indices[at - 1], times[at - 1]), (indices[at], times[at])
            return t0 + (t1 - t0) * (index - i0) / (i1 - i0)
        near = 0 if at == 0 else len(indices) - 1
        if abs(indices[near] - index) > MAX_GAP_FRAMES:
            return None
        return times[near] + (index - indices[near]) * self.step_ms

    def latest_capture(self, index: int, before_ms: float) -> tuple[int, float] | None:
        """(loop, capture time) of the most recent frame ``index`` captured before ``before_ms``."""
        found = [(loop, self.capture(loop, index)) for loop in range(len(self.loops))]
        found = [(loop, t) for loop, t in found if t is not None and t <= before_ms]
        return max(found, key=lambda item: item[1], default=None)

    def rate(self) -> float:
        """Camera frames per second (frames advanced over time, loop by loop)."""
        frames = sum(ix[-1] - ix[0] for ix, _ in self.loops)
        seconds = sum(ts[-1] - ts[0] for _, ts in self.loops) / 1000.0
        return frames / seconds if seconds > 0 else math.nan


def caption_samples(captions: list, start_ms: float, end_ms: float) -> list[tuple[int, int]]:
    """(fps, ms per frame) the page showed, every 0.5 s from SETTLE_MS after the start."""
    from tests.support.app_pages import FPS_RE

    samples, i, t = [], -1, start_ms + SETTLE_MS
    while t <= end_ms:
        while i + 1 < len(captions) and captions[i + 1][0] <= t:
            i += 1
        match = FPS_RE.search(captions[i][1]) if i >= 0 else None
        if match:
            samples.append((int(match.group(1)), int(match.group(2))))
        t += 500.0
    return samples


def shown_frames(remote: list, timeline: CameraTimeline, loop_ms: float) -> tuple[float, list[float]]:
    """Distinct annotated frames displayed per second, and each one's delay since its capture (ms).

    A frame index comes back once a loop: the delay is taken from its latest capture, so delays
    of a whole loop (``loop_ms``) or more cannot be told apart and are left out."""
    new = [(t, index) for k, (t, index, _) in enumerate(remote)
           if index >= 0 and (k == 0 or remote[k - 1][1] != index)]
    delays = []
    for t, index in new:
        found = timeline.latest_capture(index, t)
        if found is not None and t - found[1] < loop_ms:
            delays.append(t - found[1])
    span_s = (new[-1][0] - new[0][0]) / 1000.0 if len(new) > 1 else 0.0
    return ((len(new) - 1) / span_s if span_s > 0 else math.nan), delays


def first_readable(remote: list, k: int) -> int:
    """The first readable marker of the red run starting at ``remote[k]`` (-1 if none)."""
    for _, marker, red in remote[k:]:
        if not red:
            break
        if marker >= 0:
            return marker
    return -1


def onsets(rows: list, flag: int) -> list[tuple]:
    """The rows (time, ...) where column ``flag`` turns from 0 to 1."""
    return [row for k, row in enumerate(rows) if row[flag] and (k == 0 or not rows[k - 1][flag])]


def cue_latencies(raw: dict, timeline: CameraTimeline, episodes: list[dict], start_ms: float) -> dict:
    """Movement -> cue, on the video and in the panel, matched to their movement by frame markers.

    Each time the red band turns on in the annotated video, its marker says which camera frame
    (loop and index) the server had just processed; the movement it answers is the last ``cross``
    frame at or before it. A panel onset is the same analysis result seen in the DOM: it is paired
    with the band onset whose analysed frame was captured last before it (PAIR_MS of tolerance: the
    first red frame analysed may not be the first one shown) and timed from that band's movement.
    The video can lag the panel by seconds, so pairing by nearest time would pick the wrong one.
    Movements recorded long enough before the end that got no band onset count as missed; band
    onsets for a camera frame outside every reference cue (from its movement to its end, give or take
    FALSE_CUE_SLACK_FRAMES) count as false cues."""
    crosses = sorted(e["cross"] for e in episodes if e["band"])
    windows = [(e["cross"] - FALSE_CUE_SLACK_FRAMES, e["until"] + FALSE_CUE_SLACK_FRAMES) for e in episodes]
    remote = raw["remote"]
    band = []  # (display time, movement time, capture time of the frame shown)
    false_cues = 0
    for k, (t, marker, _) in enumerate(remote):
        if not remote[k][2] or (k and remote[k - 1][2]):
            continue
        marker = first_readable(remote, k)
        if marker >= 0 and t >= start_ms and not any(lo <= marker <= hi for lo, hi in windows):
            false_cues += 1  # the band came on for a camera frame the offline run shows no cue near
            continue
        found = timeline.latest_capture(marker, t) if marker >= 0 else None
        if found is None or not crosses:
            continue
        loop, captured = found
        before = [c for c in crosses if c <= marker]
        moved = timeline.capture(loop, before[-1]) if before else (
            timeline.capture(loop - 1, crosses[-1]) if loop else None)
        if moved is not None and moved >= start_ms:
            band.append((t, moved, captured))
    panel, unpaired, used = [], 0, set()
    for t, _ in onsets([e for e in raw["events"] if e[0] > start_ms], 1):
        pair = max((b for b in band if b[2] <= t + PAIR_MS), key=lambda b: b[2], default=None)
        if pair is None or pair in used or t < pair[1]:
            unpaired += 1
        else:
            used.add(pair)
            panel.append(t - pair[1])
    expected = [timeline.capture(loop, c) for loop in range(len(timeline.loops)) for c in crosses]
    expected = [t for t in expected if t is not None and start_ms <= t <= raw["end_ms"] - CUE_WINDOW_MS]
    missed = sum(1 for moved in expected if not any(b[1] == moved for b in band))
    return {"band_ms": [t - moved for t, moved, _ in band], "band_frame_age_ms": [t - c for t, _, c in band],
            "panel_ms": panel, "expected": len(expected), "video_missed": missed, "video_false": false_cues,
            "panel_unpaired": unpaired}


def figures(raw: dict, camera: dict, ref: dict) -> dict:
    """The benchmark's figures from the raw observations of ``run_live`` and the reference."""
    timeline = CameraTimeline(raw["local"], camera["fps"], camera["frames"])
    captions = caption_samples(raw["captions"], raw["start_ms"], raw["end_ms"])
    shown_fps, delays = shown_frames(raw["remote"], timeline, 1000.0 * camera["frames"] / camera["fps"])
    episodes = cue_episodes(ref)
    cues = cue_latencies(raw, timeline, episodes, raw["start_ms"] + SETTLE_MS)
    lags = [(e["cross"] - e["raw_cross"]) * 1000.0 / camera["fps"] for e in episodes if e["raw_cross"] is not None]
    split = server_split(raw.get("server", []), raw["remote"], timeline)
    return {
        **split,
        "browser_stats": {k: (round(v, 1) if isinstance(v, float) else v)
                          for k, v in raw.get("browser_stats", {}).items()},
        "seconds": round((raw["end_ms"] - raw["start_ms"]) / 1000.0, 1),
        "page_fps": summary([fps for fps, _ in captions]),
        "page_ms_per_frame": summary([ms for _, ms in captions]),
        "shown_fps": round(shown_fps, 1),
        "camera_fps": round(timeline.rate(), 1),
        "video_delay_ms": summary(delays),
        "cue_video_s": summary([ms / 1000.0 for ms in cues["band_ms"]], keep_values=True),
        "cue_panel_s": summary([ms / 1000.0 for ms in cues["panel_ms"]], keep_values=True),
        "cue_frame_age_ms": summary(cues["band_frame_age_ms"]),
        "debounce_s": ref["debounce_s"],
        "smoothing_lag_ms": summary(lags),
        "reference_episodes": episodes,
        "episodes": {k: cues[k] for k in ("expected", "video_missed", "video_false", "panel_unpaired")},
        "unreadable_markers": {"camera": sum(1 for r in raw["local"] if r[1] < 0), "camera_of": len(raw["local"]),
                               "video": sum(1 for r in raw["remote"] if r[1] < 0), "video_of": len(raw["remote"])},
    }


def server_split(server: list, remote: list, timeline: CameraTimeline) -> dict:
    """With --server-times: where a frame's camera-to-screen time goes (ms, medians over frames).

    ``in``: capture -> the server's callback has the frame (browser encode, network, aiortc's
    decode, the relay); ``server``: the callback's own time (the analysis and the drawing);
    ``out``: the callback returned -> the annotated frame displayed (the wait for the sender,
    aiortc's encode, network, the browser's jitter buffer, decode and display)."""
    if not server:
        return {}
    first_shown: dict[int, list[float]] = {}
    for t, marker, _ in remote:
        if marker >= 0:
            first_shown.setdefault(int(marker), []).append(t)
    parts: dict[str, list[float]] = {"in_ms": [], "server_ms": [], "out_ms": []}
    for marker, got_ms, done_ms in server:
        if marker < 0:
            continue
        found = timeline.latest_capture(int(marker), got_ms)
        shown = [t for t in first_shown.get(int(marker), []) if done_ms <= t <= done_ms + 2000.0]
        if found is None or not shown:
            continue
        parts["in_ms"].append(got_ms - found[1])
        parts["server_ms"].append(done_ms - got_ms)
        parts["out_ms"].append(shown[0] - done_ms)
    return {"split_" + k: summary(v) for k, v in parts.items()}


def summary(values: list[float], keep_values: bool = False) -> dict:
    """median, min, max, 90th percentile and count (NaN when empty), rounded for printing."""
    values = sorted(values)
    if not values:
        out = {"median": math.nan, "min": math.nan, "max": math.nan, "p90": math.nan, "n": 0}
    else:
        out = {"median": statistics.median(values), "min": values[0], "max": values[-1],
               "p90": values[min(len(values) - 1, int(math.ceil(0.9 * len(values))) - 1)], "n": len(values)}
    out = {k: (round(v, 3) if isinstance(v, float) else v) for k, v in out.items()}
    if keep_values:
        out["values"] = [round(v, 3) for v in values]
    return out


# -- the command -------------------------------------------------------------------------------------


def machine() -> str:
    """Cores and load average now, for judging the figures."""
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    return f"{os.cpu_count()} CPU(s), load average {load}"


def report(fig: dict) -> str:
    """The figures as a small table (standalone use)."""
    def rng(s: dict, fmt: str) -> str:
        return f"{s['median']:{fmt}} ({s['min']:{fmt}}-{s['max']:{fmt}}, n={s['n']})"

    lines = [
        f"page says: {rng(fig['page_fps'], '.0f')} frames per second analysed, "
        f"{rng(fig['page_ms_per_frame'], '.0f')} ms per frame",
        f"annotated frames shown: {fig['shown_fps']:.1f} per second (camera: {fig['camera_fps']:.1f} fps)",
        f"camera frame -> its annotated picture: median {fig['video_delay_ms']['median']:.0f} ms, "
        f"p90 {fig['video_delay_ms']['p90']:.0f} ms",
        f"movement -> cue band on the video: {rng(fig['cue_video_s'], '.2f')} s "
        f"(the rule's {fig['debounce_s']:g} s debounce + {fig['cue_video_s']['median'] - fig['debounce_s']:.2f} s "
        f"of analysis and display; the frame shown was {fig['cue_frame_age_ms']['median']:.0f} ms old)",
        f"movement -> cue in the side panel: {rng(fig['cue_panel_s'], '.2f')} s",
        f"not counted above: the smoothing's delay, offline {fig['smoothing_lag_ms']['median']:.0f} ms "
        f"(raw signal over the limit that much before the smoothed one)",
        f"cues on the video: {fig['episodes']['expected']} movements, {fig['episodes']['video_missed']} missed, "
        f"{fig['episodes']['video_false']} false; panel cues not paired with the video's: "
        f"{fig['episodes']['panel_unpaired']}; unreadable markers: {json.dumps(fig['unreadable_markers'])}",
    ]
    if fig.get("browser_stats"):
        lines.append(f"the browser's WebRTC statistics (ms per frame): {json.dumps(fig['browser_stats'])}")
    if "split_in_ms" in fig:
        lines.append(
            f"where the delay goes (medians, n={fig['split_server_ms']['n']}): capture -> server "
            f"{fig['split_in_ms']['median']:.0f} ms, server's callback {fig['split_server_ms']['median']:.0f} ms, "
            f"callback -> screen {fig['split_out_ms']['median']:.0f} ms")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("clip", nargs="?", default=str(DEFAULT_CLIP))
    parser.add_argument("--seconds", type=float, default=60.0, help="recording time once the video plays")
    parser.add_argument("--hold-seconds", type=float, default=HOLD_S, help="still first frame before the clip")
    parser.add_argument("--json", action="store_true", help="end with one line of JSON with every figure")
    parser.add_argument("--server-times", action="store_true",
                        help="run benchmarks/timed_app.py and split the delay into in, server and out")
    parser.add_argument("--raw", help="also save the raw observations and the reference to this JSON file")
    args = parser.parse_args(argv)

    print(f"machine: {machine()}", flush=True)
    with tempfile.TemporaryDirectory(prefix="fc-live-cam-") as tmp:
        camera = camera_file(args.clip, Path(tmp) / "camera.y4m", args.hold_seconds)
        started = time.perf_counter()
        ref = reference(camera)
        print(f"reference: {len(cue_episodes(ref))} cue onsets a loop in {camera['seconds']:.1f} s of camera "
              f"file ({time.perf_counter() - started:.0f} s to compute)", flush=True)
        raw = run_live(camera, ref["message"], args.seconds, server_times=args.server_times)
    if not raw["local"] or not raw["remote"]:
        raise SystemExit(f"live_page: the page read {len(raw['local'])} camera frames and {len(raw['remote'])} "
                         f"annotated frames: nothing to measure ({raw['errors'] or 'no error reported'})")
    if args.raw:
        Path(args.raw).write_text(json.dumps({"raw": raw, "reference": ref, "camera": {**camera, "path": None}}))
    fig = {"clip": Path(args.clip).name, **figures(raw, camera, ref), "machine_after": machine()}
    print(f"live page over {fig['seconds']:.0f} s ({fig['clip']} as bird dog); {fig['machine_after']}")
    print(report(fig))
    if args.json:
        print(json.dumps(fig))
    return 0


if __name__ == "__main__":
    sys.exit(main())
