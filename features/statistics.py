"""Window statistics as the official features define them, vectorised over leading axes.

Every function reduces the last axis (one window of one signal, or one 64-bin spectrum) and keeps
the leading axes, so thousands of windows are computed in one call. Definitions follow MATLAB where
the dataset was made with it (percentiles, entropy, Burg).
"""

from __future__ import annotations

import numpy as np


def mad(x: np.ndarray) -> np.ndarray:
    """Mean absolute deviation about the mean (not the median)."""
    return np.abs(x - x.mean(axis=-1, keepdims=True)).mean(axis=-1)


def energy(x: np.ndarray) -> np.ndarray:
    """``sum(x**2) / N``."""
    return np.einsum("...i,...i->...", x, x) / x.shape[-1]


def hazen_quantiles(sorted_x: np.ndarray, percents) -> np.ndarray:
    """MATLAB ``prctile`` on data already sorted along the last axis.

    Returns shape ``sorted_x.shape[:-1] + (len(percents),)``; same as
    ``np.percentile(x, percents, method="hazen")`` with the axis moved last.
    """
    n = sorted_x.shape[-1]
    out = []
    for p in percents:
        pos = min(max(n * p / 100.0 - 0.5, 0.0), n - 1.0)
        lo = int(np.floor(pos))
        hi = min(lo + 1, n - 1)
        frac = pos - lo
        out.append(sorted_x[..., lo] + frac * (sorted_x[..., hi] - sorted_x[..., lo]))
    return np.stack(out, axis=-1)


def iqr_sorted(sorted_x: np.ndarray) -> np.ndarray:
    q = hazen_quantiles(sorted_x, (25, 75))
    return q[..., 1] - q[..., 0]


def iqr(x: np.ndarray) -> np.ndarray:
    """Interquartile range with MATLAB-style (Hazen) percentiles."""
    return iqr_sorted(np.sort(x, axis=-1))


def _entropy_terms(n: int) -> np.ndarray:
    # g[k] = f(k) - f(k-1), f(k) = k log2 k: summing g over the 1-based rank of each element within
    # its run of equal values gives sum over runs of f(run length).
    k = np.arange(n + 1, dtype=np.float64)
    f = np.zeros(n + 1)
    f[1:] = k[1:] * np.log2(k[1:])
    g = np.zeros(n + 1)
    g[1:] = f[1:] - f[:-1]
    return g


_ENTROPY_TERMS = {n: _entropy_terms(n) for n in (64, 128)}


def entropy_sorted(sorted_x: np.ndarray) -> np.ndarray:
    """MATLAB image ``entropy`` of data already sorted along the last axis; see ``entropy``."""
    n = sorted_x.shape[-1]
    # Quantisation is monotone, so sorted input gives sorted levels and equal levels are runs.
    levels = np.clip(np.floor(255.0 * sorted_x + 0.5), 0.0, 255.0)
    new_run = np.empty(levels.shape, dtype=bool)
    new_run[..., 0] = True
    np.not_equal(levels[..., 1:], levels[..., :-1], out=new_run[..., 1:])
    pos = np.arange(n)
    run_start = np.maximum.accumulate(np.where(new_run, pos, 0), axis=-1)
    rank = pos - run_start + 1
    terms = _ENTROPY_TERMS.get(n)
    if terms is None:
        terms = _entropy_terms(n)
    sum_c_log_c = terms[rank].sum(axis=-1)
    # H = -sum p log2 p with p = c / n  =  log2 n - sum(c log2 c) / n
    return np.log2(n) - sum_c_log_c / n


def entropy(x: np.ndarray) -> np.ndarray:
    """MATLAB ``entropy`` of an image: ``uint8(round(255 x))`` saturating, 256-bin histogram, bits.

    Rounds halves away from zero as MATLAB does; negative values saturate to level 0.
    """
    return entropy_sorted(np.sort(x, axis=-1))


def arburg(x: np.ndarray, order: int = 4) -> np.ndarray:
    """Burg AR coefficients a1..a_order of A(z) = 1 + a1 z^-1 + ... (MATLAB ``arburg``).

    Returns shape ``x.shape[:-1] + (order,)``.
    """
    ef = np.array(x, dtype=np.float64)
    eb = ef.copy()
    lead = x.shape[:-1]
    a = np.zeros(lead + (order + 1,))
    a[..., 0] = 1.0
    for m in range(1, order + 1):
        efp = ef[..., 1:]
        ebp = eb[..., :-1]
        num = -2.0 * np.einsum("...i,...i->...", ebp, efp)
        den = np.einsum("...i,...i->...", efp, efp) + np.einsum("...i,...i->...", ebp, ebp)
        with np.errstate(invalid="ignore", divide="ignore"):
            k = num / den
        k = k[..., None]
        ef, eb = efp + k * ebp, ebp + k * efp
        a[..., 1:m + 1] = a[..., 1:m + 1] + k * a[..., m - 1::-1]
    return a[..., 1:]


def correlation(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Pearson correlation of x and y along the last axis (NaN for a constant signal)."""
    xc = x - x.mean(axis=-1, keepdims=True)
    yc = y - y.mean(axis=-1, keepdims=True)
    num = np.einsum("...i,...i->...", xc, yc)
    den = np.sqrt(np.einsum("...i,...i->...", xc, xc) * np.einsum("...i,...i->...", yc, yc))
    with np.errstate(invalid="ignore", divide="ignore"):
        return num / den


def spectrum(x: np.ndarray) -> np.ndarray:
    """``|FFT(x)| / (N/2)`` without taper, bins 1..N/2 (DC dropped, Nyquist kept).

    For a 128-sample window: 64 values, bin k at k * 50/128 Hz.
    """
    n = x.shape[-1]
    return np.abs(np.fft.rfft(x, axis=-1)[..., 1:]) / (n // 2)


def mean_freq(s: np.ndarray) -> np.ndarray:
    """``sum(k S_k) / sum(S_k)`` with k = 1..len(S) (in bins)."""
    k = np.arange(1, s.shape[-1] + 1, dtype=np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        return (s @ k) / s.sum(axis=-1)


def skewness_kurtosis(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Biased skewness and (non-excess) kurtosis along the last axis."""
    d = x - x.mean(axis=-1, keepdims=True)
    d2 = d * d
    m2 = d2.mean(axis=-1)
    m3 = (d2 * d).mean(axis=-1)
    m4 = (d2 * d2).mean(axis=-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return m3 / m2 ** 1.5, m4 / (m2 * m2)


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
    """Angle in radians between vectors along the last axis."""
    dot = np.einsum("...i,...i->...", u, v)
    norms = np.sqrt(np.einsum("...i,...i->...", u, u) * np.einsum("...i,...i->...", v, v))
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.arccos(np.clip(dot / norms, -1.0, 1.0))
