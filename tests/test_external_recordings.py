"""Real phone exports load (or are refused for the right reason) through har-live and har predict.

The inputs are the team's ``external_recordings`` (see its README.md): files written by other
people's phones, unmodified. The hostile cases (bombs, corrupt archives, slow rates, clock jumps,
epoch times) are built here in ``tmp_path``.
"""

from __future__ import annotations

import csv
import io
import subprocess
import sys
import zipfile

import numpy as np
import pytest

from har.model import cli
from har.runtime.tools import live

from conftest import SHARED

RECORDINGS = SHARED / "external_recordings"

#: input -> None (must load) or the words its one-line refusal must hold.
EXPECTED = {
    "justine-sensorlogger-ios/walking": None,
    "justine-sensorlogger-ios/standing": None,
    "justine-sensorlogger-ios/still": None,
    "ebenezer-sensorlogger-ios/walking": None,
    "ebenezer-sensorlogger-ios/stair_climbing": None,
    "jmandzak-sensorlogger-ios/Standing_1s": ("0.998 Hz", "at least 20 Hz"),
    "jmandzak-sensorlogger-ios/Standing_100hz_renamed_headers": (
        "missing columns 'x', 'y', 'z'", "ACCELEROMETER Z (m/s²)"),
    "notjustus-phyphox-ios/walking": None,
    "notjustus-phyphox-ios/standing": None,
    "babur-phyphox-ios/walking": None,
    "cryptic390-phyphox-ios/phone_vertical_walking/Raw Data.csv": (
        "Linear Acceleration (gravity removed)", "no gyroscope", "'Acceleration with g'"),
    "harsha-android-app-unknown/Walking": None,
    "harsha-android-app-unknown/Sitting": None,
    "harsha-android-app-unknown/Standing": None,
    "jmandzak-androsensor/Upstairs1.csv": ("2 Hz", "at least 20 Hz"),
    "jmandzak-androsensor/walking1.csv": ("2 Hz", "at least 20 Hz"),
    "difronzo-hyperimu-uci-rawdata/acc_exp11_user07.txt": None,
    "malims-sensorlogger-android/2023-11-24_07-25-54.zip": ("no gyroscope", "Gyroscope.csv is missing"),
}
#: Notices some inputs must give (the unit the data revealed).
NOTICES = {"difronzo-hyperimu-uci-rawdata/acc_exp11_user07.txt": "acceleration looks like m/s²"}

needs_recordings = pytest.mark.skipif(not (RECORDINGS / "README.md").exists(),
                                      reason=f"external recordings not found at {RECORDINGS} "
                                      "(set HAR_SHARED_DIR)")


def problems(err: str, prog: str) -> list[str]:
    """stderr lines that are not notices."""
    assert "Traceback" not in err
    return [ln for ln in err.splitlines() if ln.strip() and not ln.startswith("notice: ")]


def test_readme_lists_every_expected_input():
    if not (RECORDINGS / "README.md").exists():
        pytest.skip("external recordings not present")
    readme = (RECORDINGS / "README.md").read_text(encoding="utf-8")
    for name in EXPECTED:
        top = name.split("/")[0]
        assert f"`{top}/" in readme, name
    for name in EXPECTED:
        assert (RECORDINGS / name).exists(), name


@needs_recordings
@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_har_live_loads_or_refuses_in_one_line(name, capsys):
    code = live.main(["--csv", str(RECORDINGS / name), "--fast"])
    out, err = capsys.readouterr()
    lines = problems(err, "har-live")
    expected = EXPECTED[name]
    if expected is None:
        assert code == 0, err
        assert lines == [], err
        assert "none lost" in out
        windows = int(out.split("windows     ")[1].split()[0])
        assert windows > 10
    else:
        assert code == 1
        assert len(lines) == 1, err
        assert lines[0].startswith("har-live: ")
        for needle in expected:
            assert needle in lines[0], lines[0]
    if name in NOTICES:
        assert NOTICES[name] in err


@needs_recordings
def test_har_predict_all_inputs_in_one_call(tmp_path, capsys):
    out = tmp_path / "predictions.csv"
    names = sorted(EXPECTED)
    code = cli.main(["predict", *(str(RECORDINGS / n) for n in names), "--out", str(out)])
    _, err = capsys.readouterr()
    assert code == 1        # some inputs are refused
    lines = problems(err, "har predict")
    refusals = [ln for ln in lines if not ln.startswith("har predict: ") or " file(s) predicted" not in ln]
    refused = [n for n in names if EXPECTED[n] is not None]
    assert len(refusals) == len(refused), err
    for n in refused:
        line = next(ln for ln in refusals if str(RECORDINGS / n).split("/")[-1] in ln)
        for needle in EXPECTED[n]:
            assert needle in line, line
    with open(out, newline="") as fh:
        rows = list(csv.DictReader(fh))
    sources = {r["source"] for r in rows}
    assert sources == {str(RECORDINGS / n) for n in names if EXPECTED[n] is None}
    assert f"{len(names) - len(refused)} of {len(names)} file(s) predicted" in err


