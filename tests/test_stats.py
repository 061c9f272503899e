"""Datasource statistics: known answers for eta and mutual information, balance tables, report files."""

from __future__ import annotations

import os

import numpy as np
import pytest

from har.model.stats import (
    BALANCE_PLOT, FEATURES_PLOT, QUANTILES, REPORT_NAME, correlation_ratio, datasource_stats, format_text,
    write_report,
)

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _names(n):
    return [f"f{i}" for i in range(n)]


def _stats(X, y, subjects=None, **kw):
    subjects = np.ones(len(y), dtype=int) if subjects is None else subjects
    return datasource_stats(X, y, subjects, _names(X.shape[1]), **kw)


def test_class_id_feature_has_eta_one_and_the_highest_mi():
    rng = np.random.default_rng(0)
    y = np.arange(1200) % 6 + 1
    X = np.column_stack([y.astype(float), rng.normal(size=(1200, 4))])
    r = _stats(X, y)
    assert r.eta[0] == pytest.approx(1.0, abs=1e-12)
    assert np.argmax(r.mi) == 0
    # Perfectly informative about 6 balanced classes: MI near H(y) = ln 6 = 1.79 nats.
    assert r.mi[0] > 1.5
    assert r.top_mi[0] == 0 and r.top_eta[0] == 0


def test_pure_noise_has_eta_and_mi_near_zero():
    rng = np.random.default_rng(1)
    y = np.arange(3000) % 6 + 1
    r = _stats(rng.normal(size=(3000, 3)), y)
    # Chance level of eta for k classes is about sqrt((k - 1) / n) = 0.04.
    assert np.all(r.eta < 0.1)
    assert np.all(r.mi < 0.03)


def test_product_target_is_invisible_to_each_factor_but_not_to_the_product():
    rng = np.random.default_rng(2)
    x, z = rng.normal(size=(2, 4000))
    y = (x * z > 0).astype(int)
    r = _stats(np.column_stack([x, z, x * z]), y)
    assert r.eta[0] < 0.05 and r.eta[1] < 0.05
    # Known answer: class means of x*z are +-E|x||z| = +-2/pi and Var(x*z) = 1, so eta = 2/pi.
    assert r.eta[2] == pytest.approx(2 / np.pi, abs=0.03)


def test_equal_means_different_shapes_low_eta_high_mi_is_flagged():
    rng = np.random.default_rng(3)
    half = 500
    # Mirrored halves make both class means exactly 0: eta is 0 by construction, not by luck.
    narrow = rng.normal(size=half)
    wide = 3.0 + rng.normal(0.0, 0.1, size=half)
    bimodal = np.concatenate([narrow, -narrow, wide, -wide])
    y = np.repeat([4, 5], 2 * half)
    shifted = 0.8 * (y == 5) + rng.normal(size=len(y))  # an ordinary linear feature
    X = np.column_stack([bimodal, shifted, rng.normal(size=(len(y), 20))])

    r = _stats(X, y, top=3)
    assert r.eta[0] < 1e-9
    # Nearly separable by |x|: MI approaches H(y) = ln 2 = 0.69 nats.
    assert r.mi[0] > 0.4 and np.argmax(r.mi) == 0
    assert r.eta[1] > 0.3
    assert list(r.nonlinear) == [0]
    text = format_text(r)
    assert "High MI but low eta" in text and "f0: MI #1, eta #22" in text


def test_correlation_ratio_ignores_nan_and_is_zero_for_constants():
    y_index = np.array([0, 0, 1, 1, 1])
    X = np.array([
        [0.0, 5.0, np.nan],
        [0.0, 5.0, np.nan],
        [1.0, 5.0, np.nan],
        [1.0, 5.0, np.nan],
        [np.nan, 5.0, np.nan],
    ])
    np.testing.assert_allclose(correlation_ratio(X, y_index, 2), [1.0, 0.0, 0.0])


