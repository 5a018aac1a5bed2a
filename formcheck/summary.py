"""The session summary as JSON: one serialization for ``summary.json`` (``report.write_outputs``),
the store's ``summary_json`` column and the downloads.

Standard library and ``formcheck.types`` only, so the store can use it without importing the
report layer.
"""
from __future__ import annotations

import json
from collections.abc import Mapping

from formcheck.types import SessionResult


def summary_json(result: SessionResult, indent: int | None = 2, outputs: Mapping[str, int] | None = None) -> str:
    """``result.to_dict()`` as JSON; anything not JSON-native in the provenance (a Path) as text.

    ``outputs``: {file name: size in bytes} of the files written beside summary.json, listed
    under "outputs" so a reader can tell a complete output folder from a broken one.
    """
    data = result.to_dict()
    if outputs is not None:
        data["outputs"] = dict(outputs)
    return json.dumps(data, indent=indent, default=str, ensure_ascii=False)