# ------------------------------------------------------------------ the bundled sample, rewritten


@pytest.fixture(scope="module")
def sample():
    from importlib import resources

    with resources.files("har.runtime").joinpath("data/sample_recording.npz").open("rb") as fh:
        with np.load(fh) as d:
            return {k: d[k] for k in d.files}


def write_csv(path, t, acc, gyro, t_fmt="%.6f"):
    data = np.column_stack([t, acc, gyro])
    np.savetxt(path, data, delimiter=",", fmt=[t_fmt] + ["%.7g"] * 6,
               header="t,acc_x,acc_y,acc_z,gyro_x,gyro_y,gyro_z", comments="")
    return path


def predict_labels(tmp_path, capsys, path) -> tuple[list[str], str]:
    out = tmp_path / (path.stem + ".pred.csv")
    code = cli.main(["predict", str(path), "--out", str(out)])
    _, err = capsys.readouterr()
    assert code == 0, err
    with open(out, newline="") as fh:
        return [r["label"] for r in csv.DictReader(fh)], err


@pytest.mark.parametrize("clock", ["ms", "epoch_ns"])
def test_sample_in_other_units_keeps_its_labels(tmp_path, capsys, sample, clock):
    n = len(sample["acc"])
    canonical = write_csv(tmp_path / "canonical.csv", np.arange(n) / 50.0, sample["acc"],
                          sample["gyro"])
    if clock == "ms":
        t, fmt = np.arange(n) * 20.0, "%.1f"
    else:
        t, fmt = 1_700_000_000_000_000_000 + np.arange(n, dtype=np.int64) * 20_000_000, "%d"
    other = tmp_path / f"sample_{clock}.csv"
    data = [np.asarray(t).astype(object)[:, None], sample["acc"] * 9.80665, np.rad2deg(sample["gyro"])]
    with open(other, "w") as fh:
        fh.write("t,acc_x,acc_y,acc_z,gyro_x,gyro_y,gyro_z\n")
        for ti, a, g in zip(data[0][:, 0], data[1], data[2]):
            fh.write((fmt % ti) + "," + ",".join(f"{v:.7g}" for v in (*a, *g)) + "\n")
    want, _ = predict_labels(tmp_path, capsys, canonical)
    got, err = predict_labels(tmp_path, capsys, other)
    assert len(got) == len(want)
    agree = np.mean(np.array(got) == np.array(want))
    assert agree >= 0.95, agree
    assert "acceleration looks like m/s²" in err
    assert "angular rate looks like deg/s" in err
    assert ("milliseconds" if clock == "ms" else "nanoseconds since the Unix epoch") in err


# ------------------------------------------------------------------ hostile inputs


def sensor_logger_zip(path, n=3000, compression=zipfile.ZIP_DEFLATED):
    t = 1_700_000_000_000_000_000 + np.arange(n, dtype=np.int64) * 10_000_000
    rng = np.random.default_rng(0)

    def member(scale, offset):
        buf = io.StringIO()
        buf.write("time,seconds_elapsed,z,y,x\n")
        xyz = offset + scale * rng.standard_normal((n, 3))
        for ti, (x, y, z) in zip(t, xyz):
            buf.write(f"{ti},{(ti - t[0]) / 1e9:.3f},{z:.5f},{y:.5f},{x:.5f}\n")
        return buf.getvalue()

    with zipfile.ZipFile(path, "w", compression) as zf:
        zf.writestr("TotalAcceleration.csv", member(0.5, np.array([0.0, 9.8, 0.0])))
        zf.writestr("Gyroscope.csv", member(0.3, 0.0))
        zf.writestr("Metadata.csv", "platform,standardisation\nandroid,false\n")
    return path


def run_predict(capsys, *args):
    code = cli.main(["predict", *map(str, args)])
    _, err = capsys.readouterr()
    return code, err


def test_zip_bomb_member_is_refused_before_reading(tmp_path, capsys):
    bomb = tmp_path / "bomb.zip"
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("Gyroscope.csv", "time,seconds_elapsed,z,y,x\n")
        with zf.open("TotalAcceleration.csv", "w") as fh:
            fh.write(b"time,seconds_elapsed,z,y,x\n")
            block = b"0" * (1 << 20)
            for _ in range(64):
                fh.write(block)
    assert bomb.stat().st_size < 1 << 20
    code, err = run_predict(capsys, bomb, "--out", tmp_path / "o.csv")
    assert code == 1
    lines = problems(err, "har predict")
    assert "bomb.zip/TotalAcceleration.csv" in lines[0] and "zip bomb" in lines[0], lines


