"""The 561 features: names, scale, known answers through the whole chain, bad input."""

import csv

import numpy as np
import pytest

from har.features import (FEATURE_NAMES, OFFICIAL_NAMES, SPAN, extract_recording, features_from_spans,
                          from_official_scale, regular_starts, to_official_scale, valid_rows)
from har.features.scale import RAW_MAX, RAW_MIN

COL = {name: j for j, name in enumerate(FEATURE_NAMES)}


def test_names_are_561_unique_and_bands_carry_their_axis():
    assert len(FEATURE_NAMES) == 561 and len(set(FEATURE_NAMES)) == 561
    assert len(set(OFFICIAL_NAMES)) == 477          # the 42 bandsEnergy names repeat 3 times
    assert "fBodyAcc-bandsEnergy()-Y,1,8" in COL
    assert OFFICIAL_NAMES[COL["fBodyAcc-bandsEnergy()-Y,1,8"]] == "fBodyAcc-bandsEnergy()-1,8"


def test_official_names_are_features_txt_verbatim(uci_reference):
    lines = (uci_reference / "features.txt").read_text().splitlines()
    assert [ln.split(" ", 1)[1] for ln in lines if ln.strip()] == list(OFFICIAL_NAMES)


def test_scale_constants_are_the_published_ones(uci_reference):
    with open(uci_reference / "official_scale.csv") as fh:
        rows = list(csv.DictReader(fh))
    np.testing.assert_array_equal(RAW_MIN, [float(r["raw_min"]) for r in rows])
    np.testing.assert_array_equal(RAW_MAX, [float(r["raw_max"]) for r in rows])


