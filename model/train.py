"""Train and tune the activity model: scaler + multinomial logistic regression.

Hyperparameters are chosen by cross-validation grouped by subject on the training subjects only
(the UCI HAR test subjects are never seen until the final evaluation), by macro-F1. Training rows
are windows every ``TRAIN_HOP`` samples (denser than the runtime's hop: more views of the same
movements); validation and test rows are the runtime's own windows, every 64 samples.
"""

from __future__ import annotations

import time
import warnings
from dataclasses import dataclass, field

import numpy as np
from joblib import Parallel, delayed
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import f1_score
from sklearn.model_selection import GroupKFold
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from har.runtime.tools.progress import Progress

from .windows import WindowSet

TRAIN_HOP = 16
N_FOLDS = 4

#: The candidates: regularisation kind and strength, class weights.
GRID = tuple(
    {"penalty": "l2", "C": C, "class_weight": cw}
    for C in (0.3, 1.0, 3.0) for cw in (None, "balanced")
) + ({"penalty": "none", "C": None, "class_weight": None},)


def make_pipeline(penalty: str, C: float | None, class_weight, seed: int = 0, max_iter: int = 3000) -> Pipeline:
    if penalty == "none":
        clf = LogisticRegression(C=np.inf, class_weight=class_weight, max_iter=max_iter, random_state=seed)
    else:
        clf = LogisticRegression(C=C, class_weight=class_weight, max_iter=max_iter, random_state=seed)
    return Pipeline([("scale", StandardScaler()), ("clf", clf)])


def describe(params: dict) -> str:
    if params["penalty"] == "none":
        return f"penalty=none class_weight={params['class_weight']}"
    return f"penalty={params['penalty']} C={params['C']:g} class_weight={params['class_weight']}"


@dataclass
class TuningResult:
    params: dict
    fold_scores: list[float]
    seconds: float

    @property
    def mean(self) -> float:
        return float(np.mean(self.fold_scores))


@dataclass
class TrainedModel:
    pipeline: Pipeline
    best: TuningResult
    tuning: list[TuningResult] = field(default_factory=list)
    seconds: float = 0.0
    n_train: int = 0


def _fit_score(params, seed, X_fit, y_fit, X_val, y_val) -> float:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model = make_pipeline(seed=seed, **params).fit(X_fit, y_fit)
    return float(f1_score(y_val, model.predict(X_val), average="macro"))


def tune_and_fit(train_dense: WindowSet, train_regular: WindowSet, *, seed: int = 0, n_jobs: int = 2,
                 grid=GRID, log=print, quiet: bool = False) -> TrainedModel:
    """Grouped cross-validation over ``grid``, then a final fit of the winner on all training rows.

    Parameters
    ----------
    train_dense : WindowSet
        Labelled training-subject windows every TRAIN_HOP samples: the rows models are fitted on.
    train_regular : WindowSet
        Labelled training-subject windows every 64 samples: the rows folds are scored on.
    quiet : bool
        No progress bar over the fits (it is drawn only on a terminal anyway).
    """
    t0 = time.perf_counter()
    subjects = np.unique(train_dense.subject)
    folds = []
    for _, val_idx in GroupKFold(n_splits=N_FOLDS).split(subjects, groups=subjects):
        val_subjects = subjects[val_idx]
        fit = ~np.isin(train_dense.subject, val_subjects)
        val = np.isin(train_regular.subject, val_subjects)
        folds.append((fit, val, val_subjects))
    log(f"tuning: {len(grid)} candidates x {N_FOLDS} folds grouped by subject "
        f"({len(subjects)} training subjects, {len(train_dense)} fit rows), selection by macro-F1")
    for k, (_, _, vs) in enumerate(folds):
        log(f"  fold {k + 1}: validation subjects {', '.join(map(str, vs))}")
    jobs = [(i, k) for i in range(len(grid)) for k in range(len(folds))]
    scores = []
    with Progress("tuning", len(jobs), unit="fits", quiet=quiet) as bar:
        # A generator of results in submission order: the bar moves as fits finish.
        for score in Parallel(n_jobs=n_jobs, return_as="generator")(
                delayed(_fit_score)(grid[i], seed, train_dense.X[folds[k][0]], train_dense.y[folds[k][0]],
                                    train_regular.X[folds[k][1]], train_regular.y[folds[k][1]])
                for i, k in jobs):
            scores.append(score)
            bar.advance()
    elapsed = time.perf_counter() - t0
    results = []
    for i, params in enumerate(grid):
        fold_scores = [scores[j] for j, (ii, _) in enumerate(jobs) if ii == i]
        results.append(TuningResult(params, fold_scores, elapsed / len(grid)))
    # Ties go to the earlier (more regularised) candidate: max() keeps the first maximum.
    best = max(results, key=lambda r: round(r.mean, 6))
    for r in results:
        mark = "  <- winner" if r is best else ""
        folds_txt = " ".join(f"{s:.4f}" for s in r.fold_scores)
        log(f"  {describe(r.params):45s} folds [{folds_txt}] mean {r.mean:.4f}{mark}")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        pipeline = make_pipeline(seed=seed, **best.params).fit(train_dense.X, train_dense.y)
    return TrainedModel(pipeline, best, results, time.perf_counter() - t0, len(train_dense))
