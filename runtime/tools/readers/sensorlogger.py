"""Sensor Logger (Kelvin Choi; iOS and Android) exports: zip, folder, or JSON.

Where to find it in the app: record, then *Recordings* -> the recording -> *Export* -> format
*CSV* (a ``.zip`` of one CSV per sensor; unzip it or pass the zip) or *JSON*. Enable at least the
Accelerometer (or Total Acceleration / Uncalibrated) and the Gyroscope sensors before recording.

Layout
------
One CSV per sensor, columns ``time`` (nanoseconds since the Unix epoch), ``seconds_elapsed`` and
the axes by name (written ``z, y, x``: read by name, never by position):

- acceleration **with gravity**, first found of: ``TotalAcceleration.csv`` (Android, m/s²);
  ``Accelerometer.csv`` + ``Gravity.csv`` added sample by sample (``Accelerometer.csv`` alone has
  gravity removed); ``AccelerometerUncalibrated.csv`` (with gravity; in g on iOS, m/s² on Android).
- angular rate: ``Gyroscope.csv`` (rad/s), else ``GyroscopeUncalibrated.csv``.
- ``Metadata.csv``: ``platform`` (ios/android) and ``standardisation``. iOS reports acceleration
  with the opposite sign to Android; it is negated unless ``standardisation`` is true (then the app
  has already written Android's convention). Without ``Metadata.csv`` the platform is taken from
  the files (``TotalAcceleration.csv`` is Android-only) and a notice says so.
- ``Annotation.csv``: ``time`` and ``text`` of each annotation; a text naming an activity
  ("walking", "sitting", "upstairs", or an activity name of the engine) labels the samples from its time until the next
  annotation (or for its ``millisecond_duration`` when given).

The JSON export is one array of records ``{"sensor": "Accelerometer", "time": <ns>, "x": .., "y":
.., "z": ..}`` (plus ``seconds_elapsed``); the same sensors are chosen as in the CSV export. It is
read incrementally (one record at a time), twice: once per sensor.
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np

from ...errors import SourceError
from .recording import Annotations, RawChunk, Recording, Sensor, activity_id, check_increasing
from .text import CHUNK_ROWS, Container, TextTable, quoted

APP = "Sensor Logger"
_ACC_FILES = ("TotalAcceleration.csv", "Accelerometer.csv", "AccelerometerUncalibrated.csv")


def looks_like_sensor_logger(header) -> bool:
    """A Sensor Logger sensor CSV header: ``time``/``seconds_elapsed`` and axes."""
    h = [c.lower() for c in header]
    return "seconds_elapsed" in h or ("time" in h and {"x", "y", "z"} <= set(h))


def read_sensor_logger(container: Container, platform: str = "auto") -> Recording:
    """A Sensor Logger CSV export (folder or zip), as described in the module documentation.

    Parameters
    ----------
    container : Container
        The export's files.
    platform : {"auto", "android", "ios"}
        The phone's system; "auto" reads ``Metadata.csv``.

    Returns
    -------
    Recording
        Acc expected in m/s² (g for iOS uncalibrated), gyro in rad/s, times in ns.

    Raises
    ------
    SourceError
        No acceleration with gravity, no gyroscope, a missing column: the message says what was
        found and what to do.
    """
    label = container.label
    meta = _metadata(container)
    notes = []
    total = container.find("TotalAcceleration.csv")
    user = container.find("Accelerometer.csv")
    gravity = container.find("Gravity.csv")
    uncal = container.find("AccelerometerUncalibrated.csv")
    gyro_key = container.find("Gyroscope.csv", "GyroscopeUncalibrated.csv")
    if platform == "auto":
        platform = (meta.get("platform") or "").lower()
        if "ios" in platform:
            platform = "ios"
        elif "android" in platform:
            platform = "android"
        else:
            platform = "android" if total else "ios"
            notes.append(f"{label}: no platform in Metadata.csv: taken as {platform} "
                         f"({'TotalAcceleration.csv is Android-only' if total else 'no TotalAcceleration.csv, which Android writes'}); "
                         f"pass --platform {'ios' if platform == 'android' else 'android'} to override")
    standardised = (meta.get("standardisation") or "").strip().lower() == "true"
    if total:
        acc_keys, how, unit = [total], "TotalAcceleration", "m/s^2"
    elif user and gravity:
        acc_keys, how, unit = [user, gravity], "Accelerometer + Gravity", "m/s^2"
    elif uncal:
        acc_keys, how = [uncal], "AccelerometerUncalibrated"
        unit = "g" if platform == "ios" and not standardised else "m/s^2"
    elif user:
        raise SourceError(label, "Accelerometer.csv has gravity removed and there is no "
                          "TotalAcceleration.csv, Gravity.csv or AccelerometerUncalibrated.csv to "
                          "restore it: the model needs acceleration with gravity; enable Total "
                          "Acceleration (Android) or Gravity in Sensor Logger")
    else:
        raise SourceError(label, f"no accelerometer file (looked for {quoted(_ACC_FILES)}); found "
                          f"{quoted(container.names())}")
    if gyro_key is None:
        raise SourceError(label, f"no gyroscope: Gyroscope.csv is missing (found "
                          f"{quoted(container.names())}); the model needs angular rate: enable the "
                          "Gyroscope in Sensor Logger and record again")
    sign = -1.0 if platform == "ios" and not standardised else 1.0
    acc_tables = [_table(container, k) for k in acc_keys]
    gyro_table = _table(container, gyro_key)
    # Epoch nanoseconds when every file has them, else seconds_elapsed (one clock for all).
    column = ("time" if all("time" in tb.header for tb in [*acc_tables, gyro_table])
              else "seconds_elapsed")
    acc_chunks = _sensor_chunks(acc_tables[0], column)
    if len(acc_tables) == 2:
        acc_chunks = _plus_gravity(acc_tables[0], acc_tables[1], column)
    acc = Sensor(acc_tables[0].name, column, "ns", unit, acc_chunks, sign=sign)
    gyro = Sensor(gyro_table.name, column, "ns", "rad/s", _sensor_chunks(gyro_table, column))
    annotations = _annotations(container)
    files = " + ".join(container.display(k).rsplit("/", 1)[-1] for k in [*acc_keys, gyro_key])
    return Recording(name=f"{label} ({APP}, {platform}{', standardised' if standardised else ''}: {files})",
                     app=APP, platform=platform, acc=acc, gyro=gyro, annotations=annotations,
                     labelled=annotations is not None, size_bytes=container.size(acc_keys[0]),
                     notes=notes)


def _table(container: Container, key: str) -> TextTable:
    table = TextTable(container.display(key), container.opener(key), sep=",")
    column = "time" if "time" in table.header else "seconds_elapsed"
    table.require([column, "x", "y", "z"])
    return table


def _sensor_chunks(table: TextTable, column: str):
    def chunks():
        for c in table.chunks([column, "x", "y", "z"]):
            t = c.values[:, 0] if column == "time" else c.values[:, 0] * 1e9
            yield RawChunk(t, c.values[:, 1:4], c.lines)
    return lambda: check_increasing(table.name, column, chunks())


def _plus_gravity(acc: TextTable, grav: TextTable, column: str):
    """Accelerometer + Gravity, gravity interpolated onto the accelerometer's times, chunk-wise."""
    from ..sources import merge_clocks   # one chunk-wise interpolation for the whole engine

    def chunks():
        a = _sensor_chunks(acc, column)()
        g = ((c.t, c.xyz) for c in _sensor_chunks(grav, column)())
        for t, xyz, lines, _, g_xyz in merge_clocks(a, g, max_gap_s=0.5e9):
            yield RawChunk(t, xyz + g_xyz, lines)
    return chunks


