"""Readers: each recorder layout gives known values in g and rad/s, bad input names its place."""

import zipfile

import numpy as np
import pytest

from har.runtime.errors import SourceError
from har.runtime.tools.readers import TimedRecording, open_recording, read_all
from har.runtime.tools.sources import read_streams
from har.runtime.units import STANDARD_GRAVITY, to_g, to_rad_s


def quiet(message):
    """Notices are checked where they matter; elsewhere they are collected and dropped."""


def read_csv(path, **units):
    return read_streams(path, notify=quiet, **units)


def read_sensor_logger(path, platform="auto"):
    return read_streams(path, platform=platform, notify=quiet)


def read_phyphox(acc_path, gyro_path=None):
    return read_streams(acc_path, notify=quiet)


read_hyperimu = read_csv
read_any = read_csv

G = STANDARD_GRAVITY


def jittered_times(n=100, seed=0):
    """About 2 s at about 50 Hz with uneven spacing, seconds."""
    rng = np.random.default_rng(seed)
    return np.round(np.cumsum(rng.uniform(0.018, 0.022, n)), 6)


def sine_xyz(t, amplitude, offset):
    """(n, 3) sines at 1, 2, 3 Hz on x, y, z around a per-axis offset."""
    f = np.array([1.0, 2.0, 3.0])
    return np.asarray(offset) + amplitude * np.sin(2 * np.pi * f * t[:, None])


def write(path, text):
    path.write_text(text, encoding="utf-8")
    return path


def fmt(v):
    return repr(float(v))


# ---------------------------------------------------------------------------- units

def test_units_convert_known_values():
    assert to_g([G, -2 * G], "m/s^2") == pytest.approx([1.0, -2.0])
    assert to_rad_s(180.0, "deg/s") == pytest.approx(np.pi)
    assert to_g(0.5, "g") == 0.5 and to_rad_s(0.5, "rad/s") == 0.5


def test_units_reject_unknown_unit_naming_accepted_ones():
    with pytest.raises(ValueError, match=r"'m/s2'.*g, m/s\^2"):
        to_g(1.0, "m/s2")
    with pytest.raises(ValueError, match="rad/s, deg/s"):
        to_rad_s(1.0, "rpm")


# ---------------------------------------------------------------------------- engine CSV

def engine_csv(t, acc, gyro, labels=None, columns=None):
    columns = columns or ["t", "acc_x", "acc_y", "acc_z", "gyro_x", "gyro_y", "gyro_z"]
    if labels is not None and "label" not in columns:
        columns = columns + ["label"]
    by_name = {"t": t, "acc_x": acc[:, 0], "acc_y": acc[:, 1], "acc_z": acc[:, 2],
               "gyro_x": gyro[:, 0], "gyro_y": gyro[:, 1], "gyro_z": gyro[:, 2]}
    lines = ["# a comment before the header", ",".join(columns)]
    for i in range(len(t)):
        cells = [str(int(labels[i])) if c == "label" else fmt(by_name[c][i]) for c in columns]
        lines.append(",".join(cells))
    return "\n".join(lines) + "\n"


def test_read_csv_values_and_labels(tmp_path):
    t = jittered_times()
    acc = sine_xyz(t, 0.3, [0.0, -1.0, 0.1])
    gyro = sine_xyz(t, 0.5, [0.0, 0.0, 0.0])
    labels = np.where(t < 1.0, 1, -1)
    rec = read_csv(write(tmp_path / "walk.csv", engine_csv(t, acc, gyro, labels)))
    assert isinstance(rec, TimedRecording)
    np.testing.assert_array_equal(rec.acc.t, t)
    np.testing.assert_array_equal(rec.acc.xyz, acc)
    np.testing.assert_array_equal(rec.gyro.xyz, gyro)
    np.testing.assert_array_equal(rec.labels.labels, labels)
    np.testing.assert_array_equal(rec.labels.t, t)
    assert "walk.csv" in rec.source


def test_read_csv_units_and_column_order(tmp_path):
    t = np.array([0.0, 0.02, 0.04])
    acc = np.array([[G, 0.0, -G], [0.0, 2 * G, 0.0], [0.5 * G, 0.0, 0.0]])
    gyro = np.array([[180.0, 0.0, 0.0], [0.0, -90.0, 0.0], [0.0, 0.0, 360.0]])
    columns = ["gyro_z", "acc_y", "t", "gyro_x", "acc_x", "acc_z", "gyro_y"]
    path = write(tmp_path / "r.csv", engine_csv(t, acc, gyro, columns=columns))
    rec = read_csv(path, acc_unit="m/s^2", gyro_unit="deg/s")
    np.testing.assert_allclose(rec.acc.xyz, [[1, 0, -1], [0, 2, 0], [0.5, 0, 0]])
    np.testing.assert_allclose(rec.gyro.xyz, [[np.pi, 0, 0], [0, -np.pi / 2, 0], [0, 0, 2 * np.pi]])
    assert rec.labels is None


def test_read_csv_nan_cells_pass_through_as_gaps(tmp_path):
    path = write(tmp_path / "r.csv", "t,acc_x,acc_y,acc_z,gyro_x,gyro_y,gyro_z\n"
                 "0.00,0,0,1,0,0,0\n0.02,nan,NaN,nan,0.1,0.2,0.3\n")
    rec = read_csv(path)
    assert np.isnan(rec.acc.xyz[1]).all()
    np.testing.assert_array_equal(rec.gyro.xyz[1], [0.1, 0.2, 0.3])


