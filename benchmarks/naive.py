"""A naive reference implementation of the 561 UCI HAR features: one window at a time.

Written straight from ``PIPELINE.md`` (the team's uci_reference) with plain per-window numpy/scipy
calls, the way a user would write it without vectorising: ``np.percentile(method="hazen")``, a
256-bin histogram for the entropy, a Python Burg loop, ``scipy.stats.skew/kurtosis``, a loop over
the 14 bands. It shares nothing with ``har.features`` except the signal chain (``preprocess``), which
is not what it is here to check or to time. The column order is rebuilt from section 3 of
PIPELINE.md, not taken from ``har.features.table``; ``NAIVE_NAMES`` spells it out in the
``features.txt`` form so a test can compare it with the official list.

Two uses: an independent cross-check of the vectorised extractor (tests/test_naive_agreement.py),
and the baseline of the benchmark (benchmarks/bench_features.py).
"""

from __future__ import annotations

import numpy as np
from scipy import stats

from har.features.chain import preprocess

WINDOW = 128
SPAN = WINDOW + 1
HOP = 64
AXES = "XYZ"
# 1-based inclusive bin ranges, official order.
BANDS = ((1, 8), (9, 16), (17, 24), (25, 32), (33, 40), (41, 48), (49, 56), (57, 64),
         (1, 16), (17, 32), (33, 48), (49, 64), (1, 24), (25, 48))


# ---------------------------------------------------------------- statistics of one 1-D series

def mad(x):
    """Mean absolute deviation about the mean."""
    return np.mean(np.abs(x - np.mean(x)))


def energy(x):
    return np.sum(x ** 2) / len(x)


def iqr(x):
    q1, q3 = np.percentile(x, [25, 75], method="hazen")
    return q3 - q1


def entropy(x):
    """MATLAB image entropy: uint8(round(255 x)) saturating, 256-bin histogram, bits."""
    v = 255.0 * np.asarray(x)
    u = np.floor(v + 0.5)              # MATLAB rounds halves away from zero (v >= 0 after the clip)
    u = np.clip(u, 0, 255).astype(np.uint8)
    counts, _ = np.histogram(u, bins=256, range=(-0.5, 255.5))
    p = counts[counts > 0] / len(x)
    return -np.sum(p * np.log2(p))


def arburg(x, order=4):
    """Burg's method (MATLAB arburg): a1..a_order of A(z) = 1 + a1 z^-1 + ..."""
    x = np.asarray(x, dtype=np.float64)
    ef = x.copy()
    eb = x.copy()
    a = np.array([1.0])
    for _ in range(order):
        efp = ef[1:]
        ebp = eb[:-1]
        k = -2.0 * np.dot(ebp, efp) / (np.dot(efp, efp) + np.dot(ebp, ebp))
        ef = efp + k * ebp
        eb = ebp + k * efp
        a = np.concatenate([a, [0.0]]) + k * np.concatenate([[0.0], a[::-1]])
    return a[1:]


def pearson(x, y):
    dx = x - np.mean(x)
    dy = y - np.mean(y)
    return np.sum(dx * dy) / np.sqrt(np.sum(dx * dx) * np.sum(dy * dy))


