"""Read phone recordings into timestamped acceleration and gyroscope samples.

Every reader returns a :class:`TimedRecording` in the engine's units: acceleration **with
gravity** in **g**, angular rate in **rad/s**, axes as Android reports them (a phone lying flat,
screen up, reads about +1 g on z). Timestamps are seconds and strictly increasing; the sensors keep
their own time bases, and :func:`har.runtime.tools.resample.align_streams` puts them on the 50 Hz grid.

Readers never guess past bad data: a cell that is not a number, a missing column, a timestamp that
goes backwards or an empty file raises :class:`~har.runtime.errors.SourceError` naming the file, the
line (1-based, as a text editor shows it) and the column.

Supported sources
-----------------
- the engine CSV format below: :func:`read_csv`;
- Sensor Logger exports (folder or zip, iOS and Android): :func:`read_sensor_logger`;
- phyphox ``Raw Data.csv`` (acceleration with g, gyroscope): :func:`read_phyphox`;
- HyperIMU CSV: :func:`read_hyperimu`;
- any of the above, recognised by shape: :func:`read_any`.

The engine CSV format
---------------------
A comma-separated text file (UTF-8), one sample per line::

    # walking in the corridor, phone in the right trouser pocket
    t,acc_x,acc_y,acc_z,gyro_x,gyro_y,gyro_z,label
    0.00,0.012,-0.981,0.134,0.021,-0.004,0.010,1
    0.02,0.015,-0.978,0.129,0.019,-0.006,0.012,1
    0.04,nan,nan,nan,nan,nan,nan,-1

- The header names the columns ``t, acc_x, acc_y, acc_z, gyro_x, gyro_y, gyro_z`` and optionally
  ``label``, in any order; any other column is an error (it catches misspelt names).
- ``t`` is in seconds, from any origin, strictly increasing. The spacing need not be regular:
  samples are resampled to 50 Hz.
- ``acc_*`` is acceleration **including gravity**, in g by default (``acc_unit="m/s^2"`` to read
  m/s^2). ``gyro_*`` is angular rate in rad/s by default (``gyro_unit="deg/s"`` to read deg/s).
  Axes follow the Android convention: x to the right of the screen, y to its top, z out of it.
- A sensor cell may be ``nan`` (or ``NaN``) where the sensor had no value; the engine treats such
  samples as gaps and never interpolates across them. An empty cell is an error.
- ``label``, when present, is the activity id of the sample: an integer 1..12 (the engine's
  activity table), or -1 for unlabelled.
- Lines starting with ``#`` are comments; blank lines are skipped.
"""

from __future__ import annotations

import csv
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from har.features.contract import ACTIVITIES, UNLABELLED

from ..errors import SourceError
from ..units import to_g, to_rad_s

__all__ = [
    "TimedStream",
    "TimedLabels",
    "TimedRecording",
    "read_csv",
    "read_sensor_logger",
    "read_phyphox",
    "read_hyperimu",
    "read_any",
]

CSV_COLUMNS = ("t", "acc_x", "acc_y", "acc_z", "gyro_x", "gyro_y", "gyro_z")
LABEL_COLUMN = "label"
N_ACTIVITIES = len(ACTIVITIES)


@dataclass(frozen=True, eq=False)
class TimedStream:
    """One sensor's samples at their own times.

    Attributes
    ----------
    t : ndarray, shape (n,), float64
        Sample times in seconds, strictly increasing.
    xyz : ndarray, shape (n, 3), float64
        x, y, z in the engine's units: acceleration in g with gravity, or angular rate in rad/s.
        NaN rows are gaps.
    """

    t: np.ndarray
    xyz: np.ndarray

    def __post_init__(self) -> None:
        t = np.ascontiguousarray(self.t, dtype=np.float64)
        xyz = np.ascontiguousarray(self.xyz, dtype=np.float64)
        if t.ndim != 1 or xyz.shape != (t.size, 3):
            raise ValueError(f"TimedStream needs t of shape (n,) and xyz of shape (n, 3), "
                             f"got {t.shape} and {xyz.shape}")
        object.__setattr__(self, "t", t)
        object.__setattr__(self, "xyz", xyz)

    def __len__(self) -> int:
        return self.t.size


