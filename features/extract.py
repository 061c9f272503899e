"""The 561 features of windows cut from the chain's output signals (batch, vectorised)."""

from __future__ import annotations

import numpy as np

from . import statistics as st
from .contract import HOP, SPAN, WINDOW
from .errors import HarError, SampleError
from .chain import BODY_ACC, BODY_GYRO, GRAVITY_ACC, RAW_CHANNELS, ChainState, preprocess
from .table import COLUMNS, DOMAIN_SIZE, FREQ_OF_TIME, SOURCE_WIDTH

_BATCH = 32           # windows per vectorised pass: temporaries stay in cache, memory stays bounded


def _source_keys():
    keys = []
    for c in COLUMNS:
        if (c.domain, c.source) not in keys:
            keys.append((c.domain, c.source))
    return tuple(keys)


_SOURCE_KEYS = _source_keys()
_SOURCE_OFFSET = {}
_total = 0
for _key in _SOURCE_KEYS:
    _SOURCE_OFFSET[_key] = _total
    _total += DOMAIN_SIZE[_key[0]] * SOURCE_WIDTH[_key[1]]
#: Column j of the feature matrix is column PLAN[j] of the concatenated sources.
PLAN = np.array([_SOURCE_OFFSET[(c.domain, c.source)] + c.series * SOURCE_WIDTH[c.source] + c.offset
                 for c in COLUMNS])
_FREQ_OF_TIME = np.array(FREQ_OF_TIME)


def _common(x: np.ndarray, out: dict, dom: str) -> tuple[np.ndarray, np.ndarray]:
    """mean, std, mad, max, min, energy, iqr of series x (..., N); returns deviations and sorted x."""
    n = x.shape[-1]
    mean = np.add.reduce(x, axis=-1) / n
    d = x - mean[..., None]
    srt = np.sort(x, axis=-1)
    out[(dom, "mean")] = mean
    out[(dom, "std")] = np.sqrt(st.dot(d, d) / n)
    out[(dom, "mad")] = np.add.reduce(np.abs(d), axis=-1) / n
    out[(dom, "max")] = srt[..., -1]
    out[(dom, "min")] = srt[..., 0]
    out[(dom, "energy")] = st.dot(x, x) / n
    out[(dom, "iqr")] = st.iqr_sorted(srt)
    return d, srt


_PAIR_A, _PAIR_B = np.array([0, 0, 1]), np.array([1, 2, 2])
_UNIT_AXES = np.eye(3)
_MEAN_VECTORS = np.array([0, 1, 2, 6, 7, 8, 9, 10, 11, 12, 13, 14])   # tBodyAcc, tBodyAccJerk, tBodyGyro, tBodyGyroJerk


