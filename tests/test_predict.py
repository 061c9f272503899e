"""har predict: batch predictions of several files into one CSV, written atomically."""

from __future__ import annotations

import csv

from importlib import resources

import numpy as np
import pytest

from har.features import regular_starts
from har.model import cli
from har.runtime.tools import live


@pytest.fixture(scope="module")
def sample():
    with np.load(str(resources.files("har.runtime").joinpath("data/sample_recording.npz"))) as d:
        return {k: d[k] for k in d.files}


def write_engine_csv(path, acc, gyro):
    lines = ["t,acc_x,acc_y,acc_z,gyro_x,gyro_y,gyro_z"]
    for i in range(len(acc)):
        lines.append(",".join([f"{i / 50:.2f}", *(f"{v:.6f}" for v in acc[i]),
                               *(f"{v:.6f}" for v in gyro[i])]))
    path.write_text("\n".join(lines) + "\n")
    return path


def test_two_good_files_and_a_bad_one(tmp_path, sample, capsys):
    npz = tmp_path / "part.npz"
    np.savez(npz, acc=sample["acc"][:1000], gyro=sample["gyro"][:1000])
    good_csv = write_engine_csv(tmp_path / "walk.csv", sample["acc"][7000:7640], sample["gyro"][7000:7640])
    bad = tmp_path / "bad.csv"
    bad.write_text("t,acc_x,acc_y,acc_z,gyro_x,gyro_y,gyro_z\n0,1,0,0,0,0,0\n0.02,1,0,x,0,0,0\n")
    out = tmp_path / "predictions.csv"

    code = cli.main(["predict", str(npz), str(bad), str(good_csv), "--out", str(out)])
    _, err = capsys.readouterr()
    assert code == 1
    assert "Traceback" not in err
    assert "bad.csv line 3: column 'acc_z'" in err
    assert "2 of 3 file(s) predicted" in err and "1 failed" in err

    with out.open() as fh:
        rows = list(csv.DictReader(fh))
    assert list(rows[0]) == ["source", "start_s", "end_s", "label", "valid", "p_WALKING",
                             "p_WALKING_UPSTAIRS", "p_WALKING_DOWNSTAIRS", "p_SITTING", "p_STANDING",
                             "p_LAYING"]
    by_source = {}
    for r in rows:
        by_source.setdefault(r["source"], []).append(r)
    assert set(by_source) == {str(npz), str(good_csv)}
    assert len(by_source[str(npz)]) == len(regular_starts(1000))
    assert len(by_source[str(good_csv)]) >= len(regular_starts(640)) - 1
    r = by_source[str(npz)][0]
    assert (r["start_s"], r["end_s"], r["valid"]) == ("0.00", "2.56", "1")
    assert sum(float(r[k]) for k in r if k.startswith("p_")) == pytest.approx(1.0, abs=1e-5)
    # atomic: nothing but the inputs and the output in the folder
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        ["part.npz", "walk.csv", "bad.csv", "predictions.csv"])


def test_all_good_exit_0_and_replaces_output(tmp_path, sample, capsys):
    npz = tmp_path / "a.npz"
    np.savez(npz, acc=sample["acc"][:700], gyro=sample["gyro"][:700])
    out = tmp_path / "out.csv"
    out.write_text("old contents\n")
    assert cli.main(["predict", str(npz), "--out", str(out)]) == 0
    text = out.read_text()
    assert text.startswith("source,start_s") and "old contents" not in text
    assert len(text.splitlines()) == 1 + len(regular_starts(700))
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []


def test_bad_npz_and_missing_file_reported(tmp_path, capsys):
    npz = tmp_path / "nogyro.npz"
    np.savez(npz, acc=np.zeros((300, 3)))
    out = tmp_path / "out.csv"
    code = cli.main(["predict", str(npz), str(tmp_path / "missing.csv"), "--out", str(out)])
    _, err = capsys.readouterr()
    assert code == 1
    assert "nogyro.npz: missing array 'gyro'" in err
    assert "missing.csv: no such file" in err
    assert not out.exists()                  # nothing succeeded: no output written


def test_corrupt_model_fails_once(tmp_path, sample, capsys):
    npz = tmp_path / "a.npz"
    np.savez(npz, acc=sample["acc"][:300], gyro=sample["gyro"][:300])
    model = tmp_path / "bad.onnx"
    model.write_bytes(b"garbage")
    code = cli.main(["predict", str(npz), "--out", str(tmp_path / "o.csv"), "--model", str(model)])
    _, err = capsys.readouterr()
    assert code == 1 and "bad.onnx" in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1
