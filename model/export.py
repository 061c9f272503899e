"""Export a fitted scaler + logistic regression to a small ONNX file the runtime can run anywhere.

The graph is built by hand from default-domain (``ai.onnx``) operators only::

    features [N, 561] float32, raw pipeline units (what extract_recording returns)
      -> Where(IsNaN) / Where(IsInf)       undefined values -> the neutral middle of the feature's range
      -> Gemm(W', b')                      logits [N, K]   (official scale and standard scaler folded in)
      -> Softmax(axis=1)                -> probabilities [N, K] float32, columns by class id
    logits -> ArgMax(axis=1, keepdims=0) -> Gather(class_ids) -> label [N] int64

The model owns the feature scale: it takes the features as the extractor computes them, and the
published min-max scale the classifier was fitted on is folded into the Gemm with the scaler. A
feature can be undefined in a valid window (the correlation of an axis that is exactly constant is
NaN); the graph replaces NaN by the middle of the feature's published range (0 on the official
scale, the value that favours no class) and +-inf by its ends, so that no caller has to.

skl2onnx is the reference converter, but it emits ``LinearClassifier`` (and ``ZipMap``) from the
``ai.onnx.ml`` domain, which reduced mobile builds of ONNX Runtime leave out. We therefore build
the graph ourselves and use :func:`skl2onnx_reference` only to check parity in the tests.

Metadata travels inside the file (``metadata_props``, string values). Training-side tools read it
with :func:`read_metadata`; the runtime reads the same map through onnxruntime's
``InferenceSession.get_modelmeta().custom_metadata_map`` so that it needs no ``onnx`` package.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from har.features import FEATURE_DIGEST, FEATURE_NAMES, FEATURES_VERSION, N_FEATURES
from har.features.scale import RAW_MAX, RAW_MIN
from har.features.contract import (LABEL_NAMES, META_CLASS_IDS, META_CLASS_NAMES, META_CREATED, META_FEATURE_DIGEST,
                                   META_FEATURE_SCALE, META_FEATURES_VERSION, META_N_FEATURES, ONNX_INPUT, ONNX_LABEL,
                                   ONNX_PROBABILITIES, REQUIRED_META, SCALE_RAW)
from har.features.errors import HarError
from har.runtime.files import atomic_write

#: Opset 13 has Softmax over one axis (not the flattened 2-D form of opset <= 12); with IR 8 the
#: file loads in every ONNX Runtime since 1.10, including the reduced mobile builds.
OPSET = 13
IR_VERSION = 8

INPUT_NAME = ONNX_INPUT
PROBA_NAME = ONNX_PROBABILITIES
LABEL_NAME = ONNX_LABEL
FEATURE_SCALE = SCALE_RAW

#: Keys :func:`export_onnx` fills in itself; a caller may not override them.
RESERVED_KEYS = (*REQUIRED_META, META_CREATED)


class ExportError(HarError):
    """The estimator cannot be exported as the scaler + linear softmax graph."""


def export_onnx(pipeline, path, *, metadata: dict) -> None:
    """Write a fitted classifier as a default-domain ONNX model, atomically.

    Parameters
    ----------
    pipeline : sklearn Pipeline or LogisticRegression
        Fitted on features on the official UCI HAR [-1, 1] scale. Either
        ``Pipeline([("scale", StandardScaler()), ("clf", LogisticRegression())])``
        (the scaler may use ``with_mean=False`` / ``with_std=False``, or be absent) or a bare
        ``LogisticRegression``. Multinomial (or binary), integer class ids, trained on the
        ``N_FEATURES`` columns of ``FEATURE_NAMES`` on the official UCI HAR [-1, 1] scale.
    path : str or Path
        Destination ``.onnx`` file. Written to a temporary file in the same folder, then renamed,
        so a reader never sees a half-written model.
    metadata : dict
        Extra ``metadata_props`` (e.g. training data, metrics). Keys are strings; string values are
        stored as given, anything else JSON-encoded. Must not use a key of ``RESERVED_KEYS``.

    Notes
    -----
    Graph input ``features``: float32, shape (N, N_FEATURES), raw pipeline units (the pipeline
    itself is fitted on the official [-1, 1] scale; the graph folds that scale in). Outputs ``probabilities``: float32,
    shape (N, K), columns in increasing class id; ``label``: int64, shape (N,), the class id.
    Weights are stored as float32: a 561 x 6 model is about 14 KB.
    """
    model = build_model(pipeline, metadata=metadata)
    atomic_write(path, model.SerializeToString())


def build_model(pipeline, *, metadata: dict) -> onnx.ModelProto:
    """Build (without writing) the ONNX model of :func:`export_onnx`; same parameters."""
    from .gated import PlacementGatedClassifier

    if isinstance(pipeline, PlacementGatedClassifier):
        return build_gated_model(pipeline, metadata=metadata)
    return build_linear_model(*folded_weights(pipeline), metadata=metadata)


def build_linear_model(weights: np.ndarray, bias: np.ndarray, class_ids: np.ndarray, *,
                       metadata: dict) -> onnx.ModelProto:
    """The classifier graph of a linear softmax model fitted on official-scale features.

    Parameters
    ----------
    weights : ndarray, shape (K, 561)
        Logit weights on the official [-1, 1] scale (any scaler already folded in).
    bias : ndarray, shape (K,)
    class_ids : ndarray, shape (K,), int
        Increasing activity ids of the rows.
    metadata : dict
        As in :func:`export_onnx`.
    """
    weights, bias, class_ids = raw_unit_weights(np.asarray(weights, dtype=np.float64),
                                                np.asarray(bias, dtype=np.float64), np.asarray(class_ids))
    n_classes, n_features = weights.shape

    props = _metadata_props(metadata, class_ids)

    initializers = [
        # Gemm computes A @ B + C, so B is W' transposed: shape (n_features, K).
        numpy_helper.from_array(np.ascontiguousarray(weights.T, dtype=np.float32), "coef"),
        numpy_helper.from_array(bias.astype(np.float32), "intercept"),
        numpy_helper.from_array(class_ids.astype(np.int64), "class_ids"),
        *_guard_initializers(),
    ]
    nodes = [
        *_guard_nodes(),
        helper.make_node("Gemm", ["finite", "coef", "intercept"], ["logits"], name="linear"),
        helper.make_node("Softmax", ["logits"], [PROBA_NAME], name="softmax", axis=1),
        # ArgMax on the logits, not the probabilities: softmax in float32 can round two close
        # classes to the same probability, and the tie would then break differently from sklearn.
        helper.make_node("ArgMax", ["logits"], ["class_index"], name="argmax", axis=1, keepdims=0),
        helper.make_node("Gather", ["class_ids", "class_index"], [LABEL_NAME], name="to_class_id", axis=0),
    ]
    return _classifier_file(nodes, initializers, props, "har_linear_softmax", n_features, n_classes,
                            "UCI HAR activity classifier: standardised logistic regression, scaler folded in.")


def _classifier_file(nodes, initializers, props: dict, name: str, n_features: int, n_classes: int,
                     doc: str) -> onnx.ModelProto:
    """The checked model of a classifier graph with the engine's input, outputs and metadata."""
    graph = helper.make_graph(
        nodes,
        name,
        inputs=[helper.make_tensor_value_info(INPUT_NAME, TensorProto.FLOAT, ["N", n_features])],
        outputs=[
            helper.make_tensor_value_info(LABEL_NAME, TensorProto.INT64, ["N"]),
            helper.make_tensor_value_info(PROBA_NAME, TensorProto.FLOAT, ["N", n_classes]),
        ],
        initializer=initializers,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)], producer_name="har-engine",
                              doc_string=doc)
    model.ir_version = IR_VERSION
    helper.set_model_props(model, props)
    onnx.checker.check_model(model, full_check=True)
    return model


