"""Recordings as the runtime replays them: any supported file -> samples ready for a Recognizer.

``har-live`` and ``har predict`` read their inputs here, so that one file gives the same windows
in both. A :class:`Replay` is either

- a 50 Hz recording (the bundled excerpt, a HAPT experiment, an official RawData file, an ``.npz``,
  or a timestamped file put on the 50 Hz grid with :func:`har.runtime.tools.resample.align_streams`; NaN
  grid samples are gaps), pushed with ``Recognizer.push``; or
- a timestamped recording whose two sensors share one time base (engine CSV, HyperIMU), pushed
  with ``Recognizer.push_timestamped`` when the recognizer has it.

Per-sample labels, when the file has them, give each window its true activity (the one label of
all its samples, as :func:`har.runtime.tools.labels.window_labels` defines it; 0 when mixed).

numpy only (plus the runtime's readers); the HAPT loaders of ``har.runtime.tools.hapt`` are
imported when a HAPT recording is asked for.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from har.features import SAMPLE_RATE_HZ, SPAN, regular_starts

from ..errors import SourceError
from .labels import window_labels
from .readers import TimedLabels, TimedRecording, read_any
from .resample import align_streams

__all__ = ["Replay", "load_source", "load_bundled", "load_experiment", "load_raw", "load_npz",
           "load_file", "window_truth"]

BUNDLED_RECORDING = "data/sample_recording.npz"
_RAW_NAME = re.compile(r"^acc_exp\d+_user\d+\.txt$")


@dataclass(eq=False)
class Replay:
    """A recording ready to be pushed into a :class:`~har.runtime.Recognizer`.

    Attributes
    ----------
    name : str
        What it is, for people (file, format, experiment).
    t : ndarray, shape (n,), float64
        Time of each sample in seconds since the first one (the 50 Hz grid, or the file's own
        timestamps for a timestamped replay).
    acc : ndarray, shape (n, 3), float64
        Acceleration with gravity in g; NaN rows are gaps.
    gyro : ndarray, shape (n, 3), float64
        Angular rate in rad/s; NaN rows are gaps.
    labels : ndarray, shape (n,), int64, or None
        Per-sample activity id (-1 none, 1..12), when the source has labels.
    timestamped : bool
        False: 50 Hz samples for ``Recognizer.push``. True: samples at the times ``t`` for
        ``Recognizer.push_timestamped`` (which resamples them itself).
    gaps : list of (int, int)
        Sample ranges with no data (NaN), for the summary.
    """

    name: str
    t: np.ndarray
    acc: np.ndarray
    gyro: np.ndarray
    labels: np.ndarray | None = None
    timestamped: bool = False
    gaps: list = field(default_factory=list)

    def __len__(self) -> int:
        return int(self.acc.shape[0])

    @property
    def duration_s(self) -> float:
        """Length of the recording in seconds (n samples at 50 Hz: n / 50)."""
        if len(self) == 0:
            return 0.0
        if self.timestamped:
            return float(self.t[-1] - self.t[0]) + 1.0 / SAMPLE_RATE_HZ
        return len(self) / SAMPLE_RATE_HZ

    def push(self, recognizer, a: int, b: int) -> list:
        """Push samples ``a:b`` into ``recognizer``; return the predictions they completed."""
        if self.timestamped:
            return recognizer.push_timestamped(self.t[a:b], self.acc[a:b], self.gyro[a:b],
                                               acc_unit="g", gyro_unit="rad/s")
        return recognizer.push(self.acc[a:b], self.gyro[a:b])

    def expected_windows(self, n_grid_samples: int) -> int:
        """Windows a loss-free run must produce from ``n_grid_samples`` 50 Hz samples."""
        return len(regular_starts(n_grid_samples))

    def true_label(self, prediction) -> int:
        """Activity id 1..6 of the window of ``prediction`` when all its samples share it, else 0.

        Returns 0 as well when the source has no labels.
        """
        if self.labels is None:
            return 0
        if not self.timestamped:
            if prediction.start + SPAN > len(self.labels):
                return 0
            return int(window_truth(self.labels, np.array([prediction.start]))[0])
        # The recognizer's grid has its own origin: look the labels up at the window's times.
        times = prediction.t_start + np.arange(SPAN) / SAMPLE_RATE_HZ
        idx = np.searchsorted(self.t, times + 1e-9, side="right") - 1
        inside = (idx >= 0) & (times <= self.t[-1] + 1e-9)
        if not inside.all():
            return 0
        return int(window_truth(self.labels[idx][None, :], np.array([0]))[0])


def window_truth(labels: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """Activity id of each window, 0 unless all its SPAN samples share one activity 1..6.

    Parameters
    ----------
    labels : ndarray, shape (n,) or (1, SPAN), int
        Per-sample labels (-1, 1..12); a (1, SPAN) row is one window's samples.
    starts : ndarray, shape (k,), int
        Window starts (samples).

    Returns
    -------
    ndarray, shape (k,), int64
    """
    return window_labels(np.asarray(labels).reshape(-1), starts)


# --------------------------------------------------------------------------------------------
# Sources


def load_bundled() -> Replay:
    """The real recording excerpt shipped with the runtime (HAPT experiment 3, test subject 2)."""
    from importlib import resources

    with resources.files("har.runtime").joinpath(BUNDLED_RECORDING).open("rb") as fh:
        with np.load(fh) as data:
            d = {k: data[k] for k in data.files}
    first = int(d.get("first_sample", 0))
    name = (f"sample_recording.npz: HAPT experiment {int(d['experiment'])}, user {int(d['user'])}, "
            f"samples {first}..{first + len(d['acc']) - 1}")
    return _grid_replay(name, d["acc"], d["gyro"], d["labels"])


def load_experiment(experiment: int) -> Replay:
    """A HAPT experiment (1..61) from the dataset cache; never downloads."""
    from .hapt import load_experiment as _load

    if not 1 <= experiment <= 61:
        raise SourceError("--experiment", f"HAPT has experiments 1..61, got {experiment}")
    rec = _load(experiment, download=False)
    return _grid_replay(f"HAPT experiment {rec.experiment}, user {rec.user} (dataset cache)",
                        rec.acc, rec.gyro, rec.labels)


def load_raw(path) -> Replay:
    """An official UCI RawData ``acc_expXX_userYY.txt`` (+ ``gyro_`` sibling, ``labels.txt``)."""
    from .hapt import read_matrix, read_raw_recording

    path = Path(path)
    _require_exists(path)
    labels_path = path.with_name("labels.txt")
    table = read_matrix(labels_path, 5) if labels_path.exists() else None
    rec = read_raw_recording(path, table)
    labels = rec.labels if table is not None else None
    what = "labels.txt" if table is not None else "no labels.txt"
    return _grid_replay(f"{path.name} (UCI RawData, experiment {rec.experiment}, user {rec.user}, "
                        f"{what})", rec.acc, rec.gyro, labels)


def load_npz(path) -> Replay:
    """An ``.npz`` with ``acc`` and ``gyro`` (n, 3) at 50 Hz (g, rad/s), optional ``labels``."""
    path = Path(path)
    _require_exists(path)
    try:
        with np.load(path, allow_pickle=False) as data:
            d = {k: data[k] for k in data.files}
    except (OSError, ValueError) as exc:
        raise SourceError(path.name, f"not a readable .npz file ({exc})") from None
    missing = [k for k in ("acc", "gyro") if k not in d]
    if missing:
        raise SourceError(path.name, f"missing array{'s' if len(missing) > 1 else ''} "
                          f"{', '.join(repr(m) for m in missing)}; found {sorted(d) or 'nothing'}")
    acc, gyro = d["acc"], d["gyro"]
    for key, a in (("acc", acc), ("gyro", gyro)):
        if a.ndim != 2 or a.shape[1] != 3 or a.dtype.kind not in "fiu":
            raise SourceError(path.name, f"array '{key}': expected numbers of shape (n, 3), "
                              f"got {a.dtype} {a.shape}")
    if len(acc) != len(gyro):
        raise SourceError(path.name, f"'acc' has {len(acc)} samples but 'gyro' has {len(gyro)}")
    if len(acc) == 0:
        raise SourceError(path.name, "no samples")
    rate = float(d["sample_rate_hz"]) if "sample_rate_hz" in d else SAMPLE_RATE_HZ
    if rate != SAMPLE_RATE_HZ:
        raise SourceError(path.name, f"sample_rate_hz is {rate:g}; .npz input must be "
                          f"{SAMPLE_RATE_HZ:g} Hz (write a CSV with timestamps to resample)")
    labels = d.get("labels")
    if labels is not None and labels.shape != (len(acc),):
        raise SourceError(path.name, f"'labels' has shape {labels.shape}, expected ({len(acc)},)")
    return _grid_replay(f"{path.name} (50 Hz arrays)", acc, gyro, labels)


def load_file(path, *, acc_unit: str | None = None, gyro_unit: str | None = None,
              timestamped: bool | None = None) -> Replay:
    """A recorder export or engine CSV (anything :func:`read_any` reads).

    Parameters
    ----------
    path : path-like
        Engine CSV, Sensor Logger folder or zip, phyphox or HyperIMU file.
    acc_unit, gyro_unit : str, optional
        Units of an engine CSV (see :func:`har.runtime.tools.readers.read_csv`).
    timestamped : bool, optional
        True: keep the file's own timestamps for ``Recognizer.push_timestamped``. False: resample
        onto the 50 Hz grid here. Default: timestamped when the recognizer offers
        ``push_timestamped`` and both sensors share one time base, else the grid.
    """
    path = Path(path)
    _require_exists(path)
    rec = read_any(path, acc_unit=acc_unit, gyro_unit=gyro_unit)
    same_clock = (len(rec.acc) == len(rec.gyro)) and np.array_equal(rec.acc.t, rec.gyro.t)
    if timestamped is None:
        from ..recognizer import Recognizer

        timestamped = same_clock and hasattr(Recognizer, "push_timestamped")
    if timestamped and same_clock:
        t = rec.acc.t
        labels = _labels_at(rec.labels, t)
        return Replay(rec.source, t - t[0], rec.acc.xyz, rec.gyro.xyz, labels, timestamped=True,
                      gaps=_nan_ranges(rec.acc.xyz, rec.gyro.xyz))
    return grid_from_timed(rec)


def grid_from_timed(rec: TimedRecording) -> Replay:
    """Resample a timestamped recording onto the 50 Hz grid (NaN in gaps)."""
    try:
        grid = align_streams(rec.acc, rec.gyro)
    except ValueError as exc:
        raise SourceError(rec.source.split(" (")[0], str(exc)) from None
    labels = _labels_at(rec.labels, grid.t)
    replay = _grid_replay(rec.source, grid.acc, grid.gyro, labels)
    replay.gaps = list(grid.gaps)
    return replay


def load_source(*, experiment: int | None = None, raw=None, csv=None, acc_unit=None,
                gyro_unit=None) -> Replay:
    """The source named by ``har-live``'s options (the bundled recording when none is given)."""
    if experiment is not None:
        return load_experiment(experiment)
    if raw is not None:
        return load_raw(raw)
    if csv is not None:
        return load_any_input(csv, acc_unit=acc_unit, gyro_unit=gyro_unit)
    return load_bundled()


