"""What a reader hands on: a recording described, its samples still in the file, read in chunks.

A reader only finds the layout: which file and columns hold time, acceleration and angular rate,
what the app states about their units and sign. It returns a :class:`Recording` whose sensors
yield :class:`RawChunk` s in the file's own units; recognising units and clocks from the data and
putting the sensors on one clock is :mod:`har.runtime.tools.sources`' job.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Iterator

import numpy as np

from har.features.contract import UNLABELLED, activity_id

from ...errors import SourceError

#: Time units a clock column may have, with their length in seconds.
TIME_UNITS = {"s": 1.0, "ms": 1e-3, "us": 1e-6, "ns": 1e-9}


@dataclass
class RawChunk:
    """Consecutive rows of one sensor file (or of a file holding both sensors).

    Attributes
    ----------
    t : ndarray, shape (n,), float64
        Times in the file's unit (see :attr:`Sensor.time_unit`), strictly increasing.
    xyz : ndarray, shape (n, 3) or (n, 6), float64
        x, y, z in the file's unit; acc then gyro for a file holding both. NaN rows are gaps.
    lines : ndarray, shape (n,), int64
        1-based line of each row in its file.
    labels : ndarray, shape (n,), int64, or None
        Per-row activity id (-1 unlabelled, 1..12) when the file has a label column.
    """

    t: np.ndarray
    xyz: np.ndarray
    lines: np.ndarray
    labels: np.ndarray | None = None


@dataclass
class Sensor:
    """One sensor of a recording: where its samples are and what the app says about them.

    Attributes
    ----------
    file : str
        The file as the user knows it (``export.zip/Gyroscope.csv``), for messages.
    time_column : str
        Header of the clock column ("" for files without one).
    time_unit : str or None
        "s", "ms", "us" or "ns" when the app states it; None: told from the spacing of the samples.
    time_default : str
        Unit assumed by the format's documentation when it states none (a notice is printed when
        the data say otherwise).
    unit : str
        Unit the format states or documents: "g" or "m/s^2" (acceleration), "rad/s" or "deg/s".
    sign : float
        +1, or -1 for acceleration reported with the opposite sign to Android's (iOS).
    chunks : callable
        Returns a fresh iterator of :class:`RawChunk`.
    """

    file: str
    time_column: str
    time_unit: str | None
    unit: str
    chunks: Callable[[], Iterator[RawChunk]] | None
    time_default: str = "s"
    sign: float = 1.0


@dataclass
class Recording:
    """A recording found in a file, folder or zip; its samples are read when iterated.

    Attributes
    ----------
    name : str
        What was read, for people: path and layout.
    app : str
        The app (or format) that wrote it.
    platform : str or None
        "android" or "ios" when known.
    acc, gyro : Sensor
        The two sensors. For a ``joint`` recording only ``acc.chunks`` is set: it yields both,
        xyz of shape (n, 6).
    joint : bool
        Both sensors on the same rows (one clock).
    grid : bool
        No clock: one row per sample at the engine's 50 Hz (UCI RawData).
    annotations : Annotations or None
        Labels as times with activities (Sensor Logger's ``Annotation.csv``).
    labelled : bool
        Rows carry labels (a ``label`` column, ``labels.txt``) or annotations exist.
    size_bytes : int
        Bytes of the acceleration file, to estimate the duration before reading it all.
    notes : list of str
        Facts the reader established that the user should hear (platform guessed, ...).
    """

    name: str
    app: str
    platform: str | None
    acc: Sensor
    gyro: Sensor
    joint: bool = False
    grid: bool = False
    annotations: "Annotations | None" = None
    labelled: bool = False
    size_bytes: int = 0
    notes: list = field(default_factory=list)


@dataclass
class Annotations:
    """Activity labels given as times: each holds from its time until the next (or its end).

    Attributes
    ----------
    t : ndarray, shape (m,), float64
        Start times in seconds, on the same clock as the sensors (after their unit conversion).
    end : ndarray, shape (m,), float64
        End times in seconds (the next start, or start + duration when the app gives one).
    labels : ndarray, shape (m,), int64
        Activity ids (-1 for a text that names no activity).
    """

    t: np.ndarray
    end: np.ndarray
    labels: np.ndarray

    def at(self, times: np.ndarray) -> np.ndarray:
        """Activity id at each time (seconds), -1 outside every annotation."""
        idx = np.searchsorted(self.t, times, side="right") - 1
        out = np.full(len(times), UNLABELLED, dtype=np.int64)
        ok = idx >= 0
        ok[ok] = times[ok] < self.end[idx[ok]]
        out[ok] = self.labels[idx[ok]]
        return out


def check_increasing(name: str, column: str, chunks: Iterator[RawChunk]) -> Iterator[RawChunk]:
    """Pass chunks on, refusing a time that does not increase (the message names the line)."""
    prev_t, prev_line = None, None
    for c in chunks:
        if c.t.size == 0:
            continue
        full = c.t if prev_t is None else np.concatenate([[prev_t], c.t])
        lines = c.lines if prev_t is None else np.concatenate([[prev_line], c.lines])
        step = np.diff(full)
        bad = np.flatnonzero(~(step > 0))
        if bad.size:
            i = int(bad[0]) + 1
            if step[i - 1] < 0:
                problem = (f"time goes backwards: {float(full[i])!r} after {float(full[i - 1])!r} "
                           f"on line {lines[i - 1]}")
            else:
                problem = f"time {float(full[i])!r} repeats the time of line {lines[i - 1]}"
            raise SourceError(name, problem, line=int(lines[i]), column=column)
        prev_t, prev_line = float(c.t[-1]), int(c.lines[-1])
        yield c
