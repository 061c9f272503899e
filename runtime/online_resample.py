"""Timestamped samples in, 50 Hz grid samples out, one push at a time: the engine's one resampler.

A phone delivers acceleration and angular rate at jittery times, often at 100 or 200 Hz, and
often on two clocks of their own; the engine needs the regular grid
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

A hole longer than ``LONG_HOLE_SAMPLES`` grid samples (a clock jump, a phone asleep for hours) is not
written out in full: ``LONG_HOLE_SAMPLES`` NaN rows close every window that touches it, and the grid
then skips the rest (the event's ``n_skipped_samples``), so memory and work do not grow with the
length of a hole. Grid sample ``k`` is then at ``t0 + (k + skipped before k) / rate_hz``;
:meth:`OnlineResampler.grid_time` applies that.

Two clocks
----------
``push(t, acc, gyro)`` takes both sensors at the same times. ``push(t, acc, gyro, gyro_t=...)``
takes the gyroscope at times of its own: each sensor is resampled on its own (its own anti-alias
filter, its own holes) onto the one grid, which starts at the later of the two first samples, and a
grid sample is emitted once both sensors have passed it. A batch resample is "push everything,
then flush".
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
#: NaN rows written for a hole before the grid skips the rest of it: one window, its jerk sample
#: and one hop, so that every window touching the hole is emitted (invalid) and none inside it.
LONG_HOLE_SAMPLES = 2 * 128 + 1
#: With two clocks, how far (grid samples) one sensor may run ahead of the other before the stream
#: is refused: 60 s at 50 Hz.
MAX_CLOCK_LEAD = 3000


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
        Grid samples strictly between the two.
    n_skipped_samples : int
        Of those, the ones not emitted because the hole is long (see ``LONG_HOLE_SAMPLES``); the
        others are emitted as NaN rows.
    """

    t_from: float
    t_to: float
    n_missing_samples: int
    n_skipped_samples: int = 0


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
        Time of grid sample 0, None before it is known.
    n_emitted : int
        Grid samples emitted so far.
    input_rate_hz_ : float or None
        Input rate used to decide on the filter (given or estimated; the acc's with two clocks),
        None while undecided.
    filtered_ : bool
        Whether the anti-alias filter runs (meaningful once ``input_rate_hz_`` is set).

    Examples
    --------
    >>> import numpy as np
    >>> rs = OnlineResampler(input_rate_hz=100)
    >>> t = np.arange(0, 1, 0.01)                          # 1 s at 100 Hz
    >>> acc50, gyro50, events = rs.push(t, np.ones((100, 3)), np.zeros((100, 3)))
    >>> acc50.shape                                        # grid samples 0 .. 0.98 s
    (50, 3)
    >>> rs = OnlineResampler(input_rate_hz=100)            # gyro on a clock of its own
    >>> acc50, gyro50, _ = rs.push(t, np.ones((100, 3)), np.zeros((100, 3)), gyro_t=t + 0.003)
    >>> acc50.shape, float(rs.t0)
    ((50, 3), 0.003)
    """

    def __init__(self, rate_hz: float = ENGINE_RATE_HZ, max_gap_s: float = 0.5, acc_unit: str = "g",
                 gyro_unit: str = "rad/s", *, input_rate_hz: float | None = None):
        if not rate_hz > 0 or not max_gap_s > 0:
            raise StreamError(f"need rate_hz > 0 and max_gap_s > 0, got rate_hz={rate_hz}, "
                              f"max_gap_s={max_gap_s}")
        if input_rate_hz is not None and not input_rate_hz > 0:
            raise StreamError(f"input_rate_hz must be positive or None, got {input_rate_hz}")
        try:
            to_g(0.0, acc_unit), to_rad_s(0.0, gyro_unit)        # refuse unknown units now
        except ValueError as exc:
            raise StreamError(str(exc)) from None
        self.rate_hz = float(rate_hz)
        self.max_gap_s = float(max_gap_s)
        self.acc_unit = acc_unit
        self.gyro_unit = gyro_unit
        self.input_rate_hz = input_rate_hz
        self.reset()

    def reset(self) -> None:
        """Forget the stream: the next sample is the first one of a new grid."""
        self._clocks: list[_ClockResampler] | None = None     # one (shared clock) or two
        self._held: list[list] = [[], []]                      # two clocks: pushes before both began
        self._out = [np.empty((0, 3)), np.empty((0, 3))]       # two clocks: rows one sensor is ahead by
        self.n_emitted = 0

    # ------------------------------------------------------------------ public

    @property
    def t0(self) -> float | None:
        return None if not self._clocks else self._clocks[0].t0

    @property
    def input_rate_hz_(self) -> float | None:
        return None if not self._clocks else self._clocks[0].input_rate_hz_

    @property
    def filtered_(self) -> bool:
        return bool(self._clocks) and self._clocks[0].filtered_

    def push(self, t, acc, gyro, *, gyro_t=None) -> tuple[np.ndarray, np.ndarray, list[GapEvent]]:
        """Add timestamped samples; return the grid samples the input has now passed.

        Parameters
        ----------
        t : float or array_like, shape (n,)
            Sample times of ``acc`` in seconds, any origin, strictly increasing (also across
            pushes); of ``gyro`` too unless ``gyro_t`` is given.
        acc : array_like, shape (n, 3) or (3,)
            Acceleration x, y, z with gravity, in ``acc_unit``, at times ``t``. A NaN marks a
            missing sample.
        gyro : array_like, shape (n, 3) or (m, 3) or (3,)
            Angular rate x, y, z in ``gyro_unit``, at times ``t`` or ``gyro_t``.
        gyro_t : float or array_like, shape (m,), optional
            The gyroscope's own sample times in seconds, on the same time base as ``t``. A stream
            takes either one clock or two from its first push on.

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
        two = gyro_t is not None
        if self._clocks is not None and (len(self._clocks) == 2) != two:
            raise StreamError("this stream was started with " + ("separate acc and gyro times (gyro_t)" if not two
                              else "one time base for acc and gyro") + "; keep to it or reset()")
        if not two:
            if self._clocks is None:
                self._clocks = [_ClockResampler(self.rate_hz, self.max_gap_s, 6, self.input_rate_hz)]
            clock = self._clocks[0]
            t, x = clock.check(t, _rows(acc, "acc", t), _rows(gyro, "gyro", t), self.acc_unit, self.gyro_unit)
            grid, events = clock.push(t, x)
            self.n_emitted += len(grid)
            return grid[:, :3], grid[:, 3:], events
        return self._push_two(t, acc, gyro_t, gyro)

    def flush(self) -> tuple[np.ndarray, np.ndarray, list[GapEvent]]:
        """End of the stream. Nothing more can be interpolated: returns no samples."""
        return np.empty((0, 3)), np.empty((0, 3)), []

    def grid_time(self, k) -> np.ndarray:
        """Time in seconds of grid sample(s) ``k`` (caller's clock)."""
        return self._clocks[0].grid_time(k)

    # ------------------------------------------------------------------ two clocks

    def _push_two(self, t_acc, acc, t_gyro, gyro) -> tuple[np.ndarray, np.ndarray, list[GapEvent]]:
        probes = [_ClockResampler(self.rate_hz, self.max_gap_s, 3, self.input_rate_hz) for _ in range(2)]
        clocks = self._clocks or probes
        ta, xa = clocks[0].check(t_acc, np.column_stack([_rows(acc, "acc", t_acc)]), None, self.acc_unit, None)
        tg, xg = clocks[1].check(t_gyro, None, _rows(gyro, "gyro", t_gyro), None, self.gyro_unit)
        if self._clocks is None:
            # Both sensors must have begun before the grid's origin is known.
            for held, tt, xx in ((self._held[0], ta, xa), (self._held[1], tg, xg)):
                if tt.size:
                    held.append((tt, xx))
            if not (self._held[0] and self._held[1]):
                waiting = sum(len(tt) for tt, _ in self._held[0] + self._held[1])
                if waiting > MAX_CLOCK_LEAD:
                    missing = "gyro" if self._held[0] else "acc"
                    raise StreamError(f"{waiting} samples arrived but no {missing} sample: a stream needs both sensors")
                return np.empty((0, 3)), np.empty((0, 3)), []
            self._clocks = probes
            t0 = max(self._held[0][0][0][0], self._held[1][0][0][0])
            for clock in probes:
                clock.t0 = float(t0)
            ta, xa = _cat(self._held[0])
            tg, xg = _cat(self._held[1])
            self._held = [[], []]
        events = []
        for i, (tt, xx) in enumerate(((ta, xa), (tg, xg))):
            grid, ev = self._clocks[i].push(tt, xx)
            self._out[i] = np.concatenate([self._out[i], grid]) if len(self._out[i]) else grid
            events.extend(ev)
        k = min(len(self._out[0]), len(self._out[1]))
        lead = abs(len(self._out[0]) - len(self._out[1]))
        if lead > MAX_CLOCK_LEAD:
            behind = "gyro" if len(self._out[0]) > len(self._out[1]) else "acc"
            raise StreamError(f"the {behind} clock is {lead / self.rate_hz:.0f} s behind the other sensor's: "
                              f"push both sensors' samples as they arrive")
        acc50, gyro50 = self._out[0][:k], self._out[1][:k]
        self._out = [self._out[0][k:], self._out[1][k:]]
        self.n_emitted += k
        events.sort(key=lambda e: e.t_from)
        return acc50, gyro50, events


def _rows(a, name: str, t) -> np.ndarray:
    a = np.asarray(a, dtype=np.float64)
    if a.ndim == 1:
        a = a.reshape(1, -1)
    n = np.atleast_1d(np.asarray(t)).size
    if a.shape != (n, 3):
        raise StreamError(f"{name}: expected shape ({n}, 3) for {n} times, got {np.shape(a)}")
    return a


def _cat(held: list) -> tuple[np.ndarray, np.ndarray]:
    return np.concatenate([t for t, _ in held]), np.concatenate([x for _, x in held])


class _ClockResampler:
    """One clock's samples (``width`` columns) onto the grid; see the module docstring."""

    def __init__(self, rate_hz: float, max_gap_s: float, width: int, input_rate_hz: float | None):
        self.rate_hz = rate_hz
        self.max_gap_s = max_gap_s
        self.width = width
        self.input_rate_hz = input_rate_hz
        self.t0: float | None = None
        self.n_emitted = 0
        self.input_rate_hz_ = None if input_rate_hz is None else float(input_rate_hz)
        self.filtered_ = False
        self._sos = None
        if self.input_rate_hz_ is not None:
            self._decide(self.input_rate_hz_)
        self._pending_t = np.empty(0)           # samples held until the rate is known
        self._pending_x = np.empty((0, width))
        self._t_last: float | None = None       # last sample processed (time, filtered value)
        self._x_last = np.full(width, np.nan)
        self._zi = None                         # filter state; None: restart at the next sample
        self._last_finite_t: float | None = None
        self._in_hole = False                   # a NaN sample came after the last finite one
        self._skips: list[tuple[int, int]] = []  # (first grid index after a skip, samples skipped so far)

    def push(self, t: np.ndarray, x: np.ndarray) -> tuple[np.ndarray, list[GapEvent]]:
        if t.size == 0:
            return np.empty((0, self.width)), []
        if self.t0 is None:
            self.t0 = float(t[0])
        if self.input_rate_hz_ is None:
            self._pending_t = np.concatenate([self._pending_t, t])
            self._pending_x = np.concatenate([self._pending_x, x])
            if self._pending_t.size <= RATE_ESTIMATE_INTERVALS:
                return np.empty((0, self.width)), []
            self._decide(1.0 / float(np.median(np.diff(self._pending_t[:RATE_ESTIMATE_INTERVALS + 1]))))
            t, x = self._pending_t, self._pending_x
            self._pending_t, self._pending_x = np.empty(0), np.empty((0, self.width))
        return self._process(t, x)

    def grid_time(self, k) -> np.ndarray:
        k = np.asarray(k)
        skipped = np.zeros(k.shape, dtype=np.int64)
        for first, total in self._skips:
            skipped = np.where(k >= first, total, skipped)
        return self.t0 + (k + skipped) / self.rate_hz

    def _virtual(self, k) -> np.ndarray:
        """Grid index on the unskipped clock of emitted index ``k``."""
        k = np.asarray(k)
        return k + (self._skips[-1][1] if self._skips else 0)

    # ------------------------------------------------------------------ internals

    def check(self, t, acc, gyro, acc_unit, gyro_unit) -> tuple[np.ndarray, np.ndarray]:
        t = np.atleast_1d(np.asarray(t, dtype=np.float64))
        if t.ndim != 1:
            raise StreamError(f"t: expected a time or shape (n,), got shape {t.shape}")
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
        try:
            cols = ([to_g(acc, acc_unit)] if acc is not None else []) + \
                   ([to_rad_s(gyro, gyro_unit)] if gyro is not None else [])
        except ValueError as exc:
            raise StreamError(str(exc)) from None
        return t, np.column_stack(cols)

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

    def _process(self, t: np.ndarray, x: np.ndarray) -> tuple[np.ndarray, list[GapEvent]]:
        events = self._holes(t, x)
        if self._sos is not None:
            x = self._filter(t, x)
        if self._t_last is None:
            T, X = t, x
        else:
            T, X = np.concatenate([[self._t_last], t]), np.concatenate([self._x_last[None], x])
        v = self._grid_indices(T)
        g = self.t0 + v / self.rate_hz
        out = np.full((g.size, self.width), np.nan)
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
        self.n_emitted += g.size
        self._t_last, self._x_last = float(T[-1]), X[-1].copy()
        return out, events

    def _grid_indices(self, T: np.ndarray) -> np.ndarray:
        """Grid indices (on the unskipped clock) the input up to T[-1] has passed, long holes cut short."""
        v_lo = int(self._virtual(self.n_emitted))
        v_hi = int(np.floor((T[-1] - self.t0) * self.rate_hz)) + 1
        while v_hi > v_lo and self.t0 + (v_hi - 1) / self.rate_hz > T[-1]:
            v_hi -= 1
        while self.t0 + v_hi / self.rate_hz <= T[-1]:
            v_hi += 1
        if v_hi - v_lo <= LONG_HOLE_SAMPLES:
            return np.arange(v_lo, max(v_hi, v_lo))
        # Only the holes themselves can make the grid much longer than the input: keep the first
        # LONG_HOLE_SAMPLES grid samples of each long one and skip the rest.
        pieces, begin = [], v_lo
        for j in np.flatnonzero(np.diff(T) > self.max_gap_s).tolist():
            a = max(int(np.floor((T[j] - self.t0) * self.rate_hz)) + 1, begin)      # first grid after T[j]
            b = int(np.ceil((T[j + 1] - self.t0) * self.rate_hz))                   # first grid at/after T[j+1]
            if b - a <= LONG_HOLE_SAMPLES:
                continue
            pieces.append(np.arange(begin, a + LONG_HOLE_SAMPLES))
            skipped = (self._skips[-1][1] if self._skips else 0) + (b - a - LONG_HOLE_SAMPLES)
            self._skips.append((self.n_emitted + sum(len(q) for q in pieces), skipped))
            begin = b
        pieces.append(np.arange(begin, max(v_hi, begin)))
        return np.concatenate(pieces)

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
        # Grid samples with a < time < b (or a <= time < b) are the missing ones: counted, not listed.
        k_a = int(np.floor((a - self.t0) * self.rate_hz))
        k_b = int(np.ceil((b - self.t0) * self.rate_hz))
        first = k_a if (include_start and self.t0 + k_a / self.rate_hz >= a) else k_a + 1
        while first > 0 and self.t0 + (first - 1) / self.rate_hz > a:
            first -= 1
        while self.t0 + first / self.rate_hz <= a and not include_start:
            first += 1
        last = k_b - 1
        while self.t0 + (last + 1) / self.rate_hz < b:
            last += 1
        while last >= first and self.t0 + last / self.rate_hz >= b:
            last -= 1
        n = max(0, last - max(first, 0) + 1)
        return GapEvent(float(a), float(b), n, max(0, n - LONG_HOLE_SAMPLES))