@pytest.mark.parametrize("text, message", [
    ("# recorded on the bench\nt,acc_x,acc_y,acc_z,gyro_x,gyro_y,gyro_z\n0,0,0,1,0,0,0\n"
     "0.02,0,abc,1,0,0,0\n",
     "r.csv line 4: column 'acc_y': expected a number, got 'abc'"),
    ("t,acc_x,acc_y,acc_z,gyro_x,gyro_y,gyro_z\n0,0,0,1,0,0,\n",
     "r.csv line 2: column 'gyro_z': expected a number, got an empty cell"),
    ("t,acc_x,acc_y,acc_z,gyro_x,gyro_y,gyro_z\n0,0,0,1,0,0\n",
     "r.csv line 2: column 'gyro_z': expected a value, but the line has only 6 fields"),
    ("t,acc_x,acc_y,acc_z,gyro_x,gyro_y,gyro_z\nnan,0,0,1,0,0,0\n",
     "r.csv line 2: column 't': expected a number, got 'nan'"),
    ("t,acc_x,acc_y,acc_z,gyro_x,gyro_y,gyro_z\n0,0,0,1,0,0,0\n0.04,0,0,1,0,0,0\n\n"
     "0.02,0,0,1,0,0,0\n",
     "r.csv line 5: column 't': time goes backwards: 0.02 after 0.04 on line 3"),
    ("t,acc_x,acc_y,acc_z,gyro_x,gyro_y,gyro_z\n0,0,0,1,0,0,0\n0,0,0,1,0,0,0\n",
     "r.csv line 3: column 't': time 0.0 repeats the time of line 2"),
    ("t,acc_x,acc_z,gyro_x,gyro_y\n0,0,1,0,0\n",
     "r.csv line 1: missing columns 'acc_y', 'gyro_z'; found 't', 'acc_x', 'acc_z', 'gyro_x'"),
    ("t,acc_x,acc_y,acc_z,gyro_x,gyro_y,gyro_z,lable\n0,0,0,1,0,0,0,1\n",
     "r.csv line 1: unexpected column 'lable'"),
    ("t,acc_x,acc_y,acc_z,gyro_x,gyro_y,gyro_z,label\n0,0,0,1,0,0,0,13\n",
     "r.csv line 2: column 'label': expected an activity id 1..12, -1 or an activity name, got '13'"),
    ("", "r.csv: no samples"),
    ("# only a comment\nt,acc_x,acc_y,acc_z,gyro_x,gyro_y,gyro_z\n\n", "r.csv: no samples"),
])
def test_read_csv_bad_input_names_file_line_and_column(tmp_path, text, message):
    with pytest.raises(SourceError) as info:
        read_csv(write(tmp_path / "r.csv", text))
    assert str(info.value).startswith(message)


def test_read_csv_rejects_unknown_unit(tmp_path):
    path = write(tmp_path / "r.csv", "t,acc_x,acc_y,acc_z,gyro_x,gyro_y,gyro_z\n0,0,0,1,0,0,0\n"
                 "0.02,0,0,1,0,0,0\n")
    with pytest.raises(ValueError, match="g, m/s"):
        read_csv(path, acc_unit="G")


# ---------------------------------------------------------------------------- Sensor Logger

def sensor_logger_csv(t_ns, xyz, with_time=True, t0_ns=None):
    """Sensor Logger layout: time, seconds_elapsed, then the axes written z, y, x."""
    t0_ns = t_ns[0] if t0_ns is None else t0_ns
    head = "time,seconds_elapsed,z,y,x" if with_time else "seconds_elapsed,z,y,x"
    lines = [head]
    for tn, (x, y, z) in zip(t_ns, xyz):
        elapsed = fmt((tn - t0_ns) / 1e9)
        cells = ([str(int(tn))] if with_time else []) + [elapsed, fmt(z), fmt(y), fmt(x)]
        lines.append(",".join(cells))
    return "\n".join(lines) + "\n"


EPOCH_NS = 1_700_000_000_000_000_000


def ns_times(seed):
    return EPOCH_NS + (jittered_times(seed=seed) * 1e9).astype(np.int64)


def test_sensor_logger_android_folder(tmp_path):
    t_acc, t_gyro = ns_times(1), ns_times(2)
    acc_ms2 = sine_xyz((t_acc - EPOCH_NS) / 1e9, 2.0, [0.5, 9.0, 3.0])
    gyro = sine_xyz((t_gyro - EPOCH_NS) / 1e9, 0.7, [0.0, 0.1, -0.1])
    folder = tmp_path / "Walk-2024"
    folder.mkdir()
    write(folder / "TotalAcceleration.csv", sensor_logger_csv(t_acc, acc_ms2))
    write(folder / "Gyroscope.csv", sensor_logger_csv(t_gyro, gyro))
    write(folder / "Accelerometer.csv", sensor_logger_csv(t_acc, np.zeros_like(acc_ms2)))
    write(folder / "Metadata.csv", "version,device name,platform\n3,Pixel,android\n")
    rec = read_sensor_logger(folder)
    np.testing.assert_allclose(rec.acc.t, t_acc / 1e9, rtol=0, atol=1e-6)
    np.testing.assert_allclose(rec.acc.xyz, acc_ms2 / G, rtol=1e-12)
    np.testing.assert_allclose(rec.gyro.xyz, gyro, rtol=1e-12)
    np.testing.assert_allclose(rec.gyro.t, t_gyro / 1e9, rtol=0, atol=1e-6)
    assert "android" in rec.source


