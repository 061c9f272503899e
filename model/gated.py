"""Per-placement heads behind one gate: one linear classifier per phone placement, mixed by a linear gate.

A waist-worn phone and a phone in a trouser pocket see the same activities under different gravity
directions (standing puts a pocketed phone's y axis vertical, sitting its z axis, which a waist phone
only shows when lying down). One linear model fitted on both placements gives up some of the waist's
accuracy to learn the pocket; two heads keep each placement's boundaries, and a gate that tells the
placements apart (a near-trivial linear problem on the gravity features) mixes their probabilities::

    p(class | x) = sum_h gate_h(x) * head_h(class | x)

Every piece is a standardised logistic regression, so the exported graph stays Gemm, Softmax, Slice,
Mul, Sum, ArgMax and Gather: default-domain operators only.
"""

from __future__ import annotations

import warnings

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler


def logistic_pipeline(C: float, class_weight="balanced", seed: int = 0, max_iter: int = 3000) -> Pipeline:
    """StandardScaler + multinomial logistic regression (L2, strength 1/C)."""
    clf = LogisticRegression(C=C, class_weight=class_weight, max_iter=max_iter, random_state=seed)
    return Pipeline([("scale", StandardScaler()), ("clf", clf)])


class PlacementGatedClassifier(ClassifierMixin, BaseEstimator):
    """Heads per placement, mixed by a gate that recognises the placement from the features.

    Parameters
    ----------
    head_data : sequence of sequence of int
        For head h, the placements whose rows it is fitted on (e.g. ``((0,), (0, 1))``: a waist head on
        waist rows, a second head on all rows).
    borrowed : sequence of sequence of int, optional
        For head h, class ids whose rows it also takes from every other placement (e.g. LAYING for a
        pocket head: the pocket data have no lying down, and a window the gate cannot place, like a waist
        phone lying down, must still find its class). Default: none.
    gate_placements : sequence of int, optional
        Placements whose rows train the gate (default: all). Rows of the other placements (e.g. augmented
        copies) only train their heads.
    gate_C : float
        Inverse L2 strength of the gate (a logistic regression of placement on the features).
    gate_temperature : float
        The gate's logits are divided by it (its weights, so the exported graph is unchanged in form):
        above 1 the gate is less sure, and a head that is very sure of a window it was not sent (a waist
        phone lying down that the gate takes for a pocketed phone) still counts.
    head_C : float or sequence of float
        Inverse L2 strength of each head.
    class_weight : dict, "balanced" or None, or a list of them
        Class weights of the heads (a list: one per head).
    seed : int

    Attributes
    ----------
    gate_ : Pipeline
        Predicts the head index (0..H-1) from the 561 features.
    heads_ : list of Pipeline
        One fitted StandardScaler + LogisticRegression per head, all on the same classes.
    classes_ : ndarray of int
    """

    def __init__(self, head_data=((0,), (0, 1)), borrowed=None, gate_placements=None, gate_C: float = 0.1,
                 gate_temperature: float = 1.0, head_C=0.3, class_weight="balanced", seed: int = 0):
        self.gate_temperature = gate_temperature
        self.head_data = head_data
        self.borrowed = borrowed
        self.gate_placements = gate_placements
        self.gate_C = gate_C
        self.head_C = head_C
        self.class_weight = class_weight
        self.seed = seed

    def fit(self, X, y, *, placement, sample_weight=None):
        """Fit the gate on (features -> head) and each head on its placements' rows.

        Parameters
        ----------
        X : ndarray, shape (n, 561)
            Features on the official [-1, 1] scale.
        y : ndarray, shape (n,), int
            Activity ids.
        placement : ndarray, shape (n,), int
            Placement of each row (0 waist, 1 trouser pocket, ...); row r goes to the gate as the head
            whose ``head_data`` has its placement and fewest placements (the most specific head).
        sample_weight : ndarray, shape (n,), optional
            Row weights for the heads.
        """
        X, y, placement = np.asarray(X), np.asarray(y), np.asarray(placement)
        heads_of = [tuple(h) for h in self.head_data]
        head_C = self.head_C if np.ndim(self.head_C) else [self.head_C] * len(heads_of)
        if len(head_C) != len(heads_of):
            raise ValueError(f"head_C has {len(head_C)} values for {len(heads_of)} heads")
        borrowed = [tuple(b) for b in self.borrowed] if self.borrowed is not None else [()] * len(heads_of)
        if len(borrowed) != len(heads_of):
            raise ValueError(f"borrowed has {len(borrowed)} entries for {len(heads_of)} heads")
        target = np.full(len(y), -1)
        for p in np.unique(placement):
            owners = [h for h, places in enumerate(heads_of) if p in places]
            if not owners:
                raise ValueError(f"placement {p} belongs to no head (head_data {heads_of})")
            target[placement == p] = min(owners, key=lambda h: len(heads_of[h]))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            gated = (np.ones(len(y), dtype=bool) if self.gate_placements is None
                     else np.isin(placement, tuple(self.gate_placements)))
            self.gate_ = logistic_pipeline(self.gate_C, None, self.seed).fit(X[gated], target[gated])
            if self.gate_temperature != 1.0:
                if not self.gate_temperature > 0:
                    raise ValueError(f"gate_temperature must be positive, got {self.gate_temperature}")
                gate = self.gate_[-1]
                gate.coef_ = gate.coef_ / self.gate_temperature
                gate.intercept_ = gate.intercept_ / self.gate_temperature
            weights = (list(self.class_weight) if isinstance(self.class_weight, (list, tuple))
                       else [self.class_weight] * len(heads_of))
            if len(weights) != len(heads_of):
                raise ValueError(f"class_weight has {len(weights)} entries for {len(heads_of)} heads")
            self.heads_ = []
            for places, C, extra, weight in zip(heads_of, head_C, borrowed, weights):
                rows = np.isin(placement, places) | np.isin(y, extra)
                kw = {} if sample_weight is None else {"clf__sample_weight": np.asarray(sample_weight)[rows]}
                self.heads_.append(logistic_pipeline(C, weight, self.seed).fit(X[rows], y[rows], **kw))
        classes = [tuple(h.classes_) for h in self.heads_]
        if len(set(classes)) != 1:
            raise ValueError(f"every head needs every class; the heads saw {classes}")
        if len(self.gate_.classes_) != len(heads_of):
            raise ValueError(f"the gate saw {len(self.gate_.classes_)} of {len(heads_of)} heads' placements")
        self.classes_ = self.heads_[0].classes_
        return self

    def gate_proba(self, X) -> np.ndarray:
        """(n, H) weight of each head for each row."""
        return self.gate_.predict_proba(X)

    def predict_proba(self, X) -> np.ndarray:
        """(n, K) mixture of the heads' probabilities, columns in ``classes_`` order."""
        g = self.gate_proba(X)
        return sum(g[:, [h]] * head.predict_proba(X) for h, head in enumerate(self.heads_))

    def predict(self, X) -> np.ndarray:
        return self.classes_[np.argmax(self.predict_proba(X), axis=1)]
