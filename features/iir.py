"""``sosfilt`` along axis 0 with explicit state, cheap for the few-sample chunks of live streams.

scipy's ``sosfilt`` costs tens of microseconds per call in argument handling alone, which dominates
when a phone pushes one sample at a time. For short chunks this runs the same transposed direct
form II recursion, in the same order of operations as scipy's compiled loop, on Python floats;
longer chunks go to scipy. Chunked and whole-signal filtering agree to rounding (the streaming
tests hold them to 1e-12).
"""

from __future__ import annotations

import numpy as np

#: Chunks up to this many samples use the Python loop.
SMALL_CHUNK = 8


def sosfilt_rows(sos: np.ndarray, x: np.ndarray, zi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Filter each column of ``x`` (n, c) with ``sos`` (sections, 6); ``zi`` (sections, 2, c).

    Returns ``(y, zf)`` like ``scipy.signal.sosfilt(sos, x, axis=0, zi=zi)``.
    """
    if len(x) > SMALL_CHUNK:
        from scipy import signal     # imported on first use: see filters.py on start-up time

        return signal.sosfilt(sos, x, axis=0, zi=zi)
    coeffs = sos.tolist()
    z = zi.tolist()                     # [section][0 or 1][channel]
    rows = x.tolist()
    n_ch = x.shape[1]
    for row in rows:
        for s, (b0, b1, b2, _a0, a1, a2) in enumerate(coeffs):
            z0, z1 = z[s]
            for c in range(n_ch):
                x_cur = row[c]
                x_new = b0 * x_cur + z0[c]
                z0[c] = b1 * x_cur - a1 * x_new + z1[c]
                z1[c] = b2 * x_cur - a2 * x_new
                row[c] = x_new
    return np.array(rows, dtype=np.float64).reshape(x.shape), np.array(z, dtype=np.float64)
