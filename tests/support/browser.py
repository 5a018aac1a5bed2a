"""Helpers for end-to-end browser tests: real Streamlit server + headless Chromium + fake webcam.

The pieces, in the order a test uses them:

* ``write_y4m`` turns a clip into the raw Y4M file Chromium's fake camera plays (in a loop),
  with OpenCV + numpy only, so ffmpeg is not a test dependency.
* ``run_streamlit`` starts ``python -m streamlit run <app>`` on a free localhost port, waits
  for ``/_stcore/health`` to answer ``ok`` and stops the server afterwards; ``server.kill()``
  crashes it instead (SIGKILL, no clean shutdown) for fault-injection tests.
* ``launch_chromium`` starts Debian's ``/usr/bin/chromium`` through Playwright (never
  Playwright's own browser download: the test machines are offline).
* ``click_webrtc_start`` / ``click_webrtc_stop`` press the streamlit-webrtc buttons, which live
  inside the component's iframe.
* ``wait_for_text``, ``wait_until``, ``wait_for_webrtc_video`` poll with timeouts instead of
  sleeping; ``wait_for_app_idle`` waits for a script run to end (after a click, wait first for
  something the new run draws: see its docstring); ``select_option`` picks in a selectbox;
  ``screenshot`` saves PNGs under ``test-artifacts/screenshots/`` (git-ignored), and
  ``screenshots_if_failed`` takes one of each open page when a test fails.

DOM facts relied on (Streamlit 1.60, streamlit-webrtc 0.79):

* a v1 custom component is an ``<iframe data-testid="stCustomComponentV1">`` whose ``title`` is
  the component name, ``"<module>.<name>"``: for streamlit-webrtc that is
  ``streamlit_webrtc.component.webrtc_streamer`` (one iframe per ``webrtc_streamer`` call);
* inside it the MUI button text is ``Start`` / ``Stop`` (shown upper-case by CSS
  ``text-transform``, so match case-insensitively) plus ``Select Device``; while signalling or
  playing the ``Start`` button is replaced by ``Stop``; the received stream is shown in a
  ``<video>`` element of the same iframe.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Mapping, Sequence
from fractions import Fraction
from pathlib import Path
from re import Pattern
from typing import Any, TypeVar

from tests.support.paths import REPO_ROOT

ARTIFACTS_DIR = REPO_ROOT / "test-artifacts"
SCREENSHOT_DIR = ARTIFACTS_DIR / "screenshots"

# Debian's Chromium. FORMCHECK_CHROMIUM overrides it (e.g. a developer's own Chrome build).
CHROMIUM_PATH = os.environ.get("FORMCHECK_CHROMIUM", "/usr/bin/chromium")

WEBRTC_COMPONENT_NAME = "streamlit_webrtc.component.webrtc_streamer"
WEBRTC_IFRAME_SELECTOR = f'iframe[title="{WEBRTC_COMPONENT_NAME}"]'
_START_RE = re.compile(r"^\s*start\s*$", re.IGNORECASE)
_STOP_RE = re.compile(r"^\s*stop\s*$", re.IGNORECASE)

BASE_CHROMIUM_ARGS = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    # Real host ICE candidates instead of "<uuid>.local" mDNS names, which aiortc cannot resolve.
    "--disable-features=WebRtcHideLocalIpsWithMdns",
)

T = TypeVar("T")


# --------------------------------------------------------------------------- fake camera


def write_y4m(
    video_path: str | os.PathLike,
    y4m_path: str | os.PathLike,
    max_frames: int | None = None,
    loop: int = 1,
) -> dict:
    """Convert ``video_path`` into an uncompressed Y4M (I420) file for Chromium's fake camera.

    The clip keeps its size; an odd width or height loses its last column/row (I420 needs even
    dimensions). The clip is written ``loop`` times in a row, then cut at ``max_frames`` if
    given. Chromium replays the file in a loop by itself, so a few seconds are usually enough
    (each 360x640 frame is 345,600 bytes).

    Returns ``{"path", "width", "height", "fps", "frames", "mean_brightness"}`` where
    ``mean_brightness`` is the mean of the written frames' grey level (0-255), handy for checking
    that what reaches the server really is this clip.
    """
    import cv2
    import numpy as np

    if loop < 1:
        raise ValueError(f"loop must be >= 1, got {loop}")
    if max_frames is not None and max_frames < 1:
        raise ValueError(f"max_frames must be >= 1, got {max_frames}")
    video_path = Path(video_path)
    y4m_path = Path(y4m_path)
    if not video_path.is_file():
        raise FileNotFoundError(video_path)
    y4m_path.parent.mkdir(parents=True, exist_ok=True)

    width = height = None
    written = 0
    brightness_sum = 0.0
    with open(y4m_path, "wb", buffering=1 << 20) as out:
        # Frames are streamed (a full 360x640 clip is ~300 MB as BGR arrays); each loop
        # re-opens the clip rather than seeking, which some containers do inexactly.
        for _ in range(loop):
            cap = cv2.VideoCapture(str(video_path))
            if not cap.isOpened():
                raise RuntimeError(f"OpenCV cannot open {video_path}")
            try:
                if width is None:
                    fps = cap.get(cv2.CAP_PROP_FPS) or 0.0
                read_this_loop = 0
                while max_frames is None or written < max_frames:
                    ok, bgr = cap.read()
                    if not ok:
                        break
                    read_this_loop += 1
                    if width is None:
                        h, w = bgr.shape[:2]
                        width, height = w - w % 2, h - h % 2
                        if width < 2 or height < 2:
                            raise RuntimeError(f"clip {video_path} is too small: {w}x{h}")
                        # Y4M wants a rational rate: 30 stays 30:1, 29.97 becomes 30000:1001.
                        if fps <= 0 or fps > 240:
                            fps = 30.0
                        if abs(fps - round(fps)) < 1e-3:
                            rate = f"{round(fps)}:1"
                        else:
                            rate = f"{round(fps * 1001)}:1001"
                        out.write(
                            f"YUV4MPEG2 W{width} H{height} F{rate} Ip A1:1 C420jpeg\n".encode("ascii")
                        )
                    bgr = np.ascontiguousarray(bgr[:height, :width])
                    # OpenCV's I420 is BT.601 studio range (Y 16-235), which is what Chromium
                    # assumes for camera frames, so brightness survives the round trip.
                    i420 = cv2.cvtColor(bgr, cv2.COLOR_BGR2YUV_I420)  # rows: Y, then U, then V
                    out.write(b"FRAME\n")
                    out.write(i420.tobytes())
                    brightness_sum += float(cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY).mean())
                    written += 1
            finally:
                cap.release()
            if read_this_loop == 0 or (max_frames is not None and written >= max_frames):
                break
    if written == 0:
        y4m_path.unlink(missing_ok=True)
        raise RuntimeError(f"no frames decoded from {video_path}")
    fps_value = float(Fraction(*map(int, rate.split(":"))))
    return {
        "path": y4m_path,
        "width": width,
        "height": height,
        "fps": fps_value,
        "frames": written,
        "mean_brightness": brightness_sum / written,
    }


# --------------------------------------------------------------------------- streamlit server


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now (the OS picks it; tiny race until it is used)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class StreamlitServer(str):
    """The base URL (a ``str``, e.g. ``http://127.0.0.1:PORT``) plus the process and its logs."""

    process: subprocess.Popen
    port: int
    stdout_path: Path
    stderr_path: Path
    own_process_group: bool

    def __new__(cls, url: str, *, process, port, stdout_path, stderr_path, own_process_group=False):
        obj = super().__new__(cls, url)
        obj.process = process
        obj.port = port
        obj.stdout_path = Path(stdout_path)
        obj.stderr_path = Path(stderr_path)
        obj.own_process_group = own_process_group
        return obj

    def kill(self, timeout_s: float = 10.0) -> None:
        """Crash the server: SIGKILL, so nothing of the app's clean-up code runs.

        With ``run_streamlit(..., own_process_group=True)`` the whole process group gets it (the
        server and anything it started); otherwise only the server process. Returns once the
        server process is gone; its port is then free for a restart.
        """
        if self.process.poll() is None:  # not reaped yet, so its pid cannot name anyone else
            if self.own_process_group:
                os.killpg(self.process.pid, signal.SIGKILL)
            else:
                self.process.kill()
        self.process.wait(timeout=timeout_s)

    def stderr(self, tail_chars: int | None = 20_000) -> str:
        return _read_tail(self.stderr_path, tail_chars)

    def stdout(self, tail_chars: int | None = 20_000) -> str:
        return _read_tail(self.stdout_path, tail_chars)

    def logs(self, tail_chars: int = 20_000) -> str:
        return (
            f"--- streamlit stdout (tail) ---\n{self.stdout(tail_chars)}\n"
            f"--- streamlit stderr (tail) ---\n{self.stderr(tail_chars)}"
        )


def _read_tail(path: Path, tail_chars: int | None) -> str:
    try:
        text = Path(path).read_text(errors="replace")
    except OSError as e:
        return f"<cannot read {path}: {e}>"
    if tail_chars is not None and len(text) > tail_chars:
        text = "[...]\n" + text[-tail_chars:]
    return text


def _port_is_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        # Like the server will: TIME_WAIT leftovers are fine, a listening socket is not.
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def _health_ok(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as resp:
            return resp.status == 200 and resp.read().strip() == b"ok"
    except (urllib.error.URLError, OSError, ValueError):
        return False


def _stop_process(proc: subprocess.Popen, grace_s: float = 10.0, group: bool = False) -> None:
    """SIGTERM, then SIGKILL after ``grace_s``; with ``group``, to the process group it leads.

    Signals go out only while ``proc`` is not reaped: until then its pid (and group id) cannot
    have been reused by some unrelated process.
    """
    if proc.poll() is not None:
        return

    def send(sig: int) -> None:
        try:
            if group:
                os.killpg(proc.pid, sig)
            else:
                proc.send_signal(sig)
        except ProcessLookupError:
            pass

    send(signal.SIGTERM)
    try:
        proc.wait(timeout=grace_s)
    except subprocess.TimeoutExpired:
        send(signal.SIGKILL)
        proc.wait(timeout=10)


@contextlib.contextmanager
def run_streamlit(
    app_path: str | os.PathLike,
    data_dir: str | os.PathLike,
    port: int | None = None,
    env: Mapping[str, str] | None = None,
    timeout_s: float = 60,
    cwd: str | os.PathLike | None = None,
    extra_args: Sequence[str] = (),
    own_process_group: bool = False,
) -> Iterator[StreamlitServer]:
    """Run ``python -m streamlit run app_path`` on 127.0.0.1 and yield its base URL.

    ``FORMCHECK_DATA_DIR`` is set to ``data_dir`` (created if missing) and ``env`` is added on top
    of the current environment; the repo root is put first on ``PYTHONPATH`` and is the default
    working directory (so the repo's ``.streamlit/config.toml`` applies; the command-line flags
    override its port and address). Waits up to ``timeout_s`` for ``/_stcore/health`` to answer
    ``ok``. The yielded value is a ``str`` subclass with ``.process``, ``.port`` and
    ``.logs()`` (readable inside the ``with`` only); if the server fails to start, or the ``with``
    body raises, the server's captured output is attached to the error (as an exception note).
    On exit the server is terminated (killed if it does not stop within 10 s)
    and its logs deleted. With ``own_process_group`` the server leads a process group of its own,
    so ``server.kill()`` can crash it together with anything it started (stopping it at the exit
    signals the whole group too); the server may be killed inside the ``with`` and, once
    ``kill()`` has returned, a new one started on the same ``port`` and data folder.
    """
    app_path = Path(app_path).resolve()
    if not app_path.is_file():
        raise FileNotFoundError(app_path)
    data_dir = Path(data_dir)
    data_dir.mkdir(parents=True, exist_ok=True)
    if port is None:
        port = free_port()
    elif not _port_is_free(port):
        # Otherwise the health check below could be answered by whatever already listens there.
        raise RuntimeError(f"port {port} on 127.0.0.1 is already in use")

    full_env = dict(os.environ)
    full_env["FORMCHECK_DATA_DIR"] = str(data_dir)
    full_env["PYTHONPATH"] = os.pathsep.join(
        p for p in (str(REPO_ROOT), full_env.get("PYTHONPATH", "")) if p
    )
    full_env["PYTHONUNBUFFERED"] = "1"
    if env:
        full_env.update({k: str(v) for k, v in env.items()})

    cmd = [
        sys.executable, "-m", "streamlit", "run", str(app_path),
        "--server.headless", "true",
        "--server.port", str(port),
        "--server.address", "127.0.0.1",
        "--browser.gatherUsageStats", "false",
        # No source watcher: nothing is edited during a test, and inotify limits vary on CI.
        "--server.fileWatcherType", "none",
        *extra_args,
    ]
    base_url = f"http://127.0.0.1:{port}"
    health_url = f"{base_url}/_stcore/health"

    log_dir = Path(tempfile.mkdtemp(prefix=f"streamlit-{port}-"))
    stdout_path, stderr_path = log_dir / "stdout.log", log_dir / "stderr.log"
    with open(stdout_path, "wb") as out, open(stderr_path, "wb") as err:
        proc = subprocess.Popen(
            cmd,
            cwd=str(cwd or REPO_ROOT),
            env=full_env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=err,
            start_new_session=own_process_group,
        )
    server = StreamlitServer(
        base_url, process=proc, port=port, stdout_path=stdout_path, stderr_path=stderr_path,
        own_process_group=own_process_group,
    )
    try:
        deadline = time.monotonic() + timeout_s
        # Streamlit prints its URL (with the port) once its server is listening; requiring it too
        # makes sure the health answer comes from this process.
        while not (f":{port}" in server.stdout(None) and _health_ok(health_url)):
            if proc.poll() is not None:
                raise RuntimeError(
                    f"streamlit exited with code {proc.returncode} before {health_url} answered ok\n"
                    f"command: {' '.join(cmd)}\n{server.logs()}"
                )
            if time.monotonic() > deadline:
                raise TimeoutError(
                    f"{health_url} did not answer ok within {timeout_s:g} s\n"
                    f"command: {' '.join(cmd)}\n{server.logs()}"
                )
            time.sleep(0.2)

        try:
            yield server
        except BaseException as e:
            if hasattr(e, "add_note") and not isinstance(e, (KeyboardInterrupt, SystemExit)):
                e.add_note(server.logs())
            raise
    finally:
        _stop_process(proc, group=own_process_group)
        shutil.rmtree(log_dir, ignore_errors=True)


# --------------------------------------------------------------------------- browser


def launch_chromium(
    playwright: Any,
    fake_camera_y4m: str | os.PathLike | None = None,
    headless: bool = True,
    extra_args: Sequence[str] = (),
    **launch_kwargs: Any,
):
    """Launch ``/usr/bin/chromium`` through Playwright (never ``playwright install``).

    With ``fake_camera_y4m`` the browser grants camera/microphone requests without asking and its
    camera plays that Y4M file in a loop.
    """
    if not Path(CHROMIUM_PATH).exists():
        raise RuntimeError(
            f"Chromium not found at {CHROMIUM_PATH}. Install Debian's package "
            "(`apt-get install chromium`, which scripts/setup-env.sh test does); do not run "
            "`playwright install`, the test machines are offline."
        )
    args = list(BASE_CHROMIUM_ARGS)
    if fake_camera_y4m is not None:
        y4m = Path(fake_camera_y4m).resolve()
        if not y4m.is_file():
            raise FileNotFoundError(y4m)
        args += [
            "--use-fake-ui-for-media-stream",
            "--use-fake-device-for-media-stream",
            f"--use-file-for-fake-video-capture={y4m}",
        ]
    args += list(extra_args)
    return playwright.chromium.launch(
        executable_path=CHROMIUM_PATH, headless=headless, args=args, **launch_kwargs
    )


def webrtc_frame(page, index: int = 0):
    """FrameLocator of the ``index``-th streamlit-webrtc component on the page."""
    return page.locator(WEBRTC_IFRAME_SELECTOR).nth(index).content_frame


def webrtc_button(page, label: str, index: int = 0):
    """Locator of the button labelled ``label`` (case-insensitive, whole text) in the component."""
    pattern = re.compile(rf"^\s*{re.escape(label)}\s*$", re.IGNORECASE)
    return webrtc_frame(page, index).get_by_role("button", name=pattern)


def click_webrtc_start(page, timeout_ms: int = 30_000, index: int = 0) -> None:
    """Click START in the ``index``-th webrtc component, then wait until STOP replaces it.

    Playwright's auto-waiting covers the iframe appearing, the component rendering and the button
    becoming enabled. STOP appearing means the browser has its camera stream and is signalling.
    """
    from playwright.sync_api import expect

    frame = webrtc_frame(page, index)
    frame.get_by_role("button", name=_START_RE).click(timeout=timeout_ms)
    expect(frame.get_by_role("button", name=_STOP_RE)).to_be_visible(timeout=timeout_ms)


def click_webrtc_stop(page, timeout_ms: int = 30_000, index: int = 0) -> None:
    """Click STOP in the ``index``-th webrtc component, then wait until START is back."""
    from playwright.sync_api import expect

    frame = webrtc_frame(page, index)
    frame.get_by_role("button", name=_STOP_RE).click(timeout=timeout_ms)
    expect(frame.get_by_role("button", name=_START_RE)).to_be_visible(timeout=timeout_ms)


def wait_for_webrtc_video(page, timeout_ms: int = 30_000, index: int = 0) -> dict:
    """Wait until the component's ``<video>`` (the stream sent back by the server) is playing.

    Returns ``{"width", "height", "time"}`` of that video element.
    """
    handle = page.locator(WEBRTC_IFRAME_SELECTOR).nth(index).element_handle(timeout=timeout_ms)
    frame = handle.content_frame()
    if frame is None:
        raise RuntimeError("the streamlit-webrtc iframe has no content frame")
    result = frame.wait_for_function(
        """() => {
            const v = document.querySelector('video');
            if (!v || v.readyState < 2 || v.videoWidth === 0 || v.currentTime <= 0) return null;
            return {width: v.videoWidth, height: v.videoHeight, time: v.currentTime};
        }""",
        timeout=timeout_ms,
        polling=200,
    )
    return result.json_value()


# An init script (``context.add_init_script`` or ``page.add_init_script``): every RTCPeerConnection the
# page's frames create is kept in window.__fcPeerConnections, for webrtc_video_stats.
PEER_CONNECTIONS_JS = """
(() => {
  const PC = window.RTCPeerConnection;
  if (!PC || window.__fcPeerConnections) return;
  window.__fcPeerConnections = [];
  window.RTCPeerConnection = class extends PC {
    constructor(...args) { super(...args); window.__fcPeerConnections.push(this); }
  };
})();
"""

# The browser's own WebRTC statistics of a frame's connections (averages per frame, ms): the
# camera's outgoing video (out_*) and the annotated video coming back (in_*), and whether the
# server's answer negotiated the playout-delay extension (formcheck.ui.webrtc).
WEBRTC_STATS_JS = """
async () => {
  const out = {};
  for (const pc of window.__fcPeerConnections || []) {
    const answer = pc.remoteDescription ? pc.remoteDescription.sdp : "";
    out.playout_delay_negotiated = answer.includes("rtp-hdrext/playout-delay");
    const report = await pc.getStats();
    report.forEach(s => {
      if (s.kind !== "video") return;
      if (s.type === "inbound-rtp" && s.framesDecoded) Object.assign(out, {
        in_jitter_buffer_ms: 1000 * s.jitterBufferDelay / s.jitterBufferEmittedCount,
        in_jitter_buffer_target_ms: 1000 * (s.jitterBufferTargetDelay || 0) / s.jitterBufferEmittedCount,
        in_processing_ms: 1000 * (s.totalProcessingDelay || 0) / s.framesDecoded,
        in_decode_ms: 1000 * s.totalDecodeTime / s.framesDecoded,
        in_frames_decoded: s.framesDecoded, in_frames_dropped: s.framesDropped, in_jitter_ms: 1000 * s.jitter,
        in_size: `${s.frameWidth}x${s.frameHeight}`});
      if (s.type === "outbound-rtp" && s.framesEncoded) Object.assign(out, {
        out_encode_ms: 1000 * s.totalEncodeTime / s.framesEncoded,
        out_frames_encoded: s.framesEncoded, out_size: `${s.frameWidth}x${s.frameHeight}`,
        out_quality_limitation: s.qualityLimitationReason});
    });
  }
  return out;
}
"""


def webrtc_video_stats(page, index: int = 0) -> dict:
    """WEBRTC_STATS_JS in the camera component's iframe (needs PEER_CONNECTIONS_JS as an init script)."""
    frame = page.locator(WEBRTC_IFRAME_SELECTOR).nth(index).element_handle().content_frame()
    if frame is None:
        raise RuntimeError("the streamlit-webrtc iframe has no content frame")
    return frame.evaluate(WEBRTC_STATS_JS)


def open_app(page, url: str, timeout_ms: int = 30_000) -> None:
    """Go to a Streamlit app and wait until its first script run has finished."""
    page.goto(url, timeout=timeout_ms)
    page.locator('[data-testid="stApp"]').wait_for(timeout=timeout_ms)
    wait_for_app_idle(page, timeout_ms)


def wait_for_app_idle(page, timeout_ms: int = 30_000) -> None:
    """Wait until no script run is under way (``stApp``'s ``data-test-script-state``).

    The attribute is ``initial`` before the first run, then ``running`` / ``notRunning`` (or
    ``rerunRequested``, ``stopRequested``, ``compilationError``). A ``st.fragment(run_every=...)``
    flips it back to ``running`` briefly; the auto-retrying assertion still catches the idle state.

    Right after a click this can return before the run the click asked for has even started:
    a widget's message to the server does not change the attribute, which still says
    ``notRunning`` (from the run before) until the server reports the new run, and until then the
    previous page, with all its widgets, is still on screen (more than half of sidebar page
    changes on an idle 2-core machine). So after a click first wait for something only the new
    run draws (a page's title, a widget's new value), then for this.
    """
    from playwright.sync_api import expect

    expect(page.locator('[data-testid="stApp"]')).to_have_attribute(
        "data-test-script-state", re.compile(r"^(notRunning|compilationError)$"), timeout=timeout_ms
    )


def wait_for_text(
    page, text: str | Pattern[str], timeout_ms: int = 30_000, exact: bool = False
):
    """Wait until ``text`` (a substring, or a regex) is visible in the main Streamlit page.

    Uses Playwright's auto-retrying locators, so Streamlit re-rendering the element in between
    is fine; hidden matches are ignored. Only the main document is searched, not component
    iframes. Returns the locator.
    """
    from playwright.sync_api import expect

    locator = page.get_by_text(text, exact=exact).filter(visible=True).first
    expect(locator).to_be_visible(timeout=timeout_ms)
    return locator


def select_option(page, label: str, option: str, timeout_ms: int = 30_000) -> None:
    """Choose the option whose text starts with ``option`` in the selectbox labelled ``label``.

    Nothing is clicked when it is chosen already. The page must have finished drawing the run
    that shows this selectbox (see ``wait_for_app_idle``): while a run is replacing one page by
    another, the old page's widgets are still on screen, and a click can open a list that the new
    page then removes. Returns once the selectbox shows the option; the run this starts may still
    be drawing the rest of the page, so wait for what it draws next.
    """
    from playwright.sync_api import expect

    box = page.get_by_role("combobox", name=label)
    chosen = re.compile("^" + re.escape(option))
    if not chosen.search(box.input_value(timeout=timeout_ms)):
        box.click(timeout=timeout_ms)
        page.get_by_role("option", name=chosen).click(timeout=timeout_ms)
    expect(box).to_have_value(chosen, timeout=timeout_ms)
    wait_for_app_idle(page, timeout_ms)


@contextlib.contextmanager
def screenshots_if_failed(prefix: str, pages: dict):
    """On a failure inside, a screenshot ``<prefix>_failed_<tag>`` of each page of ``pages``.

    ``pages`` (tag -> page) may be filled in as the pages are opened inside the ``with``.
    """
    try:
        yield
    except Exception:
        for tag, page in pages.items():
            try:
                screenshot(page, f"{prefix}_failed_{tag}")
            except Exception:  # noqa: BLE001 - the page may be gone; the real error matters
                pass
        raise


def streamlit_exceptions(page) -> list:
    """Texts of the exception boxes Streamlit shows on the page (empty when there are none)."""
    return page.locator('[data-testid="stException"]').all_inner_texts()


def wait_until(
    predicate: Callable[[], T],
    timeout_s: float,
    interval_s: float = 0.2,
    message: str | Callable[[], str] = "condition not met",
) -> T:
    """Call ``predicate`` until it returns something truthy and return that; else TimeoutError."""
    deadline = time.monotonic() + timeout_s
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            msg = message() if callable(message) else message
            raise TimeoutError(f"after {timeout_s:.1f} s: {msg}")
        time.sleep(interval_s)


_CONTENT_HEIGHT_JS = """() => Math.max(
    document.scrollingElement ? document.scrollingElement.scrollHeight : 0,
    ...Array.from(document.querySelectorAll(
        '[data-testid="stMain"], [data-testid="stAppViewContainer"]'
    )).map(e => e.scrollHeight))"""


def screenshot(page, name: str, full_page: bool = True, max_height: int = 4000) -> Path:
    """Save a PNG of ``page`` to ``test-artifacts/screenshots/<name>.png`` and return its path.

    Streamlit scrolls inside its main container rather than the document, so Playwright's own
    ``full_page`` would stop at the viewport: with ``full_page`` the viewport is grown to the
    content height (at most ``max_height`` px) for the shot, then restored.
    """
    safe = re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("._") or "screenshot"
    SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOT_DIR / f"{safe}.png"
    viewport = page.viewport_size
    grown = False
    if full_page and viewport:
        height = min(int(page.evaluate(_CONTENT_HEIGHT_JS) or 0), max_height)
        if height > viewport["height"]:
            page.set_viewport_size({"width": viewport["width"], "height": height})
            grown = True
    try:
        page.screenshot(path=str(path), full_page=full_page)
    finally:
        if grown:
            page.set_viewport_size(viewport)
    return path
