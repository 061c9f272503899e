"""Per-sample labels -> one label per window, the same rule for replays, scoring and training."""

from __future__ import annotations

import numpy as np

from har.features.contract import MODEL_CLASS_IDS, NO_WINDOW_LABEL, SPAN


def window_labels(labels: np.ndarray, starts: np.ndarray, classes=MODEL_CLASS_IDS) -> np.ndarray:
    """Activity id of each window: the one label of all its SPAN samples, when it is a class.

    Parameters
    ----------
    labels : ndarray, shape (n,), int
        Per-sample label ids (-1 unlabelled, 1..12 HAPT activities and transitions).
    starts : ndarray, shape (k,), int
        Window starts (samples); a window covers ``start .. start + SPAN - 1`` (the jerk sample
        included).
    classes : sequence of int
        Label ids that count as a window label.

    Returns
    -------
    ndarray, shape (k,), int64
        The shared label, or ``NO_WINDOW_LABEL`` (0) when the samples disagree or their label is not
        one of ``classes``.
    """
    spans = np.asarray(labels)[np.asarray(starts)[:, None] + np.arange(SPAN)]
    first = spans[:, 0]
    uniform = (spans == first[:, None]).all(axis=1)
    return np.where(uniform & np.isin(first, classes), first, NO_WINDOW_LABEL).astype(np.int64)
