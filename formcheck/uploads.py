"""Analysing an uploaded recording and storing it as a session (source 'upload').

The upload is written into ``<data dir>/tmp/`` (never the system temp folder: patient video
stays where the data lives; folders 0700, files 0600), analysed with ``pipeline.analyze`` and
deleted; ``remove_stale_uploads`` clears what a crash left there, at start-up. The annotated
video is kept, in ``<data dir>/videos/``, only when the user asks for it.

Every problem reaches the caller as ``UploadError`` with a message for the person uploading:
not a video, empty, damaged, too large, unknown type.
"""
from __future__ import annotations

import shutil
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

from .backends import BackendError
from .outputs import PRIVATE_FILE_MODE, make_private_dir, make_private_file
from .pipeline import AnalyzeOptions, analyze
from .spec import ExerciseSpec
from .store import VIDEO_DIR, Store, StoreError
from .types import SessionResult
from .video import VideoError

MAX_UPLOAD_MB = 500  # keep in step with server.maxUploadSize in .streamlit/config.toml
UPLOAD_TYPES = ("mp4", "mov", "webm", "avi")
UPLOAD_WORK_DIR = "tmp"
UPLOAD_PREFIX = "upload-"
# An upload's folder untouched this long belongs to no running analysis (the longest video read,
# limits.MAX_DURATION_S, analyses in well under this even on a slow computer): a crash left it.
STALE_UPLOAD_S = 12 * 60 * 60
_CHUNK = 1 << 20


class UploadError(ValueError):
    """The upload cannot be analysed; the message says why in plain words."""


def check_upload(filename: str, size_bytes: int, max_mb: int = MAX_UPLOAD_MB) -> str:
    """Return the file's lower-case suffix (".mp4") or raise UploadError."""
    suffix = Path(filename or "").suffix.lower()
    if suffix.lstrip(".") not in UPLOAD_TYPES:
        raise UploadError(
            f"“{filename}” is not one of the video types this app reads "
            f"({', '.join(t.upper() for t in UPLOAD_TYPES)})."
        )
    if size_bytes <= 0:
        raise UploadError(f"“{filename}” is empty (0 bytes). Please choose the recording again.")
    if size_bytes > max_mb * 1024 * 1024:
        raise UploadError(
            f"“{filename}” is {size_bytes / 1024 / 1024:,.0f} MB; the limit is {max_mb} MB. "
            "Trim the recording to the exercise, or record at a lower resolution, and try again."
        )
    return suffix


def remove_stale_uploads(data_dir: Path, now: float | None = None) -> int:
    """Delete upload folders a crash left in ``<data dir>/tmp/`` (patient video); return how many.

    Called at start-up. A folder counts as stale when nothing in it changed for STALE_UPLOAD_S,
    so an upload that another app process is analysing right now is left alone.
    """
    now = time.time() if now is None else now
    removed = 0
    for folder in (data_dir / UPLOAD_WORK_DIR).glob(f"{UPLOAD_PREFIX}*"):
        if folder.is_symlink() or not folder.is_dir():
            continue  # not a folder formcheck made
        try:
            newest = max(p.lstat().st_mtime for p in [folder, *folder.rglob("*")])
        except OSError:
            continue
        if now - newest > STALE_UPLOAD_S:
            shutil.rmtree(folder, ignore_errors=True)
            removed += 1
    return removed


def analyze_upload(
    store: Store,
    patient_id: int,
    spec: ExerciseSpec,
    data: BinaryIO,
    filename: str,
    size_bytes: int,
    keep_video: bool = False,
    progress: Callable[[int, int], None] | None = None,
    pain_before: int | None = None,
    pain_after: int | None = None,
) -> tuple[int, SessionResult]:
    """Analyse an uploaded recording and store it; return (session id, result)."""
    suffix = check_upload(filename, size_bytes)
    work = store.data_dir / UPLOAD_WORK_DIR
    try:
        make_private_dir(work)
        folder = Path(tempfile.mkdtemp(prefix=UPLOAD_PREFIX, dir=work))  # 0700
    except OSError as exc:
        raise UploadError(f"Cannot write into the data folder {work}: {exc.strerror or exc}") from exc
    try:
        video_in = make_private_file(folder / f"input{suffix}")  # never the user's file name: it could be anything
        with open(video_in, "wb") as out:
            shutil.copyfileobj(data, out, _CHUNK)
        try:
            result = analyze(video_in, spec, folder / "out", AnalyzeOptions(write_video=keep_video),
                             progress=progress)
        except VideoError as exc:
            reason = str(exc).split(": ", 1)[-1]  # drop the temporary path
            raise UploadError(f"“{filename}” could not be read as a video: {reason}.") from exc
        except BackendError as exc:
            raise UploadError(f"The pose model could not start: {exc}") from exc
        if result.frames == 0:
            raise UploadError(f"“{filename}” has no video frames that could be decoded.")
        trace_path = folder / "out" / "trace.json"
        trace = trace_path.read_text(encoding="utf-8") if trace_path.is_file() else None
        return _store(store, patient_id, spec, result, trace, folder / "out" / "annotated.mp4" if keep_video else None,
                      pain_before, pain_after, filename)
    except OSError as exc:
        raise UploadError(f"The upload could not be saved on this computer: {exc.strerror or exc}") from exc
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _store(store: Store, patient_id: int, spec: ExerciseSpec, result: SessionResult, trace: str | None,
           annotated: Path | None, pain_before: int | None, pain_after: int | None,
           filename: str) -> tuple[int, SessionResult]:
    session_id = store.start_session(patient_id, spec.name, spec.title, spec.version, "upload", pain_before)
    kept = None
    try:
        if annotated is not None and annotated.is_file():
            kept = make_private_dir(store.data_dir / VIDEO_DIR) / f"upload-{session_id}-{uuid.uuid4().hex[:8]}.mp4"
            shutil.move(str(annotated), kept)
            kept.chmod(PRIVATE_FILE_MODE)
        store.finish_session(session_id, result, pain_after=pain_after, status="recorded", video_path=kept,
                             trace_json=trace, notes=f"Uploaded file: {filename}")
    except (OSError, StoreError):
        if kept is not None:
            kept.unlink(missing_ok=True)
        try:
            store.delete_session(session_id)  # no half-stored session
        except StoreError:
            pass
        raise
    return session_id, result