def test_class_balance_overall_and_per_subject():
    y = np.array([1] * 10 + [2] * 20 + [3] * 30)
    subjects = np.array([7] * 10 + [7] * 10 + [8] * 10 + [8] * 30)
    X = np.random.default_rng(4).normal(size=(60, 2))
    r = _stats(X, y, subjects)
    np.testing.assert_array_equal(r.class_ids, [1, 2, 3])
    np.testing.assert_array_equal(r.class_counts, [10, 20, 30])
    np.testing.assert_array_equal(r.subject_ids, [7, 8])
    np.testing.assert_array_equal(r.subject_counts, [[10, 10, 0], [0, 10, 30]])

    text = format_text(r)
    assert "Class balance:" in text
    assert "1 WALKING" in text and " 10  16.7%" in text
    assert "3 WALKING_DOWNSTAIRS" in text and " 30  50.0%" in text
    assert "subject 7: no WALKING_DOWNSTAIRS" in text and "subject 8: no WALKING" in text


def test_feature_summary_known_answers():
    col = np.concatenate([np.arange(101, dtype=float), [np.nan] * 3])
    X = np.column_stack([col, np.full(104, 2.0)])
    y = np.arange(104) % 2 + 1
    r = _stats(X, y)
    assert (r.minimum[0], r.maximum[0], r.mean[0]) == (0.0, 100.0, 50.0)
    np.testing.assert_allclose(r.quantiles[0], QUANTILES)  # percentiles of 0..100 are themselves
    np.testing.assert_array_equal(r.nan_count, [3, 0])
    text = format_text(r)
    assert "1 with NaN (3 values): f0" in text
    assert "range [0, 100]" in text and "1 constant" in text


def test_mi_rows_are_subsampled_and_seeded():
    rng = np.random.default_rng(5)
    y = np.arange(900) % 3 + 1
    X = np.column_stack([y + rng.normal(0, 0.5, 900), rng.normal(size=900)])
    a = _stats(X, y, max_mi_rows=300, random_state=11)
    b = _stats(X, y, max_mi_rows=300, random_state=11)
    assert a.mi_rows == 300 and a.sample_values.shape == (300, 2) and a.sample_y.shape == (300,)
    np.testing.assert_array_equal(a.mi, b.mi)
    assert "(MI estimated on 300 of 900 rows)" in format_text(a)


def test_write_report_writes_markdown_and_plots(tmp_path):
    rng = np.random.default_rng(6)
    y = np.arange(600) % 6 + 1
    subjects = np.arange(600) % 5 + 1
    X = np.column_stack([y + rng.normal(0, 0.3, 600), rng.normal(size=(600, 8))])
    X[:4, 2] = np.nan
    r = _stats(X, y, subjects, top=4)

    out = write_report(r, tmp_path / "report")
    assert out == tmp_path / "report" / REPORT_NAME
    assert sorted(os.listdir(out.parent)) == sorted([REPORT_NAME, BALANCE_PLOT, FEATURES_PLOT])
    for png in (BALANCE_PLOT, FEATURES_PLOT):
        data = (out.parent / png).read_bytes()
        assert data.startswith(PNG_MAGIC) and len(data) > 5_000

    md = out.read_text()
    assert "## Class balance" in md and "| 6 | LAYING | 100 | 16.7 |" in md
    assert "## Class balance per subject" in md and "| 5 | 120 |" in md
    assert f"]({BALANCE_PLOT})" in md and f"]({FEATURES_PLOT})" in md
    # The full table has one row per feature, the terminal text only a digest.
    for i, name in enumerate(r.feature_names):
        assert f"| {i + 1} | {name} | " in md
    assert "| 3 | f2 | 4 |" in md
    assert "| 3 | f2 | 4 |" not in format_text(r)

    write_report(r, tmp_path / "report")  # rewriting in place leaves no temporary files
    assert len(os.listdir(out.parent)) == 3


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(y=np.ones(9, dtype=int)), r"y has shape \(9,\), expected \(10,\)"),
        (dict(subjects=np.ones(3, dtype=int)), r"subjects has shape \(3,\), expected \(10,\)"),
        (dict(feature_names=["a", "a"]), r"not unique, e\.g\. \['a'\]"),
        (dict(feature_names=["a"]), "1 feature names for 2 columns"),
        (dict(y=np.full(10, 1.5)), r"y must hold integer ids, got e\.g\. \[1\.5, 1\.5, 1\.5\]"),
    ],
)
def test_bad_input_is_reported(kwargs, message):
    args = dict(X=np.zeros((10, 2)), y=np.ones(10, dtype=int), subjects=np.ones(10, dtype=int),
                feature_names=["a", "b"])
    args.update(kwargs)
    with pytest.raises(ValueError, match=message):
        datasource_stats(args["X"], args["y"], args["subjects"], args["feature_names"])