def _metadata(container: Container) -> dict:
    key = container.find("Metadata.csv")
    if key is None:
        return {}
    try:
        table = TextTable(container.display(key), container.opener(key), sep=",")
        rows = table.first_cells(1)
    except SourceError:
        return {}   # metadata is a hint only; the sensor files decide what can be read
    if not rows:
        return {}
    return {h.lower(): v for h, v in zip(table.header, rows[0])}


def _annotations(container: Container) -> Annotations | None:
    key = container.find("Annotation.csv")
    if key is None or container.size(key) == 0:
        return None
    table = TextTable(container.display(key), container.opener(key), sep=",")
    if "time" not in table.header:
        return None
    text_col = next((c for c in table.header if c.lower() in ("text", "annotation", "label")),
                    None)
    if text_col is None:
        return None
    duration_col = next((c for c in table.header if "duration" in c.lower()), None)
    times, texts, durations = [], [], []
    for c in table.chunks(["time"] + ([duration_col] if duration_col else [])):
        times.extend((c.values[:, 0] / 1e9).tolist())
        if duration_col:
            durations.extend((c.values[:, 1] / 1e3).tolist())
    for cells, _ in table.text_chunks(text_col):
        texts.extend(cells)
    if not times:
        return None
    t = np.asarray(times)
    order = np.argsort(t, kind="stable")
    t = t[order]
    labels = np.array([activity_id(texts[i]) or -1 for i in order], dtype=np.int64)
    end = np.append(t[1:], np.inf)
    if duration_col:
        end = np.minimum(end, t + np.asarray(durations)[order])
    return Annotations(t, end, labels)


