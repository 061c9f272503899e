"""Physical plausibility of phone motion samples: values no phone sensor can report.

The limits come from the full-scale ranges of the inertial sensors phones carry. Phone
accelerometers are configured to +-2, 4, 8 or 16 g (Bosch BMI160/BMI260/BMI323, ST LSM6DS3/
LSM6DSO/LSM6DSR, TDK ICM-426xx: 16 g is the largest range they offer), gyroscopes to +-125 ..
2000 deg/s, and 2000 deg/s is 34.9 rad/s. A sensor driven past its range saturates at full scale,
so readings *at* the limit are physical (a hard knock, a dropped phone) and are kept; anything
beyond it did not come from the sensor: a unit mix-up (m/s^2 read as g gives about 9.8 "g" at
rest, still within range, but mg read as g gives 1000 g), a corrupt file or a fabricated stream.
Such samples are flagged; windows touching them claim no activity.

    ACC_LIMIT_G = 16 g on any axis, GYRO_LIMIT_RAD_S = 35 rad/s on any axis (2000 deg/s rounded up)

Infinite values are implausible too. NaN is *not* flagged here: the engine reads NaN as a missing
sample (a gap), which has its own accounting.

numpy only; pure functions, no state.
"""

from __future__ import annotations

import numpy as np

from har.features.contract import SPAN
from har.features.errors import HarError

__all__ = ["ACC_LIMIT_G", "GYRO_LIMIT_RAD_S", "IMPLAUSIBLE", "implausible_samples", "any_implausible",
           "blank_implausible", "windows_touching", "describe_limits"]

#: Largest acceleration on one axis a phone accelerometer reports, g (its widest full-scale range).
ACC_LIMIT_G = 16.0
#: Largest angular rate on one axis a phone gyroscope reports, rad/s (2000 deg/s = 34.9 rad/s).
GYRO_LIMIT_RAD_S = 35.0
#: The reason given for a window that touched an implausible sample.
IMPLAUSIBLE = "implausible"
_BLOCK = 1 << 16


def describe_limits(acc_limit_g: float = ACC_LIMIT_G, gyro_limit_rad_s: float = GYRO_LIMIT_RAD_S) -> str:
    """The limits in words, for warnings: "|acc| > 16 g or |gyro| > 35 rad/s on an axis"."""
    return f"|acc| > {acc_limit_g:g} g or |gyro| > {gyro_limit_rad_s:g} rad/s on an axis"


def implausible_samples(acc, gyro, *, acc_limit_g: float = ACC_LIMIT_G,
                        gyro_limit_rad_s: float = GYRO_LIMIT_RAD_S) -> np.ndarray:
    """Which samples hold a value no phone sensor can report.

    Parameters
    ----------
    acc : array_like, shape (n, 3)
        Acceleration x, y, z in g, gravity included.
    gyro : array_like, shape (n, 3)
        Angular rate x, y, z in rad/s.
    acc_limit_g : float
        Largest plausible magnitude of one acceleration axis, g.
    gyro_limit_rad_s : float
        Largest plausible magnitude of one angular-rate axis, rad/s.

    Returns
    -------
    ndarray, shape (n,), bool
        True where any axis is beyond its limit or infinite. NaN (a missing sample) is False.
    """
    acc = np.asarray(acc, dtype=np.float64)
    gyro = np.asarray(gyro, dtype=np.float64)
    if acc.ndim != 2 or gyro.ndim != 2 or acc.shape[1] != 3 or gyro.shape[1] != 3 or len(acc) != len(gyro):
        raise HarError(f"acc and gyro must both be (n, 3); got {acc.shape} and {gyro.shape}")
    mask = np.zeros(len(acc), dtype=bool)
    # In blocks: the temporaries stay a few MB whatever the recording's length.
    with np.errstate(invalid="ignore"):
        for a in range(0, len(acc), _BLOCK):
            b = a + _BLOCK
            # NaN compares False: a gap is not flagged.
            mask[a:b] = (np.abs(acc[a:b]) > acc_limit_g).any(axis=1) | (np.abs(gyro[a:b]) > gyro_limit_rad_s).any(axis=1)
    return mask


def blank_implausible(acc, gyro, **limits) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Implausible samples turned into missing ones (NaN rows), so that their windows come out invalid.

    Parameters
    ----------
    acc : array_like, shape (n, 3)
        Acceleration in g.
    gyro : array_like, shape (n, 3)
        Angular rate in rad/s.
    **limits
        ``acc_limit_g``, ``gyro_limit_rad_s`` as in :func:`implausible_samples`.

    Returns
    -------
    acc, gyro : ndarray, shape (n, 3), float64
        The inputs, or copies with NaN rows where ``mask`` is True (the inputs are never changed).
    mask : ndarray, shape (n,), bool
        The implausible samples.
    """
    mask = implausible_samples(acc, gyro, **limits)
    acc = np.asarray(acc, dtype=np.float64)
    gyro = np.asarray(gyro, dtype=np.float64)
    if mask.any():
        acc, gyro = acc.copy(), gyro.copy()
        acc[mask] = np.nan
        gyro[mask] = np.nan
    return acc, gyro, mask


def windows_touching(sample_mask, starts, span: int = SPAN) -> np.ndarray:
    """Which windows read a flagged sample.

    Parameters
    ----------
    sample_mask : array_like, shape (n,), bool
        Flagged samples (50 Hz sample index).
    starts : array_like, shape (k,), int
        First sample of each window.
    span : int
        Samples a window reads from its start (128 + the jerk look-ahead sample).

    Returns
    -------
    ndarray, shape (k,), bool
    """
    mask = np.asarray(sample_mask, dtype=bool)
    starts = np.asarray(starts, dtype=np.int64)
    counts = np.concatenate([[0], np.cumsum(mask, dtype=np.int64)])
    lo = np.clip(starts, 0, len(mask))
    hi = np.clip(starts + span, 0, len(mask))
    return counts[hi] - counts[lo] > 0


def any_implausible(acc: np.ndarray, gyro: np.ndarray) -> bool:
    """Whether any sample is implausible (``implausible_samples(acc, gyro).any()``), cheaply.

    A phone pushes a few samples at a time: for those, plain Python floats are several times
    cheaper than numpy's per-call overhead.
    """
    if len(acc) <= 8:
        return (any(abs(v) > ACC_LIMIT_G for row in acc.tolist() for v in row)
                or any(abs(v) > GYRO_LIMIT_RAD_S for row in gyro.tolist() for v in row))
    return bool(implausible_samples(acc, gyro).any())
