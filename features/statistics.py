"""Window statistics as the official features define them, vectorised over leading axes.

Every function reduces the last axis (one window of one signal, or one 64-bin spectrum) and keeps
the leading axes, so thousands of windows are computed in one call. Definitions follow MATLAB where
the dataset was made with it (percentiles, entropy, Burg). Each function is a handful of numpy
calls: on a single window the cost is the number of calls, not the arithmetic.
"""

from __future__ import annotations

import numpy as np

#: Dot products over the last axis, batched: a ufunc, so one cheap call for any number of rows.
dot = np.vecdot


def _hazen_weights(n: int, percents) -> tuple[np.ndarray, np.ndarray]:
    """Sample indices and weights such that quantile_j = sum_i w[j, i] * sorted_x[idx[i]]."""
    idx = []
    weights = np.zeros((len(percents), 2 * len(percents)))
    for j, p in enumerate(percents):
        pos = min(max(n * p / 100.0 - 0.5, 0.0), n - 1.0)
        lo = int(np.floor(pos))
        hi = min(lo + 1, n - 1)
        frac = pos - lo
        idx += [lo, hi]
        weights[j, 2 * j:2 * j + 2] = 1.0 - frac, frac
    return np.array(idx), weights


def hazen_quantiles(sorted_x: np.ndarray, percents) -> np.ndarray:
    """MATLAB ``prctile`` on data already sorted along the last axis.

    Returns shape ``sorted_x.shape[:-1] + (len(percents),)``; the same as
    ``np.percentile(x, percents, method="hazen")`` with the axis moved last.
    """
    idx, weights = _hazen_weights(sorted_x.shape[-1], tuple(percents))
    return sorted_x[..., idx] @ weights.T


_IQR_PLAN: dict[int, tuple[np.ndarray, np.ndarray]] = {}


def iqr_sorted(sorted_x: np.ndarray) -> np.ndarray:
    """Interquartile range of data already sorted along the last axis; see ``iqr``."""
    n = sorted_x.shape[-1]
    if n not in _IQR_PLAN:
        idx, weights = _hazen_weights(n, (25, 75))
        _IQR_PLAN[n] = idx, weights[1] - weights[0]
    idx, weights = _IQR_PLAN[n]
    return sorted_x[..., idx] @ weights


def iqr(x: np.ndarray) -> np.ndarray:
    """Interquartile range Q3 - Q1 with MATLAB-style (Hazen) percentiles, along the last axis."""
    return iqr_sorted(np.sort(x, axis=-1))


_RUN_PLANS: dict = {}


