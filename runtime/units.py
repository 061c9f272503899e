"""Conversions into the engine's units: acceleration in g, angular rate in rad/s."""

from __future__ import annotations

import numpy as np

#: Standard gravity in m/s^2 (exact by definition); 1 g.
STANDARD_GRAVITY = 9.80665

ACC_UNITS = ("g", "m/s^2")
GYRO_UNITS = ("rad/s", "deg/s")


def to_g(x, unit: str) -> np.ndarray:
    """Convert acceleration to g.

    Parameters
    ----------
    x : array_like, any shape
        Acceleration in ``unit``.
    unit : {"g", "m/s^2"}
        Unit of ``x``.

    Returns
    -------
    ndarray, same shape as ``x``, float64
        Acceleration in g.

    Raises
    ------
    ValueError
        If ``unit`` is not one of the accepted units.
    """
    x = np.asarray(x, dtype=np.float64)
    if unit == "g":
        return x.copy()
    if unit == "m/s^2":
        return x / STANDARD_GRAVITY
    raise ValueError(f"unknown acceleration unit {unit!r}: expected one of {', '.join(ACC_UNITS)}")


def to_rad_s(x, unit: str) -> np.ndarray:
    """Convert angular rate to rad/s.

    Parameters
    ----------
    x : array_like, any shape
        Angular rate in ``unit``.
    unit : {"rad/s", "deg/s"}
        Unit of ``x``.

    Returns
    -------
    ndarray, same shape as ``x``, float64
        Angular rate in rad/s.

    Raises
    ------
    ValueError
        If ``unit`` is not one of the accepted units.
    """
    x = np.asarray(x, dtype=np.float64)
    if unit == "rad/s":
        return x.copy()
    if unit == "deg/s":
        return np.deg2rad(x)
    raise ValueError(f"unknown angular rate unit {unit!r}: expected one of {', '.join(GYRO_UNITS)}")