@dataclass(frozen=True, eq=False)
class TimedLabels:
    """Activity labels at the times of the samples they were written with.

    Attributes
    ----------
    t : ndarray, shape (n,), float64
        Times in seconds, strictly increasing.
    labels : ndarray, shape (n,), int64
        Activity id 1..12, or -1 for unlabelled.
    """

    t: np.ndarray
    labels: np.ndarray

    def __post_init__(self) -> None:
        t = np.ascontiguousarray(self.t, dtype=np.float64)
        labels = np.ascontiguousarray(self.labels, dtype=np.int64)
        if t.ndim != 1 or labels.shape != t.shape:
            raise ValueError(f"TimedLabels needs t and labels of the same shape (n,), "
                             f"got {t.shape} and {labels.shape}")
        object.__setattr__(self, "t", t)
        object.__setattr__(self, "labels", labels)


@dataclass(frozen=True, eq=False)
class TimedRecording:
    """A recording as read from a file: both sensors on their own time bases.

    Attributes
    ----------
    acc : TimedStream
        Acceleration with gravity, in g.
    gyro : TimedStream
        Angular rate, in rad/s.
    source : str
        What was read, for people: file name and format.
    labels : TimedLabels or None
        Activity labels, when the file carries them.
    dropped_rows : int
        Rows dropped because they only repeated the previous row's values (HyperIMU pads its
        fixed-rate output that way); 0 for formats that never do.
    """

    acc: TimedStream
    gyro: TimedStream
    source: str
    labels: TimedLabels | None = None
    dropped_rows: int = 0


# --------------------------------------------------------------------------------------------
# Text tables with line numbers

@dataclass
class _Table:
    name: str
    header: list[str]
    header_line: int
    rows: list[list[str]]
    lines: np.ndarray  # 1-based line number of each row
    decimal_comma: bool

    def has(self, column: str) -> bool:
        return column in self.header

    def require(self, columns) -> None:
        missing = [c for c in columns if c not in self.header]
        if missing:
            raise SourceError(self.name, f"missing column{'s' if len(missing) > 1 else ''} "
                              f"{_quoted(missing)}; found {_quoted(self.header)}",
                              line=self.header_line)

    def raw(self, column: str) -> list[str]:
        k = self.header.index(column)
        try:
            return [row[k].strip() for row in self.rows]
        except IndexError:
            for row, line in zip(self.rows, self.lines):
                if k >= len(row):
                    raise SourceError(self.name, f"expected a value, but the line has only "
                                      f"{len(row)} fields for {len(self.header)} columns",
                                      line=int(line), column=column) from None
            raise

    def numbers(self, column: str, *, allow_nan: bool = False) -> np.ndarray:
        cells = self.raw(column)
        text = [c.replace(",", ".") for c in cells] if self.decimal_comma else cells
        try:
            values = np.array(text, dtype=np.float64)
        except ValueError:
            values = None
        if values is None:
            for i, cell in enumerate(text):
                try:
                    float(cell)
                except ValueError:
                    self._bad_number(i, column, cells[i])
            raise AssertionError("unreachable: numpy refused a column that float() accepts")
        bad = np.flatnonzero(~np.isfinite(values))
        for i in bad:
            if not (allow_nan and cells[i] in ("nan", "NaN")):
                self._bad_number(i, column, cells[i])
        return values

    def _bad_number(self, i: int, column: str, cell: str):
        got = "an empty cell" if cell == "" else f"'{cell}'"
        raise SourceError(self.name, f"expected a number, got {got}",
                          line=int(self.lines[i]), column=column)


def _quoted(names) -> str:
    return ", ".join(f"'{n}'" for n in names) if names else "nothing"


def _sniff_separator(header_line: str) -> str:
    # Header names never contain tabs or semicolons, so whichever appears is the separator.
    if "\t" in header_line:
        return "\t"
    if ";" in header_line:
        return ";"
    return ","


def _split(line: str, sep: str) -> list[str]:
    if '"' in line:
        return next(csv.reader([line], delimiter=sep))
    return line.split(sep)


