"""har predict's output rules: never an input, never a read-only or non-regular file, - is stdout,
a corrupt archive among the inputs is reported and skipped while the others are written."""

from __future__ import annotations

import csv
import io
import os
import zipfile
from importlib import resources

import numpy as np
import pytest

from har.model import cli
from har.runtime.tools import predict

HEADER = "t,acc_x,acc_y,acc_z,gyro_x,gyro_y,gyro_z"


@pytest.fixture(scope="module")
def sample():
    with np.load(str(resources.files("har.runtime").joinpath("data/sample_recording.npz"))) as d:
        return {k: d[k] for k in d.files}


def engine_csv(path, sample, start=7000, n=640):
    acc, gyro = sample["acc"][start:start + n], sample["gyro"][start:start + n]
    lines = [HEADER] + [",".join([f"{i / 50:.2f}", *(f"{v:.6f}" for v in acc[i]), *(f"{v:.6f}" for v in gyro[i])])
                        for i in range(n)]
    path.write_text("\n".join(lines) + "\n")
    return path


def refused(capsys, argv, *fragments):
    """Run har predict, expect exit 1 with one line holding every fragment."""
    code = cli.main(["predict", *argv])
    err = capsys.readouterr().err
    assert code == 1, err
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    for f in fragments:
        assert f in lines[0], lines[0]
    return lines[0]


def test_the_output_may_not_be_the_input(tmp_path, sample, capsys):
    rec = engine_csv(tmp_path / "a.csv", sample)
    before = rec.read_bytes()
    refused(capsys, [str(rec), "--out", str(rec)], "a.csv: is the input", "choose another --out")
    assert rec.read_bytes() == before
    # The same file under another spelling.
    refused(capsys, [str(rec), "--out", str(tmp_path / "sub" / ".." / "a.csv")], "is the input")
    assert rec.read_bytes() == before


def test_the_output_may_not_be_the_input_through_a_symlink_or_hard_link(tmp_path, sample, capsys):
    rec = engine_csv(tmp_path / "a.csv", sample)
    before = rec.read_bytes()
    link = tmp_path / "link.csv"
    link.symlink_to(rec)
    refused(capsys, [str(rec), "--out", str(link)], "link.csv: is the input")
    refused(capsys, [str(link), "--out", str(rec)], "a.csv: is the input")
    hard = tmp_path / "hard.csv"
    os.link(rec, hard)
    refused(capsys, [str(rec), "--out", str(hard)], "hard.csv: is the input")
    assert rec.read_bytes() == before and link.is_symlink()


def test_the_output_may_not_be_a_rawdata_companion_or_inside_an_input_folder(tmp_path, sample, capsys):
    raw = tmp_path / "RawData"
    raw.mkdir()
    np.savetxt(raw / "acc_exp01_user01.txt", sample["acc"][:300], fmt="%.6f")
    np.savetxt(raw / "gyro_exp01_user01.txt", sample["gyro"][:300], fmt="%.6f")
    gyro_before = (raw / "gyro_exp01_user01.txt").read_bytes()
    refused(capsys, [str(raw / "acc_exp01_user01.txt"), "--out", str(raw / "gyro_exp01_user01.txt")],
            "is the input", "gyro_exp01_user01.txt")
    assert (raw / "gyro_exp01_user01.txt").read_bytes() == gyro_before
    export = tmp_path / "Walk-export"
    export.mkdir()
    refused(capsys, [str(export), "--out", str(export / "predictions.csv")], "inside the input folder")
    assert not (export / "predictions.csv").exists()


def test_a_read_only_output_is_refused_before_any_work(tmp_path, sample, capsys, monkeypatch):
    rec = engine_csv(tmp_path / "a.csv", sample)
    out = tmp_path / "kept.csv"
    out.write_text("precious\n")
    out.chmod(0o444)
    loaded = []
    monkeypatch.setattr("har.runtime.model.load_model", lambda *a, **k: loaded.append(1))
    refused(capsys, [str(rec), "--out", str(out)], "kept.csv: is read-only")
    assert out.read_text() == "precious\n" and not loaded