def _guard_initializers() -> list:
    return [
        numpy_helper.from_array(((RAW_MIN + RAW_MAX) / 2).astype(np.float32)[None], "feature_middle"),
        numpy_helper.from_array(RAW_MIN.astype(np.float32)[None], "feature_low"),
        numpy_helper.from_array(RAW_MAX.astype(np.float32)[None], "feature_high"),
    ]


def _guard_nodes() -> list:
    """``features`` -> ``finite``: NaN to the middle of the feature's published range, +-inf to its ends."""
    return [
        helper.make_node("IsNaN", [INPUT_NAME], ["is_nan"], name="undefined"),
        helper.make_node("Where", ["is_nan", "feature_middle", INPUT_NAME], ["defined"], name="nan_to_middle"),
        helper.make_node("IsInf", ["defined"], ["is_high"], name="too_high", detect_negative=0),
        helper.make_node("Where", ["is_high", "feature_high", "defined"], ["below_high"], name="inf_to_high"),
        helper.make_node("IsInf", ["below_high"], ["is_low"], name="too_low", detect_positive=0),
        helper.make_node("Where", ["is_low", "feature_low", "below_high"], ["finite"], name="inf_to_low"),
    ]


def build_gated_model(model, *, metadata: dict) -> onnx.ModelProto:
    """The graph of a fitted :class:`~har.model.gated.PlacementGatedClassifier`, default-domain ops only::

        features (raw units) -> Where(IsNaN) / Where(IsInf) -> finite
        finite -> Gemm(gate) -> Softmax -> gate [N, H] -> Slice column h -> g_h [N, 1]
        finite -> Gemm(head h) -> Softmax -> p_h [N, K];   Mul(g_h, p_h)
        Sum over h -> probabilities [N, K] -> ArgMax -> Gather(class_ids) -> label [N]

    Each head and the gate have their scaler and the official min-max scale folded in
    (:func:`folded_weights`, :func:`raw_unit_weights`). Same I/O contract, input guard and metadata as
    :func:`build_model`.
    """
    gate_w, gate_b, gate_ids = raw_unit_weights(*folded_weights(model.gate_))
    n_heads = len(model.heads_)
    if not np.array_equal(gate_ids, np.arange(n_heads)):
        raise ExportError(f"the gate predicts {gate_ids.tolist()}, expected head indices 0..{n_heads - 1}")
    heads = [raw_unit_weights(*folded_weights(h)) for h in model.heads_]
    class_ids = heads[0][2]
    if any(not np.array_equal(ids, class_ids) for _, _, ids in heads):
        raise ExportError("the heads predict different classes")
    n_classes, n_features = heads[0][0].shape
    props = _metadata_props(metadata, class_ids)

    def linear(name, w, b):
        return [numpy_helper.from_array(np.ascontiguousarray(w.T, dtype=np.float32), f"{name}_coef"),
                numpy_helper.from_array(b.astype(np.float32), f"{name}_intercept")]

    initializers = linear("gate", gate_w, gate_b) + [
        numpy_helper.from_array(class_ids.astype(np.int64), "class_ids"),
        numpy_helper.from_array(np.array([1], dtype=np.int64), "axis_1"),
        *_guard_initializers(),
    ]
    nodes = [
        *_guard_nodes(),
        helper.make_node("Gemm", ["finite", "gate_coef", "gate_intercept"], ["gate_logits"], name="gate_linear"),
        helper.make_node("Softmax", ["gate_logits"], ["gate"], name="gate_softmax", axis=1),
    ]
    weighted = []
    for h, (w, b, _) in enumerate(heads):
        initializers += linear(f"head{h}", w, b)
        initializers += [numpy_helper.from_array(np.array([h], dtype=np.int64), f"start{h}"),
                         numpy_helper.from_array(np.array([h + 1], dtype=np.int64), f"end{h}")]
        nodes += [
            helper.make_node("Gemm", ["finite", f"head{h}_coef", f"head{h}_intercept"], [f"head{h}_logits"],
                             name=f"head{h}_linear"),
            helper.make_node("Softmax", [f"head{h}_logits"], [f"head{h}_proba"], name=f"head{h}_softmax", axis=1),
            helper.make_node("Slice", ["gate", f"start{h}", f"end{h}", "axis_1"], [f"gate{h}"], name=f"gate{h}"),
            helper.make_node("Mul", [f"gate{h}", f"head{h}_proba"], [f"weighted{h}"], name=f"weigh{h}"),
        ]
        weighted.append(f"weighted{h}")
    nodes += [
        helper.make_node("Sum", weighted, [PROBA_NAME], name="mixture"),
        helper.make_node("ArgMax", [PROBA_NAME], ["class_index"], name="argmax", axis=1, keepdims=0),
        helper.make_node("Gather", ["class_ids", "class_index"], [LABEL_NAME], name="to_class_id", axis=0),
    ]
    return _classifier_file(nodes, initializers, props, "har_gated_linear_softmax", n_features, n_classes,
                            f"Activity classifier: {n_heads} placement heads (standardised logistic regressions) "
                            f"mixed by a linear placement gate, scalers folded in.")