def _parse_table(name: str, lines: list[str], *, start: int = 0, sep: str | None = None,
                 comment: str | None = None) -> _Table:
    def skipped(text: str) -> bool:
        s = text.strip()
        return not s or (comment is not None and s.startswith(comment))

    header_at = next((i for i in range(start, len(lines)) if not skipped(lines[i])), None)
    if header_at is None:
        raise SourceError(name, "no samples")
    if sep is None:
        sep = _sniff_separator(lines[header_at])
    header = [h.strip() for h in _split(lines[header_at], sep)]
    while header and header[-1] == "":
        header.pop()  # a trailing separator is not a column
    rows, numbers = [], []
    for i in range(header_at + 1, len(lines)):
        if not skipped(lines[i]):
            rows.append(_split(lines[i], sep))
            numbers.append(i + 1)
    if not rows:
        raise SourceError(name, "no samples")
    return _Table(name=name, header=header, header_line=header_at + 1, rows=rows,
                  lines=np.asarray(numbers, dtype=np.int64), decimal_comma=sep != ",")


def _decode(name: str, data: bytes) -> list[str]:
    try:
        return data.decode("utf-8-sig").splitlines()
    except UnicodeDecodeError as exc:
        raise SourceError(name, f"not a UTF-8 text file (byte {exc.start})") from None


def _read_lines(path) -> tuple[str, list[str]]:
    path = Path(path)
    return path.name, _decode(path.name, path.read_bytes())


def _check_increasing(table: _Table, column: str, t: np.ndarray, lines: np.ndarray) -> None:
    step = np.diff(t)
    bad = np.flatnonzero(~(step > 0))
    if bad.size == 0:
        return
    i = int(bad[0]) + 1
    if step[i - 1] < 0:
        problem = (f"time goes backwards: {float(t[i])!r} after {float(t[i - 1])!r} "
                   f"on line {lines[i - 1]}")
    else:
        problem = f"time {float(t[i])!r} repeats the time of line {lines[i - 1]}"
    raise SourceError(table.name, problem, line=int(lines[i]), column=column)


def _stack(table: _Table, columns, *, allow_nan: bool = False) -> np.ndarray:
    return np.column_stack([table.numbers(c, allow_nan=allow_nan) for c in columns])


# --------------------------------------------------------------------------------------------
# The engine CSV format

def read_csv(path, acc_unit: str = "g", gyro_unit: str = "rad/s") -> TimedRecording:
    """Read a recording in the engine CSV format (see the module documentation).

    Parameters
    ----------
    path : str or path-like
        The CSV file.
    acc_unit : {"g", "m/s^2"}
        Unit of the ``acc_*`` columns.
    gyro_unit : {"rad/s", "deg/s"}
        Unit of the ``gyro_*`` columns.

    Returns
    -------
    TimedRecording
        Acc in g and gyro in rad/s, both at the times of ``t`` (seconds); ``labels`` set when the
        file has a ``label`` column.

    Raises
    ------
    ValueError
        For an unknown unit.
    SourceError
        For a file that does not follow the format.
    """
    to_g(0.0, acc_unit)  # reject a bad unit before reading a large file
    to_rad_s(0.0, gyro_unit)
    name, lines = _read_lines(path)
    table = _parse_table(name, lines, sep=",", comment="#")
    table.require(CSV_COLUMNS)
    unknown = [c for c in table.header if c not in CSV_COLUMNS and c != LABEL_COLUMN]
    if unknown:
        raise SourceError(name, f"unexpected column{'s' if len(unknown) > 1 else ''} "
                          f"{_quoted(unknown)}: expected {_quoted(CSV_COLUMNS)} and optionally "
                          f"'{LABEL_COLUMN}'", line=table.header_line)
    t = table.numbers("t")
    _check_increasing(table, "t", t, table.lines)
    acc = to_g(_stack(table, CSV_COLUMNS[1:4], allow_nan=True), acc_unit)
    gyro = to_rad_s(_stack(table, CSV_COLUMNS[4:7], allow_nan=True), gyro_unit)
    labels = None
    if table.has(LABEL_COLUMN):
        labels = TimedLabels(t, _read_labels(table))
    return TimedRecording(acc=TimedStream(t, acc), gyro=TimedStream(t, gyro),
                          source=f"{name} (engine CSV)", labels=labels)


