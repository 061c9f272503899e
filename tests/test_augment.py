"""Training augmentation: tilted copies of recordings (proper rotations, reproducible, never of held-out data)."""

import numpy as np
import pytest

from har.model.augment import Augmentation, Tilts, rotate, rotation_matrix


def _angle_deg(R):
    return np.degrees(np.arccos(np.clip((np.trace(R) - 1) / 2, -1, 1)))


def test_rotation_matrix_is_a_proper_rotation_by_the_angle_about_the_axis():
    axis = np.array([1.0, 2.0, -2.0]) / 3
    R = rotation_matrix(axis, np.deg2rad(30))
    np.testing.assert_allclose(R @ R.T, np.eye(3), atol=1e-12)
    assert np.linalg.det(R) == pytest.approx(1.0)
    np.testing.assert_allclose(R @ axis, axis, atol=1e-12)          # the axis stays put
    assert _angle_deg(R) == pytest.approx(30.0)
    # About z by 90 degrees: x goes to y.
    np.testing.assert_allclose(rotation_matrix(np.array([0.0, 0, 1]), np.pi / 2) @ [1, 0, 0], [0, 1, 0], atol=1e-12)


def test_tilts_draw_angles_in_range_reproducibly_per_recording():
    tilts = Tilts(20.0, 45.0, copies=3, seed=7)
    a = tilts.rotations(11)
    assert a.shape == (3, 3, 3)
    angles = [_angle_deg(R) for R in a]
    assert all(20.0 - 1e-9 <= x <= 45.0 + 1e-9 for x in angles), angles
    np.testing.assert_array_equal(a, Tilts(20.0, 45.0, copies=3, seed=7).rotations(11))   # same recording, same rows
    assert not np.allclose(a, tilts.rotations(12))
    assert not np.allclose(a, Tilts(20.0, 45.0, copies=3, seed=8).rotations(11))


def test_rotating_keeps_magnitudes_and_turns_both_sensors_alike():
    rng = np.random.default_rng(0)
    acc, gyro = rng.normal(size=(50, 3)), rng.normal(size=(50, 3))
    R = Tilts(5.0, 20.0, 1, seed=1).rotations(3)[0]
    acc2, gyro2 = rotate(acc, gyro, R)
    np.testing.assert_allclose(np.linalg.norm(acc2, axis=1), np.linalg.norm(acc, axis=1))
    np.testing.assert_allclose(np.linalg.norm(gyro2, axis=1), np.linalg.norm(gyro, axis=1))
    np.testing.assert_allclose(acc2, (R @ acc.T).T)
    # The angle between the two sensors' vectors, a physical quantity, is kept sample by sample.
    np.testing.assert_allclose(np.sum(acc2 * gyro2, axis=1), np.sum(acc * gyro, axis=1))


@pytest.mark.parametrize("args", [(30.0, 20.0, 1), (-1.0, 10.0, 1), (0.0, 200.0, 1), (5.0, 20.0, 0)])
def test_bad_tilts_are_refused(args):
    with pytest.raises(ValueError, match="tilt"):
        Tilts(*args)


def test_rolls_about_a_device_axis_keep_that_axis_and_one_activity():
    roll = Tilts(0.0, 180.0, copies=50, seed=3, axis=(1.0, 0.0, 0.0), activity=6)
    R = roll.rotations(5)
    np.testing.assert_allclose(R @ np.array([1.0, 0, 0]), np.tile([1.0, 0, 0], (50, 1)), atol=1e-12)
    # Either way round: lying on the back, on either side and on the front all occur.
    ys = (R @ np.array([0.0, 1.0, 0]))[:, 1:]
    quadrants = {(bool(a > 0), bool(b > 0)) for a, b in ys}
    assert len(quadrants) == 4
    np.testing.assert_array_equal(roll.keep(np.array([6, 5, 6, 0])), [True, False, True, False])
    assert Tilts(5.0, 20.0, 1).keep(np.array([1, 0])).all()
    with pytest.raises(ValueError, match="unit 3-vector"):
        Tilts(0.0, 180.0, 1, axis=(1.0, 1.0, 0.0))


def test_augmentation_round_trips_through_metadata_text():
    aug = Augmentation(waist=Tilts(5.0, 20.0, 1, seed=1), pocket=Tilts(20.0, 45.0, 2, seed=2), pocket_turned=True,
                       waist_lying=Tilts(0.0, 180.0, 3, seed=3, axis=(1.0, 0.0, 0.0), activity=6))
    assert Augmentation.from_json(aug.to_json()) == aug
    assert Augmentation.from_json(Augmentation(pocket_turned=True).to_json()) == Augmentation(pocket_turned=True)
    assert Augmentation.from_json(None) == Augmentation() and Augmentation.from_json("") == Augmentation()
    assert "tilted 5-20 degrees" in aug.describe() and "turned 180 degrees" in aug.describe()


def test_held_out_subjects_are_never_tilted():
    from har.model.motionsense import HELDOUT_SUBJECTS, Trial, tilted_trials
    from har.model.windows import tilted_recordings
    from har.runtime.tools.hapt import TEST_SUBJECTS, Recording

    x = np.tile([0.0, 0.0, 1.0], (10, 1))
    trials = [Trial(s, "sit", 5, x, x * 0) for s in (1, HELDOUT_SUBJECTS[0], 16)]
    tilted = tilted_trials(trials, Tilts(10.0, 10.0, copies=2))
    assert [t.subject for t in tilted] == [1, 1, 16, 16]
    # Tilted by 10 degrees about some axis: gravity leaves z by at most that angle, the two copies differently.
    leave = [np.degrees(np.arccos(np.clip(t.acc[0, 2], -1, 1))) for t in tilted]
    assert all(0 < a <= 10.0 + 1e-9 for a in leave) and not np.allclose(tilted[0].acc, tilted[1].acc)

    train_user = next(u for u in range(1, 31) if u not in TEST_SUBJECTS)
    recs = [Recording(1, TEST_SUBJECTS[0], x, x * 0, np.zeros(10, int)),
            Recording(2, train_user, x, x * 0, np.zeros(10, int))]
    out = tilted_recordings(recs, Tilts(5.0, 20.0, copies=1))
    assert [r.user for r in out] == [train_user]
    assert not np.allclose(out[0].acc, x)
