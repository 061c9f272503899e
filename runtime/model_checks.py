"""Checks of a model file's class table and outputs against the engine's activity table.

A model names its classes in its metadata (``class_ids``, ``class_names``) and computes its label
output inside the graph. If either disagrees with the engine's activity table, every prediction
is silently wrong ("WALKING 1.00" for a person lying down) or fails at the first window. These
pure functions refuse such a model at load time with the reason, as a ``ModelError``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence

import numpy as np

from har.features.contract import (ACTIVITY_BY_ID, META_CLASS_IDS, META_CLASS_NAMES, MODEL_CLASS_IDS,
                                   ONNX_LABEL, ONNX_PROBABILITIES)

from .errors import ModelError

__all__ = ["check_model_metadata", "check_model_outputs", "probe_rows"]


def _json_list(meta: Mapping[str, str], key: str, where: str) -> list:
    try:
        value = json.loads(meta[key])
    except KeyError:
        raise ModelError(f"{where}: metadata lacks {key}") from None
    except (TypeError, ValueError):
        raise ModelError(f"{where}: metadata {key} is not JSON: {str(meta[key])[:60]!r}") from None
    if not isinstance(value, list):
        raise ModelError(f"{where}: metadata {key} must be a JSON list, got {type(value).__name__}")
    return value


def _duplicates(items: Sequence) -> list:
    seen, dup = set(), []
    for x in items:
        if x in seen and x not in dup:
            dup.append(x)
        seen.add(x)
    return dup


def _static_dims(shape) -> list:
    return list(shape) if isinstance(shape, (list, tuple)) else []


def check_model_metadata(meta: Mapping[str, str], outputs: Mapping[str, Sequence],
                         where: str) -> tuple[tuple[int, ...], tuple[str, ...]]:
    """The model's classes, after checking them against the engine's activity table.

    Parameters
    ----------
    meta : mapping of str to str
        The model's metadata (``metadata_props``); ``class_ids`` and ``class_names`` are JSON lists.
    outputs : mapping of str to sequence
        Graph output name -> shape as onnxruntime reports it (ints for fixed dimensions, a name
        or None for the batch dimension), e.g. ``{"probabilities": ["N", 6], "label": ["N"]}``.
    where : str
        The model file as the user knows it, for the messages.

    Returns
    -------
    class_ids : tuple of int
        Activity ids, strictly increasing, each one of the engine's model classes (1..6).
    class_names : tuple of str
        The activity table's name of each id, in the same order.

    Raises
    ------
    ModelError
        With the reason: ids or names not JSON lists, of different lengths, duplicated, not
        increasing, outside the engine's activities, names that are not the table's names for
        their ids (swapped, misspelt), fewer than two classes, or outputs missing or of a shape
        other than probabilities [N, K] and label [N] with K the number of classes.
    """
    ids = _json_list(meta, META_CLASS_IDS, where)
    names = _json_list(meta, META_CLASS_NAMES, where)
    bad_ids = [i for i in ids if type(i) is not int]
    if bad_ids:
        raise ModelError(f"{where}: class_ids must be integers, got {bad_ids[0]!r}")
    bad_names = [n for n in names if not isinstance(n, str)]
    if bad_names:
        raise ModelError(f"{where}: class_names must be strings, got {bad_names[0]!r}")
    if len(ids) != len(names):
        raise ModelError(f"{where}: {len(ids)} class ids {ids} but {len(names)} class names {names}")
    if len(ids) < 2:
        raise ModelError(f"{where}: {len(ids)} class(es); an activity model needs at least two")
    for kind, items in (("class ids", ids), ("class names", names)):
        dup = _duplicates(items)
        if dup:
            raise ModelError(f"{where}: duplicate {kind} {dup}; each class must appear once")
    if any(b <= a for a, b in zip(ids, ids[1:])):
        raise ModelError(f"{where}: class ids {ids} are not in increasing order")
    unknown = [i for i in ids if i not in MODEL_CLASS_IDS]
    if unknown:
        raise ModelError(f"{where}: class ids {unknown} are not activities the engine predicts "
                         f"({', '.join(map(str, MODEL_CLASS_IDS))})")
    for i, name in zip(ids, names):
        expected = ACTIVITY_BY_ID[i].name
        if name != expected:
            raise ModelError(f"{where}: class id {i} is named {name!r} in the model but is {expected!r} in the "
                             f"engine's activity table; the model's class names are {names}")
    k = len(ids)
    missing = [o for o in (ONNX_PROBABILITIES, ONNX_LABEL) if o not in outputs]
    if missing:
        raise ModelError(f"{where}: outputs are {sorted(outputs)}, expected {ONNX_LABEL!r} and {ONNX_PROBABILITIES!r}")
    proba = _static_dims(outputs[ONNX_PROBABILITIES])
    if len(proba) != 2 or (isinstance(proba[1], int) and proba[1] != k):
        raise ModelError(f"{where}: output {ONNX_PROBABILITIES!r} has shape {outputs[ONNX_PROBABILITIES]}, "
                         f"expected [N, {k}] for its {k} classes")
    label = _static_dims(outputs[ONNX_LABEL])
    if len(label) != 1:
        raise ModelError(f"{where}: output {ONNX_LABEL!r} has shape {outputs[ONNX_LABEL]}, expected [N]")
    return tuple(ids), tuple(names)


def probe_rows(n_features: int, n_random: int = 16, seed: int = 0) -> np.ndarray:
    """Feature rows to run a freshly loaded model on: zeros, the scale's ends, seeded random rows.

    Returns
    -------
    ndarray, shape (3 + n_random, n_features), float32
        On the official [-1, 1] feature scale.
    """
    rng = np.random.default_rng(seed)
    fixed = np.stack([np.zeros(n_features), np.ones(n_features), -np.ones(n_features)])
    return np.vstack([fixed, rng.uniform(-1, 1, (n_random, n_features))]).astype(np.float32)


def check_model_outputs(labels: np.ndarray, probabilities: np.ndarray, class_ids: Sequence[int],
                        where: str) -> None:
    """Check what the model computed for some rows against its declared classes.

    Parameters
    ----------
    labels : ndarray, shape (n,)
        The graph's ``label`` output.
    probabilities : ndarray, shape (n, K)
        The graph's ``probabilities`` output, columns in ``class_ids`` order.
    class_ids : sequence of int
        The classes from :func:`check_model_metadata`.
    where : str
        The model file, for the messages.

    Raises
    ------
    ModelError
        Probabilities not (n, K), not finite, not summing to 1, or labels that are not the class id
        of the most probable column (a label graph inconsistent with the metadata).
    """
    labels = np.asarray(labels)
    proba = np.asarray(probabilities, dtype=np.float64)
    k = len(class_ids)
    if proba.ndim != 2 or proba.shape[1] != k or labels.shape != (proba.shape[0],):
        raise ModelError(f"{where}: computes probabilities of shape {proba.shape} and labels of shape "
                         f"{labels.shape}, expected (n, {k}) and (n,)")
    if not np.isfinite(proba).all() or not np.allclose(proba.sum(axis=1), 1.0, atol=1e-3):
        raise ModelError(f"{where}: computes probabilities that are not finite or do not sum to 1")
    outside = sorted(set(labels.tolist()) - set(class_ids))
    if outside:
        raise ModelError(f"{where}: its label output gives ids {outside} outside its class ids {list(class_ids)}")
    expected = np.asarray(class_ids)[proba.argmax(axis=1)]
    # A tie between two columns may resolve either way; any other disagreement is a broken graph.
    top2 = np.sort(proba, axis=1)[:, -2:]
    clear = top2[:, 1] - top2[:, 0] > 1e-6
    if np.any((labels != expected) & clear):
        raise ModelError(f"{where}: its label output disagrees with its most probable class; the label "
                         f"graph and the class ids do not match")
