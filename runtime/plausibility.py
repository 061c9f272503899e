"""Samples no phone can produce: outside the full-scale range of its sensors.

Phone accelerometers measure at most +-16 g per axis (the largest range of the common MEMS parts;
most phones run them at +-8 g) and gyroscopes at most +-2000 deg/s = 34.9 rad/s. A value beyond
that is a unit mistake (m/s^2 read as g, deg/s as rad/s, raw counts) or a corrupt file, not
motion: the windows touching it claim no activity.
"""

from __future__ import annotations

import numpy as np

__all__ = ["MAX_ACC_G", "MAX_GYRO_RAD_S", "implausible_samples", "any_implausible"]

#: Largest plausible |acceleration| on one axis, g.
MAX_ACC_G = 16.0
#: Largest plausible |angular rate| on one axis, rad/s (2000 deg/s).
MAX_GYRO_RAD_S = 35.0


def implausible_samples(acc: np.ndarray, gyro: np.ndarray) -> np.ndarray:
    """Which samples are outside the sensors' physical range.

    Parameters
    ----------
    acc : ndarray, shape (n, 3)
        Acceleration in g. NaN (a gap) is not implausible.
    gyro : ndarray, shape (n, 3)
        Angular rate in rad/s.

    Returns
    -------
    ndarray, shape (n,), bool
        True where any axis is beyond ``MAX_ACC_G`` / ``MAX_GYRO_RAD_S`` (infinities included).
    """
    with np.errstate(invalid="ignore"):
        return (np.abs(acc) > MAX_ACC_G).any(axis=1) | (np.abs(gyro) > MAX_GYRO_RAD_S).any(axis=1)


def any_implausible(acc: np.ndarray, gyro: np.ndarray) -> bool:
    """Whether any sample is outside the physical range (``implausible_samples(...).any()``).

    A phone pushes a few samples at a time: for those, plain Python floats are several times
    cheaper than numpy's per-call overhead.
    """
    if len(acc) <= 8:
        a, g = acc.tolist(), gyro.tolist()
        return (any(abs(v) > MAX_ACC_G for row in a for v in row)
                or any(abs(v) > MAX_GYRO_RAD_S for row in g for v in row))
    return bool(implausible_samples(acc, gyro).any())
