"""A folder (or zip) with one CSV per sensor: phyphox's multi-sensor export, generic loggers.

Where to find it: phyphox -> an experiment using several sensors (or "Acceleration with g" and
"Gyroscope" recorded together) -> menu -> *Export data* -> *CSV (Comma, decimal point)*: a zip
holding ``Accelerometer.csv``, ``Gyroscope.csv``, ``Linear Accelerometer.csv``, ... and ``meta/``
(``device.csv``, ``time.csv``). Many Android loggers write the same shape:
``Accelerometer.csv`` and ``Gyroscope.csv`` with e.g. ``Timestamp,Milliseconds,X,Y,Z``.

Layout
------
- The acceleration file is named like ``Accelerometer.csv`` / ``Acceleration.csv`` / ``acc.csv``
  (never ``Linear...``: gravity removed), the angular rate file like ``Gyroscope.csv`` /
  ``gyro.csv``.
- In each, the time column is the first numeric column whose name says time (``Time (s)``,
  ``Milliseconds``, ``timestamp``...); its unit comes from the name when it says one, else from
  the spacing of the samples. A column holding dates (``2021-10-15 09:45:11``) is passed over.
- The axes are the ``X``, ``Y``, ``Z`` columns, with or without a unit in the name
  (``X (m/s^2)``): the unit is taken from the name when written, else from the data.
- phyphox iOS and Android write acceleration with gravity, in m/s², with Android's sign.
"""

from __future__ import annotations

from ...errors import SourceError
from .columns import axis_sets, time_columns, time_unit_of
from .recording import RawChunk, Recording, Sensor, check_increasing
from .text import Container, TextTable, quoted

ACC_NAMES = ("Accelerometer.csv", "Acceleration.csv", "Acc.csv", "accelerometer_data.csv",
             "Accelerometer.txt")
GYRO_NAMES = ("Gyroscope.csv", "Gyro.csv", "gyroscope_data.csv", "Gyroscope.txt")


def find_sensor_files(container: Container) -> tuple[str | None, str | None]:
    return container.find(*ACC_NAMES), container.find(*GYRO_NAMES)


def sensor_from_table(table: TextTable, default_unit: str, what: str, sign: float = 1.0) -> Sensor:
    """A :class:`Sensor` from a table with a time column and one set of x/y/z columns."""
    sets = axis_sets(table.header)
    if not sets:
        raise SourceError(table.name, f"no x, y, z columns for the {what}; found "
                          f"{quoted(table.header)}", line=table.header_line)
    prefix = "" if "" in sets else sorted(sets)[0]
    axes = sets[prefix]
    first = table.first_cells(1)
    time_col = None
    for c in time_columns(table.header):
        k = table.header.index(c)
        try:
            if first:
                float(first[0][k].replace(",", ".") if table.decimal_comma else first[0][k])
            time_col = c
            break
        except (ValueError, IndexError):
            continue
    if time_col is None:
        raise SourceError(table.name, f"no numeric time column (looked for a name with 'time', "
                          f"'timestamp', 'milliseconds', 'seconds'); found {quoted(table.header)}",
                          line=table.header_line)
    columns = [time_col, axes["x"], axes["y"], axes["z"]]

    def chunks():
        for c in table.chunks(columns):
            yield RawChunk(c.values[:, 0], c.values[:, 1:4], c.lines)

    return Sensor(table.name, time_col, time_unit_of(time_col), axes["unit"] or default_unit,
                  lambda: check_increasing(table.name, time_col, chunks()), sign=sign)


def read_per_sensor(container: Container) -> Recording:
    """Acceleration and gyroscope from their own files in one folder or zip (see module doc)."""
    acc_key, gyro_key = find_sensor_files(container)
    if acc_key is None:
        raise SourceError(container.label, f"no accelerometer file (looked for {quoted(ACC_NAMES)}); "
                          f"found {quoted(container.names())}")
    if gyro_key is None:
        raise SourceError(container.label, f"no gyroscope file next to the accelerometer (looked "
                          f"for {quoted(GYRO_NAMES)}); found {quoted(container.names())}: the "
                          "model needs angular rate")
    device = _phyphox_device(container)
    app = f"phyphox {device.get('version', '')}".strip() if device else "per-sensor CSV folder"
    platform = None
    if device:
        model = (device.get("devicemodel") or device.get("device model") or "").lower()
        platform = "ios" if model.startswith(("iphone", "ipad")) else (
            "android" if model else None)
    acc_table = TextTable(container.display(acc_key), container.opener(acc_key))
    gyro_table = TextTable(container.display(gyro_key), container.opener(gyro_key))
    acc = sensor_from_table(acc_table, "m/s^2", "acceleration")
    gyro = sensor_from_table(gyro_table, "rad/s", "angular rate")
    files = " + ".join(container.display(k).split("/", 1)[-1] for k in (acc_key, gyro_key))
    return Recording(name=f"{container.label} ({app}{', ' + platform if platform else ''}: {files})",
                     app=app, platform=platform, acc=acc, gyro=gyro,
                     size_bytes=container.size(acc_key))


def _phyphox_device(container: Container) -> dict:
    key = container.find("meta/device.csv")
    if key is None:
        return {}
    try:
        table = TextTable(container.display(key), container.opener(key))
        rows = table.first_cells(100)
    except SourceError:
        return {}
    return {r[0].strip('"').lower(): r[1].strip('"') for r in rows if len(r) >= 2}
