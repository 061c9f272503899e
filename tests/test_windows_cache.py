"""The feature cache is keyed on the content of the recordings, never on their names and sizes."""

from __future__ import annotations

import numpy as np
import pytest

from har.model.windows import load_windows, windows_cache_path
from har.runtime.tools.hapt import DatasetError


def write_rawdata(folder, seed):
    """A one-recording RawData folder whose files have the same size for every seed."""
    folder.mkdir(exist_ok=True)
    rng = np.random.default_rng(seed)
    n = 640
    acc = rng.uniform(0.1, 0.9, (n, 3))             # "%.6f" of [0.1, 0.9): always 8 characters
    gyro = rng.uniform(0.1, 0.9, (n, 3))
    np.savetxt(folder / "acc_exp01_user01.txt", acc, fmt="%.6f")
    np.savetxt(folder / "gyro_exp01_user01.txt", gyro, fmt="%.6f")
    np.savetxt(folder / "labels.txt", [[1, 1, 1, 1, n]], fmt="%d")
    return folder


def test_a_different_file_of_the_same_name_and_size_gets_its_own_features(tmp_path, monkeypatch):
    monkeypatch.setenv("HAR_CACHE_DIR", str(tmp_path / "cache"))
    raw = write_rawdata(tmp_path / "RawData", seed=1)
    sizes = {p.name: p.stat().st_size for p in raw.iterdir()}
    first = load_windows(raw, log=lambda *_: None)
    key_first = windows_cache_path(raw)
    assert key_first.exists()

    write_rawdata(raw, seed=2)                       # same names, same sizes, other samples
    assert {p.name: p.stat().st_size for p in raw.iterdir()} == sizes
    second = load_windows(raw, log=lambda *_: None)
    fresh = load_windows(raw, use_cache=False, log=lambda *_: None)

    assert windows_cache_path(raw) != key_first
    assert not np.allclose(second.X, first.X)
    np.testing.assert_array_equal(second.X, fresh.X)


def test_the_same_content_under_another_name_shares_the_key(tmp_path, monkeypatch):
    monkeypatch.setenv("HAR_CACHE_DIR", str(tmp_path / "cache"))
    a = write_rawdata(tmp_path / "a", seed=3)
    b = write_rawdata(tmp_path / "b", seed=3)
    assert windows_cache_path(a) == windows_cache_path(b)


def test_a_truncated_feature_cache_is_one_line(tmp_path, monkeypatch):
    monkeypatch.setenv("HAR_CACHE_DIR", str(tmp_path / "cache"))
    raw = write_rawdata(tmp_path / "RawData", seed=4)
    load_windows(raw, log=lambda *_: None)
    cache = windows_cache_path(raw)
    data = cache.read_bytes()
    cache.write_bytes(data[:len(data) // 2])
    with pytest.raises(DatasetError) as err:
        load_windows(raw, log=lambda *_: None)
    assert "corrupt feature cache" in str(err.value) and cache.name in str(err.value)
    assert "\n" not in str(err.value)
