"""A user's labelled recordings -> the windows ``har personalize`` and ``har update`` learn from.

Each file (anything ``har predict`` reads, with per-sample labels) is put on the 50 Hz grid and cut
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
from ..personalize import TRAIN_HOP, UserWindows
from ..placement import gravity_directions, settled
from .labels import window_labels
from .sources import load_file, load_npz, load_raw, _RAW_NAME

__all__ = ["load_labelled", "recording_windows", "read_user_windows"]


def load_labelled(path, *, acc_unit=None, gyro_unit=None):
    """A recording on the 50 Hz grid with its per-sample labels; refuses a file without labels."""
    path = Path(path)
    if path.suffix.lower() == ".npz":
        replay = load_npz(path)
    elif _RAW_NAME.match(path.name):
        replay = load_raw(path)
    else:
        replay = load_file(path, acc_unit=acc_unit, gyro_unit=gyro_unit, timestamped=False)
    if replay.labels is None:
        raise SourceError(path.name, "no labels: give each sample an activity (a 'label' column, "
                          "Sensor Logger annotations, or labels.txt)")
    return replay


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
        replay = load_labelled(p, acc_unit=acc_unit, gyro_unit=gyro_unit)
        w = recording_windows(replay.acc, replay.gyro, replay.labels, segment_base=base, classes=classes)
        base += len(replay) + 1
        parts.append(w)
        described.append(f"{Path(p).name}: {len(w)} windows")
    if not parts:
        raise SourceError("(no files)", "give at least one labelled recording")
    X = np.concatenate([w.X for w in parts]) if parts else np.empty((0, 561))
    return UserWindows(X, *(np.concatenate([getattr(w, f) for w in parts]) for f in ("y", "segment", "start"))), described