def _read_labels(table: _Table) -> np.ndarray:
    cells = table.raw(LABEL_COLUMN)
    out = np.empty(len(cells), dtype=np.int64)
    for i, cell in enumerate(cells):
        try:
            value = int(cell)
        except ValueError:
            value = None
        if value is None or not (value == UNLABELLED or 1 <= value <= N_ACTIVITIES):
            got = "an empty cell" if cell == "" else f"'{cell}'"
            raise SourceError(table.name, f"expected an activity id 1..{N_ACTIVITIES} or "
                              f"{UNLABELLED}, got {got}", line=int(table.lines[i]),
                              column=LABEL_COLUMN)
        out[i] = value
    return out


# --------------------------------------------------------------------------------------------
# Sensor Logger

class _Export:
    """The CSV files of a Sensor Logger export, from a folder or a zip, by base name."""

    def __init__(self, path) -> None:
        self.path = Path(path)
        self.label = self.path.name
        self._zip = None
        self._members: dict[str, object] = {}
        if self.path.is_dir():
            for p in sorted(self.path.iterdir()):
                if p.is_file():
                    self._members.setdefault(p.name, p)
        elif zipfile.is_zipfile(self.path):
            self._zip = zipfile.ZipFile(self.path)
            for info in self._zip.infolist():
                if not info.is_dir():
                    # Exports zipped by hand may sit inside a top-level folder.
                    self._members.setdefault(info.filename.rsplit("/", 1)[-1], info.filename)
        else:
            raise SourceError(self.label, "expected a Sensor Logger export folder or zip")

    def __contains__(self, name: str) -> bool:
        return name in self._members

    def names(self) -> list[str]:
        return sorted(self._members)

    def display(self, name: str) -> str:
        return f"{self.label}/{name}"

    def table(self, name: str) -> _Table:
        member = self._members.get(name)
        if member is None:
            raise SourceError(self.label, f"missing {name}; found {_quoted(self.names())}")
        data = self._zip.read(member) if self._zip is not None else Path(member).read_bytes()
        shown = self.display(name)
        return _parse_table(shown, _decode(shown, data), sep=",")

    def close(self) -> None:
        if self._zip is not None:
            self._zip.close()


_PLATFORMS = ("auto", "android", "ios")


def read_sensor_logger(path, platform: str = "auto") -> TimedRecording:
    """Read a Sensor Logger export (folder or zip).

    Acceleration with gravity comes from ``TotalAcceleration.csv`` when present (Android), else from
    ``Accelerometer.csv`` (gravity removed) plus ``Gravity.csv`` interpolated onto the accelerometer's
    times (iOS); accelerometer samples outside Gravity's time span are left out rather than
    extrapolated. Angular rate comes from ``Gyroscope.csv``. Columns are found by header name.

    Parameters
    ----------
    path : str or path-like
        The export folder or ``.zip``.
    platform : {"auto", "android", "ios"}
        The phone's operating system. iOS reports acceleration with the opposite sign to Android, so
        iOS acceleration is negated to match the engine's (Android) convention. "auto" reads the
        ``platform`` column of ``Metadata.csv`` when there is one, else takes the presence of
        ``TotalAcceleration.csv`` (written on Android only) as the answer.

    Returns
    -------
    TimedRecording
        Acc in g with gravity, gyro in rad/s. Times are seconds since the Unix epoch from the
        ``time`` column (nanoseconds), or ``seconds_elapsed`` when some file lacks ``time``.

    Raises
    ------
    SourceError
        For a missing file or column, or a bad cell.
    ValueError
        For an unknown ``platform``.
    """
    if platform not in _PLATFORMS:
        raise ValueError(f"unknown platform {platform!r}: expected one of {', '.join(_PLATFORMS)}")
    export = _Export(path)
    try:
        return _read_sensor_logger(export, platform)
    finally:
        export.close()


