"""Effect of causal label smoothing on the held-out test subjects.

Run from the repository root::

    python -m benchmarks.bench_smoothing            # all 19 test-subject recordings (about half a minute)
    python -m benchmarks.bench_smoothing --quick    # 4 recordings

Each held-out HAPT recording (the UCI HAR test subjects, from the local cache) goes whole through
``Recognizer(smoothing=...).push`` then ``flush``, once per setting: smoothing off, EMA with a few
``alpha``, majority vote over a few window counts. Scored on the windows with one activity
throughout (``window_labels`` != 0): accuracy and macro-F1 over the six activities, all recordings
pooled. ``switches/min`` is how often the reported label changes between consecutive windows
(labelled or not), per minute of recording: the flicker smoothing is meant to remove.
"""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np

from har.features.contract import MODEL_CLASS_IDS

SETTINGS = [
    ("off", None, None),
    ("ema", "ema", 0.7),
    ("ema", "ema", 0.5),
    ("ema", "ema", 0.3),
    ("ema", "ema", 0.2),
    ("majority", "majority", 3),
    ("majority", "majority", 5),
    ("majority", "majority", 7),
]
CLASS_IDS = MODEL_CLASS_IDS


def load_test_recordings(n: int | None = None):
    from har.runtime.tools.hapt import TEST_SUBJECTS, DatasetError, load_hapt

    try:
        recs = [r for r in load_hapt(download=False) if r.user in TEST_SUBJECTS]
    except DatasetError as exc:
        raise SystemExit(f"bench_smoothing: HAPT recordings unavailable: {exc}")
    return recs if n is None else recs[:n]


def macro_f1(y_true: np.ndarray, y_pred: np.ndarray, class_ids=CLASS_IDS) -> float:
    f1 = []
    for c in class_ids:
        tp = np.sum((y_pred == c) & (y_true == c))
        fp = np.sum((y_pred == c) & (y_true != c))
        fn = np.sum((y_pred != c) & (y_true == c))
        f1.append(2 * tp / (2 * tp + fp + fn) if tp + fp + fn else 0.0)
    return float(np.mean(f1))


def score(recs, model, smoothing, param) -> dict:
    from har.runtime.tools.labels import window_labels
    from har.runtime import Recognizer

    y_true, y_pred, switches, minutes = [], [], 0, 0.0
    t = time.perf_counter()
    for r in recs:
        rec = Recognizer(model, smoothing=smoothing, smoothing_param=param)
        preds = rec.push(r.acc, r.gyro) + rec.flush()
        starts = np.array([p.start for p in preds])
        pred = np.array([p.label_id for p in preds])
        y_true.append(window_labels(r.labels, starts))
        y_pred.append(pred)
        switches += int(np.sum(pred[1:] != pred[:-1]))
        minutes += r.n_samples / 50.0 / 60.0
    elapsed = time.perf_counter() - t
    yt, yp = np.concatenate(y_true), np.concatenate(y_pred)
    m = yt != 0
    return {"accuracy": float(np.mean(yt[m] == yp[m])), "macro_f1": macro_f1(yt[m], yp[m]),
            "n_windows": int(m.sum()), "switches_per_min": switches / minutes, "seconds": elapsed}


def run(quick: bool = False) -> dict:
    """Score every setting; returns {"recordings": n, "rows": [{setting, param, accuracy, ...}]}."""
    from har.runtime import load_model

    recs = load_test_recordings(4 if quick else None)
    model = load_model()
    rows = []
    for name, smoothing, param in SETTINGS:
        rows.append({"setting": name, "param": param, **score(recs, model, smoothing, param)})
    return {"recordings": len(recs), "subjects": sorted({r.user for r in recs}), "rows": rows}


def table(result: dict) -> str:
    lines = [f"held-out recordings: {result['recordings']} (subjects {result['subjects']}), "
             f"labelled windows: {result['rows'][0]['n_windows']}",
             f"{'setting':<10} {'param':>6} {'accuracy':>9} {'macro-F1':>9} {'switches/min':>13}"]
    for r in result["rows"]:
        param = "" if r["param"] is None else f"{r['param']:g}"
        lines.append(f"{r['setting']:<10} {param:>6} {r['accuracy']:>9.4f} {r['macro_f1']:>9.4f} "
                     f"{r['switches_per_min']:>13.2f}")
    return "\n".join(lines)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="4 recordings instead of all 19")
    args = ap.parse_args(argv)
    print(table(run(args.quick)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
