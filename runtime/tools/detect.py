"""Recognise time units, sample rates and sensor units from the samples themselves.

Apps disagree on units and users write files by hand, so the engine looks at the data:

- **time unit** (s, ms, µs, ns, or the same since the Unix epoch): a clock is taken in the unit the
  format documents unless that makes the median spacing implausible for a phone sensor (outside
  :data:`PLAUSIBLE_RATE_HZ`); then the unit that gives a plausible rate is chosen. Epoch times are
  recognised by their size (ns since 1973..2286 are 1e17..1e19).
- **acceleration** in g or m/s²: from the magnitude of the still parts (the calmest seconds), which
  is gravity: about 1 in g, about 9.8 in m/s². A magnitude near 0 means gravity was removed.
- **angular rate** in rad/s or deg/s: only where the data make it unambiguous. Body motion stays
  below about 10 rad/s and phone gyroscopes saturate at 35 rad/s (2000 deg/s), so a 99th
  percentile of |ω| above :data:`DEG_S_ABOVE` (20) can only be deg/s. Small values are ambiguous
  (a still phone in deg/s looks like a moving one in rad/s) and keep the documented unit.
- **sample rate**: refused below :data:`MIN_RATE_HZ`.

Why 20 Hz: the engine's features are computed on 50 Hz samples after a 20 Hz low-pass (the UCI HAR
noise filter); their frequency-domain half covers 0..25 Hz (the Nyquist frequency of 50 Hz).
Samples taken at ``r`` Hz hold nothing above ``r / 2``: at 20 Hz the band of body motion (steps at
~2 Hz and their harmonics up to 8-10 Hz) is still there; below it the harmonics go and
interpolation invents the samples in between. Measured on the bundled recording (low-passed at
``0.4 r``, sampled at ``r`` Hz, replayed through ``push_timestamped``; share of windows keeping the
label of the 50 Hz replay, itself 0.98 after the same low-pass at 20 Hz)::

    r (Hz)      5     10    15    16    17.5  18    19    20    25    30    40
    agreement   0.53  0.58  0.60  0.69  0.77  0.77  0.80  0.83  0.87  0.89  0.94

There is no cliff, only a slope; 20 Hz is where the body-motion band is still sampled and about
5 windows in 6 keep their label. Rates below 45 Hz get a notice that accuracy is lower. A phone
set to 20 Hz often delivers a little less (HyperIMU's 50 ms period gives 53 ms, 18.9 Hz), so the
refusal is below :data:`MIN_RATE_HZ` = 18 Hz measured (20 Hz nominal less 10 %).

Each recognition that changes what the format documents is announced in one line
(:func:`notice`), and every one can be overridden by a command-line flag.
"""

from __future__ import annotations

import sys

import numpy as np

#: The lowest rate a recording should have, Hz (see the module documentation) ...
NOMINAL_MIN_RATE_HZ = 20.0
#: ... and the lowest median rate accepted: 10 % below, for phone clocks that run slow.
MIN_RATE_HZ = 18.0
#: Below this rate a notice says that accuracy is lower than at the model's 50 Hz.
FULL_RATE_HZ = 45.0
#: Rates a phone sensor clock can have, Hz: a time unit giving a median spacing outside is wrong.
PLAUSIBLE_RATE_HZ = (0.5, 1000.0)
#: 99th percentile of |ω| above which angular rate can only be deg/s.
DEG_S_ABOVE = 20.0
#: |a| of still parts: in g between these ...
G_RANGE = (0.6, 1.6)
#: ... in m/s² between these ...
MS2_RANGE = (6.0, 16.0)
#: ... and below this (either unit) gravity has been removed.
NO_GRAVITY_BELOW = 0.25

TIME_SECONDS = {"s": 1.0, "ms": 1e-3, "us": 1e-6, "ns": 1e-9}
TIME_NAMES = {"s": "seconds", "ms": "milliseconds", "us": "microseconds", "ns": "nanoseconds"}
# Unix-epoch times from 1973 to 2286 in each unit.
_EPOCH = {"s": (1e8, 1e10), "ms": (1e11, 1e13), "us": (1e14, 1e16), "ns": (1e17, 1e19)}


