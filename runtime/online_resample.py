"""Timestamped samples in, 50 Hz grid samples out, one push at a time.

The streaming counterpart of :mod:`har.runtime.tools.resample`. A phone delivers acceleration and
angular rate at jittery times, often at 100 or 200 Hz; the engine needs the regular grid
``t0 + k / rate_hz`` where ``t0`` is the time of the first sample. :class:`OnlineResampler` emits
each grid sample as soon as the input has passed its time, by linear interpolation between the two
input samples around it. It is causal and keeps all its state explicitly: pushing a stream in one
call, sample by sample or in any other chunking gives the same grid samples.

Input clearly faster than the grid (median spacing of the first intervals below
``1 / (1.2 * rate_hz)``) is first low-pass filtered by a causal Butterworth filter (order 4,
cut-off ``0.4 * rate_hz`` = 20 Hz, designed for the estimated input rate; ``scipy.signal.sosfilt``
with carried state), so that motion above the grid's Nyquist frequency does not fold back as a
false slow signal. Being causal it delays slow motion by about 21 ms (about one grid sample), which
is small next to the 2.56 s windows of the engine.

Gaps
----
A hole in the input is never bridged. A hole runs from one finite sample to the next finite sample
when they are more than ``max_gap_s`` apart or when a sample between them has a NaN. The grid
samples strictly inside it come out as NaN rows (the grid keeps its clock: grid index k is always
at ``t0 + k / rate_hz``), and the hole is reported as a :class:`GapEvent` once the next finite
sample closes it. The streaming feature extractor treats NaN samples as gaps: every window touching
one comes out invalid and its filters restart after it. The anti-alias filter restarts after a hole
as well. (Emitting NaN rather than restarting the grid keeps sample indices and times on one clock,
so a window's time on the caller's clock is always ``t0 + start / rate_hz``.)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from har.features.contract import SAMPLE_RATE_HZ
from har.features.iir import sosfilt_rows

from .errors import StreamError
from .units import to_g, to_rad_s

__all__ = ["GapEvent", "OnlineResampler"]

ENGINE_RATE_HZ = SAMPLE_RATE_HZ
# Same rules as the batch resampler (resample.py): faster than 1.2 x the grid rate is "fast".
_FAST_INPUT_RATIO = 1.2
_CUTOFF_OVER_RATE = 0.4
_FILTER_ORDER = 4
#: Intervals used to estimate the input rate when it is not given (the first samples are held
#: until then: 8 intervals = 9 samples, 0.18 s at 50 Hz).
RATE_ESTIMATE_INTERVALS = 8


@dataclass(frozen=True)
class GapEvent:
    """A hole in the input that was not interpolated across.

    Attributes
    ----------
    t_from : float
        Time of the last finite sample before the hole, seconds (caller's clock).
    t_to : float
        Time of the first finite sample after it, seconds.
    n_missing_samples : int
        Grid samples strictly between the two, emitted as NaN rows.
    """

    t_from: float
    t_to: float
    n_missing_samples: int


class OnlineResampler:
    """Put a live stream of timestamped acc + gyro samples on the regular grid, causally.

    Parameters
    ----------
    rate_hz : float
        Grid rate in Hz (the engine's 50).
    max_gap_s : float
        Longest spacing between consecutive samples that is interpolated across, seconds.
    acc_unit : {"g", "m/s^2"}
        Unit of the pushed acceleration; the output is in g.
    gyro_unit : {"rad/s", "deg/s"}
        Unit of the pushed angular rate; the output is in rad/s.
    input_rate_hz : float or None
        Nominal input rate, when known: decides at once whether the anti-alias filter runs (and
        designs it for that rate). None: estimated as the median of the first
        ``RATE_ESTIMATE_INTERVALS`` intervals, and the first samples are held until then.

    Attributes
    ----------
    t0 : float or None
        Time of grid sample 0 (the first input sample), None before any sample.
    n_emitted : int
        Grid samples emitted so far.
    input_rate_hz_ : float or None
        Input rate used to decide on the filter (given or estimated), None while undecided.
    filtered_ : bool
        Whether the anti-alias filter runs (meaningful once ``input_rate_hz_`` is set).

    Examples
    --------
    >>> rs = OnlineResampler()
    >>> acc50, gyro50, events = rs.push(t, acc, gyro)     # t (n,), acc (n, 3), gyro (n, 3)
    >>> acc50, gyro50, events = rs.push(0.51, a, g)       # one sample: scalar t, (3,) vectors
    """

    def __init__(self, rate_hz: float = ENGINE_RATE_HZ, max_gap_s: float = 0.5, acc_unit: str = "g",
                 gyro_unit: str = "rad/s", *, input_rate_hz: float | None = None):
        if not rate_hz > 0 or not max_gap_s > 0:
            raise ValueError(f"need rate_hz > 0 and max_gap_s > 0, got rate_hz={rate_hz}, "
                             f"max_gap_s={max_gap_s}")
        if input_rate_hz is not None and not input_rate_hz > 0:
            raise ValueError(f"input_rate_hz must be positive or None, got {input_rate_hz}")
        to_g(0.0, acc_unit), to_rad_s(0.0, gyro_unit)        # refuse unknown units now
        self.rate_hz = float(rate_hz)
        self.max_gap_s = float(max_gap_s)
        self.acc_unit = acc_unit
        self.gyro_unit = gyro_unit
        self.input_rate_hz = input_rate_hz
        self.reset()

    def reset(self) -> None:
        """Forget the stream: the next sample is the first one of a new grid."""
        self.t0: float | None = None
        self.n_emitted = 0
        self.input_rate_hz_ = None if self.input_rate_hz is None else float(self.input_rate_hz)
        self.filtered_ = False
        self._sos = None
        if self.input_rate_hz_ is not None:
            self._decide(self.input_rate_hz_)
        self._pending_t = np.empty(0)           # samples held until the rate is known
        self._pending_x = np.empty((0, 6))
        self._t_last: float | None = None       # last sample processed (time, filtered value)
        self._x_last = np.full(6, np.nan)
        self._zi = None                         # filter state; None: restart at the next sample
        self._last_finite_t: float | None = None
        self._in_hole = False                   # a NaN sample came after the last finite one

    # ------------------------------------------------------------------ public

    def push(self, t, acc, gyro) -> tuple[np.ndarray, np.ndarray, list[GapEvent]]:
        """Add timestamped samples; return the grid samples the input has now passed.

        Parameters
        ----------
        t : float or array_like, shape (n,)
            Sample times in seconds, any origin, strictly increasing (also across pushes).
        acc : array_like, shape (n, 3) or (3,)
            Acceleration x, y, z with gravity, in ``acc_unit``, at times ``t``. A NaN marks a
            missing sample.
        gyro : array_like, shape (n, 3) or (3,)
            Angular rate x, y, z in ``gyro_unit``, at the same times.

        Returns
        -------
        grid_acc : ndarray, shape (k, 3), float64
            Acceleration in g on the grid, the next k grid samples; NaN rows inside holes.
        grid_gyro : ndarray, shape (k, 3), float64
            Angular rate in rad/s, same grid samples.
        events : list of GapEvent
            Holes closed by this push, in order.

        Raises
        ------
        StreamError
            For wrong shapes, non-finite times, or a time not after the previous one (the message
            names the index in this push and both times). The state is then unchanged.
        """
        t, x = self._check(t, acc, gyro)
        if t.size == 0:
            return np.empty((0, 3)), np.empty((0, 3)), []
        if self.t0 is None:
            self.t0 = float(t[0])
        if self.input_rate_hz_ is None:
            self._pending_t = np.concatenate([self._pending_t, t])
            self._pending_x = np.concatenate([self._pending_x, x])
            if self._pending_t.size <= RATE_ESTIMATE_INTERVALS:
                return np.empty((0, 3)), np.empty((0, 3)), []
            self._decide(1.0 / float(np.median(np.diff(self._pending_t[:RATE_ESTIMATE_INTERVALS + 1]))))
            t, x = self._pending_t, self._pending_x
            self._pending_t, self._pending_x = np.empty(0), np.empty((0, 6))
        return self._process(t, x)

    def grid_time(self, k) -> np.ndarray:
        """Time in seconds of grid sample(s) ``k`` (caller's clock)."""
        return self.t0 + np.asarray(k) / self.rate_hz

    # ------------------------------------------------------------------ internals

    def _check(self, t, acc, gyro) -> tuple[np.ndarray, np.ndarray]:
        t = np.atleast_1d(np.asarray(t, dtype=np.float64))
        if t.ndim != 1:
            raise StreamError(f"t: expected a time or shape (n,), got shape {t.shape}")
        rows = []
        for name, a in (("acc", acc), ("gyro", gyro)):
            a = np.asarray(a, dtype=np.float64)
            if a.ndim == 1:
                a = a.reshape(1, -1)
            if a.shape != (t.size, 3):
                raise StreamError(f"{name}: expected shape ({t.size}, 3) for {t.size} times, "
                                  f"got {np.shape(a)}")
            rows.append(a)
        bad = np.flatnonzero(~np.isfinite(t))
        if bad.size:
            raise StreamError(f"t[{bad[0]}] is {t[bad[0]]}: sample times must be finite")
        prev = self._pending_t[-1] if self._pending_t.size else self._t_last
        full = t if prev is None else np.concatenate([[prev], t])
        step = np.diff(full)
        bad = np.flatnonzero(~(step > 0))
        if bad.size:
            j = int(bad[0])                        # full[j] -> full[j + 1]
            i = j if prev is not None else j + 1   # index in this push of the offending sample
            before = (f"t[{i - 1}]={float(full[j])!r}" if i > 0
                      else f"the previous push's last time {float(full[j])!r}")
            what = "goes backwards" if step[j] < 0 else "repeats a time"
            raise StreamError(f"t[{i}]={float(full[j + 1])!r} {what}: it is not after {before}; "
                              f"sample times must be strictly increasing")
        return t, np.column_stack([to_g(rows[0], self.acc_unit), to_rad_s(rows[1], self.gyro_unit)])

    def _decide(self, input_rate_hz: float) -> None:
        self.input_rate_hz_ = float(input_rate_hz)
        self.filtered_ = self.input_rate_hz_ > _FAST_INPUT_RATIO * self.rate_hz
        self._sos = None
        if self.filtered_:
            from scipy.signal import butter   # only here: scipy.signal costs ~1.5 s to import

            self._sos = butter(_FILTER_ORDER, _CUTOFF_OVER_RATE * self.rate_hz, fs=self.input_rate_hz_,
                               output="sos")

    def _filter(self, t: np.ndarray, x: np.ndarray) -> np.ndarray:
        # Causal low-pass, restarted (at steady state on the first sample) after every hole.
        y = np.full_like(x, np.nan)
        finite = np.isfinite(x).all(axis=1)
        prev_t = np.concatenate([[self._t_last if self._t_last is not None else -np.inf], t[:-1]])
        restart = finite & ((t - prev_t) > self.max_gap_s)
        # Runs of finite samples: cut at every NaN sample and before every restart.
        cuts = np.union1d(np.flatnonzero(~finite), np.flatnonzero(~finite) + 1)
        cuts = np.union1d(cuts, np.flatnonzero(restart))
        edges = [0, *cuts.tolist(), t.size]
        for a, b in zip(edges[:-1], edges[1:]):
            if b <= a:
                continue
            if not finite[a]:
                self._zi = None                  # a NaN sample (runs of one): restart after it
                continue
            if self._zi is None or restart[a]:
                from scipy.signal import sosfilt_zi

                self._zi = sosfilt_zi(self._sos)[:, :, None] * x[a][None, None, :]
            y[a:b], self._zi = sosfilt_rows(self._sos, x[a:b], self._zi)
        return y

    def _process(self, t: np.ndarray, x: np.ndarray) -> tuple[np.ndarray, np.ndarray, list[GapEvent]]:
        events = self._holes(t, x)
        if self._sos is not None:
            x = self._filter(t, x)
        if self._t_last is None:
            T, X = t, x
            k_lo = 0
        else:
            T, X = np.concatenate([[self._t_last], t]), np.concatenate([self._x_last[None], x])
            k_lo = self.n_emitted
        # Grid samples at or before the newest input time are ready.
        k_hi = int(np.floor((T[-1] - self.t0) * self.rate_hz)) + 1
        while k_hi > k_lo and self.grid_time(k_hi - 1) > T[-1]:
            k_hi -= 1
        while self.grid_time(k_hi) <= T[-1]:
            k_hi += 1
        g = self.grid_time(np.arange(k_lo, k_hi))
        out = np.full((g.size, 6), np.nan)
        if g.size:
            idx = np.searchsorted(T, g, side="left")       # T[idx - 1] < g <= T[idx]
            exact = T[idx] == g
            out[exact] = X[idx[exact]]
            m = ~exact
            hi = idx[m]
            lo = hi - 1
            dt = T[hi] - T[lo]
            w = ((g[m] - T[lo]) / dt)[:, None]
            val = X[lo] * (1.0 - w) + X[hi] * w
            val[dt > self.max_gap_s] = np.nan             # NaN endpoints already give NaN
            out[m] = val
        self.n_emitted = k_hi
        self._t_last, self._x_last = float(T[-1]), X[-1].copy()
        return out[:, :3], out[:, 3:], events

    def _holes(self, t: np.ndarray, x: np.ndarray) -> list[GapEvent]:
        # A hole: consecutive finite samples more than max_gap_s apart, or with a NaN sample
        # between them. Reported when the finite sample that closes it arrives.
        events = []
        finite = np.isfinite(x).all(axis=1)
        prev_t = self._t_last if self._t_last is not None else -np.inf
        if (finite.all() and not self._in_hole and self._last_finite_t is not None
                and t[0] - prev_t <= self.max_gap_s and np.all(np.diff(t) <= self.max_gap_s)):
            self._last_finite_t = float(t[-1])       # the common case: no hole in this push
            return events
        for ti, ok in zip(t.tolist(), finite.tolist()):
            if not ok:
                self._in_hole = True
            elif self._last_finite_t is None:
                if self._in_hole:                          # the stream began with NaN samples
                    events.append(self._event(self.t0, ti, include_start=True))
                self._in_hole = False
                self._last_finite_t = ti
            else:
                if self._in_hole or ti - prev_t > self.max_gap_s:
                    events.append(self._event(self._last_finite_t, ti))
                self._in_hole = False
                self._last_finite_t = ti
            prev_t = ti
        return events

    def _event(self, a: float, b: float, include_start: bool = False) -> GapEvent:
        # Grid samples with a < time < b (or a <= time < b) are the NaN ones.
        k = np.arange(int(np.floor((a - self.t0) * self.rate_hz)) - 1,
                      int(np.ceil((b - self.t0) * self.rate_hz)) + 2)
        g = self.grid_time(k)
        inside = ((g >= a) if include_start else (g > a)) & (g < b) & (k >= 0)
        return GapEvent(float(a), float(b), int(inside.sum()))
