"""Read phone recordings as their apps export them, chosen by content, in bounded memory.

:func:`open_recording` recognises what a path holds (a folder, a zip, or a file, whatever its
name) from the files' headers and contents, never from one substring, and returns a
:class:`~.recording.Recording`: where the acceleration (with gravity) and angular rate are, and what
the app states about units, sign and clock. Samples are read later, in chunks of a few thousand
rows, by :func:`har.runtime.tools.sources.iter_chunks`, which also recognises units and clocks
from the data and puts the two sensors on one clock.

Supported layouts (one module each, documented there with where a user finds them in the app):

- :mod:`.sensorlogger` -- Sensor Logger zip or folder (iOS, Android), and its JSON export;
- :mod:`.persensor` -- one CSV per sensor: phyphox's multi-sensor export, generic loggers;
- :mod:`.phyphox` -- phyphox ``Raw Data.csv``;
- :mod:`.androsensor` -- AndroSensor CSV;
- :mod:`.hyperimu` -- HyperIMU CSV;
- :mod:`.ucirawdata` -- UCI HAR RawData ``acc_expXX_userYY.txt`` files;
- :mod:`.engine` -- the engine CSV, and any CSV with ``--columns``.

Refusals are :class:`~har.runtime.errors.SourceError` s in one line that say what was found and
what to do (record with gravity, enable the gyroscope, name the columns).
"""

from __future__ import annotations

from pathlib import Path

from ...errors import SourceError
from .androsensor import looks_like_androsensor, read_androsensor
from .engine import CSV_COLUMNS, is_engine_header, parse_columns, read_engine_csv
from .persensor import find_sensor_files, read_per_sensor
from .phyphox import looks_like_phyphox, read_phyphox
from .recording import TIME_UNITS, Annotations, RawChunk, Recording, Sensor, activity_id
from .sensorlogger import (
    looks_like_sensor_logger,
    looks_like_sensor_logger_json,
    read_sensor_logger,
    read_sensor_logger_json,
)
from .hyperimu import read_hyperimu
from .text import CHUNK_ROWS, Container, TextTable, is_zip, quoted
from .timed import TimedLabels, TimedRecording, TimedStream, read_all
from .ucirawdata import RAW_NAME, read_uci_raw

__all__ = ["open_recording", "Recording", "Sensor", "RawChunk", "Annotations", "TIME_UNITS",
           "CHUNK_ROWS", "parse_columns", "activity_id", "TimedStream", "TimedLabels",
           "TimedRecording", "read_all", "CSV_COLUMNS"]

PLATFORMS = ("auto", "android", "ios")

_LOOKED_FOR = ("a Sensor Logger export (folder, zip or JSON), a phyphox export (folder, zip or "
               "'Raw Data.csv'), a folder with Accelerometer.csv and Gyroscope.csv, an AndroSensor "
               "or HyperIMU CSV, a UCI RawData acc_expXX_userYY.txt, or the engine CSV "
               "(header t,acc_x,acc_y,acc_z,gyro_x,gyro_y,gyro_z)")
_HINT = "; name the columns with --columns t=TIME,acc=AX,AY,AZ,gyro=GX,GY,GZ"


def open_recording(path, *, columns: str | dict | None = None, platform: str = "auto") -> Recording:
    """Recognise the recording at ``path`` and describe it (no samples are read yet).

    Parameters
    ----------
    path : path-like
        A file, a folder, or a zip, as the app exported it.
    columns : str or dict, optional
        ``t=...,acc=...,gyro=...[,label=...]`` (see :func:`.engine.parse_columns`): read a CSV file
        with these columns, whatever its layout.
    platform : {"auto", "android", "ios"}
        Sensor Logger: the phone's system, when ``Metadata.csv`` does not say.

    Returns
    -------
    Recording

    Raises
    ------
    SourceError
        Not found, not recognised (the message says what was looked for), or refused by the
        layout's reader with the reason.
    """
    if platform not in PLATFORMS:
        raise SourceError("--platform", f"expected one of {', '.join(PLATFORMS)}, got '{platform}'")
    path = Path(path)
    if not path.exists():
        raise SourceError(str(path), "no such file or folder")
    if isinstance(columns, str):
        columns = parse_columns(columns)
    if path.is_dir() or is_zip(path):
        if columns is not None:
            raise SourceError(path.name, "--columns applies to one CSV file, not a folder or zip")
        container = Container(path)
        return _read_container(container, platform)
    return _read_file(path, columns, platform)


def _read_container(container: Container, platform: str) -> Recording:
    acc_key, gyro_key = find_sensor_files(container)
    for key in (container.find("TotalAcceleration.csv", "AccelerometerUncalibrated.csv",
                               "Gravity.csv"), acc_key, gyro_key):
        if key is None:
            continue
        header = TextTable(container.display(key), container.opener(key)).header
        if looks_like_sensor_logger(header):
            return read_sensor_logger(container, platform)
        break
    if acc_key is not None or gyro_key is not None:
        return read_per_sensor(container)
    raw = container.find("Raw Data.csv")
    if raw is not None:
        table = TextTable(container.display(raw), container.opener(raw))
        if looks_like_phyphox(table.header):
            return read_phyphox(table, size_bytes=container.size(raw))
    raise SourceError(container.label, f"unrecognised export: found {quoted(container.names()[:12])}"
                      f"; looked for {_LOOKED_FOR}")


def _read_file(path: Path, columns: dict | None, platform: str) -> Recording:
    size = path.stat().st_size
    if size == 0:
        raise SourceError(path.name, "no samples (empty file)")
    if RAW_NAME.match(path.name) and columns is None:
        return read_uci_raw(path)
    with open(path, "rb") as fh:
        head = fh.read(4096)
    if looks_like_sensor_logger_json(head):
        return read_sensor_logger_json(path, platform)
    try:
        head.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        if exc.start < len(head) - 4:    # not a multi-byte character cut by the 4 KiB read
            raise SourceError(path.name, f"not a text file (byte {exc.start} is not UTF-8) and not "
                              f"a zip; looked for {_LOOKED_FOR}") from None
    if head.lstrip().startswith(b"@"):
        return read_hyperimu(TextTable(path.name, lambda: open(path, "rb"), sep=",",
                                       skip=lambda s: s.startswith("@")), size)
    table = TextTable(path.name, lambda: open(path, "rb"), comment="#",
                      skip=lambda s: s.lower().startswith("sep="))
    if columns is not None:
        return read_engine_csv(path, table, columns)
    header = table.header
    if is_engine_header(header):
        if table.sep != ",":
            raise SourceError(path.name, "the engine CSV is comma-separated", line=table.header_line)
        return read_engine_csv(path, table)
    if looks_like_androsensor(header):
        return read_androsensor(table, size)
    if looks_like_phyphox(header):
        return read_phyphox(table, size_bytes=size)
    if looks_like_sensor_logger(header):
        raise SourceError(path.name, "this is one sensor file of a Sensor Logger export: pass the "
                          "whole export folder or zip")
    shown = table.sep.join(header)
    shown = shown if len(shown) <= 80 else shown[:77] + "..."
    raise SourceError(path.name, f"unrecognised recording: the header reads '{shown}'; looked for "
                      f"{_LOOKED_FOR}{_HINT}", line=table.header_line)
