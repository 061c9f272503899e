"""phyphox ``Raw Data.csv``: one experiment's export (separator comma, tab or semicolon).

Where to find it: phyphox -> *Acceleration with g* (and *Gyroscope*) experiment -> menu ->
*Export data* -> any CSV flavour. Columns ``Time (s)``, ``Acceleration x (m/s^2)`` ...; a gyroscope
export has ``Gyroscope x (rad/s)`` ...; one file may hold both, each sensor after its own time
column. With a tab or semicolon separator a decimal comma is accepted.

The *Linear Acceleration* experiment (``Linear Acceleration x (m/s^2)``) has gravity removed and
is refused with that reason; record with *Acceleration with g* instead.
"""

from __future__ import annotations

import re

from ...errors import SourceError
from .recording import RawChunk, Recording, Sensor, check_increasing
from .text import TextTable, quoted

_TIME = re.compile(r"^time\b", re.IGNORECASE)
_ACC = re.compile(r"^acceleration ([xyz]) \(m/s(?:\^2|²)\)$", re.IGNORECASE)
_LINEAR = re.compile(r"^linear acceleration ([xyz])\b", re.IGNORECASE)
_GYRO = re.compile(r"^gyroscope ([xyz]) \(rad/s\)$", re.IGNORECASE)


def looks_like_phyphox(header) -> bool:
    return any(_TIME.match(h) for h in header) and any(
        _ACC.match(h) or _LINEAR.match(h) or _GYRO.match(h) for h in header)


def _columns(table: TextTable, pattern: re.Pattern) -> tuple[str, list[str]] | None:
    found = {}
    for k, name in enumerate(table.header):
        m = pattern.match(name)
        if m:
            found.setdefault(m.group(1).lower(), k)
    if len(found) < 3:
        return None
    times = [k for k, name in enumerate(table.header) if _TIME.match(name)]
    before = [k for k in times if k < found["x"]]   # each sensor's own time column comes first
    if not times:
        raise SourceError(table.name, f"missing column 'Time (s)'; found {quoted(table.header)}",
                          line=table.header_line)
    return table.header[before[-1] if before else times[0]], [table.header[found[a]] for a in "xyz"]


def _sensor(table: TextTable, time_col: str, axes: list[str], unit: str) -> Sensor:
    def chunks():
        for c in table.chunks([time_col, *axes]):
            yield RawChunk(c.values[:, 0], c.values[:, 1:4], c.lines)
    return Sensor(table.name, time_col, "s", unit,
                  lambda: check_increasing(table.name, time_col, chunks()))


def read_phyphox(table: TextTable, gyro_table: TextTable | None = None,
                 size_bytes: int = 0) -> Recording:
    """A phyphox ``Raw Data.csv`` holding acceleration with g and gyroscope (or two files).

    Raises
    ------
    SourceError
        For linear acceleration (gravity removed), or no gyroscope, saying what to record instead.
    """
    acc = _columns(table, _ACC)
    if acc is None:
        linear = any(_LINEAR.match(h) for h in table.header)
        has_gyro = _columns(table, _GYRO) is not None or gyro_table is not None
        if linear:
            raise SourceError(table.name, "this is phyphox's Linear Acceleration (gravity removed)"
                              + ("" if has_gyro else " and there is no gyroscope")
                              + ": the model needs acceleration with gravity and angular rate; "
                              "record with phyphox's 'Acceleration with g' and 'Gyroscope' "
                              "(or a multi-sensor experiment)", line=table.header_line)
        raise SourceError(table.name, f"no 'Acceleration x (m/s^2)' columns; found "
                          f"{quoted(table.header)}", line=table.header_line)
    source = gyro_table if gyro_table is not None else table
    gyro = _columns(source, _GYRO)
    if gyro is None:
        raise SourceError(source.name, "no gyroscope columns ('Gyroscope x (rad/s)' ...): the model "
                          "needs angular rate; record with a phyphox experiment that logs both "
                          "acceleration with g and the gyroscope (e.g. a multi-sensor experiment) "
                          "and export it as CSV", line=source.header_line)
    names = table.name if gyro_table is None else f"{table.name} + {gyro_table.name}"
    return Recording(name=f"{names} (phyphox Raw Data)", app="phyphox Raw Data", platform=None,
                     acc=_sensor(table, *acc, "m/s^2"), gyro=_sensor(source, *gyro, "rad/s"),
                     size_bytes=size_bytes)
