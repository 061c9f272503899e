"""Samples in, labelled windows out: the object a companion app embeds, one per sensor stream."""

from __future__ import annotations

import threading
from dataclasses import dataclass

import numpy as np

from har.features import HOP, SAMPLE_RATE_HZ, WINDOW, StreamingExtractor, to_official_scale

from .errors import StreamError
from .model import ActivityModel, load_model
from .online_resample import GapEvent, OnlineResampler
from .smoothing import METHODS as SMOOTHING_METHODS
from .smoothing import Smoother
from .units import to_g, to_rad_s


@dataclass(frozen=True)
class Prediction:
    """One window's activity.

    Attributes
    ----------
    start, end : int
        First sample and one past the last sample of the window (50 Hz sample indices since the
        stream began; the window is 128 samples, 2.56 s).
    t_start, t_end : float
        The same in seconds since the stream began (or on the caller's clock for
        ``push_timestamped``).
    label : str
        Activity name, e.g. "WALKING"; "UNKNOWN" for a window touching a gap (``valid`` False).
    label_id : int
        Class id 1..6 (0 for an invalid window).
    probabilities : dict[str, float]
        Per-class probability, summing to 1 (all NaN for an invalid window).
    valid : bool
        False when the window touched missing samples: no activity is claimed for it.
    placement_ok : bool or None
        Whether the window's gravity direction (phone orientation) is like one the model was
        trained on (within the model's ``placement_max_angle_deg`` of a reference direction, see
        ``har.runtime.placement``). False: the phone sits in a way the model never saw, so its
        label is a guess; an app can ask the user to calibrate for this placement
        (``har.runtime.calibration``). None when the model carries no reference or the window is
        invalid.
    """

    start: int
    end: int
    t_start: float
    t_end: float
    label: str
    label_id: int
    probabilities: dict
    valid: bool = True
    placement_ok: bool | None = None

    @property
    def confidence(self) -> float:
        return max(self.probabilities.values()) if self.valid else float("nan")


