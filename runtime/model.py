"""The ONNX activity model as the runtime runs it: load, check against the feature code, predict."""

from __future__ import annotations

import threading
from importlib import resources
from pathlib import Path

import numpy as np
import onnxruntime as ort

from har.features import FEATURE_DIGEST, FEATURES_VERSION, N_FEATURES
from har.features.contract import (META_FEATURE_DIGEST, META_FEATURE_SCALE, META_FEATURES_VERSION, META_N_FEATURES,
                                   ONNX_LABEL, ONNX_PROBABILITIES, REQUIRED_META, SCALE_OFFICIAL, SCALE_RAW)

from .errors import ModelError
from .model_checks import check_model_metadata, check_model_outputs, probe_rows
from .placement import PlacementReference

__all__ = ["ActivityModel", "load_model", "bundled_model_path", "FEATURE_SCALE"]

FEATURE_SCALE = SCALE_RAW
BUNDLED_MODEL = "data/model.onnx"
_REQUIRED = REQUIRED_META


def bundled_model_path() -> Path:
    """Path of the model shipped inside the package."""
    return Path(str(resources.files("har.runtime").joinpath(BUNDLED_MODEL)))


class ActivityModel:
    """A checked ONNX model: 561 raw features in, class ids and probabilities out.

    One instance (one onnxruntime session) can serve many streams and threads: ``predict`` holds no
    per-stream state, and onnxruntime sessions are safe to run concurrently.
    """

    def __init__(self, path: str | Path | None = None, *, session_options: ort.SessionOptions | None = None):
        self.path = Path(path) if path is not None else bundled_model_path()
        where = self.path.name
        if not self.path.exists():
            raise ModelError(f"{self.path}: no such model file")
        options = session_options or _default_options()
        try:
            self.session = ort.InferenceSession(str(self.path), sess_options=options,
                                                providers=["CPUExecutionProvider"])
        except Exception as exc:   # onnxruntime raises its own exception types for a bad file
            first = str(exc).strip().splitlines()[0][:160] if str(exc).strip() else type(exc).__name__
            raise ModelError(f"{where}: not a loadable ONNX model ({first})") from None
        meta = dict(self.session.get_modelmeta().custom_metadata_map)
        missing = [k for k in _REQUIRED if k not in meta]
        if missing:
            raise ModelError(f"{where}: not an activity model of this engine (metadata lacks {', '.join(missing)})")
        if meta[META_FEATURES_VERSION] != FEATURES_VERSION:
            raise ModelError(f"{where}: trained on features version {meta[META_FEATURES_VERSION]}, this engine computes "
                             f"version {FEATURES_VERSION}; retrain it with `har train`")
        if meta[META_FEATURE_DIGEST] != FEATURE_DIGEST:
            raise ModelError(f"{where}: trained on other feature columns (digest {meta[META_FEATURE_DIGEST]}, "
                             f"expected {FEATURE_DIGEST}); retrain it with `har train`")
        if meta[META_FEATURE_SCALE] == SCALE_OFFICIAL:
            raise ModelError(f"{where}: exported for features on the official [-1, 1] scale by an earlier release; "
                             f"re-export it with `har train` (models now take raw features, the scale folded in)")
        if meta[META_FEATURE_SCALE] != FEATURE_SCALE:
            raise ModelError(f"{where}: expects features on scale {meta[META_FEATURE_SCALE]!r}, this engine emits "
                             f"{FEATURE_SCALE!r}")
        inputs = self.session.get_inputs()
        if len(inputs) != 1 or inputs[0].shape[-1] != N_FEATURES or int(meta[META_N_FEATURES]) != N_FEATURES:
            raise ModelError(f"{where}: input is {[i.shape for i in inputs]}, expected one [N, {N_FEATURES}] tensor")
        self.input_name = inputs[0].name
        self.metadata = meta
        # Class table and outputs must agree with the engine's activity table, then a probe run
        # must give labels that are the most probable declared class.
        outputs = {o.name: o.shape for o in self.session.get_outputs()}
        self.class_ids, self.class_names = check_model_metadata(meta, outputs, where)
        check_model_outputs(*self.predict(probe_rows(N_FEATURES)), self.class_ids, where)
        try:
            #: The gravity directions the model was trained on, or None when the file does not say.
            self.placement = PlacementReference.from_metadata(meta)
        except (ValueError, TypeError) as exc:
            raise ModelError(f"{where}: unreadable placement reference in its metadata ({exc})") from None

    def predict(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Class ids and probabilities of feature rows.

        Parameters
        ----------
        X : ndarray, shape (n, 561)
            Features in raw pipeline units, as ``extract_recording`` computes them. A NaN or inf
            value (an undefined feature of a valid window) is neutralised inside the model.

        Returns
        -------
        labels : ndarray, shape (n,), int64
            Class ids (1 WALKING .. 6 LAYING).
        probabilities : ndarray, shape (n, n_classes), float32
            Columns in the order of ``class_ids``.
        """
        X = np.ascontiguousarray(X, dtype=np.float32).reshape(-1, N_FEATURES)
        label, proba = self.session.run([ONNX_LABEL, ONNX_PROBABILITIES], {self.input_name: X})
        return label, proba

    @property
    def size_bytes(self) -> int:
        return self.path.stat().st_size


_lock = threading.Lock()
_cache: dict[Path, ActivityModel] = {}


def _default_options() -> ort.SessionOptions:
    options = ort.SessionOptions()
    # One window is a 561x6 product: threads cost more than they save, and a phone app runs many
    # other things. One intra-op thread keeps latency flat.
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    return options


def load_model(path: str | Path | None = None) -> ActivityModel:
    """The model at ``path`` (default: the bundled one); one shared session per file."""
    key = (Path(path) if path is not None else bundled_model_path()).resolve()
    with _lock:
        if key not in _cache:
            _cache[key] = ActivityModel(key)
        return _cache[key]
