"""Where the phone sits: gravity directions of windows, the model's known placements, settling.

A window's gravity direction is the mean of its gravity signal (features ``tGravityAcc-mean()-X/Y/Z``,
in g, device axes) made a unit vector. A waist phone sees it near +y (upright) or along x/z (lying
down); a trouser-pocket phone near -y (standing) or +-z (sitting). A model can only be trusted for
directions like those it was trained on.

The reference of a model is a cover of its training windows' directions: unit vectors such that
every training window lies within ``COVER_RADIUS_DEG`` of one (greedy farthest-point cover). A
window is *placement ok* when it lies within ``max_angle_deg`` (default ``COVER_RADIUS_DEG`` +
``MARGIN_DEG``) of some reference. Both are stored in the model's metadata::

    placement_directions     JSON list of [x, y, z] unit vectors (4 decimals)
    placement_max_angle_deg  number

numpy only: the runtime, the exporter and ``har personalize`` all use this module.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import numpy as np

from har.features import FEATURE_NAMES, HOP, SAMPLE_RATE_HZ

__all__ = ["PlacementReference", "SettleState", "gravity_directions", "cover", "settled", "SETTLE_S", "JUMP_DEG",
           "COVER_RADIUS_DEG", "MARGIN_DEG"]

GRAVITY_COLUMNS = tuple(FEATURE_NAMES.index(f"tGravityAcc-mean()-{a}") for a in "XYZ")
COVER_RADIUS_DEG = 15.0
MARGIN_DEG = 15.0
DIRECTIONS_KEY = "placement_directions"
MAX_ANGLE_KEY = "placement_max_angle_deg"

#: After a placement change (start of a recording or labelled segment, or a gravity jump) the first
#: seconds are the phone going into the pocket, not the activity.
SETTLE_S = 5.0
#: Gravity turning more than this between consecutive windows of one labelled segment means the
#: phone was moved (a pocket's walking swing moves a 2.56 s mean by a few degrees).
JUMP_DEG = 30.0


def gravity_directions(X_raw: np.ndarray) -> np.ndarray:
    """Unit gravity direction of each window.

    Parameters
    ----------
    X_raw : ndarray, shape (n, 561)
        Features in the units of the feature code (not scaled): tGravityAcc-mean in g.

    Returns
    -------
    ndarray, shape (n, 3)
        Unit vectors (NaN rows for windows without features).
    """
    g = np.asarray(X_raw, dtype=np.float64)[:, GRAVITY_COLUMNS]
    norm = np.linalg.norm(g, axis=1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(norm > 0, g / norm, np.nan)


def cover(directions: np.ndarray, radius_deg: float = COVER_RADIUS_DEG, max_points: int = 256) -> np.ndarray:
    """A few unit vectors within ``radius_deg`` of every direction given (greedy farthest-point).

    Parameters
    ----------
    directions : ndarray, shape (n, 3)
        Unit vectors; NaN rows are ignored.
    radius_deg : float
    max_points : int
        Upper bound on the cover's size (the cover then has a larger radius).

    Returns
    -------
    ndarray, shape (m, 3)
    """
    d = np.asarray(directions, dtype=np.float64)
    d = d[np.isfinite(d).all(axis=1)]
    if len(d) == 0:
        return np.empty((0, 3))
    cos_r = np.cos(np.radians(radius_deg))
    picked = [d[0]]
    best = d @ d[0]
    while len(picked) < max_points:
        far = int(np.argmin(best))
        if best[far] >= cos_r:
            break
        picked.append(d[far])
        best = np.maximum(best, d @ d[far])
    return np.array(picked)


@dataclass(frozen=True)
class PlacementReference:
    """The gravity directions a model knows.

    Attributes
    ----------
    directions : ndarray, shape (m, 3)
        Unit vectors.
    max_angle_deg : float
        A window farther than this from every direction is flagged.
    """

    directions: np.ndarray
    max_angle_deg: float = COVER_RADIUS_DEG + MARGIN_DEG

    @classmethod
    def from_windows(cls, X_raw: np.ndarray, radius_deg: float = COVER_RADIUS_DEG,
                     margin_deg: float = MARGIN_DEG) -> "PlacementReference":
        """The reference of training windows ``X_raw`` (n, 561), features unscaled."""
        return cls(cover(gravity_directions(X_raw), radius_deg), radius_deg + margin_deg)

    @classmethod
    def from_metadata(cls, metadata: dict) -> "PlacementReference | None":
        """The reference stored in a model's metadata, or None when it has none."""
        if DIRECTIONS_KEY not in metadata:
            return None
        dirs = np.asarray(json.loads(metadata[DIRECTIONS_KEY]), dtype=np.float64).reshape(-1, 3)
        dirs /= np.linalg.norm(dirs, axis=1, keepdims=True)
        return cls(dirs, float(metadata.get(MAX_ANGLE_KEY, COVER_RADIUS_DEG + MARGIN_DEG)))

    def to_metadata(self) -> dict[str, str]:
        return {DIRECTIONS_KEY: json.dumps(np.round(self.directions, 4).tolist()),
                MAX_ANGLE_KEY: f"{self.max_angle_deg:g}"}

    def union(self, other: "PlacementReference") -> "PlacementReference":
        return PlacementReference(np.vstack([self.directions, other.directions]),
                                  max(self.max_angle_deg, other.max_angle_deg))

    def angle_deg(self, directions: np.ndarray) -> np.ndarray:
        """Angle from each direction (n, 3) to the nearest reference, degrees (NaN for NaN rows)."""
        d = np.asarray(directions, dtype=np.float64).reshape(-1, 3)
        if len(self.directions) == 0:
            return np.full(len(d), 180.0)
        cos = np.clip(np.max(d @ self.directions.T, axis=1), -1.0, 1.0)
        return np.degrees(np.arccos(cos))

    def check(self, X_raw: np.ndarray) -> np.ndarray:
        """True for windows (n, 561, unscaled features) whose gravity direction the model knows."""
        angle = self.angle_deg(gravity_directions(X_raw))
        return angle <= self.max_angle_deg      # NaN (no features) compares False


