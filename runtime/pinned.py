"""One placement's head of a placement-gated model, as a model of its own: for apps that know where the phone is.

A placement gate decides from one window where the phone is, and for still windows it cannot always
tell: a waist phone on a person lying on their side points gravity along the phone's y axis, as a
pocketed phone does when its owner stands (``har evaluate --motionsense`` shows the gate's routing).
An app that asks its user "where do you carry the phone?" knows what the window does not. Pinning
gives it that placement's head: the same linear-softmax contract as any model of the engine, so
``Recognizer("waist.onnx")``, ``har-live --model`` and ``har personalize --model`` take it.

The pinned model keeps the parent's placement check as it is (its gravity directions come from both
placements' training windows): it still flags a phone held in neither way, not a phone held in the
other one. numpy only.
"""

from __future__ import annotations

import json
import re
from datetime import datetime, timezone

from har.features.contract import META_CREATED, REQUIRED_META

from .errors import ModelError
from .linear_onnx import GatedModel, LinearModel
from .personalize import PersonalizeError, read_base

__all__ = ["PinError", "pin_placement", "placement_names"]


class PinError(ModelError):
    """The model has no such placement head; the message says why in one line."""


def placement_names(model: GatedModel) -> list[str]:
    """The placement of each head, in head order, from the model's ``placements`` metadata."""
    try:
        names = json.loads(model.metadata.get("placements") or "null")
    except ValueError:          # a model file from elsewhere: its heads still have numbers
        names = None
    if not isinstance(names, list) or len(names) != len(model.heads):
        return [f"head {h}" for h in range(len(model.heads))]
    return [str(n) for n in names]


def _head_of(names: list[str], placement: str) -> int:
    """The head whose placement name has the word ``placement`` (case-insensitive): exactly one."""
    word = placement.strip().lower()
    hits = [h for h, name in enumerate(names) if word and word in re.findall(r"[a-z0-9]+", name.lower())]
    if len(hits) != 1:
        what = "no placement of the model has" if not hits else f"{len(hits)} placements of the model have"
        raise PinError(f"{what} the word {placement!r}; its placements: {'; '.join(names)}")
    return hits[0]


def pin_placement(base_path, placement: str) -> LinearModel:
    """The head of ``placement`` of the placement-gated model at ``base_path``, as a linear model.

    Parameters
    ----------
    base_path : path-like
        An ONNX model of this engine with per-placement heads behind a gate (e.g. the bundled one).
    placement : str
        A word of the placement's name, e.g. ``"waist"`` or ``"pocket"``.

    Returns
    -------
    LinearModel
        561 features in (the parent's feature scale), the parent's classes out; its metadata carries
        the contract and placement check of the parent, and the lineage: parent sha256, pinned
        placement, the parent's other metadata, creation time.

    Raises
    ------
    PinError
        The file is not a model of this engine, has no gate, or no single placement matches.
    """
    try:
        parent, digest = read_base(base_path)
    except PersonalizeError as exc:
        raise PinError(str(exc)) from None
    if not isinstance(parent, GatedModel):
        raise PinError(f"{base_path}: one linear layer, no placement heads to choose from")
    names = placement_names(parent)
    head = _head_of(names, placement)
    metadata = {k: parent.metadata[k] for k in REQUIRED_META}
    metadata.update({k: v for k, v in parent.metadata.items() if k.startswith("placement_")})
    metadata.update({
        "model": f"placement-pinned: the {names[head]} head of a placement-gated model (linear softmax)",
        "pinned_placement": names[head],
        "parent_model_sha256": digest,
        "parent_head": f"head {head} of the placement-gated parent",
        "parent_metadata": json.dumps({k: v for k, v in parent.metadata.items()
                                       if k not in REQUIRED_META and not k.startswith("placement_")}, sort_keys=True),
        META_CREATED: datetime.now(timezone.utc).isoformat(timespec="seconds"),
    })
    return LinearModel(parent.heads[head].weights, parent.heads[head].bias, parent.class_ids, metadata)
