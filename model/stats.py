"""Look at a datasource before training on it: class balance, feature ranges, relation to the target.

Each feature's relation to the class is measured two ways:

- correlation ratio ``eta = sqrt(between-class variance / total variance)``, 0..1: how much of
  the feature's variance the class means explain (what a linear model can use);
- mutual information (``sklearn.feature_selection.mutual_info_classif``, nats, k-NN estimate):
  any dependence, e.g. classes with equal means but different spreads or shapes.

A feature ranked high by MI but low by eta carries information a linear model over that feature
alone will not see; the report lists those.

Plots use matplotlib's object API on the Agg canvas (no pyplot, no global backend switch).
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from har.runtime.files import atomic_write

from har.features.contract import LABEL_NAMES

#: Percentiles of the per-feature summary.
QUANTILES = (5, 25, 50, 75, 95)
REPORT_NAME = "stats.md"
BALANCE_PLOT = "class_balance.png"
FEATURES_PLOT = "top_features_by_class.png"
#: Features shown in the class-conditional distribution grid.
N_PLOTTED = 6


@dataclass(frozen=True, eq=False)
class StatsReport:
    """Statistics of one datasource (see :func:`datasource_stats`).

    Attributes
    ----------
    feature_names : tuple of str, length n_features
    class_ids : ndarray, shape (k,), int64
        Increasing.
    class_counts : ndarray, shape (k,), int64
    subject_ids : ndarray, shape (s,), int64
        Increasing.
    subject_counts : ndarray, shape (s, k), int64
        Rows per (subject, class).
    minimum, maximum, mean : ndarray, shape (n_features,), float64
        Over the non-NaN values; NaN for an all-NaN feature.
    quantiles : ndarray, shape (n_features, len(QUANTILES)), float64
        The ``QUANTILES`` percentiles over the non-NaN values.
    nan_count : ndarray, shape (n_features,), int64
    eta : ndarray, shape (n_features,), float64
        Correlation ratio, 0..1 (0 for a feature constant over its finite values).
    mi : ndarray, shape (n_features,), float64
        Mutual information with the class, nats, >= 0.
    mi_rows : int
        Rows the MI estimate used (a seeded random subsample when there are more).
    top : int
        Length of the top lists.
    sample_values : ndarray, shape (mi_rows, N_PLOTTED), float64
        The MI rows of the ``N_PLOTTED`` features with the highest MI, for the distribution plots.
    sample_y : ndarray, shape (mi_rows,), int64
    """

    feature_names: tuple
    class_ids: np.ndarray
    class_counts: np.ndarray
    subject_ids: np.ndarray
    subject_counts: np.ndarray
    minimum: np.ndarray
    maximum: np.ndarray
    mean: np.ndarray
    quantiles: np.ndarray
    nan_count: np.ndarray
    eta: np.ndarray
    mi: np.ndarray
    mi_rows: int
    top: int
    sample_values: np.ndarray
    sample_y: np.ndarray

    @property
    def n_rows(self) -> int:
        return int(self.class_counts.sum())

    @property
    def n_features(self) -> int:
        return len(self.feature_names)

    @property
    def eta_rank(self) -> np.ndarray:
        """ndarray, shape (n_features,), int: 0 for the highest eta."""
        return _rank_desc(self.eta)

    @property
    def mi_rank(self) -> np.ndarray:
        """ndarray, shape (n_features,), int: 0 for the highest MI."""
        return _rank_desc(self.mi)

    @property
    def top_eta(self) -> np.ndarray:
        """Feature indices, the ``top`` highest eta first."""
        return np.argsort(-self.eta, kind="stable")[: self.top]

    @property
    def top_mi(self) -> np.ndarray:
        """Feature indices, the ``top`` highest MI first."""
        return np.argsort(-self.mi, kind="stable")[: self.top]

    @property
    def nonlinear(self) -> np.ndarray:
        """Feature indices in the MI top list whose eta rank is ``3 * top`` or worse, MI order.

        The factor 3 leaves room for the usual disagreement between two noisy rankings; with fewer
        than ``3 * top`` features nothing can qualify.
        """
        eta_rank = self.eta_rank
        return np.array([i for i in self.top_mi if eta_rank[i] >= 3 * self.top and self.mi[i] > 0], dtype=np.int64)

    def class_name(self, class_id) -> str:
        return LABEL_NAMES.get(int(class_id), str(int(class_id)))


def datasource_stats(X, y, subjects, feature_names, *, top=15, random_state=0, max_mi_rows=5000) -> StatsReport:
    """Compute the statistics of a feature table before training.

    Parameters
    ----------
    X : array_like, shape (n, n_features), float
        Features (e.g. the 561 UCI HAR ones on the official [-1, 1] scale); may contain NaN.
    y : array_like, shape (n,), int
        Class ids (1..6 for the activities; any integers work).
    subjects : array_like, shape (n,), int
        Volunteer id of each row.
    feature_names : sequence of str, length n_features
    top : int
        Length of the top-feature lists.
    random_state : int
        Seeds the MI row subsample and the MI estimator's jitter.
    max_mi_rows : int
        MI is estimated on at most this many rows (k-NN cost grows as n log n per feature).

    Returns
    -------
    StatsReport

    Raises
    ------
    ValueError
        Shapes disagree, names are not unique, labels are not integers.
    """
    from sklearn.feature_selection import mutual_info_classif

    X, y, subjects, names = _check_inputs(X, y, subjects, feature_names)
    if top < 1:
        raise ValueError(f"top must be >= 1, got {top}")

    class_ids, y_index = np.unique(y, return_inverse=True)
    class_counts = np.bincount(y_index, minlength=len(class_ids)).astype(np.int64)
    subject_ids, s_index = np.unique(subjects, return_inverse=True)
    subject_counts = np.zeros((len(subject_ids), len(class_ids)), dtype=np.int64)
    np.add.at(subject_counts, (s_index, y_index), 1)

    with warnings.catch_warnings():
        # All-NaN columns give NaN statistics by design; numpy warns about each.
        warnings.simplefilter("ignore", RuntimeWarning)
        minimum = np.nanmin(X, axis=0)
        maximum = np.nanmax(X, axis=0)
        mean = np.nanmean(X, axis=0)
        quantiles = np.nanpercentile(X, QUANTILES, axis=0).T
    nan_count = np.isnan(X).sum(axis=0).astype(np.int64)

    eta = correlation_ratio(X, y_index, len(class_ids))

    rng = np.random.default_rng(random_state)
    rows = np.arange(len(y))
    if len(rows) > max_mi_rows:
        rows = np.sort(rng.choice(rows, size=max_mi_rows, replace=False))
    X_mi = _impute_median(X[rows])
    mi = mutual_info_classif(X_mi, y[rows], discrete_features=False, n_neighbors=3, random_state=random_state)

    plotted = np.argsort(-mi, kind="stable")[:N_PLOTTED]
    return StatsReport(
        feature_names=names, class_ids=class_ids.astype(np.int64), class_counts=class_counts,
        subject_ids=subject_ids.astype(np.int64), subject_counts=subject_counts,
        minimum=minimum, maximum=maximum, mean=mean, quantiles=quantiles, nan_count=nan_count,
        eta=eta, mi=np.asarray(mi, dtype=np.float64), mi_rows=len(rows), top=int(top),
        sample_values=X[np.ix_(rows, plotted)], sample_y=y[rows],
    )


def correlation_ratio(X, y_index, n_classes) -> np.ndarray:
    """Correlation ratio of each column with a class index, ignoring non-finite values.

    Parameters
    ----------
    X : ndarray, shape (n, n_features), float
    y_index : ndarray, shape (n,), int
        Class index 0..n_classes-1 of each row.
    n_classes : int

    Returns
    -------
    ndarray, shape (n_features,), float64
        ``sqrt(sum_c n_c (mean_c - mean)^2 / sum_i (x_i - mean)^2)``, in 0..1; 0 where the column
        has no spread (constant or all-NaN).
    """
    finite = np.isfinite(X)
    Xz = np.where(finite, X, 0.0)
    onehot = np.zeros((len(y_index), n_classes))
    onehot[np.arange(len(y_index)), y_index] = 1.0
    n_c = onehot.T @ finite                      # (k, n_features): finite values per class
    sum_c = onehot.T @ Xz
    n = n_c.sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        grand = sum_c.sum(axis=0) / n
        mean_c = np.where(n_c > 0, sum_c / np.maximum(n_c, 1), 0.0)
        between = (n_c * (mean_c - grand) ** 2).sum(axis=0)
        # Two-pass total sum of squares: sum(x^2) - n mean^2 cancels badly for offset features.
        total = (np.where(finite, X - grand, 0.0) ** 2).sum(axis=0)
        ratio = np.where(total > 0, between / total, 0.0)
    return np.sqrt(np.clip(ratio, 0.0, 1.0))


def format_text(report: StatsReport) -> str:
    """The terminal digest: class balance, a one-paragraph feature summary, top features.

    The full per-feature and per-subject tables are in the file of :func:`write_report`.
    """
    r = report
    lines = [
        f"Datasource: {r.n_rows} rows x {r.n_features} features, {len(r.subject_ids)} subjects, "
        f"{len(r.class_ids)} classes",
        "",
        "Class balance:",
    ]
    width = max(len(r.class_name(c)) for c in r.class_ids)
    peak = r.class_counts.max()
    for cid, count in zip(r.class_ids, r.class_counts):
        bar = "#" * int(round(30 * count / peak))
        lines.append(f"  {cid:>3} {r.class_name(cid):<{width}} {count:>7} {100 * count / r.n_rows:5.1f}%  {bar}")

    per_subject = r.subject_counts.sum(axis=1)
    lo, hi = int(np.argmin(per_subject)), int(np.argmax(per_subject))
    lines.append(
        f"Per subject: {per_subject[lo]} (subject {r.subject_ids[lo]}) .. {per_subject[hi]} rows "
        f"(subject {r.subject_ids[hi]})"
    )
    missing = [
        f"subject {s}: no {', '.join(r.class_name(c) for c in r.class_ids[r.subject_counts[i] == 0])}"
        for i, s in enumerate(r.subject_ids) if (r.subject_counts[i] == 0).any()
    ]
    lines.append("  every subject has every class" if not missing else "  " + "; ".join(missing[:5])
                 + (f"; and {len(missing) - 5} more" if len(missing) > 5 else ""))

    lines += ["", "Features:"]
    with_nan = np.flatnonzero(r.nan_count)
    lines.append(f"  {len(with_nan)} with NaN ({int(r.nan_count.sum())} values)"
                 + (": " + ", ".join(r.feature_names[i] for i in with_nan[:5]) if len(with_nan) else "")
                 + (" ..." if len(with_nan) > 5 else ""))
    if np.isfinite(r.minimum).any():
        lines.append(f"  range [{np.nanmin(r.minimum):.4g}, {np.nanmax(r.maximum):.4g}]")
    constant = int(np.sum(r.minimum == r.maximum))
    lines.append(f"  {constant} constant")

    lines += ["", f"Top {r.top} by mutual information (MI, nats; eta rank):"]
    eta_rank, mi_rank = r.eta_rank, r.mi_rank
    for i in r.top_mi:
        lines.append(f"  {r.mi[i]:.3f}  eta {r.eta[i]:.3f} (#{eta_rank[i] + 1:<3}) {r.feature_names[i]}")
    lines += ["", f"Top {r.top} by correlation ratio (eta; MI rank):"]
    for i in r.top_eta:
        lines.append(f"  {r.eta[i]:.3f}  MI {r.mi[i]:.3f} (#{mi_rank[i] + 1:<3}) {r.feature_names[i]}")
    lines += ["", "High MI but low eta (dependence that is not linear):"]
    lines += [f"  {r.feature_names[i]}: MI #{mi_rank[i] + 1}, eta #{eta_rank[i] + 1}" for i in r.nonlinear] or ["  none"]
    if r.mi_rows < r.n_rows:
        lines.append(f"(MI estimated on {r.mi_rows} of {r.n_rows} rows)")
    return "\n".join(lines)


def write_report(report: StatsReport, folder) -> Path:
    """Write ``stats.md`` (full tables) and the two PNG plots into ``folder``, each atomically.

    Parameters
    ----------
    report : StatsReport
    folder : str or Path
        Created if missing.

    Returns
    -------
    Path
        ``folder / "stats.md"``.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    atomic_write(folder / BALANCE_PLOT, _balance_png(report))
    atomic_write(folder / FEATURES_PLOT, _features_png(report))
    path = folder / REPORT_NAME
    # The markdown goes last: a reader that finds it also finds the images it links.
    atomic_write(path, _markdown(report))
    return path


