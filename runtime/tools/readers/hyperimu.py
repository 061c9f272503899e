"""HyperIMU (Android) CSV.

Where to find it: HyperIMU -> choose the sensors (Accelerometer and Gyroscope), enable *Log to
file* (CSV) -> the file in ``HyperIMU/`` on the phone's storage.

Layout: ``@`` header lines (one says e.g. ``Sampling Time: 50ms``), a blank line, then
``timestamp,<SENSOR>.x,<SENSOR>.y,<SENSOR>.z,...`` with vendor sensor names (``MPL_Accelerometer``,
``lsm6dsl_gyroscope``...). The accelerometer and gyroscope are the first sensors whose name holds
"accelerometer"/"acceleration" and "gyro", leaving out linear and uncalibrated variants.
``timestamp`` is epoch milliseconds; without it the ``@`` sampling time gives the clock. Units m/s²
and rad/s. HyperIMU repeats the last values when no new measurement came: such rows are dropped.
"""

from __future__ import annotations

import re

import numpy as np

from ...errors import SourceError
from .recording import RawChunk, Recording, Sensor, check_increasing
from .text import TextTable, quoted

_PERIOD = re.compile(r"sampling\s*time\s*:?\s*([0-9.]+)\s*ms", re.IGNORECASE)
_EXCLUDED = ("linear", "uncal")


def read_hyperimu(table: TextTable, size_bytes: int = 0) -> Recording:
    name = table.name
    sensors: dict[str, dict[str, str]] = {}
    for column in table.header:
        sensor, dot, axis = column.rpartition(".")
        if dot and axis.lower() in ("x", "y", "z"):
            sensors.setdefault(sensor, {})[axis.lower()] = column

    def pick(words, what):
        candidates = [s for s in sensors if any(w in s.lower() for w in words)
                      and not any(w in s.lower() for w in _EXCLUDED)]
        if not candidates:
            raise SourceError(name, f"no {what} columns (expected '<{what}>.x', '.y', '.z'); "
                              f"found {quoted(table.header)}", line=table.header_line)
        s = candidates[0]
        missing = [f"{s}.{a}" for a in "xyz" if a not in sensors[s]]
        if missing:
            raise SourceError(name, f"missing column{'s' if len(missing) > 1 else ''} "
                              f"{quoted(missing)}; found {quoted(table.header)}", line=table.header_line)
        return s, [sensors[s][a] for a in "xyz"]

    acc_sensor, acc_columns = pick(("accelerometer", "acceleration"), "Accelerometer")
    gyro_sensor, gyro_columns = pick(("gyro",), "Gyroscope")
    time_col = next((c for c in table.header if c.lower() == "timestamp"), None)
    period = None
    if time_col is None:
        m = next((m for m in map(_PERIOD.search, table.preamble) if m), None)
        if m is None:
            raise SourceError(name, "no 'timestamp' column and no 'Sampling Time' in the '@' "
                              "header lines: cannot tell when the samples were taken",
                              line=table.header_line)
        period = float(m.group(1))

    def chunks():
        cols = ([time_col] if time_col else []) + acc_columns + gyro_columns
        last, n = None, 0
        for c in table.chunks(cols):
            v = c.values
            if time_col is None:
                t = (n + np.arange(len(v))) * period
                xyz = v
            else:
                t, xyz = v[:, 0], v[:, 1:]
            n += len(v)
            prev = np.vstack([last[None], xyz[:-1]]) if last is not None else np.vstack([np.full((1, 6), np.nan), xyz[:-1]])
            keep = ~np.all(xyz == prev, axis=1)
            last = xyz[-1].copy()
            if keep.any():
                yield RawChunk(t[keep], xyz[keep], c.lines[keep])

    return Recording(name=f"{name} (HyperIMU: {acc_sensor}, {gyro_sensor})", app="HyperIMU",
                     platform="android",
                     acc=Sensor(name, time_col or "timestamp", "ms", "m/s^2",
                                lambda: check_increasing(name, time_col or "timestamp", chunks())),
                     gyro=Sensor(name, time_col or "timestamp", "ms", "rad/s", None),
                     joint=True, size_bytes=size_bytes)