def ios_export(tmp_path, metadata=True, zipped=True):
    """iOS export: Accelerometer (gravity removed) and Gravity at their own times."""
    t_acc, t_grav, t_gyro = ns_times(3), ns_times(4), ns_times(5)
    s_acc = (t_acc - EPOCH_NS) / 1e9
    user = sine_xyz(s_acc, 1.5, [0.0, 0.0, 0.0])
    # Gravity linear in time: interpolating it onto the accelerometer's times is exact.
    s_grav = (t_grav - EPOCH_NS) / 1e9
    grav = np.column_stack([0.5 * s_grav, -9.0 + 0.1 * s_grav, -3.0 + 0 * s_grav])
    gyro = sine_xyz((t_gyro - EPOCH_NS) / 1e9, 0.4, [0.2, 0.0, 0.0])
    files = {"Accelerometer.csv": sensor_logger_csv(t_acc, user),
             "Gravity.csv": sensor_logger_csv(t_grav, grav),
             "Gyroscope.csv": sensor_logger_csv(t_gyro, gyro)}
    if metadata:
        files["Metadata.csv"] = "version,platform,sampleRateMs\n3,ios,10\n"
    if zipped:
        path = tmp_path / "Walk-ios.zip"
        with zipfile.ZipFile(path, "w") as zf:
            for name, text in files.items():
                zf.writestr(f"Walk-ios/{name}", text)
    else:
        path = tmp_path / "Walk-ios"
        path.mkdir()
        for name, text in files.items():
            write(path / name, text)
    inside = (t_acc >= t_grav[0]) & (t_acc <= t_grav[-1])
    expected_grav = np.column_stack([0.5 * s_acc, -9.0 + 0.1 * s_acc, -3.0 + 0 * s_acc])
    expected_android = -(user + expected_grav)[inside] / G
    return path, t_acc[inside] / 1e9, expected_android, gyro


@pytest.mark.parametrize("metadata, zipped", [(True, True), (False, False)])
def test_sensor_logger_ios_adds_gravity_and_flips_sign(tmp_path, metadata, zipped):
    path, t_expected, acc_expected, gyro = ios_export(tmp_path, metadata, zipped)
    rec = read_sensor_logger(path)
    np.testing.assert_allclose(rec.acc.t, t_expected, rtol=0, atol=1e-6)
    # Tolerance: float64 epoch seconds resolve about 0.2 us, which moves interpolated gravity.
    np.testing.assert_allclose(rec.acc.xyz, acc_expected, rtol=0, atol=1e-6)
    # Gyro keeps its sign: only acceleration differs between the platforms.
    np.testing.assert_allclose(rec.gyro.xyz, gyro, rtol=1e-12)
    assert "ios" in rec.source


def test_sensor_logger_platform_override_keeps_sign(tmp_path):
    path, _, acc_expected, _ = ios_export(tmp_path)
    rec = read_sensor_logger(path, platform="android")
    np.testing.assert_allclose(rec.acc.xyz, -acc_expected, rtol=0, atol=1e-6)


def test_sensor_logger_uses_seconds_elapsed_without_time(tmp_path):
    t_acc, t_gyro = ns_times(6), ns_times(7)
    folder = tmp_path / "export"
    folder.mkdir()
    write(folder / "TotalAcceleration.csv",
          sensor_logger_csv(t_acc, np.ones((t_acc.size, 3)) * G, with_time=False, t0_ns=EPOCH_NS))
    write(folder / "Gyroscope.csv", sensor_logger_csv(t_gyro, np.zeros((t_gyro.size, 3)),
                                                      t0_ns=EPOCH_NS))
    rec = read_sensor_logger(folder)
    np.testing.assert_allclose(rec.acc.t, (t_acc - EPOCH_NS) / 1e9, atol=1e-9)
    np.testing.assert_allclose(rec.gyro.t, (t_gyro - EPOCH_NS) / 1e9, atol=1e-9)
    np.testing.assert_allclose(rec.acc.xyz, 1.0)


def test_sensor_logger_bad_cell_names_member_line_and_column(tmp_path):
    path = tmp_path / "rec.zip"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("TotalAcceleration.csv", "time,seconds_elapsed,z,y,x\n"
                    "1000000000,0,9.8,0,0\n1020000000,0.02,9.8,abc,0\n")
        zf.writestr("Gyroscope.csv", "time,seconds_elapsed,z,y,x\n1000000000,0,0,0,0\n")
    with pytest.raises(SourceError) as info:
        read_sensor_logger(path)
    assert str(info.value) == ("rec.zip/TotalAcceleration.csv line 3: column 'y': "
                               "expected a number, got 'abc'")


def test_sensor_logger_without_gravity_source_is_refused(tmp_path):
    folder = tmp_path / "export"
    folder.mkdir()
    write(folder / "Accelerometer.csv", "time,seconds_elapsed,z,y,x\n1,0,0,0,0\n")
    write(folder / "Gyroscope.csv", "time,seconds_elapsed,z,y,x\n1,0,0,0,0\n")
    with pytest.raises(SourceError, match="Gravity.csv.*acceleration with gravity"):
        read_sensor_logger(folder)


def test_sensor_logger_missing_axis_column(tmp_path):
    folder = tmp_path / "export"
    folder.mkdir()
    write(folder / "TotalAcceleration.csv", "time,seconds_elapsed,z,x\n1,0,0,0\n")
    write(folder / "Gyroscope.csv", "time,seconds_elapsed,z,y,x\n1,0,0,0,0\n")
    with pytest.raises(SourceError) as info:
        read_sensor_logger(folder)
    assert str(info.value) == ("export/TotalAcceleration.csv line 1: missing column 'y'; "
                               "found 'time', 'seconds_elapsed', 'z', 'x'")