def folded_weights(pipeline) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Fold the scaler into the linear layer: ``logits = x @ W'.T + b'``.

    With ``z = (x - mean) / scale`` and ``logits = z @ W.T + b``::

        W' = W / scale            (each column j divided by scale[j])
        b' = b - W' @ mean

    Parameters
    ----------
    pipeline : sklearn Pipeline or LogisticRegression
        As in :func:`export_onnx`.

    Returns
    -------
    weights : ndarray, shape (K, n_features), float64
        Rows in increasing class id.
    bias : ndarray, shape (K,), float64
    class_ids : ndarray, shape (K,), int64
        Increasing.
    """
    scaler, clf = _unpack(pipeline)
    coef = np.asarray(clf.coef_, dtype=np.float64)
    intercept = np.asarray(clf.intercept_, dtype=np.float64)
    classes = np.asarray(clf.classes_)
    if not np.issubdtype(classes.dtype, np.integer):
        raise ExportError(f"class labels must be integer activity ids, got dtype {classes.dtype}: {classes!r}")
    if coef.shape[0] == 1 and len(classes) == 2:
        # Binary sklearn keeps one row w for class 1: p1 = sigmoid(z) = softmax([0, z])[1].
        coef = np.vstack([np.zeros_like(coef), coef])
        intercept = np.concatenate([[0.0], intercept])
    if coef.shape[0] != len(classes):
        raise ExportError(f"coef_ has {coef.shape[0]} rows for {len(classes)} classes")

    n_features = coef.shape[1]
    if n_features != N_FEATURES:
        raise ExportError(f"the model takes {n_features} features, the runtime supplies {N_FEATURES}")
    names = getattr(clf if scaler is None else scaler, "feature_names_in_", None)
    if names is not None and tuple(names) != FEATURE_NAMES:
        raise ExportError("the model was fitted on columns other than FEATURE_NAMES (names or order differ)")

    weights, bias = coef, intercept
    if scaler is not None:
        scale = getattr(scaler, "scale_", None)
        mean = getattr(scaler, "mean_", None)
        if scale is not None:
            weights = weights / np.asarray(scale, dtype=np.float64)[None, :]
        if mean is not None and getattr(scaler, "with_mean", True):
            bias = bias - weights @ np.asarray(mean, dtype=np.float64)

    order = np.argsort(classes, kind="stable")
    return weights[order], bias[order], classes[order].astype(np.int64)


def raw_unit_weights(weights: np.ndarray, bias: np.ndarray, class_ids: np.ndarray
                     ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Fold the official min-max scale into weights fitted on it.

    ``official = a * raw + c`` with ``a = 2 / (max - min)`` and ``c = -2 min / (max - min) - 1``,
    so ``W @ official + b = (W * a) @ raw + (b + W @ c)``.

    Parameters
    ----------
    weights : ndarray, shape (K, 561)
        On the official scale (``folded_weights``).
    bias : ndarray, shape (K,)
    class_ids : ndarray, shape (K,)

    Returns
    -------
    weights, bias, class_ids
        The same classifier on raw pipeline units.
    """
    span = RAW_MAX - RAW_MIN
    a = 2.0 / span
    c = -2.0 * RAW_MIN / span - 1.0
    return weights * a[None, :], bias + weights @ c, class_ids