def _read_sensor_logger(export: _Export, platform: str) -> TimedRecording:
    has_total = "TotalAcceleration.csv" in export
    if not has_total and "Accelerometer.csv" not in export:
        raise SourceError(export.label, f"expected TotalAcceleration.csv or Accelerometer.csv; "
                          f"found {_quoted(export.names())}")
    if platform == "auto":
        platform = _detect_platform(export, has_total)
    if has_total:
        acc_tables = [export.table("TotalAcceleration.csv")]
    else:
        if "Gravity.csv" not in export:
            raise SourceError(export.label, "Accelerometer.csv has gravity removed and there is "
                              "neither TotalAcceleration.csv nor Gravity.csv to restore it: the "
                              "model needs acceleration with gravity")
        acc_tables = [export.table("Accelerometer.csv"), export.table("Gravity.csv")]
    gyro_table = export.table("Gyroscope.csv")
    tables = acc_tables + [gyro_table]
    use_epoch = all(tb.has("time") for tb in tables)

    def timed(table: _Table) -> tuple[np.ndarray, np.ndarray]:
        column = "time" if use_epoch else "seconds_elapsed"
        table.require([column, "x", "y", "z"])
        t = table.numbers(column)
        if use_epoch:
            t = t / 1e9
        _check_increasing(table, column, t, table.lines)
        return t, _stack(table, ("x", "y", "z"))

    t_acc, acc = timed(acc_tables[0])
    if not has_total:
        t_grav, grav = timed(acc_tables[1])
        inside = (t_acc >= t_grav[0]) & (t_acc <= t_grav[-1])
        if not inside.any():
            raise SourceError(acc_tables[0].name, f"no sample lies within the time span of "
                              f"{acc_tables[1].name}, so gravity cannot be added back")
        t_acc = t_acc[inside]
        acc = acc[inside] + np.column_stack(
            [np.interp(t_acc, t_grav, grav[:, k]) for k in range(3)])
    if platform == "ios":
        acc = -acc
    t_gyro, gyro = timed(gyro_table)
    how = "TotalAcceleration" if has_total else "Accelerometer + Gravity"
    return TimedRecording(acc=TimedStream(t_acc, to_g(acc, "m/s^2")),
                          gyro=TimedStream(t_gyro, gyro),
                          source=f"{export.label} (Sensor Logger, {platform}, {how})")


def _detect_platform(export: _Export, has_total: bool) -> str:
    if "Metadata.csv" in export:
        try:
            meta = export.table("Metadata.csv")
        except SourceError:
            meta = None  # metadata is a hint only; the sensor files decide what can be read
        column = None if meta is None else next(
            (c for c in meta.header if c.lower() == "platform"), None)
        if column is not None:
            value = meta.raw(column)[0].lower()
            if "ios" in value:
                return "ios"
            if "android" in value:
                return "android"
    return "android" if has_total else "ios"


# --------------------------------------------------------------------------------------------
# phyphox

_PHYPHOX_TIME = re.compile(r"^time\b", re.IGNORECASE)
_PHYPHOX_ACC = re.compile(r"^acceleration ([xyz]) \(m/s(?:\^2|²)\)$", re.IGNORECASE)
_PHYPHOX_LINEAR = re.compile(r"^linear acceleration ([xyz])\b", re.IGNORECASE)
_PHYPHOX_GYRO = re.compile(r"^gyroscope ([xyz]) \(rad/s\)$", re.IGNORECASE)


def read_phyphox(acc_path, gyro_path=None) -> TimedRecording:
    """Read phyphox ``Raw Data.csv`` exports of acceleration (with g) and gyroscope.

    The separator (comma, tab or semicolon) is detected from the header; with a tab or semicolon
    separator a decimal comma is accepted.

    Parameters
    ----------
    acc_path : str or path-like
        ``Raw Data.csv`` of the "Acceleration with g" experiment: ``Time (s)``,
        ``Acceleration x (m/s^2)`` ... Or a single file that holds both the acceleration and the
        ``Gyroscope x (rad/s)`` ... columns, with ``gyro_path`` left out.
    gyro_path : str or path-like, optional
        ``Raw Data.csv`` of the "Gyroscope" experiment.

    Returns
    -------
    TimedRecording
        Acc in g with gravity, gyro in rad/s, times in seconds since the start of each
        experiment (two separate experiments have unrelated time origins).

    Raises
    ------
    SourceError
        For the linear-acceleration export (gravity removed), a missing column or a bad cell.
    """
    acc_name, acc_lines = _read_lines(acc_path)
    acc_table = _parse_table(acc_name, acc_lines)
    if gyro_path is None:
        gyro_table = acc_table
    else:
        gyro_name, gyro_lines = _read_lines(gyro_path)
        gyro_table = _parse_table(gyro_name, gyro_lines)
    t_acc, acc = _phyphox_sensor(acc_table, _PHYPHOX_ACC, "Acceleration {} (m/s^2)")
    t_gyro, gyro = _phyphox_sensor(gyro_table, _PHYPHOX_GYRO, "Gyroscope {} (rad/s)")
    names = acc_name if gyro_path is None else f"{acc_name} + {gyro_table.name}"
    return TimedRecording(acc=TimedStream(t_acc, to_g(acc, "m/s^2")),
                          gyro=TimedStream(t_gyro, gyro), source=f"{names} (phyphox)")