def compute_sources(spans: np.ndarray) -> dict:
    """All statistics of a batch of windows, keyed by (domain, source).

    Parameters
    ----------
    spans : ndarray, shape (n_windows, 129, 9), float64
        Chain output (body acc g, gravity g, body gyro rad/s) for each window's 128 samples plus
        the next one.

    Returns
    -------
    dict
        (domain, source) -> ndarray of n_windows * DOMAIN_SIZE[domain] * SOURCE_WIDTH[source] values,
        shape (n_windows, DOMAIN_SIZE[domain]) or with a trailing SOURCE_WIDTH axis.
    """
    w = spans.shape[0]
    x = spans.transpose(0, 2, 1)                                 # (w, 9, 129) view
    t = np.empty((w, 20, WINDOW))
    t3 = t[:, :15].reshape(w, 5, 3, WINDOW)                      # view: 3-axis signals
    t3[:, 0] = x[:, BODY_ACC, :WINDOW]
    t3[:, 1] = x[:, GRAVITY_ACC, :WINDOW]
    t3[:, 3] = x[:, BODY_GYRO, :WINDOW]
    np.subtract(x[:, BODY_ACC, 1:], x[:, BODY_ACC, :WINDOW], out=t3[:, 2])
    np.subtract(x[:, BODY_GYRO, 1:], x[:, BODY_GYRO, :WINDOW], out=t3[:, 4])
    np.sqrt(st.dot(t3.transpose(0, 1, 3, 2), t3.transpose(0, 1, 3, 2)), out=t[:, 15:20])
    t[:, 16] = t[:, 15]            # tGravityAccMag is tBodyAccMag: the official quirk
    f = st.spectrum(t[:, _FREQ_OF_TIME])                        # (w, 13, 64)

    out = {}
    dt, t_sorted = _common(t, out, "t")
    df, f_sorted = _common(f, out, "f")
    out[("t", "entropy")], out[("f", "entropy")] = st.entropy_sorted_many(t_sorted, f_sorted)
    out[("t", "arCoeff")] = st.arburg(t, 4)
    out[("t3", "sma3")] = np.add.reduce(np.abs(t3), axis=(2, 3)) / WINDOW
    # Pearson from the deviations already at hand.
    d3 = dt[:, :15].reshape(w, 5, 3, WINDOW)
    out[("t3", "correlation")] = st.correlation_from_deviations(d3[:, :, _PAIR_A], d3[:, :, _PAIR_B])
    out[("f", "maxInds")] = np.argmax(f, axis=-1).astype(np.float64)
    out[("f", "meanFreq")] = st.mean_freq(f)
    out[("f", "skewness")], out[("f", "kurtosis")] = st.skewness_kurtosis_from_deviations(df)
    out[("f", "bandsEnergy")] = st.bands_energy(f)
    out[("f3", "sma3")] = np.add.reduce(out[("f", "mean")][:, :9].reshape(w, 3, 3), axis=-1)
    means = out[("t", "mean")]
    vectors = np.empty((w, 7, 3))
    vectors[:, :4] = means[:, _MEAN_VECTORS].reshape(w, 4, 3)
    vectors[:, 4:] = _UNIT_AXES
    out[("angle", "angle")] = st.angle(vectors, means[:, None, 3:6])
    return out


def features_from_spans(spans: np.ndarray) -> np.ndarray:
    """The 561 features of windows given as chain-output spans.

    Parameters
    ----------
    spans : ndarray, shape (n_windows, 129, 9), float64
        See ``compute_sources``. A span with a non-finite value (a gap) yields a row of NaN.

    Returns
    -------
    ndarray, shape (n_windows, 561), float64
        Columns in the order of FEATURE_NAMES, in the units of the official pipeline (not scaled).
    """
    w = spans.shape[0]
    if w == 0:
        return np.empty((0, len(COLUMNS)))
    with np.errstate(invalid="ignore", divide="ignore"):
        sources = compute_sources(spans)
    flat = np.concatenate([sources[k].reshape(w, -1) for k in _SOURCE_KEYS], axis=1)
    X = flat[:, PLAN]
    if not np.isfinite(spans).all():
        X[~np.isfinite(spans).all(axis=(1, 2))] = np.nan
    return X