def _markdown(r: StatsReport) -> str:
    out = ["# Datasource statistics", "", "```", format_text(r), "```", ""]

    out += ["## Class balance", "", f"![class balance]({BALANCE_PLOT})", "",
            "| class | name | rows | % |", "|---:|---|---:|---:|"]
    out += [f"| {c} | {r.class_name(c)} | {n} | {100 * n / r.n_rows:.1f} |" for c, n in zip(r.class_ids, r.class_counts)]

    out += ["", "## Class balance per subject", "", "Rows (percent of the subject's rows).", "",
            "| subject | rows | " + " | ".join(r.class_name(c) for c in r.class_ids) + " |",
            "|---:|---:|" + "---:|" * len(r.class_ids)]
    for s, counts in zip(r.subject_ids, r.subject_counts):
        total = counts.sum()
        cells = " | ".join(f"{n} ({100 * n / total:.1f})" for n in counts)
        out.append(f"| {s} | {total} | {cells} |")

    rank_eta, rank_mi = r.eta_rank, r.mi_rank
    out += ["", "## Top features by mutual information", "", f"![class-conditional distributions]({FEATURES_PLOT})", "",
            "| # | feature | MI (nats) | eta | eta rank |", "|---:|---|---:|---:|---:|"]
    out += [f"| {k + 1} | {r.feature_names[i]} | {r.mi[i]:.4f} | {r.eta[i]:.4f} | {rank_eta[i] + 1} |"
            for k, i in enumerate(r.top_mi)]
    out += ["", "## Top features by correlation ratio", "",
            "| # | feature | eta | MI (nats) | MI rank |", "|---:|---|---:|---:|---:|"]
    out += [f"| {k + 1} | {r.feature_names[i]} | {r.eta[i]:.4f} | {r.mi[i]:.4f} | {rank_mi[i] + 1} |"
            for k, i in enumerate(r.top_eta)]
    out += ["", "## High MI, low eta", "",
            f"In the top {r.top} by MI but ranked {3 * r.top} or lower by eta: the class changes the shape "
            "of the distribution more than its mean.", ""]
    out += [f"- {r.feature_names[i]}: MI {r.mi[i]:.4f} (#{rank_mi[i] + 1}), eta {r.eta[i]:.4f} (#{rank_eta[i] + 1})"
            for i in r.nonlinear] or ["- none"]

    pct = " | ".join(f"p{q}" for q in QUANTILES)
    out += ["", "## All features", "",
            f"| # | feature | NaN | min | {pct} | max | mean | eta | MI |",
            "|---:|---|---:|" + "---:|" * (len(QUANTILES) + 5)]
    for i, name in enumerate(r.feature_names):
        qs = " | ".join(_num(v) for v in r.quantiles[i])
        out.append(f"| {i + 1} | {name} | {r.nan_count[i]} | {_num(r.minimum[i])} | {qs} | {_num(r.maximum[i])} | "
                   f"{_num(r.mean[i])} | {r.eta[i]:.4f} | {r.mi[i]:.4f} |")
    return "\n".join(out) + "\n"


