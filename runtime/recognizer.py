"""Samples in, labelled windows out: the object a companion app embeds, one per sensor stream."""

from __future__ import annotations

import threading
from dataclasses import dataclass

import numpy as np

from har.features.contract import SAMPLE_RATE_HZ, UNKNOWN, WINDOW

from .errors import StreamError
from .model import ActivityModel, load_model
from .online_resample import GapEvent
from .plausibility import IMPLAUSIBLE
from .prediction import GAP, Prediction
from .smoothing import METHODS as SMOOTHING_METHODS
from .smoothing import Smoother
from .stages import FeatureStage, ModelStage, ResampleStage, Samples, Scores, SmoothingStage

__all__ = ["Recognizer", "Prediction", "GAP"]


class Recognizer:
    """Activity recognition on one live stream of acc (g) and gyro (rad/s) samples.

    A chain of stages fixed when it is built (see ``har.runtime.stages``)::

        [ResampleStage] -> FeatureStage -> ModelStage -> [SmoothingStage] -> Prediction

    Parameters
    ----------
    model : ActivityModel, path or None
        The model; None loads the bundled one. Pass one ``ActivityModel`` to many recognizers to
        share its onnxruntime session (a companion app with several devices).
    timestamped : bool
        False (default): the stream is 50 Hz samples, fed with ``push(acc, gyro)``. True: samples
        at the phone's own times (any rate, jitter, gaps; acc and gyro on one clock or two), fed
        with ``push_timestamped``; they are put on the 50 Hz grid first.
    on_nonfinite : {"gap", "raise"}
        "gap" (default): a NaN sample marks missing data, windows touching it come out invalid and
        the filters restart after it. "raise": NaN samples are refused (50 Hz streams only).
    max_gap_s : float
        Timestamped streams: longest spacing between samples that is interpolated across,
        seconds; longer holes become gaps (reported in ``gaps``, their windows invalid).
    smoothing : {None, "ema", "majority"}
        Causal smoothing of the per-window probabilities (see ``har.runtime.smoothing``); None
        (default) reports each window on its own. An invalid window restarts the smoother.
    smoothing_param : float or int, optional
        ``alpha`` for "ema" (default 0.5), ``window`` (windows voting) for "majority" (default 5).

    Each recognizer holds the state of its own stream; its methods are serialised by a lock, so a
    sensor callback thread and a UI thread may share it. Samples beyond the sensors' physical range
    (``har.runtime.plausibility``) count as missing; ``n_implausible`` counts them.

    Examples
    --------
    >>> import numpy as np
    >>> rec = Recognizer()
    >>> still = np.tile([0.0, 0.0, 1.0], (200, 1))           # 4 s lying flat, 50 Hz, g
    >>> preds = rec.push(still, np.zeros((200, 3)))           # two windows completed
    >>> [(p.start, p.end, p.valid) for p in preds]
    [(0, 128, True), (64, 192, True)]
    >>> rec = Recognizer(timestamped=True)
    >>> t = np.arange(400) / 100.0                            # 4 s at 100 Hz, seconds
    >>> preds = rec.push_timestamped(t, np.tile([0.0, 0.0, 9.81], (400, 1)), np.zeros((400, 3)),
    ...                              acc_unit="m/s^2")
    >>> len(preds)
    2
    """

    def __init__(self, model: ActivityModel | str | None = None, *, timestamped: bool = False,
                 on_nonfinite: str = "gap", max_gap_s: float = 0.5, smoothing: str | None = None,
                 smoothing_param=None):
        if on_nonfinite not in ("gap", "raise"):
            raise StreamError(f"on_nonfinite must be 'gap' or 'raise', got {on_nonfinite!r}")
        if timestamped and on_nonfinite != "gap":
            # The resampler hands holes on as NaN samples; a stream that refuses NaN cannot take them.
            raise StreamError("a timestamped Recognizer needs on_nonfinite='gap': holes become NaN samples")
        if smoothing is not None and smoothing not in SMOOTHING_METHODS:
            raise StreamError(f"smoothing must be None or one of {', '.join(SMOOTHING_METHODS)}, "
                              f"got {smoothing!r}")
        self.model = model if isinstance(model, ActivityModel) else load_model(model)
        self.timestamped = bool(timestamped)
        self.on_nonfinite = on_nonfinite
        self.max_gap_s = max_gap_s
        self.smoothing = smoothing
        self.smoothing_param = smoothing_param
        self.rate_hz = SAMPLE_RATE_HZ
        self._lock = threading.Lock()
        self._resample = ResampleStage(max_gap_s) if timestamped else None
        self._features = FeatureStage(on_nonfinite)
        self._model = ModelStage(self.model)
        self._smooth = None
        if smoothing is not None:
            key = "alpha" if smoothing == "ema" else "window"
            smoother = Smoother(smoothing, **({} if smoothing_param is None else {key: smoothing_param}))
            self._smooth = SmoothingStage(smoother, self.model.class_ids)
        self._names = dict(zip(self.model.class_ids, self.model.class_names))
        self._gaps: list[GapEvent] = []

    # ------------------------------------------------------------------ input

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
        if self.timestamped:
            raise StreamError("this Recognizer takes timestamped samples (built with timestamped=True): "
                              "call push_timestamped(t, acc, gyro)")
        acc, gyro = _as_rows(acc, "acc"), _as_rows(gyro, "gyro")
        with self._lock:
            return self._run(Samples(acc, gyro))

    def push_timestamped(self, t, acc, gyro, *, gyro_t=None, acc_unit: str = "g",
                         gyro_unit: str = "rad/s") -> list[Prediction]:
        """Add timestamped samples at any rate; return the predictions of the windows they completed.

        The samples are put on the 50 Hz grid by the engine's one resampler
        (:class:`~har.runtime.online_resample.OnlineResampler`: linear interpolation, causal
        anti-alias low-pass for input faster than 60 Hz), whose grid starts at the first sample's
        time: ``t_start`` and ``t_end`` of the predictions are on the caller's clock. Holes longer
        than ``max_gap_s`` (or NaN samples) are not bridged: they are appended to ``gaps`` and the
        windows touching them come out invalid ("UNKNOWN").

        Parameters
        ----------
        t : float or array_like, shape (n,)
            Times of the acc samples (and of the gyro samples unless ``gyro_t`` is given), seconds,
            strictly increasing across calls.
        acc : array_like, shape (n, 3) or (3,)
            Acceleration x, y, z with gravity, in ``acc_unit``.
        gyro : array_like, shape (n, 3) or (m, 3) or (3,)
            Angular rate x, y, z in ``gyro_unit``.
        gyro_t : array_like, shape (m,), optional
            The gyroscope's own times, seconds, on the same time base as ``t``.
        acc_unit : {"g", "m/s^2"}
        gyro_unit : {"rad/s", "deg/s"}

        Returns
        -------
        list of Prediction

        Raises
        ------
        StreamError
            Wrong shapes or units, times not increasing (the message names the index and both
            times), or a recognizer built for 50 Hz samples. The stream is then unchanged.
        """
        if not self.timestamped:
            raise StreamError("this Recognizer takes 50 Hz samples: call push(acc, gyro), or build it "
                              "with Recognizer(timestamped=True) for samples with their own times")
        with self._lock:
            rs = self._resample.resampler
            if (rs.acc_unit, rs.gyro_unit) != (acc_unit, gyro_unit):
                if rs.t0 is not None:
                    raise StreamError(f"units changed mid-stream ({rs.acc_unit}, {rs.gyro_unit} -> "
                                      f"{acc_unit}, {gyro_unit}); reset() first")
                self._resample = ResampleStage(self.max_gap_s, acc_unit, gyro_unit)
            samples = self._resample.push(t, acc, gyro, gyro_t)
            self._gaps.extend(samples.gaps)
            return self._run(samples)

    def flush(self) -> list[Prediction]:
        """End of the stream: the window(s) waiting for the last sample."""
        with self._lock:
            scores = self._model.push(self._features.flush())
            if self._smooth is not None:
                scores = self._smooth.push(scores)
            return self._predictions(scores)

    def reset(self) -> None:
        """Forget the stream: the next sample starts a new one."""
        with self._lock:
            for stage in (self._resample, self._features, self._model, self._smooth):
                if stage is not None:
                    stage.reset()
            self._gaps = []

    # ------------------------------------------------------------------ state

    @property
    def gaps(self) -> list[GapEvent]:
        """Holes found by ``push_timestamped`` so far, in order (a copy)."""
        with self._lock:
            return list(self._gaps)

    @property
    def resampler(self):
        """The :class:`OnlineResampler` of a timestamped stream (its rate, filter, origin), else None."""
        return self._resample.resampler if self._resample is not None else None

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
            if self._smooth is not None and new.class_ids != self.model.class_ids:
                self._smooth = SmoothingStage(self._smooth.smoother, new.class_ids)
                self._smooth.reset()
            self.model = new
            self._model = ModelStage(new)
            self._names = dict(zip(new.class_ids, new.class_names))

    @property
    def n_samples(self) -> int:
        """50 Hz samples received so far."""
        return self._features.n_samples

    @property
    def n_implausible(self) -> int:
        """50 Hz samples outside the sensors' physical range so far (treated as missing)."""
        return self._features.n_implausible

    # ------------------------------------------------------------------ internals

    def _run(self, samples: Samples) -> list[Prediction]:
        scores = self._model.push(self._features.push(samples))
        if self._smooth is not None:
            scores = self._smooth.push(scores)
        return self._predictions(scores)

    def _predictions(self, scores: Scores) -> list[Prediction]:
        if len(scores) == 0:
            return []
        starts = scores.starts
        if self._resample is not None and self._resample.resampler.t0 is not None:
            t_start = self._resample.time_of(starts).tolist()
            t_end = self._resample.time_of(starts + WINDOW).tolist()
        else:
            t_start = (starts / self.rate_hz).tolist()
            t_end = ((starts + WINDOW) / self.rate_hz).tolist()
        names, ids = self._names, self.model.class_ids
        placed = [None] * len(starts) if scores.placement is None else \
            [None if np.isnan(v) else bool(v) for v in scores.placement.tolist()]
        odd = [False] * len(starts) if scores.implausible is None else scores.implausible.tolist()
        out = []
        for i, (s, ok, lab, p) in enumerate(zip(starts.tolist(), scores.valid.tolist(),
                                                scores.label_ids.tolist(), scores.proba.tolist())):
            out.append(Prediction(
                start=s, end=s + WINDOW, t_start=t_start[i], t_end=t_end[i],
                label=names[lab] if ok else UNKNOWN, label_id=lab if ok else 0,
                probabilities={names[c]: float(v) for c, v in zip(ids, p)}, valid=ok, placement_ok=placed[i],
                reason=None if ok else (IMPLAUSIBLE if odd[i] else GAP)))
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