# ------------------------------------------------------------------------------ JSON export


def looks_like_sensor_logger_json(head: bytes) -> bool:
    s = head.lstrip()
    return s.startswith(b"[") and b'"sensor"' in s[:4096]


def _json_records(path: Path):
    """Yield the objects of a JSON array one at a time (bounded memory)."""
    decoder = json.JSONDecoder()
    name = path.name
    with io.open(path, "r", encoding="utf-8-sig") as fh:
        buf = fh.read(1 << 16).lstrip()
        if not buf.startswith("["):
            raise SourceError(name, "expected a JSON array of records")
        buf = buf[1:]
        while True:
            buf = buf.lstrip().lstrip(",").lstrip()
            while not buf:
                more = fh.read(1 << 16)
                if not more:
                    raise SourceError(name, "the JSON array is not closed: the file is truncated")
                buf = more.lstrip().lstrip(",").lstrip()
            if buf.startswith("]"):
                return
            try:
                obj, end = decoder.raw_decode(buf)
            except json.JSONDecodeError:
                more = fh.read(1 << 16)
                if not more or len(buf) > 1 << 20:
                    raise SourceError(name, "not valid JSON (a record could not be parsed)") from None
                buf += more
                continue
            yield obj
            buf = buf[end:]


def read_sensor_logger_json(path, platform: str = "auto") -> Recording:
    """Sensor Logger's JSON export (see the module documentation); platform "auto" = Metadata."""
    path = Path(path)
    present, meta = set(), {}
    for rec in _json_records(path):
        s = str(rec.get("sensor", ""))
        present.add(s.lower())
        if s.lower() == "metadata":
            meta = {str(k).lower(): str(v) for k, v in rec.items()}
        if len(present) > 8 and "gyroscope" in present:
            break
    if platform == "auto":
        p = meta.get("platform", "").lower()
        platform = "ios" if "ios" in p else "android" if "android" in p else (
            "android" if "totalacceleration" in present else "ios")
    standardised = meta.get("standardisation", "").lower() == "true"
    if "totalacceleration" in present:
        acc_names, unit = ["totalacceleration"], "m/s^2"
    elif "accelerometer" in present and "gravity" in present:
        acc_names, unit = ["accelerometer", "gravity"], "m/s^2"
    elif "accelerometeruncalibrated" in present:
        acc_names = ["accelerometeruncalibrated"]
        unit = "g" if platform == "ios" and not standardised else "m/s^2"
    else:
        raise SourceError(path.name, "no acceleration with gravity among the JSON records "
                          f"(sensors found: {quoted(sorted(present))})")
    gyro_name = next((g for g in ("gyroscope", "gyroscopeuncalibrated") if g in present), None)
    if gyro_name is None:
        raise SourceError(path.name, f"no gyroscope records (sensors found: {quoted(sorted(present))})")

    def sensor(wanted):
        def chunks():
            t, xyz, lines, n = [], [], [], 0
            for k, rec in enumerate(_json_records(path), start=1):
                if str(rec.get("sensor", "")).lower() != wanted:
                    continue
                try:
                    t.append(float(rec["time"]))
                    xyz.append([float(rec["x"]), float(rec["y"]), float(rec["z"])])
                except (KeyError, TypeError, ValueError):
                    raise SourceError(path.name, f"record {k} ({wanted}): expected numbers "
                                      "'time', 'x', 'y', 'z'") from None
                lines.append(k)
                n += 1
                if n >= CHUNK_ROWS:
                    yield RawChunk(np.array(t), np.array(xyz), np.array(lines))
                    t, xyz, lines, n = [], [], [], 0
            if t:
                yield RawChunk(np.array(t), np.array(xyz), np.array(lines))
        return lambda: check_increasing(f"{path.name} ({wanted})", "time", chunks())

    acc_chunks = sensor(acc_names[0])
    if len(acc_names) == 2:
        from ..sources import merge_clocks

        a, g = sensor("accelerometer"), sensor("gravity")

        def acc_chunks():
            for t, xyz, lines, _, g_xyz in merge_clocks(a(), ((c.t, c.xyz) for c in g()),
                                                        max_gap_s=0.5e9):
                yield RawChunk(t, xyz + g_xyz, lines)
    sign = -1.0 if platform == "ios" and not standardised else 1.0
    return Recording(name=f"{path.name} ({APP} JSON, {platform})", app=f"{APP} JSON",
                     platform=platform,
                     acc=Sensor(path.name, "time", "ns", unit, acc_chunks, sign=sign),
                     gyro=Sensor(path.name, "time", "ns", "rad/s", sensor(gyro_name)),
                     size_bytes=path.stat().st_size // 2)