def test_bad_crc_member_is_reported_and_the_good_file_still_written(tmp_path, capsys, sample):
    good = write_csv(tmp_path / "good.csv", np.arange(1000) / 50.0, sample["acc"][:1000],
                     sample["gyro"][:1000])
    zpath = sensor_logger_zip(tmp_path / "crc.zip", compression=zipfile.ZIP_STORED)
    data = bytearray(zpath.read_bytes())
    k = data.index(b"time,seconds_elapsed", 0) + 2000     # inside the first member's samples
    data[k] = ord("7") if data[k] != ord("7") else ord("8")
    zpath.write_bytes(bytes(data))
    out = tmp_path / "o.csv"
    code, err = run_predict(capsys, zpath, good, "--out", out)
    assert code == 1
    lines = problems(err, "har predict")
    assert "crc.zip/TotalAcceleration.csv" in lines[0] and "corrupt zip member" in lines[0], lines
    assert "Bad CRC" in lines[0]
    with open(out, newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert rows and {r["source"] for r in rows} == {str(good)}


def test_truncated_zip_says_so_not_utf8(tmp_path, capsys):
    zpath = sensor_logger_zip(tmp_path / "cut.zip")
    data = zpath.read_bytes()
    zpath.write_bytes(data[:len(data) // 2])
    code, err = run_predict(capsys, zpath, "--out", tmp_path / "o.csv")
    assert code == 1
    lines = problems(err, "har predict")
    assert "cut.zip" in lines[0] and "truncated zip" in lines[0], lines
    assert "UTF-8" not in err


def test_good_sensor_logger_zip_loads(tmp_path, capsys):
    zpath = sensor_logger_zip(tmp_path / "ok.zip")
    code, err = run_predict(capsys, zpath, "--out", tmp_path / "o.csv")
    assert code == 0, err


@pytest.mark.parametrize("rate", [1.0, 2.0])
def test_slow_data_is_refused_with_its_rate(tmp_path, capsys, rate):
    n = 200
    t = np.arange(n) / rate
    acc = np.tile([0.0, 0.0, 1.0], (n, 1))
    path = write_csv(tmp_path / f"slow{rate:g}.csv", t, acc, np.zeros((n, 3)))
    code = live.main(["--csv", str(path), "--fast"])
    _, err = capsys.readouterr()
    lines = problems(err, "har-live")
    assert code == 1 and len(lines) == 1, err
    assert f"sampled at {rate:g} Hz" in lines[0] and "at least 20 Hz" in lines[0]


JUMP_SCRIPT = r"""
import resource, sys
from har.model import cli
def peak():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
cli.main(["predict", sys.argv[1], "--out", sys.argv[3]])     # same samples, no jump: baseline
before = peak()
code = cli.main(["predict", sys.argv[2], "--out", sys.argv[3]])
print(code, before, peak())
"""


def test_clock_jump_of_1e9_s_is_a_gap_not_an_allocation(tmp_path, sample):
    n = 1500                                  # 30 s, then the clock jumps by 1e9 s, 30 s more
    t = np.arange(2 * n) / 50.0
    t[n:] += 1e9
    acc = np.vstack([sample["acc"][:n], sample["acc"][:n]])
    gyro = np.vstack([sample["gyro"][:n], sample["gyro"][:n]])
    path = write_csv(tmp_path / "jump.csv", t, acc, gyro, t_fmt="%.3f")
    plain = write_csv(tmp_path / "plain.csv", np.arange(2 * n) / 50.0, acc, gyro, t_fmt="%.3f")
    out = tmp_path / "jump.pred.csv"
    res = subprocess.run([sys.executable, "-c", JUMP_SCRIPT, str(plain), str(path), str(out)],
                         capture_output=True, text=True, timeout=120)
    assert "Traceback" not in res.stderr, res.stderr
    code, before_mb, after_mb = res.stdout.split()
    assert int(code) == 0, res.stderr
    # The jump is 5e10 grid samples (373 GiB as NaN rows): it must cost nothing measurable.
    assert float(after_mb) - float(before_mb) < 20, (before_mb, after_mb)
    with open(out, newline="") as fh:
        rows = list(csv.DictReader(fh))
    starts = np.array([float(r["start_s"]) for r in rows])
    assert (starts < 30).sum() >= 20 and (starts > 1e9).sum() >= 20
    assert not ((starts > 40) & (starts < 1e9)).any()   # nothing invented inside the jump