# ---------------------------------------------------------------------------- phyphox

def phyphox_text(t, xyz, names, sep=",", decimal="."):
    def num(v):
        return fmt(v).replace(".", decimal)
    head = sep.join(f'"{n}"' for n in names)
    absolute = np.linalg.norm(xyz, axis=1)
    rows = [sep.join(num(v) for v in (ti, *row, a)) for ti, row, a in zip(t, xyz, absolute)]
    return head + "\n" + "\n".join(rows) + "\n"


ACC_NAMES = ["Time (s)", "Acceleration x (m/s^2)", "Acceleration y (m/s^2)",
             "Acceleration z (m/s^2)", "Absolute acceleration (m/s^2)"]
GYRO_NAMES = ["Time (s)", "Gyroscope x (rad/s)", "Gyroscope y (rad/s)", "Gyroscope z (rad/s)",
              "Absolute (rad/s)"]


@pytest.mark.parametrize("sep, decimal", [(",", "."), (";", ","), ("\t", ","), ("\t", ".")])
def test_phyphox_raw_data_any_separator(tmp_path, sep, decimal):
    t = jittered_times(seed=8)
    acc_ms2 = sine_xyz(t, 3.0, [0.2, 9.5, 1.0])
    gyro = sine_xyz(t, 0.6, [0.0, 0.0, 0.0])
    names = ACC_NAMES[:4] + GYRO_NAMES[1:4]
    num = lambda v: fmt(v).replace(".", decimal)   # noqa: E731
    lines = [sep.join(f'"{n}"' for n in names)] + [
        sep.join(num(v) for v in (ti, *a, *g)) for ti, a, g in zip(t, acc_ms2, gyro)]
    rec = read_phyphox(write(tmp_path / "Raw Data.csv", "\n".join(lines) + "\n"))
    np.testing.assert_array_equal(rec.acc.t, t)
    np.testing.assert_allclose(rec.acc.xyz, acc_ms2 / G, rtol=1e-12)
    np.testing.assert_allclose(rec.gyro.xyz, gyro, rtol=1e-12)


def test_phyphox_multi_sensor_folder(tmp_path):
    t_acc, t_gyro = jittered_times(seed=8), jittered_times(seed=9) + 0.004
    acc_ms2 = sine_xyz(t_acc, 3.0, [0.2, 9.5, 1.0])
    gyro = sine_xyz(t_gyro, 0.6, [0.0, 0.0, 0.0])
    folder = tmp_path / "walking"
    (folder / "meta").mkdir(parents=True)
    write(folder / "Accelerometer.csv", phyphox_text(
        t_acc, acc_ms2, ["Time (s)", "X (m/s^2)", "Y (m/s^2)", "Z (m/s^2)", "Abs (m/s^2)"]))
    write(folder / "Gyroscope.csv", phyphox_text(
        t_gyro, gyro, ["Time (s)", "X (rad/s)", "Y (rad/s)", "Z (rad/s)", "Abs (rad/s)"]))
    write(folder / "Linear Accelerometer.csv", phyphox_text(
        t_acc, acc_ms2 * 0, ["Time (s)", "X (m/s^2)", "Y (m/s^2)", "Z (m/s^2)", "Abs (m/s^2)"]))
    write(folder / "meta" / "device.csv", '"property","value"\n"version","1.1.16"\n'
          '"deviceModel","iPhone14,4"\n')
    rec = read_sensor_logger(folder)
    assert "phyphox 1.1.16" in rec.source and "ios" in rec.source
    np.testing.assert_array_equal(rec.acc.t, t_acc)
    np.testing.assert_allclose(rec.acc.xyz, acc_ms2 / G, rtol=1e-12)   # Android sign already
    np.testing.assert_array_equal(rec.gyro.t, t_gyro)
    np.testing.assert_allclose(rec.gyro.xyz, gyro, rtol=1e-12)


def test_phyphox_single_file_with_both_sensors(tmp_path):
    t = jittered_times(seed=10)
    acc_ms2 = sine_xyz(t, 3.0, [0.0, 9.8, 0.0])
    gyro = sine_xyz(t, 0.2, [0.0, 0.0, 0.0])
    names = ACC_NAMES[:4] + GYRO_NAMES[1:4]
    lines = [";".join(names)] + [";".join(fmt(v).replace(".", ",") for v in (ti, *a, *g))
                                 for ti, a, g in zip(t, acc_ms2, gyro)]
    path = write(tmp_path / "Raw Data.csv", "\n".join(lines) + "\n")
    for rec in (read_phyphox(path),):
        np.testing.assert_allclose(rec.acc.xyz, acc_ms2 / G, rtol=1e-12)
        np.testing.assert_allclose(rec.gyro.xyz, gyro, rtol=1e-12)
        np.testing.assert_array_equal(rec.gyro.t, t)


def test_phyphox_refuses_linear_acceleration(tmp_path):
    names = ["Time (s)", "Linear Acceleration x (m/s^2)", "Linear Acceleration y (m/s^2)",
             "Linear Acceleration z (m/s^2)", "Absolute acceleration (m/s^2)"]
    path = write(tmp_path / "Raw Data.csv", phyphox_text(jittered_times(), np.zeros((100, 3)),
                                                         names))
    gyro = write(tmp_path / "g.csv", phyphox_text(jittered_times(), np.zeros((100, 3)),
                                                  GYRO_NAMES))
    with pytest.raises(SourceError, match=r"^Raw Data.csv line 1: .*Linear Acceleration.*"
                                          r"needs acceleration with gravity"):
        read_phyphox(path, gyro)