def _phyphox_sensor(table: _Table, pattern: re.Pattern, template: str):
    found = {}
    for k, name in enumerate(table.header):
        m = pattern.match(name)
        if m:
            found.setdefault(m.group(1).lower(), k)
    if not found and pattern is _PHYPHOX_ACC and any(
            _PHYPHOX_LINEAR.match(h) for h in table.header):
        raise SourceError(table.name, "this is phyphox's linear acceleration (gravity removed): "
                          "the model needs acceleration with gravity; record with the "
                          "'Acceleration with g' experiment", line=table.header_line)
    missing = [template.format(axis) for axis in "xyz" if axis not in found]
    if missing:
        raise SourceError(table.name, f"missing column{'s' if len(missing) > 1 else ''} "
                          f"{_quoted(missing)}; found {_quoted(table.header)}",
                          line=table.header_line)
    times = [k for k, name in enumerate(table.header) if _PHYPHOX_TIME.match(name)]
    if not times:
        raise SourceError(table.name, f"missing column 'Time (s)'; found {_quoted(table.header)}",
                          line=table.header_line)
    # A file holding several sensors may give each its own time column, written before it.
    before = [k for k in times if k < found["x"]]
    time_column = table.header[before[-1] if before else times[0]]
    t = table.numbers(time_column)
    _check_increasing(table, time_column, t, table.lines)
    return t, _stack(table, [table.header[found[a]] for a in "xyz"])


# --------------------------------------------------------------------------------------------
# HyperIMU

_HYPERIMU_PERIOD = re.compile(r"sampling\s*time\s*:?\s*([0-9.]+)\s*ms", re.IGNORECASE)
_EXCLUDED_VARIANTS = ("linear", "uncal")


def read_hyperimu(path) -> TimedRecording:
    """Read a HyperIMU CSV recording.

    The layout is ``@`` header lines, a blank line, then ``timestamp,<SENSOR>.x,<SENSOR>.y,...``
    with vendor sensor names. The accelerometer and gyroscope columns are the sensors whose name
    contains "accelerometer" (or "acceleration") and "gyro", case-insensitively, leaving out the
    linear-acceleration and uncalibrated variants; the first match is used and named in ``source``.

    HyperIMU writes at a fixed period and repeats the last values when no new measurement came;
    rows whose sensor values all equal the previous row's are dropped and counted in
    ``dropped_rows``.

    Parameters
    ----------
    path : str or path-like
        The CSV file.

    Returns
    -------
    TimedRecording
        Acc in g with gravity, gyro in rad/s; times in seconds since the Unix epoch from
        ``timestamp`` (milliseconds), or from the ``@`` header's sampling time when the file has
        no timestamp column.

    Raises
    ------
    SourceError
        For a missing sensor or column, a bad cell or a timestamp that does not increase.
    """
    name, lines = _read_lines(path)
    at_lines = []
    start = 0
    while start < len(lines) and (lines[start].startswith("@") or not lines[start].strip()):
        if lines[start].startswith("@"):
            at_lines.append(lines[start])
        start += 1
    table = _parse_table(name, lines, start=start, sep=",")
    sensors: dict[str, dict[str, str]] = {}
    for column in table.header:
        sensor, dot, axis = column.rpartition(".")
        if dot and axis.lower() in ("x", "y", "z"):
            sensors.setdefault(sensor, {})[axis.lower()] = column

    def pick(words, what):
        candidates = [s for s in sensors if any(w in s.lower() for w in words)
                      and not any(w in s.lower() for w in _EXCLUDED_VARIANTS)]
        if not candidates:
            raise SourceError(name, f"no {what} columns (expected '<{what}>.x', '.y', '.z'); "
                              f"found {_quoted(table.header)}", line=table.header_line)
        sensor = candidates[0]
        missing = [f"{sensor}.{a}" for a in "xyz" if a not in sensors[sensor]]
        if missing:
            raise SourceError(name, f"missing column{'s' if len(missing) > 1 else ''} "
                              f"{_quoted(missing)}; found {_quoted(table.header)}",
                              line=table.header_line)
        return sensor, [sensors[sensor][a] for a in "xyz"]

    acc_sensor, acc_columns = pick(("accelerometer", "acceleration"), "Accelerometer")
    gyro_sensor, gyro_columns = pick(("gyro",), "Gyroscope")
    acc = _stack(table, acc_columns)
    gyro = _stack(table, gyro_columns)

    time_column = next((c for c in table.header if c.lower() == "timestamp"), None)
    if time_column is not None:
        t = table.numbers(time_column) / 1000.0
    else:
        period = next((m for m in map(_HYPERIMU_PERIOD.search, at_lines) if m), None)
        if period is None:
            raise SourceError(name, "no 'timestamp' column and no 'Sampling Time' in the '@' "
                              "header lines: cannot tell when the samples were taken",
                              line=table.header_line)
        t = np.arange(len(table.rows)) * float(period.group(1)) / 1000.0
        time_column = "timestamp"

    values = np.hstack([acc, gyro])
    repeat = np.zeros(len(t), dtype=bool)
    repeat[1:] = np.all(values[1:] == values[:-1], axis=1)
    keep = ~repeat
    t, lines_kept = t[keep], table.lines[keep]
    _check_increasing(table, time_column, t, lines_kept)
    return TimedRecording(acc=TimedStream(t, to_g(acc[keep], "m/s^2")),
                          gyro=TimedStream(t, gyro[keep]),
                          source=f"{name} (HyperIMU: {acc_sensor}, {gyro_sensor})",
                          dropped_rows=int(repeat.sum()))


