"""The published [-1, 1] scale of the UCI HAR features.

Each published feature was min-max scaled over all 10,299 windows:
``official = 2 * (raw - raw_min) / (raw_max - raw_min) - 1``. The constants ship with the package
(``data/official_scale.npz``, built from the published scale table by ``data/build_scale.py``).
Values outside the published range map outside [-1, 1]; nothing is clipped.
"""

from __future__ import annotations

from importlib import resources

import numpy as np

from .table import OFFICIAL_NAMES


def _load():
    with resources.files(__package__).joinpath("data/official_scale.npz").open("rb") as fh:
        data = np.load(fh)
        names, lo, hi = data["names"], data["raw_min"], data["raw_max"]
    if tuple(names.tolist()) != OFFICIAL_NAMES:
        raise RuntimeError("official_scale.npz does not list the 561 features in official order")
    return lo, hi


RAW_MIN, RAW_MAX = _load()
_SPAN = RAW_MAX - RAW_MIN


def to_official_scale(X: np.ndarray) -> np.ndarray:
    """Raw features (n, 561) in pipeline units -> the published scale (n, 561), float64."""
    return 2.0 * (np.asarray(X, dtype=np.float64) - RAW_MIN) / _SPAN - 1.0


def from_official_scale(X: np.ndarray) -> np.ndarray:
    """Published-scale features (n, 561) -> raw features in pipeline units (n, 561), float64."""
    return (np.asarray(X, dtype=np.float64) + 1.0) / 2.0 * _SPAN + RAW_MIN