def _balance_png(r: StatsReport) -> bytes:
    from matplotlib.figure import Figure

    fig = Figure(figsize=(11, 4), layout="constrained")
    ax_all, ax_subj = fig.subplots(1, 2, width_ratios=(1, 2))
    names = [r.class_name(c) for c in r.class_ids]
    colors = [f"C{k % 10}" for k in range(len(r.class_ids))]
    bars = ax_all.bar(range(len(names)), r.class_counts, color=colors)
    ax_all.bar_label(bars, labels=[f"{n}\n{100 * n / r.n_rows:.1f}%" for n in r.class_counts], fontsize=7)
    ax_all.set_xticks(range(len(names)), names, rotation=45, ha="right", fontsize=8)
    ax_all.set_ylabel("rows")
    ax_all.set_title("Class balance")
    ax_all.margins(y=0.2)

    share = r.subject_counts / np.maximum(r.subject_counts.sum(axis=1, keepdims=True), 1)
    x = np.arange(len(r.subject_ids))
    bottom = np.zeros(len(x))
    for k, name in enumerate(names):
        ax_subj.bar(x, 100 * share[:, k], bottom=bottom, color=colors[k], label=name, width=0.85)
        bottom += 100 * share[:, k]
    ax_subj.set_xticks(x, [str(s) for s in r.subject_ids], fontsize=7)
    ax_subj.set_xlabel("subject")
    ax_subj.set_ylabel("% of the subject's rows")
    ax_subj.set_title("Class balance per subject")
    ax_subj.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    return _png(fig)


