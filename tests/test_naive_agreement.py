"""Independent cross-check: the vectorised extractor against the one-window-at-a-time naive code.

``benchmarks.naive`` is written straight from PIPELINE.md with plain numpy/scipy per window and
builds its own column order; only the signal chain is shared. Agreement to 1e-9 on every column of
real windows means the vectorisation (sorted-run entropy, batched Burg, band matrix, column plan...)
changed nothing but rounding.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:        # benchmarks/ is not an installed package: import it from the checkout
    sys.path.insert(0, str(ROOT))
UCI_REFERENCE = Path(os.environ.get("HAR_SHARED_DIR", ROOT.parent / "shared")) / "uci_reference"

from benchmarks.naive import NAIVE_NAMES, naive_extract_recording, naive_window_features  # noqa: E402
from har.features import OFFICIAL_NAMES, extract_recording  # noqa: E402
from har.features.chain import preprocess  # noqa: E402
from har.features.extract import cut_spans  # noqa: E402


def _starts(n_samples: int) -> np.ndarray:
    """40 windows: 20 regular (from sample 0: the filter start-up transient) and 20 at irregular
    positions spread over the recording, as the official windows are."""
    regular = np.arange(20) * 64
    rng = np.random.default_rng(7)
    irregular = np.sort(rng.choice(np.arange(1300, n_samples - 129), size=20, replace=False))
    return np.concatenate([regular, irregular]).astype(np.int64)


def test_naive_layout_is_the_official_one():
    assert len(NAIVE_NAMES) == 561
    assert NAIVE_NAMES == OFFICIAL_NAMES
    features_txt = UCI_REFERENCE / "features.txt"
    if features_txt.exists():
        official = tuple(line.split(" ", 1)[1].strip() for line in features_txt.read_text().splitlines()
                         if line.strip())
        assert NAIVE_NAMES == official


def test_naive_and_vectorised_agree_on_real_windows(sample_recording):
    acc, gyro = sample_recording["acc"], sample_recording["gyro"]
    starts = _starts(len(acc))
    got_starts, X = extract_recording(acc, gyro, starts)
    naive_starts, X_naive = naive_extract_recording(acc, gyro, starts)
    np.testing.assert_array_equal(got_starts, naive_starts)
    assert X.shape == X_naive.shape == (40, 561)
    assert np.isfinite(X_naive).all()
    np.testing.assert_allclose(X, X_naive, rtol=1e-9, atol=1e-9, equal_nan=True)


def test_naive_window_matches_on_the_same_spans(sample_recording):
    """Same spans into both: the window function alone, without the per-recording driver."""
    raw = np.hstack([sample_recording["acc"], sample_recording["gyro"]])[:2000]
    signals, _ = preprocess(raw, final=True)
    spans = cut_spans(signals, np.array([0, 333, 1500]))
    from har.features import features_from_spans

    expected = features_from_spans(spans)
    for span, row in zip(spans, expected):
        np.testing.assert_allclose(naive_window_features(span), row, rtol=1e-9, atol=1e-9, equal_nan=True)


def test_naive_window_refuses_a_wrong_shape():
    with pytest.raises(ValueError, match=r"expected shape \(129, 9\), got \(128, 9\)"):
        naive_window_features(np.zeros((128, 9)))