def load_any_input(path, *, acc_unit=None, gyro_unit=None) -> Replay:
    """``har predict``'s inputs: ``.npz``, RawData ``acc_`` files, or anything ``read_any`` reads."""
    path = Path(path)
    if path.suffix.lower() == ".npz":
        return load_npz(path)
    if _RAW_NAME.match(path.name):
        return load_raw(path)
    return load_file(path, acc_unit=acc_unit, gyro_unit=gyro_unit)


# --------------------------------------------------------------------------------------------
# Helpers


def _require_exists(path: Path) -> None:
    if not path.exists():
        raise SourceError(str(path), "no such file or folder")


def _grid_replay(name, acc, gyro, labels) -> Replay:
    acc = np.ascontiguousarray(acc, dtype=np.float64)
    gyro = np.ascontiguousarray(gyro, dtype=np.float64)
    if labels is not None:
        labels = np.asarray(labels, dtype=np.int64)
    t = np.arange(len(acc)) / SAMPLE_RATE_HZ
    return Replay(name, t, acc, gyro, labels, timestamped=False, gaps=_nan_ranges(acc, gyro))


def _nan_ranges(acc, gyro) -> list:
    from .resample import gap_ranges

    return gap_ranges(~(np.isfinite(acc).all(axis=1) & np.isfinite(gyro).all(axis=1)))


def _labels_at(labels: TimedLabels | None, times: np.ndarray) -> np.ndarray | None:
    """Per-sample labels at ``times``: the label of the latest labelled sample at or before each."""
    if labels is None:
        return None
    idx = np.searchsorted(labels.t, times + 1e-9, side="right") - 1
    out = np.full(len(times), -1, dtype=np.int64)
    ok = (idx >= 0) & (times <= labels.t[-1] + 1e-9)
    out[ok] = labels.labels[idx[ok]]
    return out
