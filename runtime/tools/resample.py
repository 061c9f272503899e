"""Put timestamped sensor samples on the engine's regular 50 Hz grid.

Phones deliver samples at jittery, sensor-specific times. The engine works on a regular grid
``t0 + k / rate_hz``. Values on the grid are linear interpolations between neighbouring samples;
a grid point is never bridged across a hole in the input (a spacing longer than ``max_gap_s``, or
a NaN sample): it becomes NaN and is marked as a gap, and the engine skips windows that touch it.

Input sampled clearly faster than the grid is low-pass filtered before interpolation, so that
motion above the grid's Nyquist frequency does not fold back as a false low-frequency signal.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from har.features.contract import SAMPLE_RATE_HZ

from .readers import TimedStream

__all__ = ["GridSamples", "resample_to_grid", "align_streams", "gap_ranges"]

ENGINE_RATE_HZ = SAMPLE_RATE_HZ
# Input counts as "faster than the grid" above this multiple of the grid rate; jittery phone
# streams nominally at the grid rate stay below it and are interpolated unfiltered.
_FAST_INPUT_RATIO = 1.2
# 20 Hz for the 50 Hz grid: below the 25 Hz Nyquist frequency with room for the filter's roll-off,
# above the few hertz where human motion lives.
_CUTOFF_OVER_RATE = 0.4
_FILTER_ORDER = 4


@dataclass(frozen=True, eq=False)
class GridSamples:
    """Both sensors on one regular grid.

    Attributes
    ----------
    t0 : float
        Time of the first grid point, in seconds (same origin as the input streams).
    acc : ndarray, shape (n, 3), float64
        Acceleration with gravity in g; NaN rows in gaps.
    gyro : ndarray, shape (n, 3), float64
        Angular rate in rad/s; NaN rows in gaps.
    gaps : list of (int, int)
        Sample index ranges ``[start, end)`` where either sensor has no data, in order.
    rate_hz : float
        Grid rate; grid point k is at ``t0 + k / rate_hz``.
    """

    t0: float
    acc: np.ndarray
    gyro: np.ndarray
    gaps: list[tuple[int, int]]
    rate_hz: float

    def __len__(self) -> int:
        return self.acc.shape[0]

    @property
    def t(self) -> np.ndarray:
        """ndarray, shape (n,), float64: grid times in seconds."""
        return self.t0 + np.arange(len(self)) / self.rate_hz


def gap_ranges(mask) -> list[tuple[int, int]]:
    """Index ranges of the runs of True in a boolean mask.

    Parameters
    ----------
    mask : array_like, shape (n,), bool

    Returns
    -------
    list of (int, int)
        ``[start, end)`` of each run of True, in order.
    """
    m = np.concatenate([[False], np.asarray(mask, dtype=bool), [False]])
    edges = np.flatnonzero(np.diff(m.astype(np.int8)))
    return [(int(a), int(b)) for a, b in zip(edges[::2], edges[1::2])]


def _runs(t: np.ndarray, valid: np.ndarray, max_gap_s: float) -> list[tuple[int, int]]:
    # A run is a stretch of valid samples with no spacing above max_gap_s; interpolation stays
    # inside runs, so holes are never bridged.
    breaks = np.zeros(t.size, dtype=bool)
    breaks[1:] = np.diff(t) > max_gap_s
    runs = []
    for a, b in gap_ranges(valid):
        cuts = [a, *(a + np.flatnonzero(breaks[a + 1:b]) + 1).tolist(), b]
        runs.extend(zip(cuts[:-1], cuts[1:]))
    return runs


def _anti_alias(t: np.ndarray, rate_hz: float):
    if t.size < 2:
        return None
    spacing = float(np.median(np.diff(t)))
    if not spacing < 1.0 / (rate_hz * _FAST_INPUT_RATIO):
        return None
    from scipy.signal import butter   # on first use: scipy.signal costs ~1.5 s to import

    return butter(_FILTER_ORDER, _CUTOFF_OVER_RATE * rate_hz, fs=1.0 / spacing, output="sos")


def resample_to_grid(t, xyz, t0: float, n: int, rate_hz: float = ENGINE_RATE_HZ, *,
                     max_gap_s: float = 0.5) -> tuple[np.ndarray, np.ndarray]:
    """Interpolate one sensor's samples onto the grid ``t0 + k / rate_hz``, k = 0..n-1.

    Input whose median spacing is below ``1 / (1.2 * rate_hz)`` is first low-pass filtered
    (zero-phase Butterworth, order 4, cut-off ``0.4 * rate_hz``, designed for the median input
    rate), each run of samples separately so that the filter never reaches across a gap. Runs
    too short for the filter's edge padding are interpolated unfiltered.

    Parameters
    ----------
    t : array_like, shape (m,), float
        Sample times in seconds, strictly increasing.
    xyz : array_like, shape (m, 3), float
        Samples, any unit (kept). A row with a NaN is a missing sample.
    t0 : float
        Time of the first grid point, seconds, same origin as ``t``.
    n : int
        Number of grid points.
    rate_hz : float
        Grid rate in Hz.
    max_gap_s : float
        Longest spacing between consecutive samples that is interpolated across, seconds.

    Returns
    -------
    values : ndarray, shape (n, 3), float64
        Interpolated samples; NaN where ``gap_mask`` is True.
    gap_mask : ndarray, shape (n,), bool
        True for grid points inside a hole longer than ``max_gap_s``, next to a NaN sample, or
        outside the input's time span.

    Raises
    ------
    ValueError
        For mismatched shapes, non-finite or non-increasing times, or non-positive parameters.
    """
    t = np.asarray(t, dtype=np.float64)
    xyz = np.asarray(xyz, dtype=np.float64)
    if t.ndim != 1 or xyz.shape != (t.size, 3):
        raise ValueError(f"need t of shape (m,) and xyz of shape (m, 3), got {t.shape} and "
                         f"{xyz.shape}")
    if n < 0 or not rate_hz > 0 or not max_gap_s > 0:
        raise ValueError(f"need n >= 0, rate_hz > 0 and max_gap_s > 0, got n={n}, "
                         f"rate_hz={rate_hz}, max_gap_s={max_gap_s}")
    if not np.all(np.isfinite(t)):
        raise ValueError("sample times must be finite")
    if np.any(np.diff(t) <= 0):
        raise ValueError("sample times must be strictly increasing")

    grid = t0 + np.arange(n) / rate_hz
    values = np.full((n, 3), np.nan)
    covered = np.zeros(n, dtype=bool)
    sos = _anti_alias(t, rate_hz)
    # sosfiltfilt's default edge padding; shorter runs cannot be filtered meaningfully.
    min_filtered = 3 * (2 * sos.shape[0] + 1) if sos is not None else 0
    valid = np.all(np.isfinite(xyz), axis=1)
    for a, b in _runs(t, valid, max_gap_s):
        run_t, run = t[a:b], xyz[a:b]
        if sos is not None and b - a > min_filtered:
            from scipy.signal import sosfiltfilt

            run = sosfiltfilt(sos, run, axis=0)
        lo = np.searchsorted(grid, run_t[0], side="left")
        hi = np.searchsorted(grid, run_t[-1], side="right")
        if hi <= lo:
            continue
        for k in range(3):
            values[lo:hi, k] = np.interp(grid[lo:hi], run_t, run[:, k])
        covered[lo:hi] = True
    return values, ~covered


def align_streams(acc: TimedStream, gyro: TimedStream, rate_hz: float = ENGINE_RATE_HZ,
                  max_gap_s: float = 0.5) -> GridSamples:
    """Put acceleration and gyroscope on one common grid over the time both cover.

    The grid starts at the later of the two first samples and ends at or before the earlier of
    the two last samples.

    Parameters
    ----------
    acc : TimedStream
        Acceleration with gravity, in g.
    gyro : TimedStream
        Angular rate, in rad/s.
    rate_hz : float
        Grid rate in Hz.
    max_gap_s : float
        Longest spacing between consecutive samples that is interpolated across, seconds.

    Returns
    -------
    GridSamples
        Both sensors on the grid; NaN in both wherever either has a gap.

    Raises
    ------
    ValueError
        When a stream is empty or the two do not overlap in time.
    """
    if len(acc) == 0 or len(gyro) == 0:
        raise ValueError("cannot align an empty stream")
    start = max(acc.t[0], gyro.t[0])
    end = min(acc.t[-1], gyro.t[-1])
    if end < start:
        raise ValueError(f"acc ({acc.t[0]:.3f}..{acc.t[-1]:.3f} s) and gyro "
                         f"({gyro.t[0]:.3f}..{gyro.t[-1]:.3f} s) do not overlap in time")
    n = int(np.floor((end - start) * rate_hz + 1e-6)) + 1
    while n > 1 and start + (n - 1) / rate_hz > end:
        n -= 1  # the tolerance above must not put the last point past the data
    acc_grid, acc_gap = resample_to_grid(acc.t, acc.xyz, start, n, rate_hz, max_gap_s=max_gap_s)
    gyro_grid, gyro_gap = resample_to_grid(gyro.t, gyro.xyz, start, n, rate_hz,
                                           max_gap_s=max_gap_s)
    gap = acc_gap | gyro_gap
    acc_grid[gap] = np.nan
    gyro_grid[gap] = np.nan
    return GridSamples(t0=float(start), acc=acc_grid, gyro=gyro_grid, gaps=gap_ranges(gap),
                       rate_hz=float(rate_hz))