def test_scale_round_trip_and_end_points():
    X = np.random.default_rng(0).normal(size=(5, 561))
    np.testing.assert_allclose(from_official_scale(to_official_scale(X)), X, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(to_official_scale(RAW_MIN[None]), -1.0)
    np.testing.assert_allclose(to_official_scale(RAW_MAX[None]), 1.0)


def _constant_spans(body=(0.0, 0.0, 0.0), gravity=(0.2, -0.5, 0.8), gyro=(0.0, 0.0, 0.0)):
    span = np.empty((1, SPAN, 9))
    span[..., 0:3], span[..., 3:6], span[..., 6:9] = body, gravity, gyro
    return span


def test_constant_signal_has_std_zero_and_energy_mean_squared():
    X = features_from_spans(_constant_spans())[0]
    for ax, g in zip("XYZ", (0.2, -0.5, 0.8)):
        assert X[COL[f"tGravityAcc-mean()-{ax}"]] == pytest.approx(g)
        assert X[COL[f"tGravityAcc-std()-{ax}"]] == pytest.approx(0.0, abs=1e-15)
        assert X[COL[f"tGravityAcc-mad()-{ax}"]] == pytest.approx(0.0, abs=1e-15)
        assert X[COL[f"tGravityAcc-energy()-{ax}"]] == pytest.approx(g * g)
        assert X[COL[f"tGravityAcc-iqr()-{ax}"]] == pytest.approx(0.0, abs=1e-15)
    assert X[COL["tGravityAcc-sma()"]] == pytest.approx(0.2 + 0.5 + 0.8)
    # angle(X, gravity) = arccos(gx / |g|)
    assert X[COL["angle(X,gravityMean)"]] == pytest.approx(np.arccos(0.2 / np.linalg.norm([0.2, -0.5, 0.8])))


def test_a_sine_in_body_gyro_lands_in_its_bin_through_the_window_features():
    n = np.arange(SPAN)
    span = _constant_spans()
    span[0, :, 6] = 0.3 * np.sin(2 * np.pi * 16 * n / 128)      # bin 16 = 6.25 Hz
    X = features_from_spans(span)[0]
    assert X[COL["fBodyGyro-maxInds-X"]] == 15                    # 0-based
    assert X[COL["fBodyGyro-meanFreq()-X"]] == pytest.approx(16.0, abs=1e-6)
    assert X[COL["tBodyGyro-std()-X"]] == pytest.approx(0.3 / np.sqrt(2))
    assert X[COL["fBodyGyro-bandsEnergy()-X,9,16"]] == pytest.approx(0.3 ** 2)


def test_a_sine_through_the_whole_chain_keeps_its_frequency():
    # 5 Hz on gyro x for 60 s: after the start-up transient the spectrum peaks at bin 13 (12.8).
    t = np.arange(3000) / 50.0
    gyro = np.zeros((3000, 3))
    gyro[:, 0] = 0.5 * np.sin(2 * np.pi * 5.0 * t)
    acc = np.tile([0.0, 0.0, 1.0], (3000, 1))
    starts, X = extract_recording(acc, gyro)
    late = X[starts > 1000]
    assert (late[:, COL["fBodyGyro-maxInds-X"]] == 12).all()
    # gravity along z: angle(Z, gravityMean) -> 0 once the 0.3 Hz filter has settled
    assert np.abs(late[:, COL["angle(Z,gravityMean)"]]).max() < 1e-3


def test_default_starts_are_every_64_samples_while_the_jerk_sample_exists():
    assert list(regular_starts(129)) == [0]
    assert list(regular_starts(128 + 64)) == [0]
    assert list(regular_starts(128 + 65)) == [0, 64]


def test_fidelity_against_the_published_windows(uci_reference, hapt_recordings):
    ref = np.load(uci_reference / "reference_train_windows.npz")
    errors = np.empty_like(ref["X_official"])
    for exp in np.unique(ref["hapt_exp"]):
        rows = ref["hapt_exp"] == exp
        rec = hapt_recordings[int(exp)]
        assert rec.user == ref["hapt_user"][rows][0]
        _, X = extract_recording(rec.acc, rec.gyro, ref["start"][rows].astype(np.int64))
        errors[rows] = to_official_scale(X) - ref["X_official"][rows]
    worst = np.abs(errors).max(axis=0)
    assert np.isfinite(worst).all()
    bad = [(FEATURE_NAMES[j], worst[j]) for j in np.flatnonzero(worst > 1e-6)]
    assert not bad, f"{len(bad)} features off by more than 1e-6: {bad[:5]}"
    assert worst.max() < 1e-8      # the published print precision


# ----------------------------------------------------------------------------- bad input

def _ok(n=300):
    rng = np.random.default_rng(1)
    return rng.normal(size=(n, 3)) * 0.1 + [0, 0, 1], rng.normal(size=(n, 3)) * 0.2


@pytest.mark.parametrize("acc, gyro, message", [
    (np.zeros((300, 2)), np.zeros((300, 3)), r"acc: expected shape \(n, 3\)"),
    (np.zeros((300, 3)), np.zeros(300), r"gyro: expected shape \(n, 3\)"),
    (np.zeros((300, 3)), np.zeros((299, 3)), "acc has 300 samples but gyro has 299"),
    (np.zeros((300, 3), dtype=int), np.zeros((300, 3)), "acc: expected float samples in g, got dtype int"),
    (np.zeros((100, 3)), np.zeros((100, 3)), "recording has 100 samples: fewer than one window"),
])
def test_bad_input_names_the_problem(acc, gyro, message):
    with pytest.raises(ValueError, match=message):
        extract_recording(acc, gyro)


def test_nonfinite_samples_are_refused_by_default_with_their_position():
    acc, gyro = _ok()
    gyro[123, 2] = np.inf
    with pytest.raises(ValueError, match="gyro sample 123 axis z is inf"):
        extract_recording(acc, gyro)


def test_bad_starts_are_refused():
    acc, gyro = _ok()
    with pytest.raises(ValueError, match="window at 200 does not fit"):
        extract_recording(acc, gyro, np.array([0, 200]))
    with pytest.raises(ValueError, match="integer sample indices"):
        extract_recording(acc, gyro, np.array([0.5]))
    with pytest.raises(ValueError, match="on_nonfinite must be"):
        extract_recording(acc, gyro, on_nonfinite="ignore")


def test_a_gap_yields_nan_windows_and_restarts_the_chain():
    acc, gyro = _ok(2000)
    acc[1000, 1] = np.nan
    starts, X = extract_recording(acc, gyro, on_nonfinite="gap")
    touched = (starts <= 1000) & (starts + SPAN > 1000)
    assert (~valid_rows(X) == touched).all()
    # After the gap the chain starts afresh, exactly as a recording that begins at sample 1001.
    _, after = extract_recording(acc[1001:], gyro[1001:], starts[starts > 1000] - 1001)
    np.testing.assert_array_equal(X[starts > 1000], after)
    # Before the gap: the chain closed as at the end of a recording (last median sees a zero).
    before_starts = starts[starts + SPAN <= 1000]
    _, before = extract_recording(acc[:1000], gyro[:1000], before_starts)
    np.testing.assert_array_equal(X[: len(before_starts)], before)


def test_written_out_filter_coefficients_are_scipys_butterworth_designs():
    from scipy import signal

    from har.features import filters

    for name, (order, cutoff_hz) in filters.DESIGNS.items():
        np.testing.assert_array_equal(getattr(filters, name), signal.butter(order, cutoff_hz / 25.0, output="sos"))