def notice(message: str, stream=None) -> None:
    """Print one ``notice: ...`` line on stderr (the engine's way to announce a recognition)."""
    print(f"notice: {message}", file=stream or sys.stderr, flush=True)


def median_spacing(t: np.ndarray) -> float:
    """Median of the positive spacings of ``t`` (NaN for fewer than 2 samples)."""
    d = np.diff(np.asarray(t, dtype=np.float64))
    d = d[d > 0]
    return float(np.median(d)) if d.size else float("nan")


def infer_time_unit(t, default: str = "s") -> tuple[str, bool, float]:
    """The unit of a clock column, from its values.

    Parameters
    ----------
    t : array_like, shape (n,)
        The first few hundred (or more) times, as written in the file.
    default : {"s", "ms", "us", "ns"}
        The unit the format documents.

    Returns
    -------
    unit : str
        "s", "ms", "us" or "ns".
    epoch : bool
        The times count from the Unix epoch.
    rate_hz : float
        Median sample rate in that unit (NaN with fewer than 2 samples).
    """
    t = np.asarray(t, dtype=np.float64)
    dt = median_spacing(t)
    if not np.isfinite(dt):
        return default, False, float("nan")
    lo, hi = PLAUSIBLE_RATE_HZ
    t0 = abs(float(t[0]))

    def rate(unit):
        return 1.0 / (dt * TIME_SECONDS[unit])

    for unit, (a, b) in _EPOCH.items():
        if a <= t0 < b and lo / 10 <= rate(unit) <= hi * 10:
            return unit, True, rate(unit)
    if lo <= rate(default) <= hi:
        return default, False, rate(default)
    for unit in TIME_SECONDS:
        if lo <= rate(unit) < hi:
            return unit, False, rate(unit)
    return default, False, rate(default)


def still_magnitude(xyz, rate_hz: float) -> float:
    """Median |a| of the calmest quarter of ~1 s blocks (gravity, in the data's unit).

    Rows of exact zeros (a logger's padding before the sensor starts) and NaN rows are left out.
    NaN when nothing is left.
    """
    m = np.linalg.norm(np.asarray(xyz, dtype=np.float64), axis=1)
    m = m[np.isfinite(m) & (m > 1e-9)]
    if m.size == 0:
        return float("nan")
    block = int(max(4, round(rate_hz))) if np.isfinite(rate_hz) else 50
    nb = m.size // block
    if nb < 2:
        return float(np.median(m))
    blocks = m[:nb * block].reshape(nb, block)
    sd = blocks.std(axis=1)
    still = sd <= np.percentile(sd, 25)
    return float(np.median(blocks[still]))


def infer_acc_unit(xyz, rate_hz: float) -> tuple[str | None, float]:
    """Unit of acceleration with gravity from the still parts' magnitude.

    Returns
    -------
    unit : {"g", "m/s^2", "removed", None}
        "removed": gravity is not in the data. None: magnitude fits neither unit.
    magnitude : float
        |a| of the still parts, in the data's unit.
    """
    m = still_magnitude(xyz, rate_hz)
    if not np.isfinite(m):
        return None, m
    if m < NO_GRAVITY_BELOW:
        return "removed", m
    if G_RANGE[0] <= m <= G_RANGE[1]:
        return "g", m
    if MS2_RANGE[0] <= m <= MS2_RANGE[1]:
        return "m/s^2", m
    return None, m


def infer_gyro_unit(xyz) -> tuple[str | None, float]:
    """"deg/s" when the 99th percentile of |ω| leaves no doubt, else None (ambiguous)."""
    m = np.linalg.norm(np.asarray(xyz, dtype=np.float64), axis=1)
    m = m[np.isfinite(m)]
    if m.size == 0:
        return None, float("nan")
    p99 = float(np.percentile(m, 99))
    return ("deg/s" if p99 > DEG_S_ABOVE else None), p99
