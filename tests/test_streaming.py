"""Streaming equals batch, whatever the chunking."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as hs

from har.features import StreamingExtractor, extract_recording, valid_rows

RNG = np.random.default_rng(3)
N = 900
ACC = RNG.normal(size=(N, 3)).cumsum(axis=0) * 0.01 + [0.1, -0.2, 0.95]
GYRO = RNG.normal(size=(N, 3)) * 0.3


def stream(acc, gyro, sizes, **kwargs):
    ex = StreamingExtractor(**kwargs)
    parts, i, k = [], 0, 0
    while i < len(acc):
        size = sizes[k % len(sizes)]
        parts.append(ex.push(acc[i:i + size], gyro[i:i + size]))
        i, k = i + size, k + 1
    parts.append(ex.flush())
    return np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])


@settings(max_examples=40, deadline=None)
@given(hs.lists(hs.integers(min_value=0, max_value=400), min_size=1, max_size=30).filter(any))
def test_any_chunking_equals_the_batch_result(sizes):
    starts, X = extract_recording(ACC, GYRO)
    s, XS = stream(ACC, GYRO, sizes)
    np.testing.assert_array_equal(s, starts)
    np.testing.assert_allclose(XS, X, rtol=0, atol=1e-12)


def test_single_samples_on_a_real_recording_equal_the_batch(sample_recording):
    acc, gyro = sample_recording["acc"][:2500], sample_recording["gyro"][:2500]
    starts, X = extract_recording(acc, gyro)
    s, XS = stream(acc, gyro, [1])
    np.testing.assert_array_equal(s, starts)
    np.testing.assert_allclose(XS, X, rtol=0, atol=1e-12)


def test_push_one_and_windows_arrive_as_soon_as_their_samples_are_final():
    ex = StreamingExtractor()
    got = []
    for i in range(200):
        s, X = ex.push_one(ACC[i], GYRO[i])
        got += [(i, int(v)) for v in s]
    # The window at 0 needs chain output up to sample 128, final once sample 129 arrives;
    # the window at 64 needs sample 193.
    assert got == [(129, 0), (193, 64)]


def test_explicit_starts_off_the_hop_equal_the_batch():
    starts = np.array([5, 77, 78, 300, 611])
    _, X = extract_recording(ACC, GYRO, starts)
    ex = StreamingExtractor(hop=None)
    ex.add_starts(starts)
    parts = [ex.push(ACC[i:i + 50], GYRO[i:i + 50]) for i in range(0, N, 50)] + [ex.flush()]
    np.testing.assert_array_equal(np.concatenate([p[0] for p in parts]), starts)
    np.testing.assert_allclose(np.concatenate([p[1] for p in parts]), X, rtol=0, atol=1e-12)


def test_a_start_already_discarded_is_refused():
    ex = StreamingExtractor()
    ex.push(ACC[:600], GYRO[:600])
    with pytest.raises(ValueError, match="before sample"):
        ex.add_starts([10])


def test_memory_stays_bounded_on_a_long_stream():
    ex = StreamingExtractor()
    acc, gyro = np.tile(ACC, (20, 1)), np.tile(GYRO, (20, 1))
    for i in range(0, len(acc), 7):
        ex.push(acc[i:i + 7], gyro[i:i + 7])
    assert ex._buf.shape[0] <= 4 * 129       # the buffer never grew beyond its first size


@settings(max_examples=15, deadline=None)
@given(hs.lists(hs.integers(min_value=1, max_value=300), min_size=1, max_size=10),
       hs.lists(hs.integers(min_value=0, max_value=N - 1), min_size=1, max_size=3))
def test_gaps_stream_exactly_like_the_batch(sizes, bad):
    acc = ACC.copy()
    acc[bad, 0] = np.nan
    starts, X = extract_recording(acc, GYRO, on_nonfinite="gap")
    s, XS = stream(acc, GYRO, sizes, on_nonfinite="gap")
    np.testing.assert_array_equal(s, starts)
    np.testing.assert_array_equal(valid_rows(XS), valid_rows(X))
    np.testing.assert_allclose(XS, X, rtol=0, atol=1e-12, equal_nan=True)


def test_a_refused_chunk_leaves_the_stream_unchanged():
    ex = StreamingExtractor()
    ex.push(ACC[:100], GYRO[:100])
    bad = ACC[100:150].copy()
    bad[3, 1] = np.nan
    with pytest.raises(ValueError, match="acc sample 3 axis y is nan"):
        ex.push(bad, GYRO[100:150])
    parts = [ex.push(ACC[100:], GYRO[100:]), ex.flush()]
    starts, X = extract_recording(ACC, GYRO)
    np.testing.assert_allclose(np.concatenate([parts[0][1], parts[1][1]]), X, rtol=0, atol=1e-12)


def test_push_after_flush_is_refused_until_reset():
    ex = StreamingExtractor()
    ex.push(ACC[:10], GYRO[:10])
    ex.flush()
    with pytest.raises(ValueError, match="push after flush"):
        ex.push(ACC[:10], GYRO[:10])
    ex.reset()
    assert ex.push(ACC[:10], GYRO[:10])[0].size == 0
