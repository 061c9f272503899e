"""Evaluation on held-out subjects: accuracy, macro-F1, per class, per subject, confusion matrix."""

from __future__ import annotations

import io
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from har.runtime.files import atomic_write

from har.features.contract import LABEL_NAMES, MODEL_CLASS_IDS

#: Comparison points stated in every report.
REFERENCES = (
    ("hosted AutoML service of the seed tutorial (UCI HAR features)", "macro-F1", 0.92),
    ("Anguita et al., ESANN 2013: multiclass SVM on the published features", "accuracy", 0.96),
)


@dataclass(frozen=True)
class Evaluation:
    class_ids: tuple[int, ...]
    accuracy: float
    macro_f1: float
    precision: np.ndarray        # (n_classes,)
    recall: np.ndarray
    f1: np.ndarray
    support: np.ndarray
    confusion: np.ndarray        # (n_classes, n_classes): rows true, columns predicted
    per_subject: dict[int, tuple[float, int]]   # subject -> (accuracy, windows)
    routing: "Routing | None" = None             # a placement-gated model's gate, on this placement's windows

    def to_dict(self) -> dict:
        routing = {} if self.routing is None else {"routing": self.routing.to_dict()}
        return {
            "accuracy": self.accuracy, "macro_f1": self.macro_f1,
            "per_class": {LABEL_NAMES[c]: {"precision": float(p), "recall": float(r), "f1": float(f),
                                           "support": int(s)}
                          for c, p, r, f, s in zip(self.class_ids, self.precision, self.recall, self.f1,
                                                   self.support)},
            "per_subject_accuracy": {str(s): a for s, (a, _) in self.per_subject.items()},
            "confusion": self.confusion.tolist(),
            **routing,
        }


@dataclass(frozen=True)
class Routing:
    """Where a placement gate sent one placement's windows, per true class.

    A window is "sent away" when the gate weighs another placement's head most. Still windows are where
    that happens: a waist phone lying on its side points gravity along the phone's y axis, as a
    standing person's pocketed phone does, and the gate has only the window to go on.

    Attributes
    ----------
    windows, away, wrong_away, wrong_kept : ndarray, shape (n_classes,), int
        Per true class: windows, windows sent away, wrong labels among those sent away, wrong labels among
        the others.
    """

    class_ids: tuple[int, ...]
    home: str
    windows: np.ndarray
    away: np.ndarray
    wrong_away: np.ndarray
    wrong_kept: np.ndarray

    def to_dict(self) -> dict:
        return {"home_head": self.home,
                "per_class": {LABEL_NAMES[c]: {"windows": int(n), "sent_away": int(a), "wrong_sent_away": int(wa),
                                               "wrong_kept": int(wk)}
                              for c, n, a, wa, wk in zip(self.class_ids, self.windows, self.away, self.wrong_away,
                                                         self.wrong_kept)}}


def gate_routing(gate_weights, home: int, y_true, y_pred, class_ids=MODEL_CLASS_IDS,
                 placements=None) -> Routing:
    """Per class, how many windows of placement ``home`` the gate sent to another head, and the errors.

    Parameters
    ----------
    gate_weights : ndarray, shape (n, H)
        Each window's weight on each head (rows sum to 1).
    home : int
        The head of the windows' own placement.
    y_true, y_pred : array of int, shape (n,)
        Class ids.
    placements : sequence of str, optional
        Head names, for the report.
    """
    g = np.asarray(gate_weights)
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    if g.ndim != 2 or len(g) != len(y_true) or not 0 <= home < g.shape[1]:
        raise ValueError(f"gate weights of shape {g.shape} for {len(y_true)} windows and home head {home}")
    away = np.argmax(g, axis=1) != home
    wrong = y_true != y_pred

    def per_class(mask):
        return np.array([int(np.sum(mask & (y_true == c))) for c in class_ids])

    return Routing(tuple(int(c) for c in class_ids), placements[home] if placements is not None else f"head {home}",
                   per_class(np.ones(len(y_true), bool)), per_class(away), per_class(away & wrong),
                   per_class(~away & wrong))


