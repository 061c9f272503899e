"""har-live: replays of the bundled recording and of files, pacing, scores, and bad input."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import textwrap

from importlib import resources

import numpy as np
import pytest

from har.features import regular_starts
from har.runtime.tools import live

N_BUNDLED = 14500          # samples of runtime/data/sample_recording.npz


# ------------------------------------------------------------------ helpers that write recordings


def engine_csv(path, acc, gyro, labels=None, t=None, header=None):
    n = len(acc)
    t = np.arange(n) / 50.0 if t is None else t
    cols = header or "t,acc_x,acc_y,acc_z,gyro_x,gyro_y,gyro_z" + (",label" if labels is not None else "")
    lines = [cols]
    for i in range(n):
        row = [f"{t[i]:.4f}", *(f"{v:.6f}" for v in acc[i]), *(f"{v:.6f}" for v in gyro[i])]
        if labels is not None:
            row.append(str(int(labels[i])))
        lines.append(",".join(row))
    path.write_text("\n".join(lines) + "\n")
    return path


def sensor_logger_folder(folder, acc_g, gyro, t0_ns=1_700_000_000_000_000_000):
    """An Android Sensor Logger export: TotalAcceleration (m/s^2) and Gyroscope on their own clocks."""
    folder.mkdir()
    n = len(acc_g)
    rng = np.random.default_rng(1)

    def write(name, xyz, offset_s):
        t = np.arange(n) / 50.0 + offset_s + rng.uniform(-0.002, 0.002, n)
        lines = ["time,seconds_elapsed,z,y,x"]
        for ti, (x, y, z) in zip(t, xyz):
            lines.append(f"{t0_ns + int(ti * 1e9)},{ti:.6f},{z:.6f},{y:.6f},{x:.6f}")
        (folder / name).write_text("\n".join(lines) + "\n")

    write("TotalAcceleration.csv", acc_g * 9.80665, 0.0)
    write("Gyroscope.csv", gyro, 0.007)
    return folder


def run_live(capsys, argv):
    code = live.main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def assert_one_line_error(code, err, *needles):
    assert code != 0
    assert "Traceback" not in err
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert len(lines) == 1, err
    for needle in needles:
        assert needle in lines[0], lines[0]


# ------------------------------------------------------------------ pacing and scores (known answers)


def test_auto_speed_finishes_in_about_15_s():
    assert live.auto_speed(290.0) == pytest.approx(290.0 / 15.0)
    assert live.auto_speed(5.0) == 1.0                        # never slower than real time
    with pytest.raises(ValueError):
        live.auto_speed(10.0, target_s=0)


def test_pacer_sleeps_until_each_chunk_is_due():
    now = [100.0]
    pacer = live.Pacer(10.0, clock=lambda: now[0], sleep=lambda d: now.__setitem__(0, now[0] + d))
    times = np.arange(188) * 0.16                              # 0 .. 29.92 s of recording
    for t_rec in times:
        pacer.wait(float(t_rec))
    assert now[0] - 100.0 == pytest.approx(times[-1] / 10.0, abs=1e-9)
    assert pacer.slept == pytest.approx(times[-1] / 10.0, abs=1e-9)
    unpaced = live.Pacer(None, clock=lambda: 0.0, sleep=lambda d: pytest.fail("slept"))
    unpaced.wait(5.0)


def test_scores_known_answer():
    acc, f1 = live.scores([1, 1, 2, 2], [1, 2, 2, 2])
    assert acc == pytest.approx(0.75)
    assert f1 == pytest.approx((2 / 3 + 0.8) / 2)
    acc, f1 = live.scores([1, 2], [0, 2])                     # an invalid window counts as wrong
    assert acc == 0.5 and f1 == pytest.approx((0 + 1) / 2)


def test_no_arguments_replays_the_bundled_recording_paced_to_15_s(monkeypatch, capsys):
    seen = {}

    class FakeClockPacer(live.Pacer):
        def __init__(self, speed):
            now = [0.0]
            super().__init__(speed, clock=lambda: now[0],
                             sleep=lambda d: now.__setitem__(0, now[0] + d))
            seen["pacer"] = self

    monkeypatch.setattr(live, "Pacer", FakeClockPacer)
    code, out, err = run_live(capsys, [])
    assert code == 0, err
    pacer = seen["pacer"]
    assert pacer.speed == pytest.approx(N_BUNDLED / 50 / 15)
    assert pacer.slept == pytest.approx(15.0, abs=0.1)
    assert "accuracy" in out


# ------------------------------------------------------------------ replays


def test_fast_replay_summary_counts_every_window(capsys):
    code, out, err = run_live(capsys, ["--fast"])
    assert code == 0, err
    n = len(regular_starts(N_BUNDLED))
    assert f"windows     {n} processed, {n} expected" in out
    assert "none lost" in out
    m = re.search(r"accuracy\s+([0-9.]+) on (\d+) single-activity windows.*macro-F1 ([0-9.]+)", out)
    assert m and float(m.group(1)) > 0.8 and int(m.group(2)) > 50
    assert re.search(r"latency\s+p50 [0-9.]+ ms, p99 [0-9.]+ ms", out)
    assert re.search(r"real-time factor [0-9,]+x", out)
    assert re.search(r"peak RSS [0-9.]+ MB", out)
    # plain lines (not a TTY): one per window, with its timeline letter
    assert sum(1 for ln in out.splitlines() if re.match(r"\d\d:\d\d\.\d-\d\d:\d\d\.\d  [WUDsSL?] ", ln)) == n


def test_json_lines_parse_one_per_window(capsys):
    code, out, err = run_live(capsys, ["--fast", "--json"])
    assert code == 0, err
    objs = [json.loads(ln) for ln in out.splitlines()]
    assert len(objs) == len(regular_starts(N_BUNDLED))
    first = objs[0]
    assert set(first) == {"start", "end", "label", "probabilities", "latency_ms", "valid", "true_label"}
    assert first["start"] == 0.0 and first["end"] == pytest.approx(2.56)
    assert sum(first["probabilities"].values()) == pytest.approx(1.0, abs=1e-4)
    assert {o["true_label"] for o in objs} >= {None, "WALKING", "LAYING"}
    assert [o["start"] for o in objs] == sorted(o["start"] for o in objs)
    assert "accuracy" in err and "none lost" in err          # summary on stderr


@pytest.fixture(scope="module")
def sample():
    with np.load(str(resources.files("har.runtime").joinpath("data/sample_recording.npz"))) as d:
        return {k: d[k] for k in d.files}


def test_engine_csv_replays_with_labels(tmp_path, sample, capsys):
    sl = slice(7000, 8500)                                  # 30 s of walking and standing
    path = engine_csv(tmp_path / "walk.csv", sample["acc"][sl], sample["gyro"][sl], sample["labels"][sl])
    code, out, err = run_live(capsys, ["--csv", str(path), "--fast"])
    assert code == 0, err
    assert "walk.csv" in out and "none lost" in out
    m = re.search(r"windows\s+(\d+) processed", out)
    assert m and int(m.group(1)) >= len(regular_starts(1500)) - 1
    assert re.search(r"accuracy\s+[0-9.]+ on [1-9]\d* single-activity windows", out)


def test_engine_csv_units_option(tmp_path, sample, capsys):
    sl = slice(7000, 7600)
    path = engine_csv(tmp_path / "si.csv", sample["acc"][sl] * 9.80665, np.rad2deg(sample["gyro"][sl]))
    code, out, err = run_live(capsys, ["--csv", str(path), "--fast", "--json",
                                       "--acc-unit", "m/s^2", "--gyro-unit", "deg/s"])
    assert code == 0, err
    objs = [json.loads(ln) for ln in out.splitlines()]
    assert objs and all(o["valid"] for o in objs) and "true_label" not in objs[0]


def test_sensor_logger_folder_replays(tmp_path, sample, capsys):
    sl = slice(7000, 8000)
    folder = sensor_logger_folder(tmp_path / "export", sample["acc"][sl], sample["gyro"][sl])
    code, out, err = run_live(capsys, ["--csv", str(folder), "--fast"])
    assert code == 0, err
    assert "Sensor Logger" in out and "none lost" in out
    assert "(the source has no labels)" in out
    assert re.search(r"windows\s+1[0-9] processed", out)


def test_raw_data_file_with_labels(tmp_path, sample, capsys):
    sl = slice(7000, 8000)
    fmt = lambda a: "\n".join(" ".join(f"{v:.8e}" for v in row) for row in a) + "\n"
    (tmp_path / "acc_exp03_user02.txt").write_text(fmt(sample["acc"][sl]))
    (tmp_path / "gyro_exp03_user02.txt").write_text(fmt(sample["gyro"][sl]))
    (tmp_path / "labels.txt").write_text("3 2 1 1 1000\n")
    code, out, err = run_live(capsys, ["--raw", str(tmp_path / "acc_exp03_user02.txt"), "--fast"])
    assert code == 0, err
    n = len(regular_starts(1000))
    assert f"{n} processed, {n} expected" in out
    assert f"on {n} single-activity windows" in out


# ------------------------------------------------------------------ bad input: one line, no traceback


GOOD_HEADER = "t,acc_x,acc_y,acc_z,gyro_x,gyro_y,gyro_z"


@pytest.mark.parametrize("name, text, needles", [
    ("malformed.csv", f"{GOOD_HEADER}\n0,1,0,0,0,0,0\n0.02,1,0,0,0,0,0\n0.04,abc,0,0,0,0,0\n",
     ["malformed.csv", "line 4", "acc_x", "'abc'"]),
    ("empty.csv", "", ["empty.csv", "no samples"]),
    ("backwards.csv", f"{GOOD_HEADER}\n0,1,0,0,0,0,0\n0.04,1,0,0,0,0,0\n0.02,1,0,0,0,0,0\n",
     ["backwards.csv", "line 4", "backwards"]),
    ("nan_time.csv", f"{GOOD_HEADER}\n0,1,0,0,0,0,0\nnan,1,0,0,0,0,0\n",
     ["nan_time.csv", "line 3", "column 't'"]),
    ("columns.csv", "t,acc_x,acc_y,gyro_x,gyro_y,gyro_z\n0,1,0,0,0,0\n",
     ["columns.csv", "line 1", "missing column 'acc_z'"]),
])
def test_bad_csv_one_line_error(tmp_path, capsys, name, text, needles):
    path = tmp_path / name
    path.write_text(text)
    code, out, err = run_live(capsys, ["--csv", str(path), "--fast"])
    assert_one_line_error(code, err, *needles)


def test_missing_file(tmp_path, capsys):
    code, out, err = run_live(capsys, ["--csv", str(tmp_path / "nope.csv"), "--fast"])
    assert_one_line_error(code, err, "nope.csv", "no such file")


def test_malformed_raw_data_line(tmp_path, capsys):
    (tmp_path / "acc_exp01_user01.txt").write_text("1 0 0\n1 0\n")
    (tmp_path / "gyro_exp01_user01.txt").write_text("0 0 0\n0 0 0\n")
    code, out, err = run_live(capsys, ["--raw", str(tmp_path / "acc_exp01_user01.txt"), "--fast"])
    assert_one_line_error(code, err, "acc_exp01_user01.txt line 2", "expected 3 numbers")


def test_corrupt_model(tmp_path, capsys):
    model = tmp_path / "broken.onnx"
    model.write_bytes(b"\x08\x07not really a protobuf" * 10)
    code, out, err = run_live(capsys, ["--model", str(model), "--fast"])
    assert_one_line_error(code, err, "broken.onnx")


def test_experiment_without_cache_says_fetch(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("HAR_CACHE_DIR", str(tmp_path / "empty-cache"))
    code, out, err = run_live(capsys, ["--experiment", "3", "--fast"])
    assert_one_line_error(code, err, "har data fetch")
    code, out, err = run_live(capsys, ["--experiment", "99", "--fast"])
    assert_one_line_error(code, err, "1..61")


def test_nan_sensor_cells_are_gaps_not_errors(tmp_path, sample, capsys):
    sl = slice(7000, 7800)
    acc = sample["acc"][sl].copy()
    acc[300:310] = np.nan
    path = engine_csv(tmp_path / "gap.csv", acc, sample["gyro"][sl])
    code, out, err = run_live(capsys, ["--csv", str(path), "--fast", "--json"])
    assert code == 0, err
    objs = [json.loads(ln) for ln in out.splitlines()]
    invalid = [o for o in objs if not o["valid"]]
    assert invalid and all(o["label"] == "UNKNOWN" and o["probabilities"]["WALKING"] is None
                           for o in invalid)
    assert any(o["valid"] for o in objs)


def test_har_live_runs_with_the_training_side_unimportable():
    """The replay tool sits below har.model: it must not need it, not even lazily."""
    code = textwrap.dedent("""
        import importlib.abc, sys
        class Block(importlib.abc.MetaPathFinder):
            def find_spec(self, name, path=None, target=None):
                if name == "har.model" or name.startswith(("har.model.", "sklearn", "skl2onnx", "onnx.", "pandas")) \\
                        or name == "onnx":
                    raise ImportError(f"blocked: {name}")
        sys.meta_path.insert(0, Block())
        from har.runtime.tools.live import main
        code = main(["--fast"])
        assert not [m for m in sys.modules if m.startswith(("har.model", "sklearn", "onnx."))], "leaked"
        sys.exit(code)
    """)
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "windows" in proc.stdout
