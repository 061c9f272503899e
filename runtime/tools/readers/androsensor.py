"""AndroSensor (Android) CSV: ``;``-separated, one column per sensor axis, many sensors.

Where to find it: AndroSensor -> *Record* -> stop -> the CSV in ``AndroSensor/`` on the phone's
storage (or *Share*). Settings -> *Recording interval* sets the rows per second: the model needs
at least 20 (50 ms or less); the default 500 ms is refused as too slow.

Layout: an optional ``sep=;`` line, then a header like ``ACCELEROMETER X (m/s²);...;GYROSCOPE X
(rad/s);...;Time since start in ms ;YYYY-MO-DD HH-MI-SS_SSS``. Acceleration with gravity is
``ACCELEROMETER``, not ``LINEAR ACCELERATION``; both sensors share one clock.
"""

from __future__ import annotations

from ...errors import SourceError
from .columns import axis_sets, time_unit_of
from .recording import RawChunk, Recording, Sensor, check_increasing
from .text import TextTable, quoted


def looks_like_androsensor(header) -> bool:
    up = [h.upper() for h in header]
    return any(h.startswith("ACCELEROMETER X") for h in up) and any(
        "TIME SINCE START" in h for h in up)


def read_androsensor(table: TextTable, size_bytes: int = 0) -> Recording:
    sets = axis_sets(table.header)
    acc, gyro = sets.get("accelerometer"), sets.get("gyroscope")
    if gyro is None:
        raise SourceError(table.name, "AndroSensor file without 'GYROSCOPE X (rad/s)' columns: "
                          "enable the gyroscope in AndroSensor", line=table.header_line)
    if acc is None:
        raise SourceError(table.name, f"no 'ACCELEROMETER X' columns; found {quoted(table.header)}",
                          line=table.header_line)
    time_col = next(h for h in table.header if "time since start" in h.lower())
    columns = [time_col, acc["x"], acc["y"], acc["z"], gyro["x"], gyro["y"], gyro["z"]]

    def chunks():
        for c in table.chunks(columns):
            yield RawChunk(c.values[:, 0], c.values[:, 1:7], c.lines)

    return Recording(
        name=f"{table.name} (AndroSensor)", app="AndroSensor", platform="android",
        acc=Sensor(table.name, time_col, time_unit_of(time_col) or "ms", acc["unit"] or "m/s^2",
                   lambda: check_increasing(table.name, time_col.strip(), chunks())),
        gyro=Sensor(table.name, time_col, "ms", gyro["unit"] or "rad/s", None),
        joint=True, size_bytes=size_bytes)