def test_phyphox_bad_cell_names_line_and_column(tmp_path):
    text = ('"Time (s)";"Acceleration x (m/s^2)";"Acceleration y (m/s^2)";'
            '"Acceleration z (m/s^2)"\n0,0;0;9,8;0\n0,02;0;9,8;x\n')
    text = text.replace('"Acceleration z (m/s^2)"', '"Acceleration z (m/s^2)";"Gyroscope x (rad/s)";'
                        '"Gyroscope y (rad/s)";"Gyroscope z (rad/s)"')
    text = text.replace("9,8;0\n", "9,8;0;0;0;0\n").replace(";x\n", ";x;0;0;0\n")
    path = write(tmp_path / "Raw Data.csv", text)
    with pytest.raises(SourceError) as info:
        read_phyphox(path)
    assert str(info.value) == ("Raw Data.csv line 3: column 'Acceleration z (m/s^2)': "
                               "expected a number, got 'x'")


# ---------------------------------------------------------------------------- HyperIMU

HYPERIMU_HEAD = ("@ Date: 2024-05-02 10:11:12\n@ Sampling Time: 50ms\n\n")
HYPERIMU_COLUMNS = ["Linear Acceleration Sensor.x", "Linear Acceleration Sensor.y",
                    "Linear Acceleration Sensor.z", "MPL_Accelerometer.x", "MPL_Accelerometer.y",
                    "MPL_Accelerometer.z", "Gyroscope Uncalibrated.x", "Gyroscope Uncalibrated.y",
                    "Gyroscope Uncalibrated.z", "MPL_Gyroscope.x", "MPL_Gyroscope.y",
                    "MPL_Gyroscope.z"]


def hyperimu_text(t_ms, acc, gyro, timestamp=True):
    lines = [",".join((["timestamp"] if timestamp else []) + HYPERIMU_COLUMNS)]
    for tm, a, g in zip(t_ms, acc, gyro):
        cells = ([str(int(tm))] if timestamp else []) + [fmt(v) for v in
                                                         (0, 0, 0, *a, 9, 9, 9, *g)]
        lines.append(",".join(cells))
    return HYPERIMU_HEAD + "\n".join(lines) + "\n"


def test_hyperimu_values_units_and_repeated_rows(tmp_path):
    t_ms = 1_714_644_672_000 + np.arange(40) * 53
    s = (t_ms - t_ms[0]) / 1000.0
    acc = sine_xyz(s, 2.0, [0.0, 9.7, 1.0])
    gyro = sine_xyz(s, 0.3, [0.0, 0.0, 0.0])
    # The app repeats the last values when no new measurement arrived.
    repeated = np.array([5, 6, 20])
    for i in repeated:  # in order, so that row 6 repeats row 5, which repeats row 4
        acc[i], gyro[i] = acc[i - 1], gyro[i - 1]
    acc[30] = acc[29]  # only one sensor repeats: a real row, kept
    rec = read_hyperimu(write(tmp_path / "HyperIMU.csv", hyperimu_text(t_ms, acc, gyro)))
    keep = np.setdiff1d(np.arange(40), repeated)
    np.testing.assert_allclose(rec.acc.t, t_ms[keep] / 1000.0, rtol=0, atol=1e-6)
    np.testing.assert_allclose(rec.acc.xyz, acc[keep] / G, rtol=1e-12)
    np.testing.assert_allclose(rec.gyro.xyz, gyro[keep], rtol=1e-12)
    assert "MPL_Accelerometer" in rec.source and "MPL_Gyroscope" in rec.source


def test_hyperimu_without_timestamp_uses_sampling_time(tmp_path):
    rng = np.random.default_rng(11)
    acc, gyro = rng.normal(size=(10, 3)), rng.normal(size=(10, 3))
    rec = read_hyperimu(write(tmp_path / "h.csv", hyperimu_text(np.zeros(10), acc, gyro,
                                                                timestamp=False)))
    np.testing.assert_allclose(rec.gyro.t, np.arange(10) * 0.05)


def test_hyperimu_time_going_backwards_names_line(tmp_path):
    rng = np.random.default_rng(12)
    t_ms = np.array([1000, 1050, 1100, 1090, 1150])
    text = hyperimu_text(t_ms, rng.normal(size=(5, 3)), rng.normal(size=(5, 3)))
    with pytest.raises(SourceError) as info:
        read_hyperimu(write(tmp_path / "h.csv", text))
    # Two '@' lines, a blank line, the header: the fourth sample is on line 8.
    assert str(info.value).startswith("h.csv line 8: column 'timestamp': time goes backwards")


def test_hyperimu_missing_gyroscope(tmp_path):
    text = HYPERIMU_HEAD + "timestamp,MPL_Accelerometer.x,MPL_Accelerometer.y," \
                           "MPL_Accelerometer.z\n1000,0,0,9.8\n"
    with pytest.raises(SourceError, match=r"^h.csv line 4: no Gyroscope columns"):
        read_hyperimu(write(tmp_path / "h.csv", text))


# ---------------------------------------------------------------------------- dispatch

