"""The engine's own CSV, and any CSV whose columns the user names (``--columns``).

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
- ``t`` is in seconds from any origin, strictly increasing; the spacing need not be regular.
  Times in ms, µs, ns or epoch ns are recognised from the spacing (a notice says so).
- ``acc_*`` is acceleration **including gravity**, in g (m/s² is recognised from the magnitude
  of the still parts, with a notice); ``gyro_*`` is angular rate in rad/s (deg/s recognised when
  the values leave no doubt). Axes follow the Android convention: x to the right of the screen, y
  to its top, z out of it.
- A sensor cell may be ``nan`` where the sensor had no value: a gap, never interpolated across.
- ``label``, when present, is the activity of the sample: an id 1..12 of the engine's table, -1
  for none, or an activity name ("WALKING", "walking upstairs", "sit", ...).
- Lines starting with ``#`` are comments; blank lines are skipped.

Any other CSV
-------------
``--columns t=time,acc=ax,ay,az,gyro=gx,gy,gz[,label=activity]`` names the columns of a layout
nobody anticipated (separator comma, tab or semicolon, found from the header). Units and time
unit are then recognised from the data as above, or given with ``--acc-unit``, ``--gyro-unit``,
``--time-unit``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from har.features.contract import ACTIVITIES, UNLABELLED

from ...errors import SourceError
from .recording import RawChunk, Recording, Sensor, activity_id, check_increasing
from .text import CHUNK_ROWS, TextTable, quoted

CSV_COLUMNS = ("t", "acc_x", "acc_y", "acc_z", "gyro_x", "gyro_y", "gyro_z")
LABEL_COLUMN = "label"


def parse_columns(spec: str) -> dict:
    """``t=time,acc=ax,ay,az,gyro=gx,gy,gz[,label=activity]`` -> {"t": [...], "acc": [...], ...}.

    Raises
    ------
    SourceError
        When a key is unknown, missing, or has the wrong number of columns.
    """
    out: dict[str, list[str]] = {}
    key = None
    for token in spec.split(","):
        token = token.strip()
        if "=" in token:
            key, _, token = token.partition("=")
            key = key.strip().lower()
            if key not in ("t", "acc", "gyro", "label"):
                raise SourceError("--columns", f"unknown key '{key}': expected t=, acc=, gyro= "
                                  "and optionally label=")
            out[key] = []
        if key is None:
            raise SourceError("--columns", f"'{spec}': expected t=COL,acc=X,Y,Z,gyro=X,Y,Z")
        out[key].append(token.strip())
    for k, n in (("t", 1), ("acc", 3), ("gyro", 3), ("label", 1)):
        if k == "label" and k not in out:
            continue
        if len(out.get(k, [])) != n:
            raise SourceError("--columns", f"'{k}=' needs {n} column name{'s' if n > 1 else ''}, "
                              f"got {quoted(out.get(k, []))}")
    return out


def is_engine_header(header) -> bool:
    """Most of the engine's column names: read as the engine CSV (a missing one is named)."""
    return len(set(CSV_COLUMNS) & set(header)) >= 4


def read_engine_csv(path, table: TextTable | None = None, columns: dict | None = None) -> Recording:
    """A recording in the engine CSV format, or any CSV with ``columns`` named by the user.

    Parameters
    ----------
    path : path-like
        The CSV file.
    table : TextTable, optional
        The file already opened (its header read).
    columns : dict, optional
        From :func:`parse_columns`; default: the engine CSV's names.

    Returns
    -------
    Recording
        Joint (acc and gyro on the same rows); time unit told from the data, default seconds;
        acc expected in g, gyro in rad/s.
    """
    path = Path(path)
    if table is None:
        table = TextTable(path.name, lambda: open(path, "rb"), sep="," if columns is None else None,
                          comment="#")
    if columns is None:
        table.require(CSV_COLUMNS)
        unknown = [c for c in table.header if c not in CSV_COLUMNS and c != LABEL_COLUMN]
        if unknown:
            raise SourceError(table.name, f"unexpected column{'s' if len(unknown) > 1 else ''} "
                              f"{quoted(unknown)}: expected {quoted(CSV_COLUMNS)} and optionally "
                              f"'{LABEL_COLUMN}'", line=table.header_line)
        columns = {"t": ["t"], "acc": list(CSV_COLUMNS[1:4]), "gyro": list(CSV_COLUMNS[4:7])}
        if LABEL_COLUMN in table.header:
            columns["label"] = [LABEL_COLUMN]
        layout = "engine CSV"
    else:
        table.require([*columns["t"], *columns["acc"], *columns["gyro"], *columns.get("label", [])])
        layout = "CSV with --columns"
    numeric = [*columns["t"], *columns["acc"], *columns["gyro"]]
    label_col = columns.get("label", [None])[0]
    time_col = columns["t"][0]

    def chunks():
        numbers = table.chunks(numeric, allow_nan=True)
        labels = table.text_chunks(label_col) if label_col else None
        for c in numbers:
            lab = None
            if labels is not None:
                cells, lines = next(labels)
                lab = _labels(table.name, label_col, cells, lines)
            t = c.values[:, 0]
            if not np.isfinite(t).all():
                i = int(np.flatnonzero(~np.isfinite(t))[0])
                table.bad_number(int(c.lines[i]), time_col, "nan")
            yield RawChunk(t, c.values[:, 1:7], c.lines, lab)

    sensor = Sensor(table.name, time_col, None, "g",
                    lambda: check_increasing(table.name, time_col, chunks()))
    gyro = Sensor(table.name, time_col, None, "rad/s", None)
    return Recording(name=f"{table.name} ({layout})", app=layout, platform=None, acc=sensor,
                     gyro=gyro, joint=True, labelled=label_col is not None,
                     size_bytes=path.stat().st_size)


def _labels(name, column, cells, lines) -> np.ndarray:
    out = np.empty(len(cells), dtype=np.int64)
    cache: dict[str, int | None] = {}
    for i, cell in enumerate(cells):
        value = cache.get(cell, -99)
        if value == -99:
            value = cache[cell] = activity_id(cell) if cell else None
        if value is None:
            got = "an empty cell" if cell == "" else f"'{cell}'"
            raise SourceError(name, f"expected an activity id 1..{len(ACTIVITIES)}, {UNLABELLED} "
                              f"or an activity name, got {got}", line=int(lines[i]), column=column)
        out[i] = value
    return out


__all__ = ["CSV_COLUMNS", "LABEL_COLUMN", "parse_columns", "is_engine_header", "read_engine_csv",
           "CHUNK_ROWS"]