def _run_plan(shapes: tuple) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Row bookkeeping for blocks of rows laid end to end: row starts, row of each position, n, log2 n."""
    if shapes not in _RUN_PLANS:
        lengths = np.concatenate([np.full(int(np.prod(s[:-1], dtype=np.int64)), s[-1]) for s in shapes])
        starts = np.concatenate([[0], np.cumsum(lengths)[:-1]])
        row_start = np.zeros(int(lengths.sum()), dtype=bool)
        row_start[starts] = True
        row_of = np.repeat(np.arange(len(lengths)), lengths)
        _RUN_PLANS[shapes] = row_start, row_of, lengths.astype(np.float64), np.log2(lengths)
        if len(_RUN_PLANS) > 64:          # batch sizes vary: keep the cache small
            _RUN_PLANS.pop(next(iter(_RUN_PLANS)))
    return _RUN_PLANS[shapes]


def entropy_sorted_many(*blocks: np.ndarray) -> list[np.ndarray]:
    """``entropy_sorted`` of several blocks (each sorted along its last axis) in one pass.

    One pass over all rows, whatever their lengths: on a single window the cost is the number of
    numpy calls, so the time and frequency domains share them.
    """
    shapes = tuple(b.shape for b in blocks)
    row_start, row_of, n, log2_n = _run_plan(shapes)
    flat = np.concatenate([b.reshape(-1) for b in blocks])
    # Quantisation is monotone, so sorted input gives sorted levels and equal levels form runs:
    # the histogram's non-empty bins are the run lengths, found without a 256-bin histogram.
    levels = np.floor(flat * 255.0 + 0.5)
    np.clip(levels, 0.0, 255.0, out=levels)
    new_run = np.empty(levels.shape, dtype=bool)
    new_run[0] = True
    np.not_equal(levels[1:], levels[:-1], out=new_run[1:])
    new_run |= row_start
    run_starts = np.flatnonzero(new_run)
    run_lengths = np.empty(len(run_starts))
    np.subtract(run_starts[1:], run_starts[:-1], out=run_lengths[:-1])
    run_lengths[-1] = levels.size - run_starts[-1]
    # H = -sum p log2 p with p = c / n  =  log2 n - sum(c log2 c) / n
    c_log_c = np.bincount(row_of[run_starts], weights=run_lengths * np.log2(run_lengths), minlength=len(n))
    h = log2_n - c_log_c / n
    out, i = [], 0
    for s in shapes:
        rows = int(np.prod(s[:-1], dtype=np.int64))
        out.append(h[i:i + rows].reshape(s[:-1]))
        i += rows
    return out


def entropy_sorted(sorted_x: np.ndarray) -> np.ndarray:
    """MATLAB image ``entropy`` of data already sorted along the last axis; see ``entropy``."""
    return entropy_sorted_many(sorted_x)[0]


def entropy(x: np.ndarray) -> np.ndarray:
    """MATLAB ``entropy`` of an image: ``uint8(round(255 x))`` saturating, 256-bin histogram, bits.

    Rounds halves away from zero as MATLAB does; negative values saturate to level 0.
    """
    return entropy_sorted(np.sort(x, axis=-1))


def arburg(x: np.ndarray, order: int = 4) -> np.ndarray:
    """Burg AR coefficients a1..a_order of A(z) = 1 + a1 z^-1 + ... (MATLAB ``arburg``).

    Returns shape ``x.shape[:-1] + (order,)``. A constant-zero series gives NaN, as MATLAB does.
    """
    lead, n = np.shape(x)[:-1], np.shape(x)[-1]
    ef = np.asarray(x, dtype=np.float64).reshape(-1, n)
    eb = ef
    a = np.zeros((ef.shape[0], order + 1))
    a[:, 0] = 1.0
    for m in range(1, order + 1):
        efp = ef[:, 1:]
        ebp = eb[:, :-1]
        k = (-2.0 * dot(ebp, efp) / (dot(efp, efp) + dot(ebp, ebp)))[:, None]
        a[:, 1:m + 1] += k * a[:, m - 1::-1]
        if m < order:
            ef, eb = efp + k * ebp, ebp + k * efp
    return a[:, 1:].reshape(lead + (order,))


def correlation_from_deviations(dx: np.ndarray, dy: np.ndarray) -> np.ndarray:
    """Pearson correlation along the last axis, given deviations from the mean (NaN if constant)."""
    return dot(dx, dy) / np.sqrt(dot(dx, dx) * dot(dy, dy))


def skewness_kurtosis_from_deviations(d: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Biased skewness and (non-excess) kurtosis along the last axis, given deviations from the mean."""
    n = d.shape[-1]
    d2 = d * d
    m2 = np.add.reduce(d2, axis=-1)
    skew = dot(d2, d) * np.sqrt(n) / (m2 * np.sqrt(m2))
    kurt = dot(d2, d2) * n / (m2 * m2)
    return skew, kurt


def spectrum(x: np.ndarray) -> np.ndarray:
    """``|FFT(x)| / (N/2)`` without taper, bins 1..N/2 (DC dropped, Nyquist kept).

    For a 128-sample window: 64 values, bin k at k * 50/128 Hz.
    """
    n = x.shape[-1]
    return np.abs(np.fft.rfft(x, axis=-1)[..., 1:]) / (n // 2)


_BIN_NUMBERS = np.arange(1, 65, dtype=np.float64)


def mean_freq(s: np.ndarray) -> np.ndarray:
    """``sum(k S_k) / sum(S_k)`` with k = 1..len(S) (in bins)."""
    k = _BIN_NUMBERS if s.shape[-1] == 64 else np.arange(1, s.shape[-1] + 1, dtype=np.float64)
    return (s @ k) / np.add.reduce(s, axis=-1)


#: bandsEnergy bands as 1-based inclusive bin ranges, official order.
BANDS = ((1, 8), (9, 16), (17, 24), (25, 32), (33, 40), (41, 48), (49, 56), (57, 64),
         (1, 16), (17, 32), (33, 48), (49, 64), (1, 24), (25, 48))

_BAND_MATRIX = np.zeros((64, len(BANDS)))
for _j, (_lo, _hi) in enumerate(BANDS):
    _BAND_MATRIX[_lo - 1:_hi, _j] = 1.0


def bands_energy(s: np.ndarray) -> np.ndarray:
    """``sum(S_k**2)`` over each of the 14 official bands; shape ``s.shape[:-1] + (14,)``."""
    return (s * s) @ _BAND_MATRIX


def angle(u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Angle in radians between vectors along the last axis (u and v broadcast)."""
    cos = dot(u, v) / np.sqrt(dot(u, u) * dot(v, v))
    # Rounding can put |cos| a hair above 1 for parallel vectors; arccos would give NaN.
    return np.arccos(np.clip(cos, -1.0, 1.0))