def test_read_any_dispatches_by_shape(tmp_path):
    path, _, acc_expected, _ = ios_export(tmp_path)
    np.testing.assert_allclose(read_any(path).acc.xyz, acc_expected, atol=1e-6)

    rng = np.random.default_rng(13)
    acc, gyro = rng.normal(size=(5, 3)), rng.normal(size=(5, 3))
    hyper = write(tmp_path / "h.csv", hyperimu_text(1000 + np.arange(5) * 50, acc, gyro))
    assert "HyperIMU" in read_any(hyper).source

    ours = write(tmp_path / "o.csv", "# note\nt,acc_x,acc_y,acc_z,gyro_x,gyro_y,gyro_z\n"
                 "0,9.80665,0,0,180,0,0\n0.02,9.80665,0,0,180,0,0\n")
    rec = read_any(ours, acc_unit="m/s^2", gyro_unit="deg/s")
    np.testing.assert_allclose(rec.acc.xyz, [[1.0, 0, 0]] * 2)
    np.testing.assert_allclose(rec.gyro.xyz, [[np.pi, 0, 0]] * 2)


def test_read_any_unknown_says_what_it_looked_for(tmp_path):
    path = write(tmp_path / "mystery.csv", "time,ax,ay,az\n0,0,0,1\n")
    with pytest.raises(SourceError) as info:
        read_any(path)
    message = str(info.value)
    assert message.startswith("mystery.csv line 1: unrecognised recording")
    for expected in ("Sensor Logger", "HyperIMU", "phyphox", "AndroSensor", "t,acc_x",
                     "time,ax,ay,az", "--columns"):
        assert expected in message
    empty_dir = tmp_path / "empty"
    empty_dir.mkdir()
    with pytest.raises(SourceError, match="^empty: unrecognised export"):
        read_any(empty_dir)


# ---------------------------------------------------------------------------- real layouts

def sl_rows(t_ns, xyz):
    return sensor_logger_csv(t_ns, xyz)


def grid_ns(n, rate=100.0, t0=EPOCH_NS):
    return t0 + (np.arange(n) * (1e9 / rate)).astype(np.int64)


@pytest.mark.parametrize("standardised", [False, True])
def test_sensor_logger_ios_uncalibrated_has_gravity_in_g(tmp_path, standardised):
    t = grid_ns(300)
    s = (t - EPOCH_NS) / 1e9
    ios_g = sine_xyz(s, 0.2, [0.0, 0.0, -1.0])     # flat, screen up: iOS reads -1 g on z
    folder = tmp_path / "still"
    folder.mkdir()
    write(folder / "Accelerometer.csv", sl_rows(t, ios_g * 0))   # gravity removed: not used
    write(folder / "AccelerometerUncalibrated.csv", sl_rows(t, ios_g if not standardised else -ios_g * G))
    write(folder / "Gyroscope.csv", sl_rows(t, np.zeros((300, 3))))
    write(folder / "Metadata.csv", "version,platform,standardisation\n3,ios,"
          f"{'true' if standardised else 'false'}\n")
    notices = []
    rec = read_streams(folder, notify=notices.append)
    np.testing.assert_allclose(rec.acc.xyz, -ios_g, atol=1e-12)   # Android sign: +1 g on z
    assert "AccelerometerUncalibrated" in rec.source
    assert notices == []          # the unit the app states is what the data show


def test_sensor_logger_annotations_become_labels(tmp_path):
    t = grid_ns(1000, rate=50)
    folder = tmp_path / "labelled"
    folder.mkdir()
    write(folder / "TotalAcceleration.csv", sl_rows(t, np.tile([0.0, 9.8, 0.0], (1000, 1))))
    write(folder / "Gyroscope.csv", sl_rows(t, np.zeros((1000, 3))))
    write(folder / "Annotation.csv", "time,seconds_elapsed,text\n"
          f"{EPOCH_NS + 2_000_000_000},2,walking\n{EPOCH_NS + 10_000_000_000},10,Sitting\n"
          f"{EPOCH_NS + 15_000_000_000},15,coffee break\n")
    rec = read_streams(folder, notify=quiet)
    s = rec.labels.t - EPOCH_NS / 1e9
    expected = np.select([s < 2 - 1e-6, s < 10 - 1e-6, s < 15 - 1e-6], [-1, 1, 4], -1)
    np.testing.assert_array_equal(rec.labels.labels, expected)


def test_sensor_logger_json_export(tmp_path):
    import json

    t = grid_ns(200)
    records = [{"sensor": "Metadata", "platform": "android", "standardisation": "false"}]
    for i, tn in enumerate(t):
        records.append({"sensor": "TotalAcceleration", "time": int(tn), "seconds_elapsed": 0,
                        "x": 0.1 * i, "y": 9.8, "z": 0.0})
        records.append({"sensor": "Gyroscope", "time": int(tn) + 3_000_000, "seconds_elapsed": 0,
                        "x": 0.0, "y": 0.01 * i, "z": 0.0})
    path = write(tmp_path / "export.json", json.dumps(records, indent=1))
    rec = read_streams(path, notify=quiet)
    np.testing.assert_allclose(rec.acc.xyz[:, 0], 0.1 * np.arange(200) / G)
    np.testing.assert_allclose(rec.gyro.xyz[:, 1], 0.01 * np.arange(200))
    np.testing.assert_allclose(rec.gyro.t - rec.acc.t, 0.003, atol=1e-6)