@pytest.mark.parametrize("kind", ["folder", "fifo", "device"])
def test_a_non_regular_output_is_refused(tmp_path, sample, capsys, kind):
    rec = engine_csv(tmp_path / "a.csv", sample)
    if kind == "folder":
        out = tmp_path / "folder"
        out.mkdir()
    elif kind == "fifo":
        out = tmp_path / "pipe"
        os.mkfifo(out)
    else:
        out = "/dev/null"
    refused(capsys, [str(rec), "--out", str(out)], f"is a {kind}")


def test_dash_writes_the_csv_to_standard_output(tmp_path, sample, capsys):
    rec = engine_csv(tmp_path / "a.csv", sample)
    code = cli.main(["predict", str(rec), "--out", "-"])
    out, err = capsys.readouterr()
    assert code == 0, err
    rows = list(csv.DictReader(io.StringIO(out)))
    assert rows and rows[0]["source"] == str(rec) and rows[0]["start_s"] == "0.00"
    assert "-> standard output" in err
    assert not (tmp_path / "-").exists()


def sensor_logger_zip(path, sample, n=640):
    """A Sensor Logger export zip (stored, uncompressed members)."""
    t_ns = 1_700_000_000_000_000_000 + np.arange(n) * 20_000_000
    def member(xyz):
        lines = ["time,seconds_elapsed,z,y,x"] + [
            f"{t},{(t - t_ns[0]) / 1e9:.3f},{z:.6f},{y:.6f},{x:.6f}" for t, (x, y, z) in zip(t_ns, xyz)]
        return "\n".join(lines) + "\n"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_STORED) as zf:
        zf.writestr("TotalAcceleration.csv", member(sample["acc"][:n] * 9.80665))
        zf.writestr("Gyroscope.csv", member(sample["gyro"][:n]))
        zf.writestr("Metadata.csv", "version,device name,platform\n3,Pixel,android\n")
    return path


def test_a_zip_with_a_bad_crc_is_skipped_and_the_good_csv_written(tmp_path, sample, capsys):
    good = engine_csv(tmp_path / "good.csv", sample)
    bad = sensor_logger_zip(tmp_path / "export.zip", sample)
    data = bytearray(bad.read_bytes())
    k = data.index(b"\n", data.index(b"seconds_elapsed")) + 40        # a digit inside the first member
    data[k] = ord("7") if data[k] != ord("7") else ord("8")
    bad.write_bytes(bytes(data))
    with zipfile.ZipFile(bad) as zf, pytest.raises(zipfile.BadZipFile, match="CRC"):
        zf.read("TotalAcceleration.csv")                               # the damage is what we meant
    out = tmp_path / "predictions.csv"

    code = cli.main(["predict", str(bad), str(good), "--out", str(out)])
    err = capsys.readouterr().err
    assert code == 1
    assert "Traceback" not in err
    assert "export.zip" in err and "CRC" in err
    assert "1 of 2 file(s) predicted" in err and "1 failed" in err
    with out.open() as fh:
        sources = {r["source"] for r in csv.DictReader(fh)}
    assert sources == {str(good)}


def test_a_truncated_npz_is_skipped_with_one_line(tmp_path, sample, capsys):
    good = engine_csv(tmp_path / "good.csv", sample)
    npz = tmp_path / "cut.npz"
    np.savez_compressed(npz, acc=sample["acc"][:2000], gyro=sample["gyro"][:2000])
    data = npz.read_bytes()
    npz.write_bytes(data[:len(data) // 2])
    out = tmp_path / "p.csv"
    code = cli.main(["predict", str(npz), str(good), "--out", str(out)])
    err = capsys.readouterr().err
    assert code == 1 and "Traceback" not in err
    bad_lines = [l for l in err.splitlines() if "cut.npz" in l]
    assert len(bad_lines) == 1 and "1 of 2 file(s) predicted" in err
    assert out.exists()


def test_check_output_accepts_a_new_file_and_dash(tmp_path):
    assert predict.check_output("-", ["a.csv"]) is None
    assert predict.check_output(str(tmp_path / "new.csv"), [str(tmp_path / "a.csv")]) == tmp_path / "new.csv"
