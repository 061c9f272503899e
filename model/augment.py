"""Training-data augmentation: recordings again as a phone held at another angle would record them.

A phone never sits at exactly the angle of the training volunteers' phones: belt clips tilt, pockets
differ, thighs are shaped differently. A linear model on the 561 features learns the training phones'
exact gravity directions, and a new user whose phone is 15 degrees off loses accuracy. Rotating the
recordings (both sensors by the same proper rotation, so the data stay physically possible) teaches
the heads the activity rather than the angle.

The rotation of recording ``index`` depends on ``(seed, index)`` only, so a cache, a cross-validation
fold and ``har update`` see the same augmented rows whatever else is in the set.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass

import numpy as np


def rotation_matrix(axis: np.ndarray, angle_rad: float) -> np.ndarray:
    """(3, 3) proper rotation by ``angle_rad`` about the unit vector ``axis`` (Rodrigues)."""
    x, y, z = axis
    k = np.array([[0.0, -z, y], [z, 0.0, -x], [-y, x, 0.0]])
    return np.eye(3) + np.sin(angle_rad) * k + (1 - np.cos(angle_rad)) * (k @ k)


def rotate(acc: np.ndarray, gyro: np.ndarray, rotation: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Both sensors as a phone turned by ``rotation`` records them.

    Parameters
    ----------
    acc : ndarray, shape (n, 3)
        Accelerometer in g (any frame convention; rows are samples).
    gyro : ndarray, shape (n, 3)
        Gyroscope in rad/s.
    rotation : ndarray, shape (3, 3)
        Proper rotation (det +1): a vector v of the old device frame is ``rotation @ v`` in the new one.
    """
    return acc @ rotation.T, gyro @ rotation.T


@dataclass(frozen=True)
class Tilts:
    """``copies`` rotations of each recording by an angle drawn uniformly from [min_deg, max_deg]
    degrees about an axis drawn uniformly from the sphere, or, with ``axis``, about that device axis
    (either way round).

    ``activity``: only that activity's windows are kept (e.g. LAYING rolled about the body's long axis:
    lying on the back, on either side or on the front).
    """

    min_deg: float
    max_deg: float
    copies: int
    seed: int = 0
    axis: tuple[float, float, float] | None = None
    activity: int | None = None

    def __post_init__(self):
        if not 0 <= self.min_deg <= self.max_deg <= 180:
            raise ValueError(f"tilt angles must satisfy 0 <= min <= max <= 180 degrees, got "
                             f"{self.min_deg}, {self.max_deg}")
        if self.copies < 1:
            raise ValueError(f"tilt copies must be >= 1, got {self.copies}")
        if self.axis is not None:
            norm = float(np.linalg.norm(self.axis)) if len(self.axis) == 3 else 0.0
            if not np.isclose(norm, 1.0):
                raise ValueError(f"tilt axis must be a unit 3-vector, got {self.axis}")
            object.__setattr__(self, "axis", tuple(float(v) for v in self.axis))

    def rotations(self, index: int) -> np.ndarray:
        """(copies, 3, 3) rotations of recording number ``index``."""
        rng = np.random.default_rng([self.seed, index])
        out = np.empty((self.copies, 3, 3))
        for c in range(self.copies):
            if self.axis is None:
                axis = rng.standard_normal(3)
                axis /= np.linalg.norm(axis)
            else:
                axis = np.asarray(self.axis) * rng.choice((-1.0, 1.0))
            out[c] = rotation_matrix(axis, np.deg2rad(rng.uniform(self.min_deg, self.max_deg)))
        return out

    @property
    def tag(self) -> str:
        """Short name for cache files."""
        about = "" if self.axis is None else "a" + "_".join(f"{v:g}" for v in self.axis)
        only = "" if self.activity is None else f"-only{self.activity}"
        return f"tilt{self.min_deg:g}-{self.max_deg:g}x{self.copies}s{self.seed}{about}{only}"

    def keep(self, y: np.ndarray) -> np.ndarray:
        """Mask of the window labels ``y`` this augmentation keeps."""
        return np.ones(len(y), bool) if self.activity is None else np.asarray(y) == self.activity

    def describe(self) -> str:
        about = "random axes" if self.axis is None else f"the device axis ({', '.join(f'{v:g}' for v in self.axis)})"
        what = "" if self.activity is None else f" (activity {self.activity} only)"
        return (f"{self.copies} cop{'y' if self.copies == 1 else 'ies'} tilted {self.min_deg:g}-{self.max_deg:g} "
                f"degrees about {about}{what}")


@dataclass(frozen=True)
class Augmentation:
    """What the placement-gated recipe adds to its heads' training rows (never to the gate's).

    Attributes
    ----------
    waist : Tilts or None
        Tilted copies of the waist recordings, for the waist head.
    waist_lying : Tilts or None
        Copies of the waist recordings' lying windows rolled about the body's long axis (the waist
        phone's x axis), for the waist head and whichever head borrows LAYING.
    pocket : Tilts or None
        Tilted copies of the pocket trials, for the pocket head.
    pocket_turned : bool
        The pocket trials turned 180 degrees about the phone's y axis (screen to the thigh or away).
    """

    waist: Tilts | None = None
    pocket: Tilts | None = None
    pocket_turned: bool = False
    waist_lying: Tilts | None = None

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str | None) -> "Augmentation":
        """The metadata text of :meth:`to_json`; no text: no augmentation (models trained without it)."""
        if not text:
            return cls()
        d = json.loads(text)

        def tilts(key):
            v = d.get(key)
            return Tilts(**{**v, "axis": tuple(v["axis"]) if v.get("axis") else None}) if v else None

        return cls(waist=tilts("waist"), pocket=tilts("pocket"), pocket_turned=bool(d.get("pocket_turned", False)),
                   waist_lying=tilts("waist_lying"))

    def describe(self) -> str:
        parts = []
        if self.waist:
            parts.append(f"waist recordings: {self.waist.describe()}")
        if self.waist_lying:
            parts.append(f"waist lying windows: {self.waist_lying.describe()}")
        if self.pocket_turned:
            parts.append("pocket trials: turned 180 degrees about the phone's y axis")
        if self.pocket:
            parts.append(f"pocket trials: {self.pocket.describe()}")
        return "; ".join(parts) or "none"
