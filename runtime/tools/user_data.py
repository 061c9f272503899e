"""A user's labelled recordings -> the windows ``har personalize`` and ``har update`` learn from.

Each file (anything ``har predict`` reads, with per-sample labels) is put on the 50 Hz grid by the
engine's one resampler (the same path as ``Recognizer(timestamped=True)``) and cut
into windows every :data:`~har.runtime.personalize.TRAIN_HOP` samples. A window is labelled when all
its samples carry one activity of the model; windows touching a gap are dropped. A *segment* is a
run of one label within one file: its first seconds, and the first seconds after the gravity
direction turns abruptly inside it, are the phone being put in place and are dropped
(:func:`har.runtime.placement.settled`).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from har.features import extract_recording, regular_starts

from ..errors import SourceError
from ..online_resample import OnlineResampler
from ..personalize import TRAIN_HOP, UserWindows
from ..placement import gravity_directions, settled
from .labels import window_labels
from .sources import load_any_input

__all__ = ["load_labelled", "recording_windows", "read_user_windows"]


def load_labelled(path, **options) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A labelled recording on the 50 Hz grid; refuses a file without labels.

    Parameters
    ----------
    path : path-like
        Anything ``har predict`` reads.
    **options
        Reader options (``acc_unit``, ``gyro_unit``, ``time_unit``, ``columns``, ...).

    Returns
    -------
    acc : ndarray, shape (n, 3)
        g, gravity included, 50 Hz; NaN rows are gaps.
    gyro : ndarray, shape (n, 3)
        rad/s.
    labels : ndarray, shape (n,), int64
        Activity id of each grid sample: the label of the latest recorded sample at or before it.
    """
    source = load_any_input(path, **{k: v for k, v in options.items() if v is not None})
    if not source.labelled:
        raise SourceError(Path(path).name, "no labels: give each sample an activity (a 'label' column, "
                          "Sensor Logger annotations, or labels.txt)")
    acc, gyro, labels = [], [], []
    resampler = None if source.grid else OnlineResampler()
    last_t, last_label = -np.inf, -1
    for chunk in source.chunks():
        chunk_labels = chunk.labels if chunk.labels is not None else np.full(len(chunk), -1)
        if resampler is None:
            acc.append(chunk.acc)
            gyro.append(chunk.gyro)
            labels.append(chunk_labels)
            continue
        a, g, _ = resampler.push(chunk.t, chunk.acc, chunk.gyro, gyro_t=chunk.gyro_t)
        grid_t = resampler.grid_time(np.arange(resampler.n_emitted - len(a), resampler.n_emitted))
        t = np.concatenate([[last_t], chunk.t])
        lab = np.concatenate([[last_label], chunk_labels])
        acc.append(a)
        gyro.append(g)
        labels.append(lab[np.searchsorted(t, grid_t, side="right") - 1])
        last_t, last_label = float(chunk.t[-1]), int(chunk_labels[-1])
    if not acc:
        return np.empty((0, 3)), np.empty((0, 3)), np.empty(0, dtype=np.int64)
    return np.concatenate(acc), np.concatenate(gyro), np.concatenate(labels).astype(np.int64)


def recording_windows(acc, gyro, labels, *, segment_base: int = 0, hop: int = TRAIN_HOP,
                      classes=None) -> UserWindows:
    """Labelled, settled windows of one 50 Hz recording.

    Parameters
    ----------
    acc : ndarray, shape (n, 3)
        Acceleration with gravity, g (NaN rows are gaps).
    gyro : ndarray, shape (n, 3)
        Angular rate, rad/s.
    labels : ndarray, shape (n,), int
        Activity id of each sample (-1 unlabelled).
    segment_base : int
        Segment ids of this recording start here (keep them distinct across files).
    hop : int
        Samples between window starts.
    classes : sequence of int, optional
        Activity ids that count (default: the model's six).
    """
    n = len(acc)
    empty = UserWindows(np.empty((0, 561)), np.empty(0, np.int64), np.empty(0, np.int64), np.empty(0, np.int64))
    if n < 129:
        return empty
    starts, X = extract_recording(acc, gyro, regular_starts(n, hop), on_nonfinite="gap")
    y = window_labels(labels, starts) if classes is None else window_labels(labels, starts, classes)
    ok = (y > 0) & np.isfinite(X).all(axis=1)
    # A segment is a run of one sample label; a gap ends it too.
    lab = np.asarray(labels).copy()
    lab[~(np.isfinite(acc).all(axis=1) & np.isfinite(gyro).all(axis=1))] = -2
    run_id = np.concatenate([[0], np.cumsum(lab[1:] != lab[:-1])])
    segment = segment_base + run_id[starts]
    windows = UserWindows(X[ok], y[ok], segment[ok], starts[ok])
    keep, _ = settled(gravity_directions(windows.X), windows.start, windows.segment)
    return windows.select(keep)


def read_user_windows(paths, *, acc_unit=None, gyro_unit=None, classes=None) -> tuple[UserWindows, list[str]]:
    """Windows of all files (see :func:`recording_windows`) and a one-line description of each file."""
    parts, described, base = [], [], 0
    for p in paths:
        acc, gyro, labels = load_labelled(p, acc_unit=acc_unit, gyro_unit=gyro_unit)
        w = recording_windows(acc, gyro, labels, segment_base=base, classes=classes)
        base += len(acc) + 1
        parts.append(w)
        described.append(f"{Path(p).name}: {len(w)} windows")
    if not parts:
        raise SourceError("(no files)", "give at least one labelled recording")
    X = np.concatenate([w.X for w in parts]) if parts else np.empty((0, 561))
    return UserWindows(X, *(np.concatenate([getattr(w, f) for w in parts]) for f in ("y", "segment", "start"))), described
