"""An analysis's output folder, written so that it is never half-written, never shared, never
written over its own input, and readable by its owner only.

``OutputFolder`` is what ``pipeline.analyze`` writes through:

- a lock (``.formcheck.lock``, an OS file lock released when the process ends, even by a
  crash): a second run into the same folder at the same time is refused with one line, instead
  of two runs interleaving their rows into one ``frames.csv``;
- the input is never one of the outputs: a recording inside ``--out`` named like an output
  (``trace.json``, ``annotated.mp4``) is refused before anything is written;
- every output is written under a temporary name (created 0600: health data, whatever the
  umask), flushed to disk (fsync) and renamed into place only when the whole run succeeded;
  ``summary.json`` goes last and lists every output with its size: it is the commit marker.
  A folder whose summary is missing, unreadable, or lists a file that is not there at that
  size is not complete (``is_complete``), and ``formcheck batch`` analyses it again;
- a failed run removes its temporary files; the outputs of an earlier complete run stay as
  they were.
"""
from __future__ import annotations

import json
import os
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import IO

# Re-exported: uploads, live and bundles import them here.
from formcheck.private_files import PRIVATE_DIR_MODE, PRIVATE_FILE_MODE, make_private_dir, make_private_file  # noqa: F401

OUTPUT_NAMES = ("annotated.mp4", "frames.csv", "reps.csv", "trace.json", "summary.json")
COMMIT_MARKER = "summary.json"
LOCK_NAME = ".formcheck.lock"
_PARTIAL_SUFFIX = ".part"


class OutputError(ValueError):
    """The output folder cannot be written as asked (in use, or it holds the input)."""


# -- locking --------------------------------------------------------------------------------------


class FolderLock:
    """An exclusive, non-blocking lock on ``folder/name``; ``OutputError`` when another run holds it."""

    def __init__(self, folder: Path, what: str, name: str = LOCK_NAME):
        self.path = folder / name
        self.what = what
        self._fd: int | None = None

    def __enter__(self) -> FolderLock:
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, PRIVATE_FILE_MODE)
        try:
            _lock(fd)
        except OSError:
            os.close(fd)
            raise OutputError(f"{self.path.parent}: another formcheck {self.what} is writing into this folder; "
                              "wait for it to finish or choose another output folder") from None
        self._fd = fd
        return self

    def __exit__(self, *exc_info) -> None:
        if self._fd is not None:
            os.close(self._fd)  # closing the descriptor releases the lock
            self._fd = None


if sys.platform == "win32":  # pragma: no cover - Windows (a platform check mypy follows, unlike an ImportError)
    import msvcrt

    def _lock(fd: int) -> None:
        msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
else:
    import fcntl

    def _lock(fd: int) -> None:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)


# -- the output folder ------------------------------------------------------------------------------


class OutputFolder:
    """Stage outputs under temporary names; ``commit`` renames them in, the summary last.

    Use as a context manager: entering locks the folder and checks the input; leaving without
    ``commit`` (an error) removes every staged file.
    """

    def __init__(self, folder: str | Path, input_path: str | Path | None = None):
        self.folder = Path(folder)
        self.input_path = Path(input_path) if input_path is not None else None
        self._staged: dict[str, Path] = {}
        self._lock = FolderLock(self.folder, "run")

    def __enter__(self) -> OutputFolder:
        refuse_input_among_outputs(self.input_path, self.folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self._lock.__enter__()
        try:
            self._remove_partials()  # a run killed outright (power cut, SIGKILL) left these
        except BaseException:
            self._lock.__exit__()
            raise
        return self

    def __exit__(self, *exc_info) -> None:
        try:
            for path in self._staged.values():
                path.unlink(missing_ok=True)
            self._staged.clear()
        finally:
            self._lock.__exit__()

    def stage(self, name: str) -> Path:
        """A new private (0600) temporary file in the folder that becomes ``name`` on commit."""
        if name not in OUTPUT_NAMES or name == COMMIT_MARKER:
            raise ValueError(f"{name!r} is not an output formcheck stages")
        fd, temp = tempfile.mkstemp(prefix=f".{name}.", suffix=_PARTIAL_SUFFIX, dir=self.folder)
        os.close(fd)
        self._staged[name] = Path(temp)
        return Path(temp)

    def write_text(self, name: str, text: str) -> None:
        # newline="": the CSV writers' own line endings, on every platform.
        with open(self.stage(name), "w", encoding="utf-8", newline="") as f:
            f.write(text)

    def commit(self, summary_text: Callable[[dict[str, int]], str]) -> None:
        """Flush every staged file, rename it into place, then write the summary last.

        ``summary_text`` gets ``{output name: size in bytes}`` and returns summary.json's text,
        which lists them. Outputs of an earlier run that this run did not write are removed:
        they would not match this summary.
        """
        for path in self._staged.values():
            _fsync(path)
        marker = self.folder / COMMIT_MARKER
        marker.unlink(missing_ok=True)  # from here until the end the folder reads as incomplete
        _fsync_dir(self.folder)
        sizes = {}
        for name, path in self._staged.items():
            sizes[name] = path.stat().st_size
            os.replace(path, self.folder / name)
        self._staged.clear()
        for name in OUTPUT_NAMES:
            if name not in sizes and name != COMMIT_MARKER:
                (self.folder / name).unlink(missing_ok=True)
        write_atomically(marker, lambda f: f.write(summary_text(sizes)))
        _fsync_dir(self.folder)

    def _remove_partials(self) -> None:
        for name in OUTPUT_NAMES:
            for path in self.folder.glob(f".{name}.*{_PARTIAL_SUFFIX}"):
                if not _same_file(path, self.input_path):
                    path.unlink(missing_ok=True)


def write_atomically(path: Path, write: Callable[[IO[str]], object]) -> None:
    """Write a text file whole or not at all: ``write(f)`` into a private temporary file beside
    ``path``, fsync, rename over ``path``. A failure leaves ``path`` as it was."""
    fd, temp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=_PARTIAL_SUFFIX, dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(temp, path)
    finally:
        Path(temp).unlink(missing_ok=True)


def refuse_input_among_outputs(input_path: Path | None, folder: Path) -> None:
    """``OutputError`` when writing the outputs into ``folder`` would replace the input file."""
    if input_path is None:
        return
    for name in OUTPUT_NAMES:
        if _same_file(folder / name, input_path):
            raise OutputError(f"{input_path}: the input is {name} of the output folder {folder}, which "
                              "formcheck would write over; move it or choose another output folder")


def is_complete(folder: Path) -> bool:
    """True when ``folder`` holds a committed run: a readable summary.json whose listed outputs
    are all present at the sizes it recorded."""
    try:
        summary = json.loads((folder / COMMIT_MARKER).read_text(encoding="utf-8"))
        listed = summary["outputs"]
        return isinstance(listed, dict) and all(
            name in OUTPUT_NAMES and (folder / name).stat().st_size == size for name, size in listed.items())
    except (OSError, ValueError, KeyError, TypeError):
        return False


def _same_file(a: Path, b: Path | None) -> bool:
    try:
        return b is not None and a.exists() and os.path.samefile(a, b)
    except OSError:
        return False


def _fsync(path: Path) -> None:
    with open(path, "rb") as f:
        os.fsync(f.fileno())


def _fsync_dir(folder: Path) -> None:
    """Make the renames in ``folder`` durable (POSIX; Windows cannot open a folder)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:  # pragma: no cover - Windows
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
