"""Capped reading of expanding streams, and the smoke run of the long-recording benchmark."""

from __future__ import annotations

import gzip
import io
import pickle
import subprocess
import sys
from pathlib import Path

import pytest

from har.runtime.tools.archives import ArchiveLimitError, CappedReader, expansion_limit

REPO = Path(__file__).resolve().parents[1]


def test_expansion_limit_known_answers():
    assert expansion_limit(10 << 20, max_bytes=256 << 20, max_ratio=50) == 256 << 20      # size cap
    assert expansion_limit(1 << 20, max_bytes=256 << 20, max_ratio=50) == 50 << 20        # ratio cap
    assert expansion_limit(100, max_bytes=256 << 20, max_ratio=50) == 1 << 20             # floor
    assert expansion_limit(100, max_bytes=1000, max_ratio=50) == 1000                      # floor under cap


def test_capped_reader_hands_out_up_to_the_limit_then_refuses():
    data = bytes(range(256)) * 10                    # 2560 bytes
    r = CappedReader(io.BytesIO(data), 2560, "x.gz")
    assert r.read() == data and r.read(10) == b""    # exactly at the limit, then end of data
    r = CappedReader(io.BytesIO(data), 1000, "x.gz", "expands past 1000 bytes")
    assert r.read(600) == data[:600]
    with pytest.raises(ArchiveLimitError, match=r"^x\.gz: refused, expands past 1000 bytes"):
        r.read(600)
    r = CappedReader(io.BytesIO(data), 1000, "x.gz")
    with pytest.raises(ArchiveLimitError):
        r.read()


def test_a_huge_single_read_asks_the_source_for_no_more_than_the_cap():
    asked = []

    class Source(io.BytesIO):
        def read(self, n=-1):
            asked.append(n)
            return super().read(n)

    r = CappedReader(Source(b"a" * 100), 50, "x")
    with pytest.raises(ArchiveLimitError):
        r.read(1 << 40)
    assert asked and max(asked) <= 51


def test_pickle_and_buffered_reading_through_the_cap():
    payload = gzip.compress(pickle.dumps({"rows": list(range(1000))}))
    stream = io.BufferedReader(CappedReader(gzip.GzipFile(fileobj=io.BytesIO(payload)), 1 << 20, "p.gz"))
    assert pickle.load(stream)["rows"][-1] == 999
    small = io.BufferedReader(CappedReader(gzip.GzipFile(fileobj=io.BytesIO(payload)), 100, "p.gz"))
    with pytest.raises(ArchiveLimitError):
        pickle.load(small)
    lines = CappedReader(io.BytesIO(b"one\ntwo\n"), 100, "t")
    assert lines.readline() == b"one\n" and lines.readline() == b"two\n"


def test_the_long_recording_benchmark_smoke_run(tmp_path):
    """--quick: one 10-minute file through har predict; the report has its row."""
    out = tmp_path / "r.md"
    proc = subprocess.run([sys.executable, "-m", "benchmarks.bench_predict_memory", "--quick", "--out", str(out),
                           "--data", str(tmp_path / "data")], cwd=REPO, capture_output=True, text=True,
                          timeout=180)
    assert proc.returncode == 0, proc.stderr[-2000:]
    text = out.read_text()
    row = [l for l in text.splitlines() if l.startswith("| 10 min |")]
    assert len(row) == 1 and "| 30,000 |" in row[0]
    cells = [c.strip() for c in row[0].strip("|").split("|")]
    assert cells[3] == "-" and float(cells[5]) > 0 and float(cells[6].replace(",", "")) > 0
    csv_lines = (tmp_path / "data" / "synthetic_10min.csv").read_text().splitlines()
    assert csv_lines[0] == "t,acc_x,acc_y,acc_z,gyro_x,gyro_y,gyro_z" and len(csv_lines) == 30_001