def test_generic_per_sensor_folder_skips_date_column(tmp_path):
    n = 400
    ms = 1 + np.arange(n) * 10
    acc = sine_xyz(ms / 1000, 1.0, [-9.6, -0.6, 2.0])
    gyro = sine_xyz(ms / 1000, 0.1, [0.0, 0.0, 0.0])
    folder = tmp_path / "Walking"
    folder.mkdir()
    for name, xyz in (("Accelerometer.csv", acc), ("Gyroscope.csv", gyro)):
        rows = ["Timestamp,Milliseconds,X,Y,Z"] + [
            f"2021-10-15 09:45:{11 + int(m // 1000):02d},{m},{float(x)!r},{float(y)!r},{float(z)!r}"
            for m, (x, y, z) in zip(ms, xyz)]
        write(folder / name, "\n".join(rows) + "\n")
    notices = []
    rec = read_streams(folder, notify=notices.append)
    np.testing.assert_allclose(rec.acc.t, ms / 1000)
    np.testing.assert_allclose(rec.acc.xyz, acc / G, rtol=1e-12)
    np.testing.assert_allclose(rec.gyro.xyz, gyro, rtol=1e-12)
    assert notices == []          # 'Milliseconds' says ms; the folder's axes hold m/s² as assumed


def test_androsensor_reads_accelerometer_not_linear(tmp_path):
    n = 200
    ms = np.arange(n) * 20
    head = ("sep=;\nACCELEROMETER X (m/s²);ACCELEROMETER Y (m/s²);ACCELEROMETER Z (m/s²);"
            "LINEAR ACCELERATION X (m/s²);LINEAR ACCELERATION Y (m/s²);LINEAR ACCELERATION Z (m/s²);"
            "GYROSCOPE X (rad/s);GYROSCOPE Y (rad/s);GYROSCOPE Z (rad/s);Time since start in ms ;"
            "YYYY-MO-DD HH-MI-SS_SSS\n")
    rows = [f"0,5;9,8;0;1;1;1;0;0;0,25;{m};2022-11-11 10-00-00_000" for m in ms]
    rec = read_streams(write(tmp_path / "a.csv", head + "\n".join(rows) + "\n"), notify=quiet)
    np.testing.assert_allclose(rec.acc.xyz, np.tile([0.5, 9.8, 0.0], (n, 1)) / G)
    np.testing.assert_allclose(rec.gyro.xyz, np.tile([0.0, 0.0, 0.25], (n, 1)))
    np.testing.assert_allclose(rec.acc.t, ms / 1000)


def test_columns_option_reads_any_layout_with_label_names(tmp_path):
    n = 100
    lines = ["when;a1;a2;a3;w1;w2;w3;activity;junk"] + [
        f"{i * 0.02:.2f};0;0;1;0,1;0;0;{'walking' if i < 50 else 'SITTING'};x" for i in range(n)]
    path = write(tmp_path / "odd.txt", "\n".join(lines) + "\n")
    with pytest.raises(SourceError, match="unrecognised recording"):
        read_streams(path, notify=quiet)
    rec = read_streams(path, columns="t=when,acc=a1,a2,a3,gyro=w1,w2,w3,label=activity",
                       notify=quiet)
    np.testing.assert_allclose(rec.gyro.xyz[:, 0], 0.1)
    np.testing.assert_array_equal(rec.labels.labels, [1] * 50 + [4] * 50)
    with pytest.raises(SourceError, match=r"^--columns: 'acc=' needs 3 column names"):
        read_streams(path, columns="t=when,acc=a1,a2,gyro=w1,w2,w3")