# --------------------------------------------------------------------------------------------
# Dispatch

_LOOKED_FOR = ("a Sensor Logger folder or zip (with Accelerometer.csv or TotalAcceleration.csv), "
               "a HyperIMU file (first line starting with '@'), a phyphox Raw Data.csv (column "
               "'Acceleration x (m/s^2)') or the engine CSV (header 't,acc_x,...')")


def read_any(path, *, acc_unit: str | None = None, gyro_unit: str | None = None) -> TimedRecording:
    """Read a recording in any supported format, recognised by its shape.

    Parameters
    ----------
    path : str or path-like
        A Sensor Logger folder or zip, a HyperIMU CSV, a phyphox ``Raw Data.csv`` holding
        acceleration and gyroscope, or an engine CSV.
    acc_unit, gyro_unit : str, optional
        Units of the engine CSV's columns (see :func:`read_csv`). The other formats state their
        units themselves, so giving a unit for them is an error rather than silently ignored.

    Returns
    -------
    TimedRecording

    Raises
    ------
    SourceError
        When the format is not recognised (the message says what was looked for), or from the
        format's reader.
    ValueError
        When a unit is given for a format other than the engine CSV.
    """
    path = Path(path)
    units = {k: v for k, v in (("acc_unit", acc_unit), ("gyro_unit", gyro_unit)) if v is not None}

    def fixed_units(fmt: str) -> None:
        if units:
            raise ValueError(f"{path.name} is a {fmt} recording, which states its own units: "
                             f"{', '.join(units)} applies to the engine CSV only")

    if path.is_dir() or (path.is_file() and zipfile.is_zipfile(path)):
        export = _Export(path)
        try:
            is_sensor_logger = "Accelerometer.csv" in export or "TotalAcceleration.csv" in export
        finally:
            export.close()
        if not is_sensor_logger:
            raise SourceError(path.name, f"unrecognised recording: looked for {_LOOKED_FOR}")
        fixed_units("Sensor Logger")
        return read_sensor_logger(path)

    name, lines = _read_lines(path)
    first = next((s.strip() for s in lines if s.strip() and not s.startswith("#")), None)
    if first is None:
        raise SourceError(name, "no samples")
    if lines and lines[0].startswith("@"):
        fixed_units("HyperIMU")
        return read_hyperimu(path)
    if "acceleration x (m/s" in first.lower():
        fixed_units("phyphox")
        return read_phyphox(path)
    if first.replace(" ", "").startswith("t,acc_x"):
        return read_csv(path, **units)
    shown = first if len(first) <= 60 else first[:57] + "..."
    raise SourceError(name, f"unrecognised recording: looked for {_LOOKED_FOR}; the first line "
                      f"reads '{shown}'")
