"""Whole recordings in memory, in the engine's units: for tests, scripts and small files.

The command-line tools never use these (they stream through
:func:`har.runtime.tools.sources.iter_chunks`); :func:`read_all` reads everything of a recording at
once, on one clock, and is meant for recordings that fit in memory.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True, eq=False)
class TimedStream:
    """One sensor's samples at their own times.

    Attributes
    ----------
    t : ndarray, shape (n,), float64
        Sample times in seconds, strictly increasing.
    xyz : ndarray, shape (n, 3), float64
        x, y, z in the engine's units: acceleration in g with gravity, or angular rate in rad/s.
        NaN rows are gaps.
    """

    t: np.ndarray
    xyz: np.ndarray

    def __post_init__(self) -> None:
        t = np.ascontiguousarray(self.t, dtype=np.float64)
        xyz = np.ascontiguousarray(self.xyz, dtype=np.float64)
        if t.ndim != 1 or xyz.shape != (t.size, 3):
            raise ValueError(f"TimedStream needs t of shape (n,) and xyz of shape (n, 3), "
                             f"got {t.shape} and {xyz.shape}")
        object.__setattr__(self, "t", t)
        object.__setattr__(self, "xyz", xyz)

    def __len__(self) -> int:
        return self.t.size


@dataclass(frozen=True, eq=False)
class TimedLabels:
    """Activity labels at the times of the samples they were written with.

    Attributes
    ----------
    t : ndarray, shape (n,), float64
        Times in seconds, strictly increasing.
    labels : ndarray, shape (n,), int64
        Activity id 1..12, or -1 for unlabelled.
    """

    t: np.ndarray
    labels: np.ndarray

    def __post_init__(self) -> None:
        t = np.ascontiguousarray(self.t, dtype=np.float64)
        labels = np.ascontiguousarray(self.labels, dtype=np.int64)
        if t.ndim != 1 or labels.shape != t.shape:
            raise ValueError(f"TimedLabels needs t and labels of the same shape (n,), "
                             f"got {t.shape} and {labels.shape}")
        object.__setattr__(self, "t", t)
        object.__setattr__(self, "labels", labels)


@dataclass(frozen=True, eq=False)
class TimedRecording:
    """A recording as read from a file: both sensors on their own time bases.

    Attributes
    ----------
    acc : TimedStream
        Acceleration with gravity, in g.
    gyro : TimedStream
        Angular rate, in rad/s.
    source : str
        What was read, for people: file name and format.
    labels : TimedLabels or None
        Activity labels, when the file carries them.
    dropped_rows : int
        Rows dropped because they only repeated the previous row's values (HyperIMU pads its
        fixed-rate output that way); 0 for formats that never do.
    """

    acc: TimedStream
    gyro: TimedStream
    source: str
    labels: TimedLabels | None = None
    dropped_rows: int = 0


def read_all(path, **options) -> TimedRecording:
    """Every sample of the recording at ``path``, in g and rad/s, each sensor at its own times.

    Parameters
    ----------
    path : path-like
        Anything :func:`har.runtime.tools.readers.open_recording` reads.
    **options
        As for :func:`har.runtime.tools.sources.iter_chunks` (``columns``, ``acc_unit``,
        ``gyro_unit``, ``time_unit``, ``platform``, ``notify``).

    Returns
    -------
    TimedRecording
        Times in seconds since the first acc sample; the gyro's are its own when the file gives
        it a clock of its own, else the acc's.
    """
    from ..sources import open_source

    stream = open_source(path, **options)
    parts = list(stream.chunks())
    if not parts:
        t = np.empty(0)
        acc = gyro = np.empty((0, 3))
        labels = None
    else:
        t = np.concatenate([p.t for p in parts])
        acc = np.concatenate([p.acc for p in parts])
        gyro = np.concatenate([p.gyro for p in parts])
        gyro_t = np.concatenate([p.t if p.gyro_t is None else p.gyro_t for p in parts])
        labels = (np.concatenate([p.labels for p in parts]) if parts[0].labels is not None else None)
    return TimedRecording(acc=TimedStream(t, acc), gyro=TimedStream(t if not parts else gyro_t, gyro), source=stream.name,
                          labels=None if labels is None else TimedLabels(t, labels))
