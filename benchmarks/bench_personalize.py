"""Personal calibration on MotionSense's held-out subjects: zero-shot vs ``personalize`` with 10/30/60 s.

Run from the repository root (needs the compact MotionSense copy, ``HAR_SHARED_DIR`` or ``../shared``)::

    python -m benchmarks.bench_personalize                       # base: see below; writes RESULTS_personalize.md
    python -m benchmarks.bench_personalize --model models/model.onnx

Protocol (MotionSense README, "Session split"): for each held-out subject 17-24, calibration data are
the session-1 trials (dws_1, ups_3, wlk_7, sit_5, std_6): the first 5 s of each trial are the phone
going into the pocket and are dropped by the same settling rule ``har personalize`` applies, then the
next 10, 30 or 60 s of each activity (jogging has no class). Each calibration trial is one labelled
segment, cut into windows every 16 samples, and goes through ``har.runtime.personalize.personalize``
exactly as ``har personalize`` runs it (checks, 2-fold held-out check with fallback, final fit). The
personal model is written as ONNX and run through onnxruntime (``ActivityModel``) on every session-2
window (hop 64, all of each trial; sub01_sit_13 is a byte copy of a session-1 trial and is left out).
Score: macro-F1 over the five activities of each subject; mean and worst subject, and how many
subjects the calibration made worse than zero-shot (and by how much at most).

Base model: each ``--model`` given (one section each; ``pooled`` names the pooled model below); else the bundled model when it was trained with MotionSense
(its ``training_data`` metadata says so); else a pooled model trained here the way the default
model is meant to be (HAPT training subjects + MotionSense 1-16, standardised multinomial logistic
regression, C = 1), cached in ``benchmarks/out/``. Subjects 17-24 never enter training or any choice.

RESULTS_personalize.md was made with ``--model pooled --model benchmarks/out/gated_quick.onnx``, the
second being ``har train --motionsense ../shared/motionsense --quick --jobs 1 --out
benchmarks/out/gated_quick.onnx`` (the placement-gated recipe, first candidate, no tuning): a stand-in
for the default multi-placement model until it is bundled.
"""

from __future__ import annotations

import argparse
import csv
import os
import sys
import time
from pathlib import Path

import numpy as np

from har.features import extract_recording, regular_starts, to_official_scale
from har.runtime.files import atomic_write

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("HAR_SHARED_DIR", ROOT.parent / "shared"))
OUT = ROOT / "benchmarks" / "out"
RESULTS = ROOT / "benchmarks" / "RESULTS_personalize.md"
ACTIVITY = {"wlk": 1, "ups": 2, "dws": 3, "sit": 4, "std": 5}
SESSION1 = ("dws_1", "ups_3", "wlk_7", "sit_5", "std_6")
SESSION2 = ("dws_2", "dws_11", "ups_4", "ups_12", "wlk_8", "wlk_15", "sit_13", "std_14")
HELD_OUT = tuple(range(17, 25))
TRAIN_SUBJECTS = tuple(range(1, 17))
DURATIONS = (10, 30, 60)
SETTLE_S = 5
CLASSES = (1, 2, 3, 4, 5)