def _features_png(r: StatsReport) -> bytes:
    from matplotlib.figure import Figure

    n_plots = r.sample_values.shape[1]
    n_cols = 3
    n_rows = max(1, -(-n_plots // n_cols))
    fig = Figure(figsize=(4 * n_cols, 3 * n_rows), layout="constrained")
    axes = fig.subplots(n_rows, n_cols, squeeze=False).ravel()
    # Same order as datasource_stats used to pick the columns of sample_values.
    order = np.argsort(-r.mi, kind="stable")
    for j, ax in enumerate(axes):
        if j >= n_plots:
            ax.set_visible(False)
            continue
        idx = order[j]
        values = r.sample_values[:, j]
        finite = np.isfinite(values)
        if finite.any():
            lo, hi = np.min(values[finite]), np.max(values[finite])
            bins = np.linspace(lo, hi if hi > lo else lo + 1.0, 41)
            for k, cid in enumerate(r.class_ids):
                v = values[finite & (r.sample_y == cid)]
                if len(v):
                    ax.hist(v, bins=bins, density=True, histtype="step", color=f"C{k % 10}",
                            label=r.class_name(cid))
        ax.set_title(f"{r.feature_names[idx]}\nMI {r.mi[idx]:.3f}, eta {r.eta[idx]:.3f}", fontsize=8)
        ax.tick_params(labelsize=7)
    if n_plots:
        axes[0].legend(fontsize=6)
    fig.suptitle(f"Class-conditional distributions, top {n_plots} features by MI ({r.mi_rows} rows)")
    return _png(fig)


def _png(fig) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100)
    return buf.getvalue()


def _num(v) -> str:
    return "nan" if not np.isfinite(v) else f"{v:.4g}"


def _rank_desc(values: np.ndarray) -> np.ndarray:
    order = np.argsort(-values, kind="stable")
    rank = np.empty(len(values), dtype=np.int64)
    rank[order] = np.arange(len(values))
    return rank


def _impute_median(X: np.ndarray) -> np.ndarray:
    """The MI estimator rejects NaN: fill each column's non-finite values with its median."""
    finite = np.isfinite(X)
    if finite.all():
        return X
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        median = np.nanmedian(np.where(finite, X, np.nan), axis=0)
    median = np.where(np.isfinite(median), median, 0.0)
    return np.where(finite, X, median)


def _check_inputs(X, y, subjects, feature_names):
    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 2:
        raise ValueError(f"X must be 2-D (rows, features), got shape {X.shape}")
    n, m = X.shape
    if n == 0:
        raise ValueError("X has no rows")
    y = np.asarray(y)
    subjects = np.asarray(subjects)
    if y.shape != (n,):
        raise ValueError(f"y has shape {y.shape}, expected ({n},) to match X")
    if subjects.shape != (n,):
        raise ValueError(f"subjects has shape {subjects.shape}, expected ({n},) to match X")
    for label, a in (("y", y), ("subjects", subjects)):
        ok = np.issubdtype(a.dtype, np.integer) or (
            np.issubdtype(a.dtype, np.floating) and np.all(np.isfinite(a)) and np.all(a == np.round(a)))
        if not ok:
            raise ValueError(f"{label} must hold integer ids, got e.g. {a[:3].tolist()} (dtype {a.dtype})")
    names = tuple(str(s) for s in feature_names)
    if len(names) != m:
        raise ValueError(f"{len(names)} feature names for {m} columns of X")
    if len(set(names)) != m:
        dup = sorted({s for s in names if names.count(s) > 1})[:3]
        raise ValueError(f"feature names are not unique, e.g. {dup}")
    return X, y.astype(np.int64), subjects.astype(np.int64), names
