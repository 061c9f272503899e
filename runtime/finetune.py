"""Fine-tune a linear-softmax model toward a user's windows, pulled back to the base weights (numpy only).

The objective, in a space where each feature is standardised by the user's own spread::

    min_{W, b}  sum_i w_i CE(softmax(W z_i + b), y_i) / sum_i w_i  +  lam/2 (|W - W0|^2 + |b - b0|^2)

``w_i`` balances the classes (each recorded class weighs the same), ``W0, b0`` are the base model
in the same space. Rows of classes the user did not record are frozen at the base model's: the user
brought no evidence about them, and the pull keeps the recorded rows from drifting far enough to
crowd them out. The problem is convex; accelerated gradient descent (FISTA) with the step from a
bound on its curvature converges in a few hundred cheap iterations (n windows x 561 x K products).

Standardising by the user's spread makes ``lam`` mean the same whatever scale the model's input is
on (official [-1, 1] features or raw ones): the weights are mapped in and out exactly.
"""

from __future__ import annotations

import numpy as np

__all__ = ["fine_tune", "standardiser", "softmax", "SD_FLOOR"]

#: Floor on a feature's standard deviation, as a fraction of the median one: a feature that is
#: (nearly) constant in the user's data must not get a huge standardised weight budget.
SD_FLOOR = 0.1


def standardiser(X: np.ndarray, unit: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Per-feature centre and spread of ``X`` (n, D): mean and floored standard deviation.

    ``unit`` (D,) is each feature's natural range (e.g. its published span): the floor is
    ``SD_FLOOR`` times the median spread measured in those units, so that the result does not
    depend on the units the features come in. Default: all ones.
    """
    X = np.asarray(X, dtype=np.float64)
    unit = np.ones(X.shape[1]) if unit is None else np.asarray(unit, dtype=np.float64)
    mean = X.mean(axis=0)
    sd = X.std(axis=0)
    relative = sd / unit
    positive = relative[relative > 0]
    floor = SD_FLOOR * (np.median(positive) if positive.size else 1.0) * unit
    return mean, np.maximum(sd, np.where(floor > 0, floor, unit))


def softmax(logits: np.ndarray) -> np.ndarray:
    z = logits - logits.max(axis=1, keepdims=True)
    np.exp(z, out=z)
    z /= z.sum(axis=1, keepdims=True)
    return z


def fine_tune(weights: np.ndarray, bias: np.ndarray, class_ids, X: np.ndarray, y: np.ndarray, *,
              lam: float, n_iter: int = 300, unit: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Weights and bias fitted to ``(X, y)`` with an L2 pull toward ``(weights, bias)``.

    Parameters
    ----------
    weights : ndarray, shape (K, D)
        Base model: ``logits = X @ weights.T + bias`` in the model's input space.
    bias : ndarray, shape (K,)
    class_ids : sequence of int, length K
        Class id of each row.
    X : ndarray, shape (n, D)
        The user's windows, in the model's input space. Finite.
    y : ndarray, shape (n,), int
        Class id of each window; every id must be one of ``class_ids``.
    lam : float
        Strength of the pull to the base model (> 0), in the standardised space.
    n_iter : int
        Gradient steps.
    unit : ndarray, shape (D,), optional
        Each feature's natural range in the input space (see :func:`standardiser`).

    Returns
    -------
    weights : ndarray, shape (K, D), float64
    bias : ndarray, shape (K,), float64
        In the model's input space, as the arguments.
    """
    W0 = np.asarray(weights, dtype=np.float64)
    b0 = np.asarray(bias, dtype=np.float64)
    ids = [int(c) for c in class_ids]
    X = np.asarray(X, dtype=np.float64)
    y = np.asarray(y)
    if lam <= 0:
        raise ValueError(f"lam must be > 0, got {lam}")
    unknown = sorted(set(np.unique(y).tolist()) - set(ids))
    if unknown:
        raise ValueError(f"labels {unknown} are not classes of the model {ids}")
    index = np.searchsorted(np.asarray(ids), y) if ids == sorted(ids) else np.array([ids.index(v) for v in y])
    n, K = len(y), len(ids)
    onehot = np.zeros((n, K))
    onehot[np.arange(n), index] = 1.0
    recorded = onehot.sum(axis=0) > 0
    sample_w = (1.0 / onehot.sum(axis=0)[index]) / recorded.sum()     # sums to 1, classes equal

    mean, sd = standardiser(X, unit)
    Z = (X - mean) / sd
    # The base model in the standardised space: W0 x + b0 = (W0 sd) z + (b0 + W0 mean).
    Wz0 = W0 * sd
    bz0 = b0 + W0 @ mean
    Z1 = np.hstack([Z, np.ones((n, 1))])
    theta0 = np.hstack([Wz0, bz0[:, None]])                       # (K, D + 1)
    # Curvature bound of the weighted cross-entropy: 1/2 |diag(sqrt w) Z1|^2 (softmax Hessian <= I/2).
    curvature = 0.5 * np.linalg.norm(Z1 * np.sqrt(sample_w)[:, None], 2) ** 2 + lam
    step = 1.0 / curvature
    free = recorded[:, None].astype(np.float64)

    theta = theta0.copy()
    momentum = theta.copy()
    t = 1.0
    for _ in range(n_iter):
        P = softmax(Z1 @ momentum.T)
        grad = ((P - onehot) * sample_w[:, None]).T @ Z1 + lam * (momentum - theta0)
        nxt = momentum - step * grad * free
        t_next = 0.5 * (1.0 + np.sqrt(1.0 + 4.0 * t * t))
        momentum = nxt + ((t - 1.0) / t_next) * (nxt - theta)
        theta, t = nxt, t_next
    Wz, bz = theta[:, :-1], theta[:, -1]
    W = Wz / sd
    b = bz - W @ mean
    # Unrecorded rows never moved; return the base's exact values, not their round trip.
    W[~recorded], b[~recorded] = W0[~recorded], b0[~recorded]
    return W, b
