"""Recordings as the runtime replays them: any supported input -> chunks of samples for a Recognizer.

``har-live`` and ``har predict`` read their inputs here, so that one file gives the same windows in
both, and both hold only a few thousand samples at a time whatever the recording's length.

Chunks
------
:func:`open_source` recognises an input and returns a :class:`Source`; ``Source.chunks()`` yields
:class:`SampleChunk` s: acceleration (g, with gravity, Android sign) and angular rate (rad/s), in
seconds since the first acceleration sample, a few thousand rows at a time. When the two sensors
have clocks of their own, a chunk carries the gyroscope's own times (``gyro_t``) and the
recognizer's one resampler puts both on the 50 Hz grid; :func:`iter_chunks` only interleaves the
two files by time, so that neither sensor runs far ahead of the other.

:class:`Feeder` pushes the chunks into a :class:`~har.runtime.Recognizer` built for the source
(``push`` for 50 Hz grid sources, ``push_timestamped`` otherwise). Holes and clock jumps are the
resampler's: a jump costs a few hundred NaN samples and a :class:`~har.runtime.GapEvent`, never
memory in proportion to its length.

Units, clocks and rates are recognised from the first chunk of each sensor
(:mod:`har.runtime.tools.detect`), announced on stderr and overridable (``acc_unit``,
``gyro_unit``, ``time_unit``); a rate under :data:`~har.runtime.tools.detect.MIN_RATE_HZ` is
refused with the rate found.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator

import numpy as np

from har.features import SAMPLE_RATE_HZ, SPAN, regular_starts

from ..errors import SourceError
from ..online_resample import GapEvent
from ..units import to_g, to_rad_s
from . import detect
from .labels import window_labels
from .readers import CHUNK_ROWS, RawChunk, Recording, open_recording
from .readers.recording import TIME_UNITS

__all__ = ["SampleChunk", "Source", "open_source", "iter_chunks", "merge_clocks", "Feeder",
           "load_source", "load_any_input", "load_bundled", "load_experiment", "load_npz",
           "read_streams", "add_input_options", "input_options", "MAX_GAP_S"]

BUNDLED_RECORDING = "data/sample_recording.npz"
#: Longest spacing of the interpolated sensor bridged by :func:`merge_clocks`, seconds.
MAX_GAP_S = 0.5
_RAW_NAME = re.compile(r"^acc_exp\d+_user\d+\.txt$")


@dataclass
class SampleChunk:
    """Consecutive samples of both sensors.

    Attributes
    ----------
    t : ndarray, shape (n,), float64
        Seconds since the recording's first sample, strictly increasing: the acc's times (and the
        gyro's, unless ``gyro_t`` is given).
    acc : ndarray, shape (n, 3), float64
        Acceleration with gravity in g (Android sign); NaN rows are gaps.
    gyro : ndarray, shape (n, 3) or (m, 3), float64
        Angular rate in rad/s; NaN rows are gaps.
    labels : ndarray, shape (n,), int64, or None
        Activity id per acc sample (-1 none, 1..12) when the recording is labelled.
    gyro_t : ndarray, shape (m,), float64, or None
        The gyroscope's own times, seconds on the same origin as ``t``, when it has a clock of its own.
    """

    t: np.ndarray
    acc: np.ndarray
    gyro: np.ndarray
    labels: np.ndarray | None = None
    gyro_t: np.ndarray | None = None

    def __len__(self) -> int:
        return int(self.t.size)

    def slice(self, a: int, b: int) -> "SampleChunk":
        """Acc samples ``a:b``, and the gyro samples of the same stretch of time."""
        labels = None if self.labels is None else self.labels[a:b]
        if self.gyro_t is None:
            return SampleChunk(self.t[a:b], self.acc[a:b], self.gyro[a:b], labels)
        lo = 0 if a == 0 else int(np.searchsorted(self.gyro_t, self.t[a], side="left"))
        hi = self.gyro_t.size if b >= len(self) else int(np.searchsorted(self.gyro_t, self.t[b], side="left"))
        return SampleChunk(self.t[a:b], self.acc[a:b], self.gyro[lo:hi], labels, self.gyro_t[lo:hi])


@dataclass(eq=False)
class Source:
    """An input ready to stream into a Recognizer.

    Attributes
    ----------
    name : str
        What it is, for people (file, app, layout).
    grid : bool
        True: 50 Hz samples for ``Recognizer.push``. False: timestamped samples for
        ``Recognizer.push_timestamped``.
    labelled : bool
        Chunks carry per-sample labels.
    duration_s : float
        Length in seconds: exact for in-memory sources, estimated from the file size before
        reading, exact after :meth:`chunks` has been read to the end.
    info : dict
        What was recognised: app, platform, units, rate_hz (for reports).
    """

    name: str
    grid: bool
    labelled: bool
    duration_s: float
    _chunks: Callable[[], Iterator[SampleChunk]] = field(repr=False, default=None)
    info: dict = field(default_factory=dict)
    #: For files: ``streams()`` -> (acc chunks, gyro chunks or None when joint), engine units,
    #: each sensor on its own clock in seconds (see :func:`read_streams`).
    streams: Callable | None = field(repr=False, default=None)
    #: Sensor Logger annotations, when the export has them.
    annotations: object = field(repr=False, default=None)

    def chunks(self) -> Iterator[SampleChunk]:
        """The samples, chunk by chunk; updates ``duration_s`` when the end is reached."""
        last = None
        for c in self._chunks():
            if len(c):
                last = c
                yield c
        if last is not None:
            self.duration_s = float(last.t[-1]) + (1.0 / SAMPLE_RATE_HZ if self.grid else 0.0)


# --------------------------------------------------------------------------------------------
# Opening inputs


def load_source(*, experiment: int | None = None, raw=None, csv=None, **options) -> Source:
    """The source named by ``har-live``'s options (the bundled recording when none is given)."""
    if experiment is not None:
        return load_experiment(experiment)
    if raw is not None:
        return open_source(raw, **options)
    if csv is not None:
        return load_any_input(csv, **options)
    return load_bundled()


def load_any_input(path, **options) -> Source:
    """``har predict``'s and ``har-live --csv``'s inputs: ``.npz`` or anything the readers read."""
    path = Path(path)
    if path.suffix.lower() == ".npz" and not path.is_dir():
        return load_npz(path)
    return open_source(path, **options)


def open_source(path, *, columns=None, acc_unit: str | None = None, gyro_unit: str | None = None,
                time_unit: str | None = None, platform: str = "auto",
                notify=detect.notice) -> Source:
    """Recognise ``path`` and check its units, clock and rate (first chunk only); samples later.

    Parameters
    ----------
    path : path-like
        File, folder or zip as exported.
    columns : str, optional
        ``t=...,acc=...,gyro=...`` for a CSV of any layout.
    acc_unit : {"g", "m/s^2"}, optional
        Override the recognised acceleration unit.
    gyro_unit : {"rad/s", "deg/s"}, optional
        Override the recognised angular rate unit.
    time_unit : {"s", "ms", "us", "ns"}, optional
        Override the recognised time unit of every clock column.
    platform : {"auto", "android", "ios"}
        Sensor Logger's platform when its metadata does not say.
    notify : callable
        Called with each one-line notice (default: printed on stderr).

    Raises
    ------
    SourceError
        Unrecognised, refused (gravity removed, no gyroscope, rate too low...), or a bad cell in
        the first chunk. Later chunks raise it while streaming.
    """
    rec = open_recording(path, columns=columns, platform=platform)
    for note in rec.notes:
        notify(note)
    return iter_chunks(rec, acc_unit=acc_unit, gyro_unit=gyro_unit, time_unit=time_unit,
                       notify=notify)


def read_streams(path, **options):
    """Both sensors of a recording, whole, each on its own clock (tests, scripts, small files).

    Parameters
    ----------
    path : path-like
    **options
        As for :func:`open_source`.

    Returns
    -------
    TimedRecording
        Acc in g, gyro in rad/s, times in seconds on the file's clock (not shifted to 0); labels
        of a labelled joint file.
    """
    from .readers.timed import TimedLabels, TimedRecording, TimedStream

    source = open_source(path, **options)
    acc_it, gyro_it = source.streams()
    parts = list(acc_it)
    t = np.concatenate([c.t for c in parts])
    xyz = np.concatenate([c.xyz for c in parts])
    labels = None
    if source.annotations is not None:
        labels = TimedLabels(t, source.annotations.at(t))
    elif parts[0].labels is not None:
        labels = TimedLabels(t, np.concatenate([c.labels for c in parts]))
    if gyro_it is None:
        return TimedRecording(TimedStream(t, xyz[:, :3]), TimedStream(t, xyz[:, 3:6]),
                              source.name, labels)
    g = list(gyro_it)
    return TimedRecording(TimedStream(t, xyz), TimedStream(np.concatenate([c.t for c in g]),
                                                           np.concatenate([c.xyz for c in g])),
                          source.name, labels)


# --------------------------------------------------------------------------------------------
# Recognition and one clock


@dataclass
class _Probed:
    """A sensor's first raw chunk read ahead, with what was recognised from it."""

    first: RawChunk | None
    rest: Iterator[RawChunk]
    seconds: float                # length of one time unit in seconds
    rate_hz: float
    time_unit: str

    def raw(self) -> Iterator[RawChunk]:
        if self.first is not None:
            yield self.first
        yield from self.rest


def _probe(sensor, override: str | None, notify) -> _Probed:
    it = sensor.chunks()
    first = next(it, None)
    if first is None:
        raise SourceError(sensor.file, "no samples")
    if override is not None:
        unit = override
        rate = 1.0 / (detect.median_spacing(first.t) * TIME_UNITS[unit])
    elif sensor.time_unit is not None:
        unit = sensor.time_unit
        rate = 1.0 / (detect.median_spacing(first.t) * TIME_UNITS[unit])
    else:
        unit, epoch, rate = detect.infer_time_unit(first.t, sensor.time_default)
        if unit != sensor.time_default or epoch:
            notify(f"{sensor.file}: time column '{sensor.time_column}' looks like "
                   f"{detect.TIME_NAMES[unit]}{' since the Unix epoch' if epoch else ''} "
                   f"(median spacing {detect.median_spacing(first.t):.6g} = {rate:.1f} Hz): "
                   f"converted to seconds; pass --time-unit {sensor.time_default} to override")
    if first.t.size < 2:
        raise SourceError(sensor.file, "only one sample: cannot tell the sample rate")
    if not rate >= detect.MIN_RATE_HZ:
        spacing = 1.0 / rate
        raise SourceError(sensor.file, f"sampled at {rate:.3g} Hz (median spacing "
                          f"{spacing * 1e3:.0f} ms): the model needs at least "
                          f"{detect.NOMINAL_MIN_RATE_HZ:g} Hz; record at 50 Hz or faster"
                          + ("" if override or sensor.time_unit else
                             f" (or pass --time-unit if '{sensor.time_column}' is not in "
                             f"{detect.TIME_NAMES[unit]})"))
    if rate < detect.FULL_RATE_HZ:
        notify(f"{sensor.file}: sampled at {rate:.3g} Hz, below the model's 50 Hz: motion above "
               f"{rate / 2:.3g} Hz is missing and accuracy is lower (at 20 Hz about 5 windows in 6 "
               "keep the label a 50 Hz recording gives)")
    return _Probed(first, it, TIME_UNITS[unit], rate, unit)


def _acc_unit(sensor, xyz, rate, override, notify) -> str:
    if override is not None:
        return override
    unit, magnitude = detect.infer_acc_unit(xyz, rate)
    if unit == "removed":
        raise SourceError(sensor.file, f"acceleration without gravity (|a| of the still parts "
                          f"{magnitude:.2f}): the model needs acceleration with gravity; record or "
                          "export the accelerometer with gravity included")
    if unit is None:
        notify(f"{sensor.file}: acceleration |a| of the still parts is {magnitude:.3g}, neither "
               f"about 1 (g) nor about 9.8 (m/s²): read as {sensor.unit}; pass --acc-unit to choose")
        return sensor.unit
    if unit != sensor.unit:
        pretty = "m/s²" if unit == "m/s^2" else unit
        notify(f"{sensor.file}: acceleration looks like {pretty} (|a| of still parts "
               f"{magnitude:.2f}): converted to g; pass --acc-unit {sensor.unit} to override")
    return unit


def _gyro_unit(sensor, xyz, override, notify) -> str:
    if override is not None:
        return override
    unit, p99 = detect.infer_gyro_unit(xyz)
    if unit is not None and unit != sensor.unit:
        notify(f"{sensor.file}: angular rate looks like deg/s (99th percentile of |ω| {p99:.1f}, "
               f"beyond any phone gyroscope in rad/s): converted to rad/s; pass --gyro-unit "
               f"{sensor.unit} to override")
        return unit
    return sensor.unit


def iter_chunks(rec: Recording, *, acc_unit=None, gyro_unit=None, time_unit=None,
                notify=detect.notice) -> Source:
    """The :class:`Source` of a recording: units recognised, both sensors on one clock.

    See the module documentation; overrides as for :func:`open_source`.
    """
    grid = rec.grid
    acc_p = _probe(rec.acc, "s" if grid else time_unit, notify)
    joint = rec.joint
    if joint:
        first = acc_p.first
        acc_u = _acc_unit(rec.acc, first.xyz[:, :3] * rec.acc.sign, acc_p.rate_hz, acc_unit, notify)
        gyro_u = _gyro_unit(rec.gyro, first.xyz[:, 3:6], gyro_unit, notify)
        gyro_p = acc_p
    else:
        gyro_p = _probe(rec.gyro, time_unit, notify)
        acc_u = _acc_unit(rec.acc, acc_p.first.xyz * rec.acc.sign, acc_p.rate_hz, acc_unit, notify)
        gyro_u = _gyro_unit(rec.gyro, gyro_p.first.xyz, gyro_unit, notify)
    rate = min(acc_p.rate_hz, gyro_p.rate_hz)
    info = {"app": rec.app, "platform": rec.platform or "-", "acc_unit": acc_u,
            "gyro_unit": gyro_u, "time_unit": acc_p.time_unit, "rate_hz": rate}
    sign = rec.acc.sign
    annotations = rec.annotations
    used = {"fresh": True}

    def streams():
        """Both sensors in engine units, times in seconds on the file's clock (joint: gyro None)."""
        # The first call reuses the chunks read ahead; later calls read the files again.
        fresh, used["fresh"] = used["fresh"], False
        a_raw = acc_p.raw() if fresh else rec.acc.chunks()
        if joint:
            return (RawChunk(c.t * acc_p.seconds, np.hstack([to_g(c.xyz[:, :3] * sign, acc_u),
                                                             to_rad_s(c.xyz[:, 3:6], gyro_u)]),
                             c.lines, c.labels) for c in a_raw), None
        g_raw = gyro_p.raw() if fresh else rec.gyro.chunks()
        return ((RawChunk(c.t * acc_p.seconds, to_g(c.xyz * sign, acc_u), c.lines, c.labels)
                 for c in a_raw),
                (RawChunk(c.t * gyro_p.seconds, to_rad_s(c.xyz, gyro_u), c.lines, c.labels)
                 for c in g_raw))

    def chunks() -> Iterator[SampleChunk]:
        acc_it, gyro_it = streams()
        origin = None
        if joint:
            for c in acc_it:
                if origin is None:
                    origin = float(c.t[0])
                labels = annotations.at(c.t) if annotations is not None else c.labels
                yield SampleChunk(c.t - origin, c.xyz[:, :3], c.xyz[:, 3:6], labels)
            return
        overlap = False
        for c, gt, gx in _interleave(acc_it, gyro_it):
            if origin is None:
                origin = float(c.t[0])
            overlap = overlap or (gt.size > 0 and gt[0] <= c.t[-1] and gt[-1] >= c.t[0])
            labels = annotations.at(c.t) if annotations is not None else c.labels
            yield SampleChunk(c.t - origin, c.xyz, gx, labels, gt - origin)
        if not overlap:
            raise SourceError(rec.name.split(" (")[0], f"the times of {rec.acc.file} and "
                              f"{rec.gyro.file} do not overlap: they were not recorded together")

    size_rows = max(len(acc_p.first.t), 1)
    # Duration before reading it all (to pace a live replay): file size over a typical row.
    est = rec.size_bytes / _TYPICAL_ROW_BYTES / acc_p.rate_hz if rec.size_bytes else 0.0
    name = rec.name
    return Source(name, grid, rec.labelled, max(est, size_rows / acc_p.rate_hz), chunks, info,
                  streams=streams, annotations=annotations)


_TYPICAL_ROW_BYTES = 70.0


def _interleave(acc_it: Iterator[RawChunk], gyro_it: Iterator[RawChunk]):
    """Pair each acc chunk with the gyro samples up to its last time (the rest waits for the next).

    Yields ``(acc chunk, gyro t (m,), gyro xyz (m, 3))``; at most one gyro chunk is held ahead.
    """
    gt, gx = np.empty(0), np.empty((0, 3))
    gyro_done = False
    for c in acc_it:
        while not gyro_done and (gt.size == 0 or gt[-1] <= c.t[-1]):
            nxt = next(gyro_it, None)
            if nxt is None:
                gyro_done = True
                break
            gt, gx = np.concatenate([gt, nxt.t]), np.concatenate([gx, nxt.xyz])
        k = int(np.searchsorted(gt, c.t[-1], side="right"))
        yield c, gt[:k], gx[:k]
        gt, gx = gt[k:], gx[k:]


def merge_clocks(master: Iterator[RawChunk], other: Iterator[tuple], max_gap_s: float):
    """Interpolate ``other`` onto the times of ``master``, chunk by chunk, in bounded memory.

    For assembling one quantity from two files of one sensor (Sensor Logger's acceleration without
    gravity plus its gravity, written at the same instants); the engine's grid is the resampler's.

    Parameters
    ----------
    master : iterator of RawChunk
        The stream whose times are kept (t strictly increasing across chunks).
    other : iterator of (t, xyz)
        The stream to interpolate (same time unit), ``t`` shape (m,), ``xyz`` shape (m, k).
    max_gap_s : float
        Longest spacing of ``other`` interpolated across (in the time unit); longer gives NaN.

    Yields
    ------
    t, xyz, lines, labels, other_xyz
        The master samples inside ``other``'s time span (those before its first sample or after
        its last are left out), with ``other`` linearly interpolated at their times.

    Only the master chunk, the other samples overlapping it and one before are held.
    """
    bt = np.empty(0)
    bx = None
    done = False
    for c in master:
        t = c.t
        while not done and (bt.size == 0 or bt[-1] < t[-1]):
            nxt = next(other, None)
            if nxt is None:
                done = True
                break
            ot, ox = nxt
            bt = np.concatenate([bt, ot])
            bx = ox if bx is None else np.concatenate([bx, ox])
            k = max(int(np.searchsorted(bt, t[0], side="right")) - 1, 0)
            bt, bx = bt[k:], bx[k:]
        if bt.size == 0:
            if done:
                return
            continue
        inside = (t >= bt[0]) & (t <= bt[-1])
        if inside.any():
            ti = t[inside]
            if bt.size == 1:
                y = np.repeat(bx[:1], ti.size, axis=0)
            else:
                hi = np.clip(np.searchsorted(bt, ti, side="right"), 1, bt.size - 1)
                span = bt[hi] - bt[hi - 1]
                y = np.column_stack([np.interp(ti, bt, bx[:, k]) for k in range(bx.shape[1])])
                y[span > max_gap_s] = np.nan
            yield (ti, c.xyz[inside], c.lines[inside],
                   None if c.labels is None else c.labels[inside], y)
        elif done and t[0] > bt[-1]:
            return
        k = max(int(np.searchsorted(bt, t[-1], side="right")) - 1, 0)
        bt, bx = bt[k:], bx[k:]


# --------------------------------------------------------------------------------------------
# In-memory sources (50 Hz arrays)


def _array_source(name, acc, gyro, labels, info=None) -> Source:
    acc = np.ascontiguousarray(acc, dtype=np.float64)
    gyro = np.ascontiguousarray(gyro, dtype=np.float64)
    if labels is not None:
        labels = np.asarray(labels, dtype=np.int64)
    n = len(acc)

    def chunks():
        for a in range(0, n, CHUNK_ROWS):
            b = min(a + CHUNK_ROWS, n)
            yield SampleChunk(np.arange(a, b) / SAMPLE_RATE_HZ, acc[a:b], gyro[a:b],
                              None if labels is None else labels[a:b])

    return Source(name, True, labels is not None, n / SAMPLE_RATE_HZ, chunks,
                  info or {"app": "50 Hz arrays", "platform": "-", "acc_unit": "g",
                           "gyro_unit": "rad/s", "time_unit": "-", "rate_hz": SAMPLE_RATE_HZ})


def load_bundled() -> Source:
    """The real recording excerpt shipped with the runtime (HAPT experiment 3, test subject 2)."""
    from importlib import resources

    with resources.files("har.runtime").joinpath(BUNDLED_RECORDING).open("rb") as fh:
        with np.load(fh) as data:
            d = {k: data[k] for k in data.files}
    first = int(d.get("first_sample", 0))
    name = (f"sample_recording.npz: HAPT experiment {int(d['experiment'])}, user {int(d['user'])}, "
            f"samples {first}..{first + len(d['acc']) - 1}")
    return _array_source(name, d["acc"], d["gyro"], d["labels"])


def load_experiment(experiment: int) -> Source:
    """A HAPT experiment (1..61) from the dataset cache; never downloads."""
    from .hapt import load_experiment as _load

    if not 1 <= experiment <= 61:
        raise SourceError("--experiment", f"HAPT has experiments 1..61, got {experiment}")
    rec = _load(experiment, download=False)
    return _array_source(f"HAPT experiment {rec.experiment}, user {rec.user} (dataset cache)",
                         rec.acc, rec.gyro, rec.labels)


def load_npz(path) -> Source:
    """An ``.npz`` with ``acc`` and ``gyro`` (n, 3) at 50 Hz (g, rad/s), optional ``labels``."""
    path = Path(path)
    if not path.exists():
        raise SourceError(str(path), "no such file or folder")
    try:
        with np.load(path, allow_pickle=False) as data:
            d = {k: data[k] for k in data.files}
    except (OSError, ValueError, EOFError) as exc:
        raise SourceError(path.name, f"not a readable .npz file ({exc})") from None
    except Exception as exc:       # zipfile.BadZipFile, zlib.error: a truncated or corrupt npz
        raise SourceError(path.name, f"corrupt .npz file ({type(exc).__name__}: {exc})") from None
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
    return _array_source(f"{path.name} (50 Hz arrays)", acc, gyro, labels)


# --------------------------------------------------------------------------------------------
# Pushing into a recognizer


class _LabelWindow:
    """Recent per-sample labels with their times, to give each window its true activity."""

    def __init__(self) -> None:
        self.t = np.empty(0)
        self.labels = np.empty(0, dtype=np.int64)

    def add(self, t, labels) -> None:
        self.t = np.concatenate([self.t, t])
        self.labels = np.concatenate([self.labels, labels])

    def truth(self, t_start: float) -> int:
        times = t_start + np.arange(SPAN) / SAMPLE_RATE_HZ
        if self.t.size == 0:
            return 0
        idx = np.searchsorted(self.t, times + 1e-9, side="right") - 1
        if idx[0] < 0 or times[-1] > self.t[-1] + 1e-9:
            return 0
        return int(window_labels(self.labels[idx], np.array([0]))[0])

    def forget_before(self, t: float) -> None:
        k = max(int(np.searchsorted(self.t, t, side="right")) - 1, 0)
        self.t, self.labels = self.t[k:], self.labels[k:]


class Feeder:
    """Push a :class:`Source`'s chunks into a Recognizer; count windows, gaps and truths.

    Parameters
    ----------
    source : Source
    recognizer : Recognizer
        Fresh (no samples yet).

    Attributes
    ----------
    expected : int
        Windows a loss-free run must give (regular starts of every segment), after :meth:`finish`.
    grid_samples : int
        50 Hz samples the recognizer received, over all segments.
    gaps : list of GapEvent
        Holes and clock jumps found by the recognizer's resampler, after :meth:`finish`.
    """

    def __init__(self, source: Source, recognizer) -> None:
        self.source = source
        self.recognizer = recognizer
        self.expected = 0
        self.grid_samples = 0
        self.gaps: list[GapEvent] = []
        self.samples_in = 0
        self._labels = _LabelWindow() if source.labelled else None

    def push(self, chunk: SampleChunk) -> list[tuple]:
        """Push one chunk; return ``(prediction, true activity id or 0)`` of the windows it completed."""
        if len(chunk) == 0:
            return []
        self.samples_in += len(chunk)
        if self._labels is not None and chunk.labels is not None:
            self._labels.add(chunk.t, chunk.labels)
        rec = self.recognizer
        if self.source.grid:
            return self._truths(rec.push(chunk.acc, chunk.gyro))
        return self._truths(rec.push_timestamped(chunk.t, chunk.acc, chunk.gyro, gyro_t=chunk.gyro_t))

    def finish(self) -> list[tuple]:
        """End of the recording: the last windows."""
        rec = self.recognizer
        preds = rec.flush()
        self.expected = len(regular_starts(rec.n_samples))
        self.grid_samples = rec.n_samples
        if not self.source.grid:
            self.gaps = rec.gaps
        return self._truths(preds)

    def _truths(self, preds) -> list[tuple]:
        if self._labels is None:
            return [(p, 0) for p in preds]
        out = [(p, self._labels.truth(p.t_start)) for p in preds]
        if preds:
            self._labels.forget_before(preds[-1].t_start)
        return out


# --------------------------------------------------------------------------------------------
# Command-line options shared by har-live and har predict


def add_input_options(parser) -> None:
    """Add ``--columns``, ``--acc-unit``, ``--gyro-unit``, ``--time-unit``, ``--platform``."""
    from ..units import ACC_UNITS, GYRO_UNITS

    parser.add_argument("--columns", metavar="SPEC",
                        help="read a CSV of any layout: t=TIME,acc=AX,AY,AZ,gyro=GX,GY,GZ[,label=COL]")
    parser.add_argument("--acc-unit", choices=ACC_UNITS,
                        help="acceleration unit (default: recognised from the data)")
    parser.add_argument("--gyro-unit", choices=GYRO_UNITS,
                        help="angular rate unit (default: recognised from the data)")
    parser.add_argument("--time-unit", choices=tuple(TIME_UNITS),
                        help="unit of the time column(s) (default: recognised from the spacing)")
    parser.add_argument("--platform", choices=("auto", "android", "ios"), default="auto",
                        help="Sensor Logger: the phone's system when Metadata.csv does not say")


def input_options(args) -> dict:
    """The keyword arguments of :func:`open_source` from parsed options."""
    return {"columns": args.columns, "acc_unit": args.acc_unit, "gyro_unit": args.gyro_unit,
            "time_unit": args.time_unit, "platform": args.platform}
