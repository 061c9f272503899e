"""Resampling onto the 50 Hz grid: known answers for sines, ramps, holes and aliasing."""

import numpy as np
import pytest

from har.runtime.tools.readers import TimedStream
from har.runtime.tools.resample import align_streams, gap_ranges, resample_to_grid

RATE = 50.0


def three_axes(column):
    return np.column_stack([column, 2 * column, -column])


def test_sine_at_100hz_matches_the_analytic_sine_on_the_grid():
    t = np.arange(400) / 100.0
    x = three_axes(np.sin(2 * np.pi * 2.0 * t))
    # Grid points halfway between input samples, so interpolation does real work.
    t0, n = 0.005, 199
    values, gap = resample_to_grid(t, x, t0, n, RATE)
    grid = t0 + np.arange(n) / RATE
    inner = (grid > 0.5) & (grid < 3.5)
    expected = three_axes(np.sin(2 * np.pi * 2.0 * grid))
    assert not gap.any()
    np.testing.assert_allclose(values[inner], expected[inner], rtol=0, atol=5e-3)


def test_one_second_hole_is_a_nan_gap_never_bridged():
    t = np.arange(501) / 100.0
    t = t[(t <= 2.0) | (t >= 3.0)]
    x = three_axes(np.cos(t))
    values, gap = resample_to_grid(t, x, 0.0, 251, RATE)
    assert gap_ranges(gap) == [(101, 150)]
    assert np.isnan(values[101:150]).all()
    assert np.isfinite(values[:101]).all() and np.isfinite(values[150:]).all()


def test_short_holes_are_interpolated_and_max_gap_is_respected():
    t = np.array([0.0, 0.02, 0.3, 0.32])
    x = three_axes(t)
    values, gap = resample_to_grid(t, x, 0.0, 17, RATE, max_gap_s=0.5)
    assert not gap.any()
    np.testing.assert_allclose(values[:, 0], np.arange(17) / RATE, atol=1e-12)
    _, gap = resample_to_grid(t, x, 0.0, 17, RATE, max_gap_s=0.2)
    assert gap_ranges(gap) == [(2, 15)]


def test_jittered_ramp_is_resampled_exactly():
    rng = np.random.default_rng(0)
    t = np.cumsum(rng.uniform(1 / 52, 1 / 48, 300))
    x = np.column_stack([3.0 * t + 1.0, -0.5 * t, 0 * t + 7.0])
    t0 = t[0] + 0.003
    n = int((t[-1] - t0) * RATE)
    values, gap = resample_to_grid(t, x, t0, n, RATE)
    grid = t0 + np.arange(n) / RATE
    assert not gap.any()
    expected = np.column_stack([3.0 * grid + 1.0, -0.5 * grid, 0 * grid + 7.0])
    np.testing.assert_allclose(values, expected, rtol=0, atol=1e-12)


def test_35hz_tone_sampled_at_200hz_does_not_alias_to_15hz():
    t = np.arange(800) / 200.0
    x = three_axes(np.sin(2 * np.pi * 35.0 * t))
    values, _ = resample_to_grid(t, x, 0.0, 200, RATE)
    grid = np.arange(200) / RATE
    inner = (grid > 0.5) & (grid < 3.5)
    # Unfiltered, the grid would see a full-amplitude 15 Hz tone (RMS 0.71 on x).
    rms = np.sqrt(np.mean(values[inner, 0] ** 2))
    assert rms < 0.05


def test_slow_motion_passes_the_anti_alias_filter():
    t = np.arange(800) / 200.0
    x = three_axes(np.sin(2 * np.pi * 3.0 * t) + 1.0)
    values, _ = resample_to_grid(t, x, 0.0, 200, RATE)
    grid = np.arange(200) / RATE
    inner = (grid > 0.5) & (grid < 3.5)
    np.testing.assert_allclose(values[inner, 0], np.sin(2 * np.pi * 3.0 * grid[inner]) + 1.0,
                               atol=5e-3)


def test_nan_samples_and_points_outside_the_input_are_gaps():
    t = np.arange(2, 13) / RATE
    x = three_axes(t)
    x[5] = np.nan
    values, gap = resample_to_grid(t, x, 0.0, 15, RATE)
    # Grid point k is input sample k - 2; the NaN sample is grid point 7.
    assert gap_ranges(gap) == [(0, 2), (7, 8), (13, 15)]
    assert np.isnan(values[gap]).all() and np.isfinite(values[~gap]).all()


def test_resample_rejects_non_increasing_times():
    with pytest.raises(ValueError, match="strictly increasing"):
        resample_to_grid([0.0, 0.02, 0.02], np.zeros((3, 3)), 0.0, 2)


def test_align_streams_common_span_and_shared_gaps():
    acc_t = np.arange(401) / 100.0
    acc = TimedStream(acc_t, three_axes(np.ones_like(acc_t)))
    k = np.arange(161)
    gyro_t = (0.5 + k / RATE)[(k <= 75) | (k >= 115)]  # samples at 2.0 s and 2.8 s, none between
    gyro = TimedStream(gyro_t, three_axes(gyro_t))
    grid = align_streams(acc, gyro)
    assert grid.t0 == 0.5 and len(grid) == 161 and grid.rate_hz == RATE
    assert grid.gaps == [(76, 115)]
    # The gyro hole blanks acc too: windows need both sensors.
    assert np.isnan(grid.acc[76:115]).all() and np.isnan(grid.gyro[76:115]).all()
    ok = np.ones(161, dtype=bool)
    ok[76:115] = False
    np.testing.assert_allclose(grid.acc[ok], 1.0 * three_axes(np.ones(ok.sum())))
    np.testing.assert_allclose(grid.gyro[ok], three_axes(grid.t[ok]), atol=1e-12)


def test_align_streams_refuses_streams_that_do_not_overlap():
    a = TimedStream(np.array([0.0, 1.0]), np.zeros((2, 3)))
    b = TimedStream(np.array([2.0, 3.0]), np.zeros((2, 3)))
    with pytest.raises(ValueError, match="do not overlap"):
        align_streams(a, b)
