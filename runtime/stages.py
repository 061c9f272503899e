"""The stages a Recognizer chains, each speaking one protocol: ``push(block) -> block``, ``flush()``, ``reset()``.

Blocks are small immutable records that say what they carry, in one vocabulary::

    Samples  (acc (n, 3) g, gyro (n, 3) rad/s at 50 Hz)       resampler ->  extractor
    Windows  (starts (k,), X (k, 561) raw features)           extractor ->  model
    Scores   (starts (k,), valid (k,), label_ids, proba)      model     ->  smoother -> Recognizer

Every stage is causal and keeps its own state; pushing a stream in one block or in many gives the
same output, and ``flush`` ends the stream (the last windows wait for it).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from har.features import N_FEATURES, SampleError, StreamingExtractor
from har.features.contract import HOP, SPAN

from .errors import StreamError
from .model import ActivityModel
from .online_resample import GapEvent, OnlineResampler
from .plausibility import any_implausible, blank_implausible, implausible_samples
from .smoothing import Smoother

#: Samples handed to the extractor at once: a long push is cut into pieces of this size, so that the
#: memory a push needs does not grow with its length (one hour in one push stays under a few MB).
MAX_CHUNK = 4096


@dataclass(frozen=True)
class Samples:
    """50 Hz samples: acc (n, 3) in g with gravity, gyro (n, 3) in rad/s; NaN rows are gaps."""

    acc: np.ndarray
    gyro: np.ndarray
    gaps: tuple = ()             # GapEvents closed while these samples were made

    def __len__(self) -> int:
        return len(self.acc)


@dataclass(frozen=True)
class Windows:
    """Completed windows: starts (k,) int64 sample indices, X (k, 561) raw features (NaN rows invalid).

    ``implausible`` (k,) bool, when given: the window touched a sample beyond the sensors' range.
    """

    starts: np.ndarray
    X: np.ndarray
    implausible: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.starts)


@dataclass(frozen=True)
class Scores:
    """Per-window class scores: starts (k,), valid (k,) bool, label_ids (k,) int64, proba (k, K).

    ``placement`` (k,) float: 1 where the window's gravity direction is one the model knows, 0 where
    it is not, NaN when unknown (invalid window, or a model without a placement reference).
    """

    starts: np.ndarray
    valid: np.ndarray
    label_ids: np.ndarray
    proba: np.ndarray
    placement: np.ndarray | None = None
    implausible: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.starts)


_NO_WINDOWS = Windows(np.empty(0, dtype=np.int64), np.empty((0, N_FEATURES)))


class ResampleStage:
    """Timestamped samples (one clock or two) -> 50 Hz ``Samples``; see ``OnlineResampler``."""

    def __init__(self, max_gap_s: float, acc_unit: str = "g", gyro_unit: str = "rad/s"):
        self.resampler = OnlineResampler(max_gap_s=max_gap_s, acc_unit=acc_unit, gyro_unit=gyro_unit)

    def push(self, t, acc, gyro, gyro_t=None) -> Samples:
        acc50, gyro50, events = self.resampler.push(t, acc, gyro, gyro_t=gyro_t)
        return Samples(acc50, gyro50, tuple(events))

    def flush(self) -> Samples:
        acc50, gyro50, events = self.resampler.flush()
        return Samples(acc50, gyro50, tuple(events))

    def reset(self) -> None:
        self.resampler.reset()

    def time_of(self, k) -> np.ndarray:
        """Caller's-clock time of 50 Hz sample(s) ``k``, seconds."""
        return self.resampler.grid_time(k)


