"""UCI HAR / HAPT ``RawData`` layout: ``acc_expXX_userYY.txt`` + ``gyro_expXX_userYY.txt``.

Where to find it: the HAPT dataset's ``RawData/`` folder, or files other tools write in its
layout. Three space-separated numbers per line, one line per sample at 50 Hz (no clock column);
acc in g with gravity, gyro in rad/s; ``labels.txt`` beside them gives
``experiment user activity first last`` (1-based sample numbers, inclusive) per labelled segment.
Files written in this layout in m/s² are recognised from the data (a notice says so).
"""

from __future__ import annotations

import re
from itertools import zip_longest
from pathlib import Path

import numpy as np

from har.features.contract import ACTIVITIES, SAMPLE_RATE_HZ

from ...errors import SourceError
from .recording import RawChunk, Recording, Sensor
from .text import TextTable

RAW_NAME = re.compile(r"^acc_exp(\d+)_user(\d+)\.txt$")


def _labels(path: Path, experiment: int, user: int) -> np.ndarray | None:
    """(m, 3) first, last, activity of this recording's segments (0-based first, exclusive last)."""
    if not path.exists():
        return None
    out = []
    with open(path, encoding="utf-8") as fh:
        for lineno, line in enumerate(fh, start=1):
            parts = line.split()
            if not parts:
                continue
            try:
                exp, usr, act, first, last = (int(p) for p in parts)
            except ValueError:
                raise SourceError(path.name, f"expected 5 integers (experiment user activity first "
                                  f"last), got '{line.strip()[:60]}'", line=lineno) from None
            if exp != experiment:
                continue
            if not 1 <= act <= len(ACTIVITIES) or first < 1 or last < first:
                raise SourceError(path.name, f"segment {first}-{last} activity {act} is not a "
                                  f"valid segment", line=lineno)
            out.append((first - 1, last, act))
    return np.array(out, dtype=np.int64).reshape(-1, 3)


def read_uci_raw(path) -> Recording:
    path = Path(path)
    m = RAW_NAME.match(path.name)
    if not m:
        raise SourceError(path.name, "expected a name like acc_exp01_user01.txt")
    experiment, user = int(m.group(1)), int(m.group(2))
    gyro_path = path.with_name(path.name.replace("acc_", "gyro_", 1))
    if not gyro_path.exists():
        raise SourceError(path.name, f"no {gyro_path.name} beside it: the model needs angular rate")
    segments = _labels(path.with_name("labels.txt"), experiment, user)

    def table(p):
        return TextTable(p.name, lambda: open(p, "rb"), sep=" ", headerless=3)

    acc_t, gyro_t = table(path), table(gyro_path)

    def chunks():
        n = 0
        for a, g in zip_longest(acc_t.chunks([0, 1, 2]), gyro_t.chunks([0, 1, 2])):
            if a is None or g is None or len(a.values) != len(g.values):
                raise SourceError(gyro_path.name, f"not as many samples as {path.name}")
            yield _chunk(a.values, g.values, a.lines, n, segments)
            n += len(a.values)

    return Recording(name=f"{path.name} (UCI RawData, experiment {experiment}, user {user}, "
                     f"{'labels.txt' if segments is not None else 'no labels.txt'})",
                     app="UCI RawData layout", platform=None,
                     acc=Sensor(path.name, "", "s", "g", chunks),
                     gyro=Sensor(gyro_path.name, "", "s", "rad/s", None),
                     joint=True, grid=True, labelled=segments is not None,
                     size_bytes=path.stat().st_size)


def _chunk(acc, gyro, lines, n0, segments) -> RawChunk:
    k = n0 + np.arange(len(acc))
    labels = None
    if segments is not None:
        labels = np.full(len(acc), -1, dtype=np.int64)
        for first, last, act in segments:
            labels[(k >= first) & (k < last)] = act
    return RawChunk(k / SAMPLE_RATE_HZ, np.hstack([acc, gyro]), lines, labels)
