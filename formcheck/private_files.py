"""Files and folders readable by their owner only (health data), whatever the umask.

Standard library only: the store (the database and the kept videos), the output folders
(``outputs``), uploads, the live recorder and bundles all make their files private this way.
"""
from __future__ import annotations

import os
from pathlib import Path

PRIVATE_FILE_MODE = 0o600
PRIVATE_DIR_MODE = 0o700


def make_private_dir(folder: Path) -> Path:
    """``folder`` created if needed and made 0700 (owner only), whatever the umask."""
    folder.mkdir(parents=True, exist_ok=True, mode=PRIVATE_DIR_MODE)
    os.chmod(folder, PRIVATE_DIR_MODE)
    return folder


def make_private_file(path: Path) -> Path:
    """``path`` created empty if missing and made 0600 (owner only), whatever the umask."""
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT, PRIVATE_FILE_MODE))
    os.chmod(path, PRIVATE_FILE_MODE)
    return path