@dataclass(frozen=True)
class SettleState:
    """Where :func:`settled` left off: the last window's segment, start and direction, and the last change."""

    segment: object
    start: int
    direction: np.ndarray
    change: int


def settled(directions: np.ndarray, starts: np.ndarray, segment: np.ndarray, state: SettleState | None = None, *,
            settle_s: float = SETTLE_S, jump_deg: float = JUMP_DEG) -> tuple[np.ndarray, SettleState | None]:
    """Which windows are past the handling after a placement change.

    A placement change is the start of a segment (a recording, or a run of one label), a hole in
    the windows (more than two hops of 64 samples between consecutive starts), or a turn of the
    gravity direction by more than ``jump_deg`` between consecutive windows. Windows starting less
    than ``settle_s`` after a change are dropped.

    Parameters
    ----------
    directions : ndarray, shape (n, 3)
        Unit gravity directions (:func:`gravity_directions`).
    starts : ndarray, shape (n,), int
        First sample of each window (50 Hz), increasing within a segment.
    segment : ndarray, shape (n,)
        Segment id of each window; windows of a segment are consecutive.
    state : SettleState or None
        What the previous call returned, to continue a stream of windows; None to begin.

    Returns
    -------
    keep : ndarray, shape (n,), bool
    state : SettleState or None
        To pass to the next call (None when no window was given and none before).
    """
    starts = np.asarray(starts)
    segment = np.asarray(segment)
    keep = np.zeros(len(starts), dtype=bool)
    settle = settle_s * SAMPLE_RATE_HZ
    for i in range(len(starts)):
        d = np.asarray(directions[i], dtype=np.float64)
        if state is None or segment[i] != state.segment or starts[i] - state.start > 2 * HOP:
            change = int(starts[i])
        else:
            cos = float(np.clip(np.dot(d, state.direction), -1.0, 1.0))
            change = int(starts[i]) if np.degrees(np.arccos(cos)) > jump_deg else state.change
        state = SettleState(segment[i], int(starts[i]), d, change)
        keep[i] = starts[i] - change >= settle
    return keep, state