class Recognizer:
    """Activity recognition on one live stream of 50 Hz acc (g) and gyro (rad/s) samples.

    Parameters
    ----------
    model : ActivityModel, path or None
        The model; None loads the bundled one. Pass one ``ActivityModel`` to many recognizers to
        share its onnxruntime session (a companion app with several devices).
    on_nonfinite : {"gap", "raise"}
        "gap" (default): a NaN sample marks missing data, windows touching it come out invalid and
        the filters restart after it. "raise": NaN samples are refused.
    max_gap_s : float
        ``push_timestamped``: longest spacing between samples that is interpolated across, seconds;
        longer holes become gaps (reported in ``gaps``, their windows invalid).
    smoothing : {None, "ema", "majority"}
        Causal smoothing of the per-window probabilities (see ``har.runtime.smoothing``); None
        (default) reports each window on its own. When set, each Prediction's label and
        probabilities are the smoothed ones; an invalid window restarts the smoother.
    smoothing_param : float or int, optional
        ``alpha`` for "ema" (default 0.5), ``window`` (windows voting) for "majority" (default 5).

    Each recognizer holds the state of its own stream; its methods are serialised by a lock, so a
    sensor callback thread and a UI thread may share it.
    """

    def __init__(self, model: ActivityModel | str | None = None, *, on_nonfinite: str = "gap",
                 max_gap_s: float = 0.5, smoothing: str | None = None, smoothing_param=None):
        self.model = model if isinstance(model, ActivityModel) else load_model(model)
        self.on_nonfinite = on_nonfinite
        self._lock = threading.Lock()
        self._extractor = StreamingExtractor(HOP, on_nonfinite=on_nonfinite)
        self._t0 = 0.0
        self._resampler = None
        self.rate_hz = SAMPLE_RATE_HZ
        self.max_gap_s = max_gap_s
        self._gaps: list[GapEvent] = []
        if smoothing is not None and smoothing not in SMOOTHING_METHODS:
            raise ValueError(f"smoothing must be None or one of {', '.join(SMOOTHING_METHODS)}, "
                             f"got {smoothing!r}")
        self.smoothing = smoothing
        self.smoothing_param = smoothing_param
        self._smoother = None
        if smoothing is not None:
            key = "alpha" if smoothing == "ema" else "window"
            self._smoother = Smoother(smoothing, **({} if smoothing_param is None else {key: smoothing_param}))

    # ------------------------------------------------------------------ 50 Hz samples

    def push(self, acc, gyro) -> list[Prediction]:
        """Add 50 Hz samples; return the predictions of the windows they completed.

        Parameters
        ----------
        acc : array, shape (n, 3) or (3,)
            Accelerometer x, y, z in g, gravity included. Any n, including 1.
        gyro : array, shape (n, 3) or (3,)
            Gyroscope x, y, z in rad/s.

        Returns
        -------
        list of Prediction
            In window order; every completed window yields exactly one.
        """
        acc, gyro = _as_rows(acc, "acc"), _as_rows(gyro, "gyro")
        with self._lock:
            try:
                starts, X = self._extractor.push(acc, gyro)
            except ValueError as exc:
                raise StreamError(str(exc)) from None
            return self._predict(starts, X)

    # ------------------------------------------------------------------ timestamped samples

    def push_timestamped(self, t, acc, gyro, *, acc_unit: str = "g",
                         gyro_unit: str = "rad/s") -> list[Prediction]:
        """Add timestamped samples at any rate; return the predictions of the windows they completed.

        The samples are put on the 50 Hz grid by an :class:`~har.runtime.online_resample.OnlineResampler`
        (linear interpolation, causal anti-alias low-pass for input faster than 60 Hz), whose grid
        starts at the first sample's time: ``t_start`` and ``t_end`` of the predictions are then on
        the caller's clock. Holes longer than ``max_gap_s`` (or NaN samples) are not bridged: they
        are appended to ``gaps`` and the windows touching them come out invalid ("UNKNOWN").
        Do not mix with ``push`` on one stream (``reset`` first).

        Parameters
        ----------
        t : float or array_like, shape (n,)
            Sample times in seconds, strictly increasing across calls.
        acc : array_like, shape (n, 3) or (3,)
            Acceleration x, y, z with gravity, in ``acc_unit``.
        gyro : array_like, shape (n, 3) or (3,)
            Angular rate x, y, z in ``gyro_unit``, at the same times.
        acc_unit : {"g", "m/s^2"}
        gyro_unit : {"rad/s", "deg/s"}

        Returns
        -------
        list of Prediction

        Raises
        ------
        StreamError
            Wrong shapes or units, times not increasing (the message names the index and both
            times), or ``push`` samples already in this stream. The stream is then unchanged.
        """
        if self.on_nonfinite != "gap":
            # The resampler hands holes on as NaN samples; a stream that refuses NaN cannot take them.
            raise StreamError("push_timestamped needs Recognizer(on_nonfinite='gap'): holes become NaN samples")
        try:
            acc = to_g(np.asarray(acc, dtype=np.float64), acc_unit)
            gyro = to_rad_s(np.asarray(gyro, dtype=np.float64), gyro_unit)
        except ValueError as exc:
            raise StreamError(str(exc)) from None
        with self._lock:
            if self._resampler is None:
                if self._extractor.n_samples:
                    raise StreamError("push_timestamped on a stream fed by push: call reset() first")
                self._resampler = OnlineResampler(self.rate_hz, self.max_gap_s)
            grid_acc, grid_gyro, events = self._resampler.push(t, acc, gyro)
            self._t0 = self._resampler.t0 if self._resampler.t0 is not None else 0.0
            self._gaps.extend(events)
            try:
                starts, X = self._extractor.push(grid_acc, grid_gyro)
            except ValueError as exc:
                raise StreamError(str(exc)) from None
            return self._predict(starts, X)

    @property
    def gaps(self) -> list[GapEvent]:
        """Holes found by ``push_timestamped`` so far, in order (a copy)."""
        with self._lock:
            return list(self._gaps)

    def flush(self) -> list[Prediction]:
        """End of the stream: the window(s) waiting for the last sample."""
        with self._lock:
            starts, X = self._extractor.flush()
            return self._predict(starts, X)

    def reset(self) -> None:
        """Forget the stream: the next sample starts a new one."""
        with self._lock:
            self._extractor.reset()
            self._resampler = None
            self._t0 = 0.0
            self._gaps = []
            if self._smoother is not None:
                self._smoother.reset()

    def set_model(self, model: ActivityModel | str | None) -> None:
        """Switch to another model from the next window on, keeping the stream.

        The filters, buffered samples, resampler and gap history stay as they are, so the next
        prediction comes at the usual time (no 2.56 s refill). The smoother keeps its history when
        both models have the same classes (a personal model of this one), and restarts otherwise.

        Parameters
        ----------
        model : ActivityModel, path or None
            As for the constructor (None: the bundled model).
        """
        new = model if isinstance(model, ActivityModel) else load_model(model)
        with self._lock:
            if self._smoother is not None and new.class_ids != self.model.class_ids:
                self._smoother.reset()
            self.model = new

    @property
    def n_samples(self) -> int:
        """50 Hz samples received so far."""
        return self._extractor.n_samples

    def _predict(self, starts: np.ndarray, X: np.ndarray) -> list[Prediction]:
        if len(starts) == 0:
            return []
        valid = ~np.isnan(X).all(axis=1)
        model = self.model
        placement = [None] * len(starts)
        if model.placement is not None:
            placement = [bool(v) if ok else None for v, ok in zip(model.placement.check(X), valid)]
        Z = to_official_scale(X)
        # A window can be valid yet have an undefined feature (correlation of an axis that is
        # exactly constant): the published scale has no value for it, its middle (0) is neutral.
        Z[valid] = np.nan_to_num(Z[valid], nan=0.0, posinf=1.0, neginf=-1.0)
        labels = np.zeros(len(starts), dtype=np.int64)
        proba = np.full((len(starts), len(model.class_ids)), np.nan)
        if valid.any():
            labels[valid], proba[valid] = model.predict(Z[valid])
        names = dict(zip(model.class_ids, model.class_names))
        if self._smoother is not None:
            # Windows arrive in order; an invalid one (NaN row) restarts the smoother.
            proba = np.asarray(proba, dtype=np.float64)
            for i in range(len(starts)):
                proba[i] = self._smoother.update_one(proba[i])
                if valid[i]:
                    labels[i] = model.class_ids[self._smoother.label_]
        out = []
        for s, ok, lab, p, placed in zip(starts.tolist(), valid.tolist(), labels.tolist(), proba.tolist(), placement):
            out.append(Prediction(
                start=s, end=s + WINDOW,
                t_start=self._t0 + s / self.rate_hz, t_end=self._t0 + (s + WINDOW) / self.rate_hz,
                label=names[lab] if ok else "UNKNOWN", label_id=lab if ok else 0,
                probabilities={names[c]: float(v) for c, v in zip(model.class_ids, p)},
                valid=ok, placement_ok=placed))
        return out


def _as_rows(x, name: str) -> np.ndarray:
    a = np.asarray(x)
    if a.ndim == 1:
        a = a.reshape(1, -1)
    if a.dtype.kind in "iu":
        a = a.astype(np.float64)
    if a.ndim != 2 or a.shape[1] != 3:
        raise StreamError(f"{name}: expected shape (n, 3) or (3,), got {np.shape(x)}")
    return a