def skl2onnx_reference(pipeline) -> onnx.ModelProto:
    """Convert with skl2onnx (the reference converter), ZipMap off, for parity checks.

    Parameters
    ----------
    pipeline : sklearn Pipeline or LogisticRegression
        As in :func:`export_onnx`.

    Returns
    -------
    onnx.ModelProto
        Input ``features`` float32 (N, n_features); outputs ``label`` int64 (N,) and
        ``probabilities`` float32 (N, K). Uses the ``ai.onnx.ml`` domain: not for deployment.
    """
    from skl2onnx import convert_sklearn
    from skl2onnx.common.data_types import FloatTensorType

    _, clf = _unpack(pipeline)
    n_features = np.asarray(clf.coef_).shape[1]
    return convert_sklearn(
        pipeline,
        initial_types=[(INPUT_NAME, FloatTensorType([None, n_features]))],
        options={id(clf): {"zipmap": False}},
        target_opset={"": OPSET, "ai.onnx.ml": 3},
    )


def read_metadata(path) -> dict:
    """Read the ``metadata_props`` of an ONNX file.

    Parameters
    ----------
    path : str or Path

    Returns
    -------
    dict of str -> str
        Values as stored (JSON text for lists and numbers), i.e. the same map the runtime gets from
        ``onnxruntime.InferenceSession(path).get_modelmeta().custom_metadata_map``.
    """
    model = onnx.load(str(path), load_external_data=False)
    return {p.key: p.value for p in model.metadata_props}