def routing_text(routing: Routing) -> str:
    """Markdown table of :class:`Routing`: the classes with windows only."""
    lines = [f"Gate routing: windows the gate weighed most on a head other than the {routing.home} head.", "",
             "| class | windows | sent to another head | wrong among them | wrong among the rest |",
             "|---|---|---|---|---|"]
    for c, n, a, wa, wk in zip(routing.class_ids, routing.windows, routing.away, routing.wrong_away,
                               routing.wrong_kept):
        if n:
            lines.append(f"| {c} {LABEL_NAMES[c]} | {n} | {a} | {wa} | {wk} |")
    return "\n".join(lines)


def evaluate(y_true, y_pred, subjects, class_ids=MODEL_CLASS_IDS, routing: Routing | None = None) -> Evaluation:
    """Metrics of predicted class ids against true ones.

    Parameters
    ----------
    y_true, y_pred : array of int, shape (n,)
        Class ids.
    subjects : array of int, shape (n,)
        The volunteer of each window, for per-subject accuracy.
    routing : Routing, optional
        The gate's routing of the same windows (a placement-gated model), carried into the report.

    Notes
    -----
    ``macro_f1`` averages the F1 of the classes that occur in ``y_true``; a class the model predicts
    but the data lack still costs the true classes their recall.
    """
    y_true, y_pred, subjects = np.asarray(y_true), np.asarray(y_pred), np.asarray(subjects)
    ids = np.asarray(class_ids)
    index = {c: i for i, c in enumerate(class_ids)}
    unknown = set(np.unique(np.concatenate([y_true, y_pred])).tolist()) - set(class_ids)
    if unknown:
        raise ValueError(f"class ids {sorted(unknown)} are not among the model's classes {list(class_ids)}")
    cm = np.zeros((len(ids), len(ids)), dtype=np.int64)
    np.add.at(cm, (np.vectorize(index.get)(y_true), np.vectorize(index.get)(y_pred)), 1)
    tp = np.diag(cm).astype(float)
    with np.errstate(invalid="ignore", divide="ignore"):
        precision = np.nan_to_num(tp / cm.sum(axis=0))
        recall = np.nan_to_num(tp / cm.sum(axis=1))
        f1 = np.nan_to_num(2 * precision * recall / (precision + recall))
    per_subject = {int(s): (float(np.mean(y_true[subjects == s] == y_pred[subjects == s])),
                            int((subjects == s).sum())) for s in np.unique(subjects)}
    # Macro-F1 over the classes the truth contains: a pocket set has no LAYING, whose F1 of 0 would
    # only measure the absence of the class, not the model.
    present = cm.sum(axis=1) > 0
    return Evaluation(tuple(int(c) for c in ids), float(tp.sum() / cm.sum()), float(f1[present].mean()),
                      precision, recall, f1, cm.sum(axis=1), cm, per_subject, routing)


def confusion_text(ev: Evaluation) -> str:
    names = [LABEL_NAMES[c][:10] for c in ev.class_ids]
    head = "true \\ predicted".ljust(20) + "".join(n.rjust(11) for n in names)
    rows = [LABEL_NAMES[c][:19].ljust(20) + "".join(f"{v:11d}" for v in row)
            for c, row in zip(ev.class_ids, ev.confusion)]
    return "\n".join([head, *rows])


def report_text(ev: Evaluation, *, title: str = "Held-out evaluation", context: str = "",
                references: bool = True) -> str:
    lines = [f"# {title}", ""]
    if context:
        lines += [context, ""]
    lines += [f"- accuracy: **{ev.accuracy:.4f}**", f"- macro-F1: **{ev.macro_f1:.4f}**",
              f"- windows: {int(ev.support.sum())}"]
    if references:      # the published comparison points are waist (UCI HAR) results
        lines += ["", "Comparison points:", ""]
        for what, metric, value in REFERENCES:
            ours = ev.macro_f1 if metric == "macro-F1" else ev.accuracy
            lines.append(f"- {what}: {metric} {value:.2f} (this model: {ours:.4f})")
    lines += ["", "| class | precision | recall | F1 | windows |", "|---|---|---|---|---|"]
    for c, p, r, f, s in zip(ev.class_ids, ev.precision, ev.recall, ev.f1, ev.support):
        lines.append(f"| {c} {LABEL_NAMES[c]} | {p:.4f} | {r:.4f} | {f:.4f} | {s} |")
    lines += ["", "Confusion matrix (rows: true, columns: predicted):", "", "```", confusion_text(ev), "```",
              "", "| subject | accuracy | windows |", "|---|---|---|"]
    for s, (a, n) in ev.per_subject.items():
        lines.append(f"| {s} | {a:.4f} | {n} |")
    if ev.routing is not None:
        lines += ["", routing_text(ev.routing)]
    return "\n".join(lines) + "\n"