class FeatureStage:
    """``Samples`` -> ``Windows``: the streaming 561 features, regular windows every HOP samples.

    Samples outside the sensors' physical range (``har.runtime.plausibility``, infinities
    included) are treated as missing, counted in ``n_implausible``, and the windows touching them are
    marked ``implausible``. Under ``on_nonfinite="raise"`` they are refused instead.
    """

    def __init__(self, on_nonfinite: str = "gap"):
        self.extractor = StreamingExtractor(HOP, on_nonfinite=on_nonfinite)
        self.n_implausible = 0
        self._flagged: list[int] = []     # implausible sample indices a pending window may still touch

    def push(self, samples: Samples) -> Windows:
        acc, gyro = samples.acc, samples.gyro
        if any_implausible(acc, gyro):
            if self.extractor.on_nonfinite != "gap":
                i = int(np.flatnonzero(implausible_samples(acc, gyro))[0])
                raise StreamError(f"sample {i} is outside the sensors' physical range "
                                  f"(acc {acc[i].tolist()} g, gyro {gyro[i].tolist()} rad/s)")
            acc, gyro, bad = blank_implausible(acc, gyro)
            self.n_implausible += int(bad.sum())
            self._flagged.extend((self.extractor.n_samples + np.flatnonzero(bad)).tolist())
        try:
            if len(acc) <= MAX_CHUNK:
                return self._marked(Windows(*self.extractor.push(acc, gyro)))
            parts = [self.extractor.push(acc[i:i + MAX_CHUNK], gyro[i:i + MAX_CHUNK])
                     for i in range(0, len(acc), MAX_CHUNK)]
        except SampleError as exc:
            raise StreamError(str(exc)) from None
        return self._marked(_joined(parts))

    def flush(self) -> Windows:
        return self._marked(Windows(*self.extractor.flush()))

    def reset(self) -> None:
        self.extractor.reset()
        self.n_implausible = 0
        self._flagged = []

    def _marked(self, windows: Windows) -> Windows:
        if not self._flagged or len(windows) == 0:
            return windows
        flagged = np.asarray(self._flagged)
        starts = windows.starts
        touched = (np.searchsorted(flagged, starts + SPAN) - np.searchsorted(flagged, starts)) > 0
        # Windows come in order: a flagged sample before the next start can touch no later window.
        self._flagged = flagged[flagged >= starts[-1] + HOP].tolist()
        return Windows(starts, windows.X, touched)

    @property
    def n_samples(self) -> int:
        return self.extractor.n_samples


class ModelStage:
    """``Windows`` -> ``Scores``: the classifier on the valid windows; invalid ones score NaN."""

    def __init__(self, model: ActivityModel):
        self.model = model
        self._none = Scores(np.empty(0, dtype=np.int64), np.zeros(0, dtype=bool), np.zeros(0, dtype=np.int64),
                            np.empty((0, len(model.class_ids))))

    def push(self, windows: Windows) -> Scores:
        k = len(windows)
        if k == 0:
            return self._none
        valid = ~np.isnan(windows.X).all(axis=1) if k else np.zeros(0, dtype=bool)
        labels = np.zeros(k, dtype=np.int64)
        proba = np.full((k, len(self.model.class_ids)), np.nan)
        placement = np.full(k, np.nan)
        if valid.any():
            labels[valid], proba[valid] = self.model.predict(windows.X[valid])
            if self.model.placement is not None:
                placement[valid] = self.model.placement.check(windows.X[valid])
        return Scores(windows.starts, valid, labels, proba, placement, windows.implausible)

    def flush(self) -> Scores:
        return self.push(_NO_WINDOWS)

    def reset(self) -> None:
        pass


class SmoothingStage:
    """``Scores`` -> ``Scores``: causal smoothing of probabilities; an invalid window restarts it."""

    def __init__(self, smoother: Smoother, class_ids):
        self.smoother = smoother
        self.class_ids = np.asarray(class_ids, dtype=np.int64)

    def push(self, scores: Scores) -> Scores:
        proba = np.array(scores.proba, dtype=np.float64)
        labels = scores.label_ids.copy()
        for i in range(len(scores)):
            proba[i] = self.smoother.update_one(proba[i])
            if scores.valid[i]:
                labels[i] = self.class_ids[self.smoother.label_]
        return Scores(scores.starts, scores.valid, labels, proba, scores.placement, scores.implausible)

    def flush(self) -> Scores:
        return Scores(np.empty(0, dtype=np.int64), np.zeros(0, dtype=bool), np.zeros(0, dtype=np.int64),
                      np.empty((0, len(self.class_ids))))

    def reset(self) -> None:
        self.smoother.reset()


def _joined(parts: list) -> Windows:
    parts = [Windows(*p) for p in parts if len(p[0])]
    if not parts:
        return _NO_WINDOWS
    if len(parts) == 1:
        return parts[0]
    return Windows(np.concatenate([p.starts for p in parts]), np.concatenate([p.X for p in parts]))


__all__ = ["Samples", "Windows", "Scores", "ResampleStage", "FeatureStage", "ModelStage", "SmoothingStage",
           "MAX_CHUNK"]
