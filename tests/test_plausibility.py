"""Physical plausibility: samples no phone sensor can report make their windows invalid, counted
with one warning; a valid window never shows a NaN confidence."""

from __future__ import annotations

import csv
import math
from importlib import resources

import numpy as np
import pytest

from har.features import SPAN, regular_starts
from har.model import cli
from har.runtime.plausibility import (ACC_LIMIT_G, GYRO_LIMIT_RAD_S, blank_implausible, implausible_samples,
                                      windows_touching)
from har.runtime.recognizer import Prediction
from har.runtime.tools import live, predict


@pytest.fixture(scope="module")
def sample():
    with np.load(str(resources.files("har.runtime").joinpath("data/sample_recording.npz"))) as d:
        return {k: d[k] for k in d.files}


def test_limits_known_answers():
    acc = np.zeros((8, 3))
    gyro = np.zeros((8, 3))
    acc[1, 0] = ACC_LIMIT_G                 # saturated at full scale: physical
    acc[2, 1] = -16.01
    gyro[3, 2] = GYRO_LIMIT_RAD_S
    gyro[4, 0] = 35.1
    acc[5, 2] = np.inf
    acc[6, :] = np.nan                      # a gap, not implausible
    gyro[7, 1] = 1e300
    assert implausible_samples(acc, gyro).tolist() == [False, False, True, False, True, True, False, True]
    assert implausible_samples(acc, gyro, acc_limit_g=20, gyro_limit_rad_s=50).tolist() == \
        [False, False, False, False, False, True, False, True]


def test_limits_refuse_bad_shapes():
    with pytest.raises(ValueError, match=r"\(n, 3\)"):
        implausible_samples(np.zeros((4, 2)), np.zeros((4, 3)))


def test_blank_implausible_copies_and_blanks_whole_rows():
    acc = np.ones((5, 3))
    gyro = np.zeros((5, 3))
    acc[2, 0] = 1000.0
    out_acc, out_gyro, mask = blank_implausible(acc, gyro)
    assert mask.tolist() == [False, False, True, False, False]
    assert np.isnan(out_acc[2]).all() and np.isnan(out_gyro[2]).all()
    assert acc[2, 0] == 1000.0 and not np.isnan(gyro).any()        # the inputs are untouched
    clean_acc, _, none = blank_implausible(np.ones((3, 3)), np.zeros((3, 3)))
    assert not none.any() and not np.isnan(clean_acc).any()


def test_windows_touching_known_answers():
    mask = np.zeros(400, bool)
    mask[200] = True
    starts = np.array([0, 64, 128, 192, 256])
    # A window reads start .. start + SPAN - 1 (SPAN = 129): 64 reads 64..192, 72 would read 200.
    assert windows_touching(mask, starts).tolist() == [False, False, True, True, False]
    assert windows_touching(mask, [72]).tolist() == [True] and windows_touching(mask, [71]).tolist() == [False]
    assert SPAN == 129


def _predict_npz(tmp_path, capsys, acc, gyro):
    npz = tmp_path / "rec.npz"
    np.savez(npz, acc=acc, gyro=gyro)
    out = tmp_path / "p.csv"
    code = cli.main(["predict", str(npz), "--out", str(out)])
    err = capsys.readouterr().err
    with out.open() as fh:
        rows = list(csv.DictReader(fh))
    return code, err, rows


def test_samples_of_1e300_make_their_windows_invalid_with_one_warning(tmp_path, sample, capsys):
    acc, gyro = sample["acc"][:1500].copy(), sample["gyro"][:1500].copy()
    acc[700:710] = 1e300
    code, err, rows = _predict_npz(tmp_path, capsys, acc, gyro)
    assert code == 0 and "Traceback" not in err
    starts = regular_starts(1500)
    touched = windows_touching(implausible_samples(acc, gyro), starts)
    assert [r["valid"] for r in rows] == ["0" if t else "1" for t in touched]
    assert all(r["label"] == "UNKNOWN" and r["p_WALKING"] == "" for r, t in zip(rows, touched) if t)
    for r in rows:                                  # no NaN anywhere; valid rows have real probabilities
        assert "nan" not in ",".join(r.values()).lower()
        if r["valid"] == "1":
            assert math.isclose(sum(float(r[k]) for k in r if k.startswith("p_")), 1.0, abs_tol=1e-4)
    warnings = [l for l in err.splitlines() if "physical range" in l]
    assert len(warnings) == 1 and f"{int(touched.sum())} window(s) invalid" in warnings[0]
    assert "|acc| > 16 g or |gyro| > 35 rad/s" in warnings[0]
    assert f"({int(touched.sum())} invalid, {int(touched.sum())} of them implausible)" in err


def test_noise_at_1000_g_claims_no_activity(tmp_path, capsys):
    rng = np.random.default_rng(0)
    acc = rng.normal(0, 1000, (1000, 3))
    gyro = rng.normal(0, 0.1, (1000, 3))
    code, err, rows = _predict_npz(tmp_path, capsys, acc, gyro)
    assert code == 0 and rows
    assert {r["valid"] for r in rows} == {"0"} and {r["label"] for r in rows} == {"UNKNOWN"}
    assert f"{len(rows)} window(s) invalid" in err


def test_har_live_counts_implausible_windows_and_prints_no_nan(tmp_path, sample, capsys):
    acc, gyro = sample["acc"][:1500].copy(), sample["gyro"][:1500].copy()
    gyro[300:305, 1] = 1e300
    npz = tmp_path / "rec.npz"
    np.savez(npz, acc=acc, gyro=gyro)
    assert live.main(["--csv", str(npz), "--fast"]) == 0
    out, err = capsys.readouterr()
    n = int(windows_touching(implausible_samples(acc, gyro), regular_starts(1500)).sum())
    assert n > 0
    assert f"{n} from implausible samples" in out
    assert len([l for l in err.splitlines() if "physical range" in l]) == 1
    assert "nan" not in out.lower()


def _prediction(valid, p):
    names = ["WALKING", "WALKING_UPSTAIRS", "WALKING_DOWNSTAIRS", "SITTING", "STANDING", "LAYING"]
    return Prediction(0, 128, 0.0, 2.56, "WALKING", 1, dict(zip(names, p)), valid)


def test_a_valid_window_with_nan_probabilities_is_never_shown_as_valid(capsys):
    bad = _prediction(True, [float("nan")] * 6)
    good = _prediction(True, [0.5, 0.1, 0.1, 0.1, 0.1, 0.1])
    names = list(bad.probabilities)
    rows = predict.rows_of("x", [bad, good], names)
    assert rows[0][3:] == ["UNKNOWN", 0, "", "", "", "", "", ""]
    assert rows[1][4] == 1 and rows[1][5] == "0.500000"
    view = live.LineView(type("R", (), {"labelled": False, "name": "x", "duration_s": 3.0})(), None)
    import io
    view.out = io.StringIO()
    view.window(bad, 0, 0.0, None)
    view.window(good, 0, 0.0, None)
    lines = view.out.getvalue().splitlines()
    assert "nan" not in lines[0].lower() and lines[0].rstrip().endswith("-")
    assert lines[1].rstrip().endswith("0.50")