def confusion_png(ev: Evaluation, title: str = "Confusion matrix (held-out subjects)") -> bytes:
    from matplotlib.figure import Figure

    fig = Figure(figsize=(7, 6), dpi=110)
    _draw_confusion(fig.add_subplot(), ev, title)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return buf.getvalue()


def _draw_confusion(ax, ev: Evaluation, title: str) -> None:
    norm = ev.confusion / np.maximum(ev.confusion.sum(axis=1, keepdims=True), 1)
    ax.imshow(norm, cmap="Blues", vmin=0, vmax=1)
    names = [LABEL_NAMES[c].replace("_", "\n") for c in ev.class_ids]
    ax.set_xticks(range(len(names)), names, fontsize=7)
    ax.set_yticks(range(len(names)), names, fontsize=7)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    for i in range(len(names)):
        for j in range(len(names)):
            ax.text(j, i, str(ev.confusion[i, j]), ha="center", va="center",
                    color="white" if norm[i, j] > 0.5 else "black", fontsize=8)
    ax.set_title(f"{title}\naccuracy {ev.accuracy:.4f}, macro-F1 {ev.macro_f1:.4f}", fontsize=9)


def write_report(ev: Evaluation, model_path: Path, *, context: str = "") -> list[Path]:
    """``<model>.report.md``, ``<model>.confusion.png`` and ``<model>.metrics.json`` beside the model."""
    model_path = Path(model_path)
    stem = model_path.with_suffix("")
    md, png, js = (Path(f"{stem}.report.md"), Path(f"{stem}.confusion.png"), Path(f"{stem}.metrics.json"))
    atomic_write(png, confusion_png(ev))
    atomic_write(js, json.dumps(ev.to_dict(), indent=1))
    atomic_write(md, report_text(ev, context=context) + f"\n![confusion matrix]({png.name})\n")
    return [md, png, js]


# --------------------------------------------------------------------------- several placements

def placements_report_text(evaluations: dict[str, Evaluation], *, title: str = "Held-out evaluation by placement",
                           context: str = "") -> str:
    """One report with a summary table of all placements, then each placement's details.

    Parameters
    ----------
    evaluations : dict
        Placement description (e.g. "waist: UCI HAR test subjects") -> its Evaluation, in display order;
        the first one is the waist set the published comparison points refer to.
    """
    lines = [f"# {title}", ""]
    if context:
        lines += [context, ""]
    lines += ["| placement | accuracy | macro-F1 | windows | subjects |", "|---|---|---|---|---|"]
    for name, ev in evaluations.items():
        lines.append(f"| {name} | {ev.accuracy:.4f} | {ev.macro_f1:.4f} | {int(ev.support.sum())} | "
                     f"{len(ev.per_subject)} |")
    for k, (name, ev) in enumerate(evaluations.items()):
        body = report_text(ev, title=name, references=k == 0).split("\n", 2)[2]
        lines += ["", f"## {name}", "", body.rstrip()]
    return "\n".join(lines) + "\n"


def placements_confusion_png(evaluations: dict[str, Evaluation]) -> bytes:
    """Row-normalised confusion matrices of every placement side by side."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(6.5 * len(evaluations), 6), dpi=110)
    for k, (name, ev) in enumerate(evaluations.items()):
        ax = fig.add_subplot(1, len(evaluations), k + 1)
        _draw_confusion(ax, ev, name)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return buf.getvalue()


def write_placements_report(evaluations: dict[str, Evaluation], model_path: Path, *, context: str = "") -> list[Path]:
    """``<model>.report.md``, ``<model>.confusion.png`` (one panel per placement) and ``<model>.metrics.json``."""
    model_path = Path(model_path)
    stem = model_path.with_suffix("")
    md, png, js = (Path(f"{stem}.report.md"), Path(f"{stem}.confusion.png"), Path(f"{stem}.metrics.json"))
    atomic_write(png, placements_confusion_png(evaluations))
    atomic_write(js, json.dumps({name: ev.to_dict() for name, ev in evaluations.items()}, indent=1))
    atomic_write(md, placements_report_text(evaluations, context=context) + f"\n![confusion matrices]({png.name})\n")
    return [md, png, js]