def spectrum(x):
    """|FFT| / 64 of the 128 samples, no taper; bins 1..64 (DC dropped, Nyquist kept)."""
    return np.abs(np.fft.fft(x))[1:len(x) // 2 + 1] / (len(x) // 2)


def mean_freq(s):
    k = np.arange(1, len(s) + 1)
    return np.sum(k * s) / np.sum(s)


def bands_energy(s):
    return [np.sum(s[lo - 1:hi] ** 2) for lo, hi in BANDS]


def angle(u, v):
    cos = np.dot(u, v) / (np.linalg.norm(u) * np.linalg.norm(v))
    return np.arccos(np.clip(cos, -1.0, 1.0))


# ---------------------------------------------------------------- blocks of PIPELINE.md section 3

def _common(x):
    return [np.mean(x), np.std(x), mad(x), np.max(x), np.min(x)]


def time_3axis(sig):
    """40 features of a (128, 3) time signal."""
    cols = [sig[:, a] for a in range(3)]
    out = []
    for f in (np.mean, np.std, mad, np.max, np.min):
        out += [f(c) for c in cols]
    out.append(np.sum(np.abs(sig)) / len(sig))                        # sma
    for f in (energy, iqr, entropy):
        out += [f(c) for c in cols]
    for c in cols:
        out += list(arburg(c, 4))
    out += [pearson(cols[0], cols[1]), pearson(cols[0], cols[2]), pearson(cols[1], cols[2])]
    return out


def time_mag(m):
    """13 features of a (128,) magnitude."""
    return _common(m) + [np.mean(np.abs(m)), energy(m), iqr(m), entropy(m)] + list(arburg(m, 4))


def freq_3axis(sig):
    """79 features of the spectra of a (128, 3) time signal."""
    specs = [spectrum(sig[:, a]) for a in range(3)]
    out = []
    for f in (np.mean, np.std, mad, np.max, np.min):
        out += [f(s) for s in specs]
    out.append(sum(np.sum(s) for s in specs) / 64.0)                  # sma
    for f in (energy, iqr, entropy):
        out += [f(s) for s in specs]
    out += [float(np.argmax(s)) for s in specs]                         # maxInds, 0-based
    out += [mean_freq(s) for s in specs]
    for s in specs:
        out += [stats.skew(s, bias=True), stats.kurtosis(s, bias=True, fisher=False)]
    for s in specs:
        out += bands_energy(s)
    return out


def freq_mag(m):
    """13 features of the spectrum of a (128,) magnitude."""
    s = spectrum(m)
    return (_common(s) + [np.mean(np.abs(s)), energy(s), iqr(s), entropy(s), float(np.argmax(s)),
                          mean_freq(s), stats.skew(s, bias=True), stats.kurtosis(s, bias=True, fisher=False)])


def naive_window_features(span: np.ndarray) -> np.ndarray:
    """The 561 features of one window, plainly.

    Parameters
    ----------
    span : ndarray, shape (129, 9), float64
        Chain output for the window's 128 samples plus the next one (for the jerk): body acc x, y, z
        (g), gravity x, y, z (g), body gyro x, y, z (rad/s).

    Returns
    -------
    ndarray, shape (561,), float64
        In the official order of features.txt (see ``NAIVE_NAMES``), unscaled.
    """
    span = np.asarray(span, dtype=np.float64)
    if span.shape != (SPAN, 9):
        raise ValueError(f"span: expected shape ({SPAN}, 9), got {span.shape}")
    body_acc = span[:WINDOW, 0:3]
    gravity = span[:WINDOW, 3:6]
    body_gyro = span[:WINDOW, 6:9]
    acc_jerk = span[1:, 0:3] - span[:-1, 0:3]          # j[n] = x[n+1] - x[n], n = 0..127
    gyro_jerk = span[1:, 6:9] - span[:-1, 6:9]

    def mag(s):
        return np.sqrt(np.sum(s ** 2, axis=1))

    acc_mag, jerk_mag = mag(body_acc), mag(acc_jerk)
    gyro_mag, gyro_jerk_mag = mag(body_gyro), mag(gyro_jerk)

    f = []
    for sig in (body_acc, gravity, acc_jerk, body_gyro, gyro_jerk):            # 1-200
        f += time_3axis(sig)
    # 201-265; tGravityAccMag is computed from tBodyAcc (official quirk).
    for m in (acc_mag, acc_mag, jerk_mag, gyro_mag, gyro_jerk_mag):
        f += time_mag(m)
    for sig in (body_acc, acc_jerk, body_gyro):                                # 266-502
        f += freq_3axis(sig)
    for m in (acc_mag, jerk_mag, gyro_mag, gyro_jerk_mag):                     # 503-554
        f += freq_mag(m)
    gravity_mean = np.mean(gravity, axis=0)                                    # 555-561
    for sig in (body_acc, acc_jerk, body_gyro, gyro_jerk):
        f.append(angle(np.mean(sig, axis=0), gravity_mean))
    for unit in np.eye(3):
        f.append(angle(unit, gravity_mean))
    return np.array(f, dtype=np.float64)


def naive_extract_recording(acc, gyro, starts=None) -> tuple[np.ndarray, np.ndarray]:
    """The shared signal chain over the whole recording, then ``naive_window_features`` per window.

    Parameters
    ----------
    acc, gyro : array, shape (n, 3), float
        Acc x, y, z in g (gravity included); gyro x, y, z in rad/s; 50 Hz.
    starts : array of int, optional
        0-based window starts; default every 64 samples from 0 while a 129-sample span fits.

    Returns
    -------
    starts : ndarray, shape (n_windows,), int64
    X : ndarray, shape (n_windows, 561), float64
    """
    raw = np.hstack([np.asarray(acc, dtype=np.float64), np.asarray(gyro, dtype=np.float64)])
    n = len(raw)
    if starts is None:
        starts = np.arange(0, max(n - WINDOW, 0), HOP)
    starts = np.asarray(starts, dtype=np.int64)
    signals, _ = preprocess(raw, final=True)
    X = np.empty((len(starts), len(NAIVE_NAMES)))
    for i, s in enumerate(starts):
        X[i] = naive_window_features(signals[s:s + SPAN])
    return starts, X


# ---------------------------------------------------------------- names, official features.txt form

def _names() -> tuple[str, ...]:
    names = []
    common = ("mean()", "std()", "mad()", "max()", "min()")
    for sig in ("tBodyAcc", "tGravityAcc", "tBodyAccJerk", "tBodyGyro", "tBodyGyroJerk"):
        for st in common:
            names += [f"{sig}-{st}-{a}" for a in AXES]
        names.append(f"{sig}-sma()")
        for st in ("energy()", "iqr()", "entropy()"):
            names += [f"{sig}-{st}-{a}" for a in AXES]
        names += [f"{sig}-arCoeff()-{a},{k}" for a in AXES for k in range(1, 5)]
        names += [f"{sig}-correlation()-{p}" for p in ("X,Y", "X,Z", "Y,Z")]
    for sig in ("tBodyAccMag", "tGravityAccMag", "tBodyAccJerkMag", "tBodyGyroMag", "tBodyGyroJerkMag"):
        names += [f"{sig}-{st}" for st in common + ("sma()", "energy()", "iqr()", "entropy()")]
        names += [f"{sig}-arCoeff(){k}" for k in range(1, 5)]
    for sig in ("fBodyAcc", "fBodyAccJerk", "fBodyGyro"):
        for st in common:
            names += [f"{sig}-{st}-{a}" for a in AXES]
        names.append(f"{sig}-sma()")
        for st in ("energy()", "iqr()", "entropy()", "maxInds", "meanFreq()"):
            names += [f"{sig}-{st}-{a}" for a in AXES]
        for a in AXES:
            names += [f"{sig}-skewness()-{a}", f"{sig}-kurtosis()-{a}"]
        names += [f"{sig}-bandsEnergy()-{lo},{hi}" for _ in AXES for lo, hi in BANDS]
    for sig in ("fBodyAccMag", "fBodyBodyAccJerkMag", "fBodyBodyGyroMag", "fBodyBodyGyroJerkMag"):
        names += [f"{sig}-{st}" for st in common + ("sma()", "energy()", "iqr()", "entropy()", "maxInds",
                                                    "meanFreq()", "skewness()", "kurtosis()")]
    names += ["angle(tBodyAccMean,gravity)", "angle(tBodyAccJerkMean),gravityMean)",
              "angle(tBodyGyroMean,gravityMean)", "angle(tBodyGyroJerkMean,gravityMean)",
              "angle(X,gravityMean)", "angle(Y,gravityMean)", "angle(Z,gravityMean)"]
    return tuple(names)


#: The 561 names in official order, spelled as in the published features.txt (bandsEnergy names
#: repeat for X, Y, Z there).
NAIVE_NAMES = _names()
assert len(NAIVE_NAMES) == 561, len(NAIVE_NAMES)