def motionsense(folder: Path = SHARED / "motionsense"):
    """(index rows, npz) of the compact copy; exits with a reason when it is absent."""
    if not (folder / "motionsense.npz").exists():
        raise SystemExit(f"bench_personalize: MotionSense not found at {folder} (set HAR_SHARED_DIR)")
    with open(folder / "index.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    return rows, np.load(folder / "motionsense.npz")


def macro_f1(y, pred, classes=CLASSES) -> float:
    f1 = []
    for c in classes:
        tp = np.sum((pred == c) & (y == c))
        denom = np.sum(pred == c) + np.sum(y == c)
        if np.sum(y == c):
            f1.append(2 * tp / denom)
    return float(np.mean(f1))


def pooled_base(rows, data, log=print) -> Path:
    """HAPT training subjects + MotionSense 1-16 -> standardised LR (C=1), exported; cached."""
    path = OUT / "pooled_base.onnx"
    if path.exists():
        return path
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import StandardScaler

    from har.features import from_official_scale
    from har.model.export import export_onnx
    from har.model.windows import load_windows
    from har.runtime.placement import PlacementReference

    t0 = time.perf_counter()
    hapt_train, _ = load_windows(hop=32).labelled().split()
    Xs, ys = [hapt_train.X], [hapt_train.y]
    for r in rows:
        if int(r["subject"]) in TRAIN_SUBJECTS and r["activity_code"] in ACTIVITY and r["key"] != "sub01_sit_13":
            x = data[r["key"]].astype(np.float64)
            _, X = extract_recording(x[:, :3], x[:, 3:], regular_starts(len(x), 32))
            Xs.append(to_official_scale(X))
            ys.append(np.full(len(X), ACTIVITY[r["activity_code"]]))
    X, y = np.vstack(Xs), np.concatenate(ys)
    pipe = Pipeline([("scale", StandardScaler()), ("clf", LogisticRegression(C=1.0, max_iter=3000))]).fit(X, y)
    reference = PlacementReference.from_windows(from_official_scale(X))
    export_onnx(pipe, path, metadata={
        "model": "StandardScaler + multinomial LogisticRegression C=1 (benchmark's pooled base)",
        "training_data": f"HAPT training subjects + MotionSense subjects 1-16 (windows every 32 samples, {len(y)})",
        **reference.to_metadata()})
    log(f"pooled base trained in {time.perf_counter() - t0:.0f} s: {path}")
    return path


def choose_bases(args, rows, data) -> list[Path]:
    if args.model:
        return [pooled_base(rows, data) if m == "pooled" else Path(m) for m in args.model]
    from har.runtime.model import bundled_model_path, load_model

    if "MotionSense" in load_model().metadata.get("training_data", ""):
        return [bundled_model_path()]
    return [pooled_base(rows, data)]


def calibration_windows(rows, data, subject: int, seconds: float):
    from har.runtime.tools.user_data import recording_windows
    from har.runtime.personalize import UserWindows

    parts, base = [], 0
    for r in rows:
        if int(r["subject"]) != subject or r["trial"] not in SESSION1:
            continue
        n = int((SETTLE_S + seconds) * 50)
        x = data[r["key"]][:n].astype(np.float64)
        labels = np.full(len(x), ACTIVITY[r["activity_code"]])
        parts.append(recording_windows(x[:, :3], x[:, 3:], labels, segment_base=base))
        base += 1_000_000
    return UserWindows(np.vstack([p.X for p in parts]),
                       *(np.concatenate([getattr(p, f) for p in parts]) for f in ("y", "segment", "start")))


def test_windows(rows, data, subject: int):
    Xs, ys = [], []
    for r in rows:
        if int(r["subject"]) != subject or r["trial"] not in SESSION2 or r["key"] == "sub01_sit_13":
            continue
        x = data[r["key"]].astype(np.float64)
        _, X = extract_recording(x[:, :3], x[:, 3:])
        Xs.append(X)
        ys.append(np.full(len(X), ACTIVITY[r["activity_code"]]))
    return np.vstack(Xs), np.concatenate(ys)


def bench_base(base_path: Path, rows, data, subjects, log=print) -> list[str]:
    """Zero-shot and personalised scores of one base model; the Markdown section of the results."""
    from har.runtime.model import ActivityModel
    from har.runtime.personalize import PersonalizeError, model_input, personalize

    base = ActivityModel(base_path)
    scale = base.metadata["feature_scale"]
    table = {d: [] for d in DURATIONS}
    zero, detail, seconds = [], [], []
    for s in subjects:
        X, y = test_windows(rows, data, s)
        Xm = model_input(X, scale)
        z = macro_f1(y, base.predict(Xm)[0])
        zero.append(z)
        line = [f"{s}", f"{z:.3f}"]
        for d in DURATIONS:
            cal = calibration_windows(rows, data, s, d)
            t0 = time.perf_counter()
            try:
                result = personalize(base_path, cal, source=f"MotionSense subject {s}, session 1, {d} s/activity")
            except PersonalizeError as exc:
                log(f"subject {s}, {d} s: refused: {exc}")
                table[d].append(z)
                line.append("refused")
                continue
            seconds.append(time.perf_counter() - t0)
            path = result.write(OUT / f"personal_s{s}_{d}s.onnx")
            score = macro_f1(y, ActivityModel(path).predict(Xm)[0])
            table[d].append(score)
            line.append(f"{score:.3f}{' (base kept)' if result.fallback else ''}")
        detail.append(line)
        log(" | ".join(line))

    zero = np.array(zero)
    lines = [f"## Base `{base_path.name}`", "",
             f"{base.metadata.get('model', '?')}. Training data: {base.metadata.get('training_data', '?')}.", "",
             "| calibration | mean macro-F1 | worst subject | subjects worse than zero-shot | largest drop |",
             "|---|---|---|---|---|",
             f"| none (zero-shot) | {zero.mean():.3f} | {zero.min():.3f} | - | - |"]
    for d in DURATIONS:
        v = np.array(table[d])
        drop = zero - v
        lines.append(f"| {d} s per activity | {v.mean():.3f} | {v.min():.3f} | {int((drop > 0).sum())} of {len(v)} "
                     f"| {max(drop.max(), 0):.3f} |")
    lines += ["", "Per subject (macro-F1; '(base kept)': the held-out check found no gain and kept the base weights):",
              "", "| subject | zero-shot | " + " | ".join(f"{d} s" for d in DURATIONS) + " |",
              "|---|---|" + "---|" * len(DURATIONS)]
    lines += ["| " + " | ".join(r) + " |" for r in detail]
    if seconds:
        lines += ["", f"Personalize time (fit + check, {len(seconds)} runs): median {np.median(seconds):.2f} s "
                      f"on this machine (one core).", ""]
    return lines


def run(args) -> int:
    rows, data = motionsense()
    subjects = HELD_OUT[: args.subjects] if args.subjects else HELD_OUT
    OUT.mkdir(parents=True, exist_ok=True)
    command = "python -m benchmarks.bench_personalize" + "".join(f" --model {m}" for m in args.model or [])
    lines = ["# Personal calibration on MotionSense held-out subjects (17-24)", "",
             f"Command: `{command}`. Calibration: session-1 trials, first 5 s dropped, then N s of each of the "
             "five activities; scored on every session-2 window (hop 64) with the written ONNX model. Macro-F1 "
             "per subject over the five activities. The protocol is in the benchmark's docstring.", ""]
    for base_path in choose_bases(args, rows, data):
        lines += bench_base(base_path, rows, data, subjects)
    text = "\n".join(lines) + "\n"
    print(text)
    if not args.subjects:
        atomic_write(RESULTS, text)
        print(f"written: {RESULTS}")
    return 0


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--model", action="append", help="base ONNX model, may repeat (default: see the module docstring)")
    p.add_argument("--subjects", type=int, help="only the first N held-out subjects (does not write results)")
    return run(p.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
