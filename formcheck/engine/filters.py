"""The filters the engine applies to its signals, handed to it from outside (no-op by default).

``SignalFilters`` says which filter each kind of signal gets: every per-pose signal is smoothed;
the back outline's signals (signals.OUTLINE_SIGNALS) first go through a median that removes the
single-frame jumps of a breaking-up segmentation mask; each speed gets a filter of its own. The
filters themselves live in smoothing.py; each describes its own parameters, which is what the
summary's provenance records (``SignalFilters.provenance``), so the record cannot go stale.

``STANDARD_FILTERS`` are the ones every path (CLI, batch, live page, review) uses.
"""
from __future__ import annotations

import functools
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from ..signals import OUTLINE_SIGNALS, speed_source
from ..smoothing import CausalMedian, Chain, NoFilter, OneEuroFilter


class Filter(Protocol):
    def update(self, value: float, t_ms: float) -> float: ...

    def reset(self) -> None: ...

    def describe(self) -> str: ...


@dataclass(frozen=True)
class SignalFilters:
    """Makers of the engine's filters (each call a fresh filter for one signal)."""

    smoothing: Callable[[], Filter] = NoFilter  # every per-pose signal
    outline_median: Callable[[], Filter] = NoFilter  # before the smoothing, on the outline signals
    speed_smoothing: Callable[[], Filter] = NoFilter  # each speed, after differencing the smoothed signal

    def for_signal(self, name: str) -> Filter:
        if name in OUTLINE_SIGNALS:  # outline-based: single-frame jumps when the mask breaks up
            return Chain((self.outline_median(), self.smoothing()))
        return self.smoothing()

    def provenance(self) -> dict[str, str]:
        """What each filter does, in its own words (for the summary's provenance)."""
        return {"smoothing": self.smoothing().describe(),
                "outline_median": self.outline_median().describe(),
                "speed_smoothing": self.speed_smoothing().describe()}


# Differences of a smoothed angle still jitter; a second, slower filter (0.5 Hz, no speed
# adaptation) steadies the speed. The angle filters' own reasons are in smoothing.py.
STANDARD_FILTERS = SignalFilters(
    smoothing=OneEuroFilter,
    outline_median=CausalMedian,
    speed_smoothing=functools.partial(OneEuroFilter, min_cutoff_hz=0.5, beta=0.0),
)


class Speeds:
    """Rates of change (degrees per second) of the smoothed signals whose speed a rule watches."""

    def __init__(self, names: list[str], make_filter: Callable[[], Filter]):
        self.names = [n for n in names if speed_source(n)]
        self._filters = {n: make_filter() for n in self.names}
        self._previous: dict[str, tuple[float, float]] = {}  # source signal: (t_ms, value)

    def update(self, smooth: dict[str, float], t_ms: float) -> dict[str, float]:
        out = {}
        for name in self.names:
            source = speed_source(name)
            assert source is not None, "self.names keeps the speed signals only"
            value = smooth.get(source, math.nan)
            previous = self._previous.get(source)
            speed = math.nan
            if previous is not None and math.isfinite(value) and math.isfinite(previous[1]) and t_ms > previous[0]:
                speed = abs(value - previous[1]) / ((t_ms - previous[0]) / 1000.0)
            self._previous[source] = (t_ms, value)
            out[name] = self._filters[name].update(speed, t_ms)
        return out

    def reset(self) -> None:
        for f in self._filters.values():
            f.reset()
        self._previous.clear()