def noisy(n, seed=0):
    rng = np.random.default_rng(seed)
    t = np.arange(n) / 50.0
    acc = np.array([0.0, 0.2, 0.98]) + 0.05 * rng.standard_normal((n, 3))
    acc[n // 2:] += 0.4 * np.sin(2 * np.pi * 2 * t[n // 2:, None])
    gyro = 0.8 * np.sin(2 * np.pi * 1.5 * t[:, None] + np.arange(3)) + 0.02 * rng.standard_normal((n, 3))
    return t, acc, gyro


def write_engine(path, t, acc, gyro, t_fmt="{:.6f}"):
    rows = ["t,acc_x,acc_y,acc_z,gyro_x,gyro_y,gyro_z"] + [
        ",".join([t_fmt.format(ti), *(f"{v:.7g}" for v in (*a, *g))]) for ti, a, g in zip(t, acc, gyro)]
    return write(path, "\n".join(rows) + "\n")


def test_units_and_clock_recognised_with_one_notice_each_and_overridable(tmp_path):
    t, acc, gyro = noisy(1000)
    path = write_engine(tmp_path / "phone.csv", t * 1000, acc * G, np.rad2deg(gyro), "{:.1f}")
    notices = []
    rec = read_streams(path, notify=notices.append)
    np.testing.assert_allclose(rec.acc.xyz, acc, rtol=1e-6)
    np.testing.assert_allclose(rec.gyro.xyz, gyro, rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(rec.acc.t, t, atol=1e-9)
    assert len(notices) == 3
    assert "time column 't' looks like milliseconds (median spacing 20 = 50.0 Hz)" in notices[0]
    assert "acceleration looks like m/s² (|a| of still parts 9.8" in notices[1]
    assert "pass --acc-unit g to override" in notices[1]
    assert "angular rate looks like deg/s" in notices[2] and "--gyro-unit rad/s" in notices[2]
    notices.clear()
    forced = read_streams(path, acc_unit="g", gyro_unit="rad/s", time_unit="ms",
                          notify=notices.append)
    assert notices == []
    np.testing.assert_allclose(forced.acc.xyz, acc * G, rtol=1e-6)


def test_gravity_removed_is_refused_by_its_magnitude(tmp_path):
    t, acc, gyro = noisy(600)
    path = write_engine(tmp_path / "linear.csv", t, acc - [0.0, 0.2, 0.98], gyro)
    with pytest.raises(SourceError, match=r"^linear.csv: acceleration without gravity \(\|a\|"):
        read_streams(path, notify=quiet)


def test_a_bad_cell_after_the_first_chunk_names_its_line(tmp_path):
    from har.runtime.tools.readers import CHUNK_ROWS

    n = CHUNK_ROWS + 100
    t, acc, gyro = noisy(n)
    path = write_engine(tmp_path / "long.csv", t, acc, gyro)
    lines = path.read_text().splitlines()
    lines[CHUNK_ROWS + 50] = lines[CHUNK_ROWS + 50].replace(",", ",oops,", 1).replace(",oops,", ",", 1)
    lines[CHUNK_ROWS + 50] = "0.5," + lines[CHUNK_ROWS + 50].split(",", 1)[1]
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(SourceError) as info:
        read_streams(path, notify=quiet)
    assert str(info.value).startswith(f"long.csv line {CHUNK_ROWS + 51}: column 't': time goes "
                                      f"backwards: 0.5 after")


def test_merge_clocks_interpolates_and_leaves_holes(tmp_path):
    from har.runtime.tools.readers import RawChunk
    from har.runtime.tools.sources import merge_clocks

    tm = np.arange(0, 10, 0.01)
    to = np.arange(0.005, 10, 0.02)
    to = to[(to < 4) | (to > 5)]                       # a 1 s hole in the other stream
    master = (RawChunk(tm[a:a + 97], np.zeros((len(tm[a:a + 97]), 3)), np.arange(len(tm[a:a + 97])))
              for a in range(0, len(tm), 97))
    other = ((to[a:a + 31], np.column_stack([2 * to[a:a + 31]] * 3)) for a in range(0, len(to), 31))
    parts = list(merge_clocks(master, other, max_gap_s=0.5))
    t = np.concatenate([p[0] for p in parts])
    y = np.concatenate([p[4] for p in parts])[:, 0]
    assert t[0] >= to[0] and t[-1] <= to[-1]
    hole = (t > to[to < 4][-1]) & (t < to[to > 5][0])
    assert np.isnan(y[hole]).all() and hole.sum() > 90
    np.testing.assert_allclose(y[~hole], 2 * t[~hole], atol=1e-9)


def test_feeder_turns_a_long_jump_into_a_gap_and_a_short_hole_into_invalid_windows(tmp_path):
    from har.runtime.recognizer import Recognizer
    from har.runtime.tools.sources import Feeder, open_source

    t, acc, gyro = noisy(3000)
    t = t.copy()
    t[1000:] += 2.0                 # a 2 s hole: the recognizer's own gap (NaN windows)
    t[2000:] += 5e8                 # a clock jump: the resampler skips it, nothing allocated
    path = write_engine(tmp_path / "holes.csv", t, acc, gyro, "{:.3f}")
    source = open_source(path, notify=quiet)
    feeder = Feeder(source, Recognizer(timestamped=True))
    pairs = []
    for chunk in source.chunks():
        pairs += feeder.push(chunk)
    pairs += feeder.finish()
    preds = [p for p, _ in pairs]
    assert len(preds) == feeder.expected
    from har.runtime.online_resample import LONG_HOLE_SAMPLES

    # The 2 s hole is written out (100 NaN samples); the jump costs LONG_HOLE_SAMPLES, not 2.5e10.
    assert feeder.grid_samples < 3000 + 2 * 50 + LONG_HOLE_SAMPLES + 10
    jumps = [g for g in feeder.gaps if g.n_skipped_samples > 0]
    assert len(jumps) == 1 and jumps[0].t_to - jumps[0].t_from == pytest.approx(5e8 + 0.02, rel=1e-9)
    assert any(1.5 < g.t_to - g.t_from < 3 for g in feeder.gaps)
    starts = np.array([p.t_start for p in preds])
    assert not ((starts > t[1999] + 5) & (starts < t[2000] - 5)).any()
    assert any(not p.valid for p in preds if 15 < p.t_start < 23)


def test_open_recording_describes_and_read_all_keeps_each_sensor_on_its_own_clock(tmp_path):
    path, t_expected, acc_expected, gyro = ios_export(tmp_path)
    rec = open_recording(path)
    assert (rec.app, rec.platform, rec.joint, rec.grid) == ("Sensor Logger", "ios", False, False)
    assert rec.acc.sign == -1.0 and rec.acc.unit == "m/s^2" and rec.acc.time_unit == "ns"
    both = read_all(path, notify=quiet)
    assert both.acc.t[0] == 0.0
    # Nothing is interpolated across sensors: the acc (with gravity added back) at its own times,
    # the gyro exactly as written at its own times, on the same origin.
    np.testing.assert_allclose(both.acc.t, t_expected - t_expected[0], atol=1e-6)   # epoch ns in float64: ~0.2 us
    np.testing.assert_allclose(both.acc.xyz, acc_expected, atol=1e-7)   # gravity interpolated at float times
    np.testing.assert_allclose(both.gyro.xyz, gyro[:len(both.gyro.xyz)], atol=1e-9)
    assert np.all(np.diff(both.gyro.t) > 0) and not np.array_equal(both.gyro.t[:10], both.acc.t[:10])


def test_sensors_recorded_apart_are_refused(tmp_path):
    folder = tmp_path / "apart"
    folder.mkdir()
    t = np.arange(200) * 10
    for name, t0 in (("Accelerometer.csv", 0), ("Gyroscope.csv", 60_000)):
        rows = ["time_ms,x,y,z"] + [f"{t0 + ti},0,0,9.8" for ti in t]
        write(folder / name, "\n".join(rows) + "\n")
    with pytest.raises(SourceError, match="^apart: the times of apart/Accelerometer.csv and "
                                          "apart/Gyroscope.csv do not overlap"):
        read_all(folder, notify=quiet)
