"""The MotionSense reader: published CoreMotion layout and compact npz, units, signs, handling seconds."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from har.features import SPAN
from har.runtime.tools.hapt import DatasetError
from har.model.motionsense import (DEVICE_MOTION_COLUMNS, HELDOUT_SUBJECTS, SUBJECT_OFFSET, Trial,
                                   convert_device_motion, load_motionsense, read_compact,
                                   read_device_motion_csv, trial_windows)

MOTIONSENSE = Path(os.environ.get("HAR_SHARED_DIR", Path(__file__).resolve().parents[2] / "shared")) / "motionsense"


@pytest.fixture(scope="module")
def compact_trials():
    if not (MOTIONSENSE / "motionsense.npz").exists():
        pytest.skip(f"MotionSense compact copy not found at {MOTIONSENSE} (set HAR_SHARED_DIR)")
    return {t.key: t for t in read_compact(MOTIONSENSE)}


def _write_published(path, acc, gyro, *, index_name=""):
    """Write engine-unit samples as a published CoreMotion file: iOS sign, gravity split from user acc."""
    ios_total = -acc
    gravity = ios_total / np.linalg.norm(ios_total, axis=1, keepdims=True)   # a unit vector, like CoreMotion's
    user = ios_total - gravity
    attitude = np.zeros((len(acc), 3))
    table = np.hstack([np.arange(len(acc))[:, None], attitude, gravity, gyro, user])
    header = ",".join((index_name,) + DEVICE_MOTION_COLUMNS[1:])
    lines = [header] + [",".join([str(int(r[0]))] + [repr(float(v)) for v in r[1:]]) for r in table]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n")


def test_ios_face_up_becomes_android_face_up():
    acc, gyro = convert_device_motion(np.array([[0.0, 0.0, -1.0]]), np.array([[0.1, 0.0, 0.0]]),
                                      np.array([[0.5, -0.2, 0.3]]))
    np.testing.assert_allclose(acc, [[-0.1, 0.0, 1.0]])
    np.testing.assert_allclose(gyro, [[0.5, -0.2, 0.3]])


def test_published_layout_reads_as_the_compact_copy(tmp_path, compact_trials):
    ref = compact_trials["sub01_wlk_7"]
    other = compact_trials["sub02_sit_5"]
    root = tmp_path / "A_DeviceMotion_data" / "A_DeviceMotion_data"
    _write_published(root / "wlk_7" / "sub_1.csv", ref.acc, ref.gyro)
    _write_published(root / "sit_5" / "sub_2.csv", other.acc[:300], other.gyro[:300])
    (tmp_path / "__MACOSX" / "wlk_7").mkdir(parents=True)          # zip debris is ignored
    (root / "wlk_7" / ".~lock.sub_1.csv#").write_text("x")

    trials = {t.key: t for t in load_motionsense(tmp_path)}
    assert sorted(trials) == ["sub01_wlk_7", "sub02_sit_5"]
    got = trials["sub01_wlk_7"]
    assert (got.subject, got.code, got.number, got.activity, got.session) == (1, "wlk", 7, 1, 1)
    np.testing.assert_allclose(got.acc, ref.acc, atol=1e-6)
    np.testing.assert_allclose(got.gyro, ref.gyro, atol=1e-6)
    assert trials["sub02_sit_5"].activity == 4


def test_compact_copy_drops_the_duplicate_trial(compact_trials):
    trials = load_motionsense(MOTIONSENSE)
    keys = {t.key for t in trials}
    assert len(compact_trials) == 360 and len(trials) == 359
    assert "sub01_sit_13" not in keys and "sub01_sit_5" in keys
    # Standing with the phone top down in the pocket: gravity on -y in the engine's (Android) sign.
    standing = np.concatenate([t.acc for t in trials if t.code == "std"])
    assert standing.mean(axis=0)[1] < -0.8


def test_windows_skip_the_handling_seconds(compact_trials):
    trial = compact_trials["sub20_ups_4"]
    w = trial_windows(trial, handling_s=3.0)
    assert len(w) > 0 and (w.start >= 150).all() and (w.start + SPAN <= trial.n_samples - 150).all()
    assert (w.start % 64 == 0).all()                        # the runtime's grid
    assert set(w.y) == {2} and set(w.subject) == {SUBJECT_OFFSET + 20}
    assert 20 in HELDOUT_SUBJECTS
    all_windows = trial_windows(trial, handling_s=0.0)
    assert len(all_windows) > len(w)
    jog = trial_windows(compact_trials["sub20_jog_16"], handling_s=3.0)
    assert set(jog.y) == {0}                                 # no engine class


def test_short_trial_gives_no_windows():
    t = Trial(1, "sit", 5, np.tile([0.0, 0.0, 1.0], (400, 1)), np.zeros((400, 3)))
    assert len(trial_windows(t, handling_s=3.0)) == 0
    assert len(trial_windows(t, handling_s=0.0)) > 0


def test_bad_header_names_line_1(tmp_path):
    path = tmp_path / "sub_1.csv"
    path.write_text("a,b,c\n1,2,3\n")
    with pytest.raises(DatasetError, match=r"sub_1.csv line 1: expected the CoreMotion header"):
        read_device_motion_csv(path)


def test_bad_value_names_line_and_column(tmp_path):
    path = tmp_path / "sub_1.csv"
    _write_published(path, np.tile([0.0, 0.0, 1.0], (5, 1)), np.zeros((5, 3)))
    lines = path.read_text().splitlines()
    fields = lines[2].split(",")
    fields[5] = "abc"                                       # gravity.y of the second sample
    lines[2] = ",".join(fields)
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(DatasetError, match=r"line 3: column 'gravity.y': expected a number, got 'abc'"):
        read_device_motion_csv(path)


def test_pandas_index_header_is_accepted(tmp_path):
    path = tmp_path / "sub_3.csv"
    _write_published(path, np.tile([0.0, -1.0, 0.0], (4, 1)), np.ones((4, 3)), index_name="Unnamed: 0")
    acc, gyro = read_device_motion_csv(path)
    np.testing.assert_allclose(acc, np.tile([0.0, -1.0, 0.0], (4, 1)))
    np.testing.assert_allclose(gyro, 1.0)


def test_folder_without_trials_is_refused(tmp_path):
    (tmp_path / "nothing_here").mkdir()
    with pytest.raises(DatasetError, match="no MotionSense trial folders"):
        load_motionsense(tmp_path)


def test_turning_the_phone_about_y_flips_x_and_z_of_both_sensors():
    from har.model.motionsense import turned_about_y

    t = Trial(4, "std", 6, np.array([[0.1, -0.98, 0.2]]), np.array([[0.3, -0.4, 0.5]]))
    u = turned_about_y(t)
    np.testing.assert_allclose(u.acc, [[-0.1, -0.98, -0.2]])
    np.testing.assert_allclose(u.gyro, [[-0.3, -0.4, -0.5]])
    assert u.key == t.key and np.linalg.det(np.diag([-1, 1, -1])) == 1     # a rotation, not a mirror
