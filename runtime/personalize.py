"""A personal model from a user's labelled windows: checks, fine-tuning, held-out check, lineage.

``personalize(base, windows)`` is what ``har personalize`` and :class:`~har.runtime.calibration.Calibration`
run. numpy and onnxruntime only, so that it runs on the phone.

Method (the name written into the model's metadata): the base model's linear layer is fine-tuned
on the user's windows with an L2 pull to the base weights (:func:`har.runtime.finetune.fine_tune`,
``lam`` = :data:`LAM`, fixed beforehand on MotionSense subjects 1-16 against base models trained
without them); classes the user did not record keep the base model's rows. Before the final fit,
a 2-fold split in time of each class's windows (fit on one half, score the other, both ways) gives
before/after scores on data the fit did not see; when the fine-tuned model is not better there
(macro-F1 over the recorded classes), the base model's weights are kept and the file says so.
A placement-gated base (per-placement heads behind a gate) gives its head that the gate weighs most
on the user's windows as the base layer; the "before" scores are the whole gated model's.

Refusals (:class:`PersonalizeError`, one line each):

- **too little data**: a recorded class with fewer than :data:`MIN_WINDOWS` usable windows (hop 16
  samples, after dropping the settling seconds): about 10 s of that activity;
- **contradictory class**: (a) more than :data:`MAX_DUPLICATE_FRACTION` of a class's windows have
  the very same features as windows labelled with another class (one recording labelled twice), or
  (b) the motion contradicts the label: more than half the windows of a moving activity (walking,
  stairs) are still (``tBodyAccMag-std()`` below :data:`STILL_G` g), or more than half the windows of
  a still one (sitting, standing, lying) are moving (above :data:`MOVING_G` g). Per training subject
  (HAPT training subjects, MotionSense 1-16) and activity, the median is at least 0.080 g for walking and
  stairs and at most 0.043 g for the still activities: the thresholds sit about 2x outside both, so
  that a fidgety user is not refused;
- **not our model**: the base model is not a linear-softmax model written by this engine.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from har.features import FEATURE_NAMES, SAMPLE_RATE_HZ, SPAN, to_official_scale
from har.features.scale import RAW_MAX, RAW_MIN
from har.features.contract import (META_CLASS_NAMES, META_CREATED, META_FEATURE_SCALE,
                                   REQUIRED_META, SCALE_OFFICIAL, SCALE_RAW)
from har.features.errors import HarError

from .errors import ModelError
from .finetune import fine_tune
from .finetune import softmax
from .linear_onnx import PRODUCER, GatedModel, LinearModel, parse_any, serialize_model
from .placement import PlacementReference

__all__ = ["personalize", "PersonalizeError", "PersonalModel", "UserWindows", "check_windows", "model_input",
           "read_base", "time_halves", "windows_in", "feature_unit", "LAM", "MIN_WINDOWS", "TRAIN_HOP"]

LAM = 1e-3
N_ITER = 300
#: Hop of the windows a personal model is fitted on (samples): denser than the runtime's 64.
TRAIN_HOP = 16
MIN_SECONDS = 10.0


def windows_in(seconds: float, hop: int = TRAIN_HOP) -> int:
    """Windows (SPAN samples, every ``hop``) that ``seconds`` of data hold, whatever the grid's alignment."""
    return int((seconds * SAMPLE_RATE_HZ - SPAN - (hop - 1)) // hop) + 1


#: Usable windows a recorded class needs: what 10 s of it hold.
MIN_WINDOWS = windows_in(MIN_SECONDS)
MAX_DUPLICATE_FRACTION = 0.1
STILL_G = 0.04
MOVING_G = 0.1
MOVING_CLASSES = (1, 2, 3)
STILL_CLASSES = (4, 5, 6)
METHOD = (f"fine-tune of the base linear layer toward the user's windows: class-balanced cross-entropy "
          f"+ L2 pull to the base weights (lam={LAM:g}) in features standardised by the user's spread, "
          f"{N_ITER} FISTA steps; classes not recorded keep the base rows; base kept when a 2-fold "
          f"split in time does not improve macro-F1")
_MOTION = FEATURE_NAMES.index("tBodyAccMag-std()")
_FEATURE_SCALES = (SCALE_OFFICIAL, SCALE_RAW)
#: Metadata that describes the contract or the placements, carried over to the personal model as is.
_STRUCTURAL = REQUIRED_META


class PersonalizeError(HarError):
    """The data or base model cannot give a personal model; the message says why in one line."""


@dataclass
class UserWindows:
    """A user's labelled windows.

    Attributes
    ----------
    X : ndarray, shape (n, 561)
        Features in the feature code's units (unscaled: g, rad/s, ...).
    y : ndarray, shape (n,), int
        Activity id of each window.
    segment : ndarray, shape (n,), int
        Which recording/labelled run each window comes from (for the split in time).
    start : ndarray, shape (n,), int
        First sample (50 Hz) of each window within its recording.
    """

    X: np.ndarray
    y: np.ndarray
    segment: np.ndarray
    start: np.ndarray

    def __len__(self) -> int:
        return len(self.y)

    def select(self, mask) -> "UserWindows":
        return UserWindows(self.X[mask], self.y[mask], self.segment[mask], self.start[mask])

    def digest(self) -> str:
        """sha256 of the windows' features (float32) and labels: names the data a model learnt from."""
        h = hashlib.sha256()
        h.update(np.ascontiguousarray(self.X, dtype="<f4").tobytes())
        h.update(np.ascontiguousarray(self.y, dtype="<i8").tobytes())
        return h.hexdigest()


@dataclass
class PersonalModel:
    """The result of :func:`personalize`.

    Attributes
    ----------
    model : LinearModel
        Weights, classes and metadata (lineage included).
    before, after : dict
        Scores of the base and the fine-tuned model on the held-out halves:
        ``{"macro_f1", "accuracy", "windows"}``.
    fallback : bool
        True when the base weights were kept.
    """

    model: LinearModel
    before: dict
    after: dict
    fallback: bool
    windows_per_class: dict = field(default_factory=dict)

    def to_bytes(self) -> bytes:
        return serialize_model(self.model, doc="Personal activity model (linear softmax), see metadata")

    def write(self, path) -> Path:
        """Write the ONNX file atomically; ``Recognizer(path)`` and ``har-live --model`` load it."""
        from .files import atomic_write

        return atomic_write(path, self.to_bytes())


def read_base(path) -> tuple[LinearModel | GatedModel, str]:
    """The base model's parameters and the sha256 of its file; refuses a model not of this engine."""
    path = Path(path)
    if not path.exists():
        raise PersonalizeError(f"{path}: no such model file")
    data = path.read_bytes()
    try:
        base = parse_any(data, path.name)
    except ModelError as exc:
        raise PersonalizeError(f"base model {exc}") from None
    missing = [k for k in _STRUCTURAL if k not in base.metadata]
    if base.producer != PRODUCER or missing:
        raise PersonalizeError(f"base model {path.name}: not a model of this engine (producer "
                               f"{base.producer!r}{', metadata lacks ' + ', '.join(missing) if missing else ''})")
    if base.metadata[META_FEATURE_SCALE] not in _FEATURE_SCALES:
        raise PersonalizeError(f"base model {path.name}: unknown feature scale {base.metadata['feature_scale']!r}")
    return base, hashlib.sha256(data).hexdigest()


def model_input(X_raw: np.ndarray, feature_scale: str) -> np.ndarray:
    """Feature rows as a model of ``feature_scale`` takes them (undefined values made neutral).

    Parameters
    ----------
    X_raw : ndarray, shape (n, 561)
        Unscaled features, finite rows.
    feature_scale : {SCALE_OFFICIAL, SCALE_RAW}
    """
    if feature_scale == SCALE_OFFICIAL:
        return np.nan_to_num(to_official_scale(X_raw), nan=0.0, posinf=1.0, neginf=-1.0)
    # As the raw model's graph does: NaN -> the middle of the published range, +-inf -> its ends.
    X = np.array(X_raw, dtype=np.float64)
    middle = np.broadcast_to((RAW_MIN + RAW_MAX) / 2, X.shape)
    X[np.isnan(X)] = middle[np.isnan(X)]
    return np.clip(X, np.where(np.isneginf(X), RAW_MIN, -np.inf), np.where(np.isposinf(X), RAW_MAX, np.inf))


def feature_unit(feature_scale: str) -> np.ndarray:
    """Each feature's published span in a model's input space: the units the fine-tuning floors spreads in."""
    if feature_scale == SCALE_OFFICIAL:
        return np.full(len(RAW_MIN), 2.0)
    return np.asarray(RAW_MAX - RAW_MIN, dtype=np.float64)


def check_windows(windows: UserWindows, class_ids, class_names) -> dict[str, int]:
    """Refuse data that cannot train a personal model; return windows per class name.

    Raises
    ------
    PersonalizeError
        No windows, a class the model does not know, too few windows of a class, or a
        contradictory class (see the module docstring).
    """
    names = dict(zip(class_ids, class_names))
    if len(windows) == 0:
        raise PersonalizeError("no labelled windows: record at least 10 s of an activity (plus 5 s to settle)")
    unknown = sorted(set(np.unique(windows.y).tolist()) - set(class_ids))
    if unknown:
        raise PersonalizeError(f"labels {unknown} are not classes of the base model ({', '.join(class_names)})")
    counts = {int(c): int((windows.y == c).sum()) for c in class_ids if (windows.y == c).any()}
    short = [f"{names[c]} {n}" for c, n in counts.items() if n < MIN_WINDOWS]
    if short:
        raise PersonalizeError(f"too little data: {', '.join(short)} usable windows, need {MIN_WINDOWS} per class "
                               f"(about {MIN_SECONDS:g} s of each activity after the first seconds)")
    # (a) the same features under two labels
    X32 = np.ascontiguousarray(windows.X, dtype=np.float32)
    rows = X32.view(np.dtype((np.void, X32.dtype.itemsize * X32.shape[1]))).ravel()
    for c in counts:
        mine = set(rows[windows.y == c].tolist())
        others = rows[windows.y != c]
        other_y = windows.y[windows.y != c]
        clash = np.array([r in mine for r in others.tolist()], dtype=bool) if len(others) else np.zeros(0, bool)
        if clash.sum() > MAX_DUPLICATE_FRACTION * counts[c]:
            other = names[int(np.bincount(other_y[clash]).argmax())]
            raise PersonalizeError(f"contradictory class {names[c]}: {int(clash.sum())} of its windows are also "
                                   f"labelled {other} (the same recording labelled twice?)")
    # (b) motion against the label
    motion = np.asarray(windows.X[:, _MOTION], dtype=np.float64)
    for c in counts:
        m = motion[windows.y == c]
        if c in MOVING_CLASSES and np.mean(m < STILL_G) > 0.5:
            raise PersonalizeError(f"contradictory class {names[c]}: {np.mean(m < STILL_G):.0%} of its windows are "
                                   f"still (body acceleration std < {STILL_G} g); is the label right?")
        if c in STILL_CLASSES and np.mean(m > MOVING_G) > 0.5:
            raise PersonalizeError(f"contradictory class {names[c]}: {np.mean(m > MOVING_G):.0%} of its windows are "
                                   f"moving (body acceleration std > {MOVING_G} g); is the label right?")
    return {names[c]: n for c, n in counts.items()}


def time_halves(windows: UserWindows) -> np.ndarray:
    """Fold 0 or 1 of each window: the first or second half in time of its class's windows.

    Windows of the first half that overlap the second half's first window are marked -1 (left
    out of both folds) so that no sample is in a fitted and a scored window at once.
    """
    fold = np.full(len(windows), -1)
    for c in np.unique(windows.y):
        idx = np.flatnonzero(windows.y == c)
        idx = idx[np.lexsort((windows.start[idx], windows.segment[idx]))]
        half = len(idx) // 2
        fold[idx[:half]] = 0
        fold[idx[half:]] = 1
        if half:
            first_b = idx[half]
            overlap = idx[:half][(windows.segment[idx[:half]] == windows.segment[first_b])
                                 & (windows.start[idx[:half]] + SPAN > windows.start[first_b])]
            fold[overlap] = -1
    return fold


def _scores(y, pred, classes) -> dict:
    f1 = []
    for c in classes:
        tp = np.sum((pred == c) & (y == c))
        denom = np.sum(pred == c) + np.sum(y == c)
        f1.append(2 * tp / denom if denom else 0.0)
    return {"macro_f1": round(float(np.mean(f1)), 4), "accuracy": round(float(np.mean(pred == y)), 4),
            "windows": int(len(y))}


def _predict_parent(parent, X) -> np.ndarray:
    """Class ids the parent model (linear or gated) gives feature rows ``X`` in its input space."""
    if isinstance(parent, LinearModel):
        proba = parent.logits(X)
    else:
        gate = softmax(parent.gate.logits(X))
        proba = sum(gate[:, [h]] * softmax(m.logits(X)) for h, m in enumerate(parent.heads))
    return np.asarray(parent.class_ids)[np.argmax(proba, axis=1)]


def personalize(base_path, windows: UserWindows, *, lam: float = LAM, n_iter: int = N_ITER,
                source: str = "") -> PersonalModel:
    """Fine-tune the base model at ``base_path`` on a user's windows.

    Parameters
    ----------
    base_path : path-like
        An ONNX model of this engine (linear softmax).
    windows : UserWindows
        Labelled windows, settling seconds already dropped (see :func:`har.runtime.placement.settled`).
    lam, n_iter : float, int
        Pull to the base model and gradient steps (defaults: the documented method).
    source : str
        What the data were (file names, "calibration"), for the metadata.

    Returns
    -------
    PersonalModel

    Raises
    ------
    PersonalizeError
        One line: the base model is not ours, too little data, or a contradictory class.
    """
    parent, parent_digest = read_base(base_path)
    ids = [int(c) for c in parent.class_ids]
    names = json.loads(parent.metadata[META_CLASS_NAMES])
    per_class = check_windows(windows, ids, names)
    scale = parent.metadata[META_FEATURE_SCALE]
    Xm = model_input(windows.X, scale)
    head = None
    if isinstance(parent, GatedModel):
        # The personal model is one linear layer: the head the gate trusts most on the user's windows.
        head = int(np.argmax(softmax(parent.gate.logits(Xm)).mean(axis=0)))
        base = LinearModel(parent.heads[head].weights, parent.heads[head].bias, parent.class_ids,
                           parent.metadata, parent.producer)
    else:
        base = parent
    y = np.asarray(windows.y)
    classes = sorted(np.unique(y).tolist())
    id_arr = np.asarray(ids)

    def predict(W, b, X):
        return id_arr[np.argmax(X @ W.T + b, axis=1)]

    unit = feature_unit(scale)
    fold = time_halves(windows)
    pred_before, pred_after, scored = [], [], []
    for k in (0, 1):
        fit, test = fold == 1 - k, fold == k
        W, b = fine_tune(base.weights, base.bias, ids, Xm[fit], y[fit], lam=lam, n_iter=n_iter, unit=unit)
        pred_before.append(_predict_parent(parent, Xm[test]))
        pred_after.append(predict(W, b, Xm[test]))
        scored.append(y[test])
    y_scored = np.concatenate(scored)
    before = _scores(y_scored, np.concatenate(pred_before), classes)
    after = _scores(y_scored, np.concatenate(pred_after), classes)
    fallback = after["macro_f1"] < before["macro_f1"]
    if fallback:
        W, b = base.weights, base.bias
    else:
        W, b = fine_tune(base.weights, base.bias, ids, Xm, y, lam=lam, n_iter=n_iter, unit=unit)

    reference = PlacementReference.from_windows(windows.X)
    parent_reference = PlacementReference.from_metadata(base.metadata)
    if parent_reference is not None:
        reference = parent_reference.union(reference)
    metadata = {k: base.metadata[k] for k in _STRUCTURAL}
    metadata.update(reference.to_metadata())
    metadata.update({
        "model": "personal model: " + ("the base model's weights (fine-tuning did not help)" if fallback
                                       else "fine-tuned linear softmax"),
        "parent_model_sha256": parent_digest,
        "parent_head": "none (linear parent)" if head is None else f"head {head} of the placement-gated parent",
        "parent_metadata": json.dumps({k: v for k, v in base.metadata.items()
                                       if k not in _STRUCTURAL and not k.startswith("placement_")}, sort_keys=True),
        "personal_data_sha256": windows.digest(),
        "personal_data_source": source,
        "personal_windows_per_class": json.dumps(per_class),
        "personal_window_hop": str(TRAIN_HOP),
        "personal_method": METHOD,
        "personal_heldout": json.dumps({"scheme": "2-fold split in time of each class's windows",
                                        "before": before, "after": after}),
        "personal_fallback": "yes" if fallback else "no",
        META_CREATED: datetime.now(timezone.utc).isoformat(timespec="seconds"),
    })
    model = LinearModel(np.asarray(W, dtype=np.float64), np.asarray(b, dtype=np.float64), base.class_ids, metadata)
    return PersonalModel(model, before, after, fallback, per_class)
