"""Known answers for the statistics the official features are made of."""

import numpy as np
import pytest

from har.features import statistics as st

RNG = np.random.default_rng(7)


def burg_reference(x, order):
    """Burg's method written out plainly, one series at a time (MATLAB arburg)."""
    ef = np.array(x, dtype=float)
    eb = ef.copy()
    a = np.array([1.0])
    for _ in range(order):
        efp, ebp = ef[1:], eb[:-1]
        k = -2.0 * ebp @ efp / (efp @ efp + ebp @ ebp)
        ef, eb = efp + k * ebp, ebp + k * efp
        a = np.concatenate([a, [0.0]]) + k * np.concatenate([[0.0], a[::-1]])
    return a[1:]


def test_burg_recovers_a_known_ar2_process():
    # x[n] = 1.5 x[n-1] - 0.75 x[n-2] + e[n]  ->  A(z) = 1 - 1.5 z^-1 + 0.75 z^-2
    n = 20000
    e = RNG.standard_normal(n)
    x = np.zeros(n)
    for i in range(2, n):
        x[i] = 1.5 * x[i - 1] - 0.75 * x[i - 2] + e[i]
    a = st.arburg(x, 4)
    np.testing.assert_allclose(a, [-1.5, 0.75, 0.0, 0.0], atol=0.03)


def test_burg_matches_the_plain_algorithm_on_many_series():
    x = RNG.standard_normal((3, 5, 128)).cumsum(axis=-1)
    got = st.arburg(x, 4)
    assert got.shape == (3, 5, 4)
    for i in range(3):
        for j in range(5):
            np.testing.assert_allclose(got[i, j], burg_reference(x[i, j], 4), rtol=1e-10, atol=1e-12)


def test_entropy_of_hand_computed_vectors():
    # levels 0, 0, 1, 1: two equally likely grey levels = 1 bit
    assert st.entropy(np.array([0.0, 0.0, 1 / 255, 1 / 255])) == pytest.approx(1.0)
    # one level = 0 bits; negatives saturate to 0 and values above 1 to 255
    assert st.entropy(np.array([-0.3, -1.0, 0.0, 0.001])) == pytest.approx(0.0)
    assert st.entropy(np.array([1.2, 5.0, 0.0, 0.0])) == pytest.approx(1.0)
    # four distinct levels = 2 bits
    assert st.entropy(np.array([0.0, 0.1, 0.2, 0.3])) == pytest.approx(2.0)
    # probabilities 1/2, 1/4, 1/4 = 1.5 bits
    assert st.entropy(np.array([0.5, 0.5, 0.2, 0.9])) == pytest.approx(1.5)


def test_entropy_rounds_halves_away_from_zero_like_matlab():
    # 255 * (0.5/255) = 0.5 -> level 1 in MATLAB; numpy's round-half-even would give level 0
    # and an entropy of 0 bits.
    assert st.entropy(np.array([0.5 / 255, 0.0])) == pytest.approx(1.0)


def test_entropy_agrees_with_a_256_bin_histogram():
    x = RNG.uniform(-0.2, 1.2, size=(10, 128)) * RNG.uniform(0, 1, size=(10, 1))
    levels = np.clip(np.floor(255 * x + 0.5), 0, 255).astype(int)
    for row, lv in zip(st.entropy(x), levels):
        p = np.bincount(lv, minlength=256) / lv.size
        p = p[p > 0]
        assert row == pytest.approx(-(p * np.log2(p)).sum(), abs=1e-12)


def test_iqr_uses_matlab_percentiles():
    # Hazen: Q1 = 1.5, Q3 = 3.5; numpy's default (linear) would give 1.75 and 3.25.
    assert st.iqr(np.array([4.0, 1.0, 3.0, 2.0])) == pytest.approx(2.0)
    x = RNG.standard_normal((4, 128))
    q1, q3 = np.percentile(x, [25, 75], axis=-1, method="hazen")
    np.testing.assert_allclose(st.iqr(x), q3 - q1, rtol=1e-12)
    np.testing.assert_allclose(st.hazen_quantiles(np.sort(x[:, :64]), (10, 90)),
                               np.percentile(x[:, :64], [10, 90], axis=-1, method="hazen").T, rtol=1e-12)


def test_spectrum_of_a_sine_has_its_peak_and_mean_frequency_at_its_bin():
    n = np.arange(128)
    x = np.sin(2 * np.pi * 10 * n / 128)          # exactly bin 10 (3.90625 Hz at 50 Hz)
    s = st.spectrum(x)
    assert s.shape == (64,)
    assert np.argmax(s) == 9                       # maxInds is 0-based over bins 1..64
    assert s[9] == pytest.approx(1.0)              # |FFT| / 64 of a unit sine
    assert st.mean_freq(s) == pytest.approx(10.0, abs=1e-9)


def test_spectrum_of_a_5hz_sine_peaks_at_the_nearest_bin():
    x = np.sin(2 * np.pi * 5.0 * np.arange(128) / 50.0)   # 5 Hz = bin 12.8
    assert np.argmax(st.spectrum(x)) + 1 == 13


def test_bands_energy_sums_squared_bins_over_official_bands():
    s = np.arange(1.0, 65.0)
    be = st.bands_energy(s)
    assert be.shape == (14,)
    assert be[0] == pytest.approx(np.sum(np.arange(1, 9) ** 2))       # bins 1-8
    assert be[13] == pytest.approx(np.sum(np.arange(25, 49) ** 2))     # bins 25-48


def test_skewness_kurtosis_and_correlation():
    x = RNG.standard_normal((3, 64)) ** 2
    d = x - x.mean(axis=-1, keepdims=True)
    skew, kurt = st.skewness_kurtosis_from_deviations(d)
    m2 = (d ** 2).mean(-1)
    np.testing.assert_allclose(skew, (d ** 3).mean(-1) / m2 ** 1.5)
    np.testing.assert_allclose(kurt, (d ** 4).mean(-1) / m2 ** 2)
    y = 2 * x + 1
    np.testing.assert_allclose(st.correlation_from_deviations(d, y - y.mean(-1, keepdims=True)), 1.0)


def test_angle():
    assert st.angle(np.array([1.0, 0, 0]), np.array([0, 2.0, 0])) == pytest.approx(np.pi / 2)
    assert st.angle(np.array([1.0, 1, 0]), np.array([3.0, 3, 0])) == pytest.approx(0.0, abs=1e-7)