def cut_spans(signals: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """Windows of the chain output: (n_windows, 129, 9) for 0-based ``starts`` (samples)."""
    return signals[np.asarray(starts)[:, None] + np.arange(SPAN)]


def check_samples(acc, gyro, *, allow_nonfinite: bool) -> np.ndarray:
    """Validate a chunk of samples; return it as one (n, 6) float64 array (acc then gyro).

    Raises SampleError naming the problem: shapes, dtypes, non-finite values.
    """
    arrays = []
    for name, a, unit in (("acc", acc, "g"), ("gyro", gyro, "rad/s")):
        a = np.asarray(a)
        if a.dtype.kind != "f":
            raise SampleError(f"{name}: expected float samples in {unit}, got dtype {a.dtype}")
        if a.ndim != 2 or a.shape[1] != 3:
            raise SampleError(f"{name}: expected shape (n, 3) (x, y, z in {unit}), got {a.shape}")
        arrays.append(a)
    if arrays[0].shape[0] != arrays[1].shape[0]:
        raise SampleError(f"acc has {arrays[0].shape[0]} samples but gyro has {arrays[1].shape[0]}")
    raw = np.empty((arrays[0].shape[0], RAW_CHANNELS))
    raw[:, :3] = arrays[0]
    raw[:, 3:] = arrays[1]
    if not allow_nonfinite:
        bad = ~np.isfinite(raw)
        if bad.any():
            row, col = np.argwhere(bad)[0]
            what = ("acc", "gyro")[col // 3]
            raise SampleError(
                f"{what} sample {row} axis {'xyz'[col % 3]} is {raw[row, col]}: non-finite samples are refused "
                f"(pass on_nonfinite='gap' to treat them as gaps)")
    return raw


def _check_policy(on_nonfinite: str) -> bool:
    if on_nonfinite not in ("raise", "gap"):
        raise HarError(f"on_nonfinite must be 'raise' or 'gap', got {on_nonfinite!r}")
    return on_nonfinite == "gap"


def regular_starts(n_samples: int, hop: int = HOP) -> np.ndarray:
    """Starts every ``hop`` samples from 0 of the windows that fit in ``n_samples`` (with the jerk sample)."""
    return np.arange(0, max(n_samples - WINDOW, 0), hop)


def extract_recording(acc, gyro, starts=None, *, on_nonfinite: str = "raise") -> tuple[np.ndarray, np.ndarray]:
    """The 561 features of windows of one whole recording.

    Parameters
    ----------
    acc : array, shape (n, 3), float
        Accelerometer x, y, z in g, gravity included, 50 Hz.
    gyro : array, shape (n, 3), float
        Gyroscope x, y, z in rad/s, 50 Hz.
    starts : array of int, optional
        0-based first sample of each window; a window spans ``start .. start+127`` and needs sample
        ``start+128`` for its jerk. Default: every 64 samples from 0.
    on_nonfinite : {"raise", "gap"}
        "raise": a NaN or inf sample is a ValueError. "gap": the chain restarts after it (see
        ``chain``) and every window touching it gets a row of NaN.

    Returns
    -------
    starts : ndarray, shape (n_windows,), int64
    X : ndarray, shape (n_windows, 561), float64
        Unscaled features (the units of the official pipeline); ``to_official_scale`` maps them.
    """
    raw = check_samples(acc, gyro, allow_nonfinite=_check_policy(on_nonfinite))
    n = raw.shape[0]
    if n < SPAN:
        raise SampleError(f"recording has {n} samples: fewer than one window "
                         f"({WINDOW} samples + 1 for the jerk = {SPAN})")
    if starts is None:
        starts = regular_starts(n)
    else:
        starts = np.asarray(starts)
        if starts.ndim != 1 or (starts.size and starts.dtype.kind not in "iu"):
            raise HarError(f"starts: expected a 1-D array of integer sample indices, got {starts.dtype} {starts.shape}")
        starts = starts.astype(np.int64)
        bad = (starts < 0) | (starts + SPAN > n)
        if bad.any():
            raise HarError(f"starts: window at {starts[bad][0]} does not fit a recording of {n} samples "
                             f"(need 0 <= start <= {n - SPAN})")
    signals, _ = preprocess(raw, ChainState.initial(), final=True)
    X = np.empty((len(starts), len(COLUMNS)))
    for i in range(0, len(starts), _BATCH):
        X[i:i + _BATCH] = features_from_spans(cut_spans(signals, starts[i:i + _BATCH]))
    return starts, X


def valid_rows(X: np.ndarray) -> np.ndarray:
    """Which feature rows are real windows (False for the NaN rows of windows touching a gap)."""
    return ~np.isnan(X).all(axis=1)
