"""Causal smoothing of per-window class probabilities: steadier labels, using past windows only.

Two methods:

``"ema"``
    Exponential moving average: ``s[i] = alpha * p[i] + (1 - alpha) * s[i - 1]``, ``s[0] = p[0]``.
    ``alpha`` in (0, 1]; 1 is no smoothing, smaller is steadier and slower to follow a change.
    The label is the argmax of ``s[i]``.
``"majority"``
    Vote over the last ``window`` windows (fewer at the start): each window votes for its argmax
    class; the output is the vote fractions (sums to 1). The label is the most-voted class; a tie
    goes to whichever of the tied classes was voted for most recently.

A row of NaN (an invalid window: the stream had a gap) comes out as NaN and restarts the smoother:
windows after it never mix with windows before it.

``smooth_probabilities`` is the pure function on a whole array; :class:`Smoother` does the same one
window at a time. Both give the same numbers.
"""

from __future__ import annotations

from collections import deque

import numpy as np

__all__ = ["METHODS", "Smoother", "smooth_probabilities"]

METHODS = ("ema", "majority")
DEFAULT_ALPHA = 0.5
DEFAULT_WINDOW = 5


class Smoother:
    """Online causal smoothing of class probabilities, one window at a time.

    Parameters
    ----------
    method : {"ema", "majority"}
    alpha : float
        EMA weight of the newest window, in (0, 1] (``method="ema"``).
    window : int
        Number of windows voting, >= 1 (``method="majority"``).

    Attributes
    ----------
    label_ : int
        Column index of the smoothed class after the last ``update_one`` (-1 for an invalid
        window or before any).

    Examples
    --------
    >>> sm = Smoother("ema", alpha=0.5)
    >>> sm.update_one([0.8, 0.2]).tolist()          # probabilities of the newest window
    [0.8, 0.2]
    >>> sm.update_one([0.2, 0.8]).tolist(), sm.label_
    ([0.5, 0.5], 0)
    """

    def __init__(self, method: str = "ema", *, alpha: float = DEFAULT_ALPHA, window: int = DEFAULT_WINDOW):
        if method not in METHODS:
            raise ValueError(f"smoothing method must be one of {', '.join(METHODS)}, got {method!r}")
        if method == "ema" and not 0 < alpha <= 1:
            raise ValueError(f"ema alpha must be in (0, 1], got {alpha!r}")
        if method == "majority" and (int(window) != window or window < 1):
            raise ValueError(f"majority window must be a positive whole number of windows, got {window!r}")
        self.method = method
        self.alpha = float(alpha)
        self.window = int(window)
        self.reset()

    def reset(self) -> None:
        """Forget the past: the next window is smoothed as the first one."""
        self._ema = None
        self._votes: deque[int] = deque(maxlen=self.window)
        self.label_ = -1

    def update_one(self, proba) -> np.ndarray:
        """Smooth the newest window's probabilities.

        Parameters
        ----------
        proba : array_like, shape (k,), float
            Per-class probabilities of the newest window; all NaN for an invalid window.

        Returns
        -------
        ndarray, shape (k,), float64
            Smoothed probabilities (sum 1), or NaN for an invalid window (which also resets).
        """
        p = np.asarray(proba, dtype=np.float64)
        if p.ndim != 1:
            raise ValueError(f"proba: expected shape (k,), got {p.shape}")
        if not np.isfinite(p).all():
            self.reset()
            return np.full(p.shape, np.nan)
        if self.method == "ema":
            self._ema = p.copy() if self._ema is None else self.alpha * p + (1.0 - self.alpha) * self._ema
            self.label_ = int(np.argmax(self._ema))
            return self._ema.copy()
        self._votes.append(int(np.argmax(p)))
        counts = np.bincount(np.asarray(self._votes), minlength=p.size).astype(np.float64)
        tied = np.flatnonzero(counts == counts.max())
        # Most recent vote among the tied classes.
        self.label_ = next(v for v in reversed(self._votes) if v in tied)
        return counts / counts.sum()


def smooth_probabilities(P, method: str = "ema", *, alpha: float = DEFAULT_ALPHA, window: int = DEFAULT_WINDOW,
                         return_labels: bool = False):
    """Causally smooth a sequence of per-window probabilities.

    Parameters
    ----------
    P : array_like, shape (n, k), float
        Probabilities of n consecutive windows over k classes, oldest first; rows of NaN for
        invalid windows.
    method : {"ema", "majority"}
    alpha : float
        EMA weight of the newest window, in (0, 1].
    window : int
        Windows voting in the majority vote.
    return_labels : bool
        Also return the smoothed label of each window.

    Returns
    -------
    S : ndarray, shape (n, k), float64
        Row i depends on rows 0..i of ``P`` only; NaN rows where ``P`` has NaN.
    labels : ndarray, shape (n,), int64
        Column index of the smoothed class, -1 for invalid rows (only with ``return_labels``).
    """
    P = np.asarray(P, dtype=np.float64)
    if P.ndim != 2:
        raise ValueError(f"P: expected shape (n, k), got {P.shape}")
    sm = Smoother(method, alpha=alpha, window=window)
    S = np.empty_like(P)
    labels = np.empty(P.shape[0], dtype=np.int64)
    for i, p in enumerate(P):
        S[i] = sm.update_one(p)
        labels[i] = sm.label_
    return (S, labels) if return_labels else S