def _unpack(pipeline):
    """Return ``(scaler or None, logistic regression)``; refuse anything else."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import StandardScaler

    if isinstance(pipeline, LogisticRegression):
        steps = [pipeline]
    elif isinstance(pipeline, Pipeline):
        steps = [est for _, est in pipeline.steps if est not in (None, "passthrough")]
    else:
        raise ExportError(f"expected a Pipeline or LogisticRegression, got {type(pipeline).__name__}")

    if not steps or not isinstance(steps[-1], LogisticRegression):
        raise ExportError("the last step must be a LogisticRegression")
    clf, pre = steps[-1], steps[:-1]
    if len(pre) > 1 or (pre and not isinstance(pre[0], StandardScaler)):
        kinds = ", ".join(type(s).__name__ for s in pre)
        raise ExportError(f"only one StandardScaler may precede the classifier, got: {kinds}")
    if not hasattr(clf, "coef_"):
        raise ExportError("the LogisticRegression is not fitted")
    # One-vs-rest probabilities are normalised sigmoids, not a softmax: the graph would disagree.
    if getattr(clf, "multi_class", "auto") == "ovr" or (
        getattr(clf, "solver", None) == "liblinear" and len(clf.classes_) > 2
    ):
        raise ExportError("one-vs-rest logistic regression is not supported; fit a multinomial one")
    return (pre[0] if pre else None), clf


def _metadata_props(metadata: dict, class_ids: np.ndarray) -> dict[str, str]:
    clash = sorted(set(metadata) & set(RESERVED_KEYS))
    if clash:
        raise ExportError(f"metadata keys {clash} are set by export_onnx itself")
    unknown = [int(c) for c in class_ids if int(c) not in LABEL_NAMES]
    if unknown:
        raise ExportError(f"class ids {unknown} have no name in LABEL_NAMES")

    props = {str(k): _to_text(v) for k, v in metadata.items()}
    props.update({
        META_CLASS_IDS: json.dumps([int(c) for c in class_ids]),
        META_CLASS_NAMES: json.dumps([LABEL_NAMES[int(c)] for c in class_ids]),
        META_FEATURE_DIGEST: FEATURE_DIGEST,
        META_FEATURES_VERSION: FEATURES_VERSION,
        META_FEATURE_SCALE: FEATURE_SCALE,
        META_N_FEATURES: str(N_FEATURES),
        META_CREATED: datetime.now(timezone.utc).isoformat(timespec="seconds"),
    })
    return props


def _to_text(value) -> str:
    if isinstance(value, str):
        return value
    # numpy scalars and arrays appear in metrics dicts; .tolist() turns both into plain JSON.
    return json.dumps(value, sort_keys=True, default=lambda o: o.tolist() if hasattr(o, "tolist") else str(o))
