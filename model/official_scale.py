"""Rebuild ``features/data/official_scale.npz`` from the published scale table.

The table (``official_scale.csv`` of the team's UCI reference: idx, name, raw_min, raw_max) holds the
min and max of each published feature over all 10,299 UCI HAR windows, in the units of the official
pipeline. The runtime ships the result; this builder stays on the training side so that the
package never carries a script.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import numpy as np

from har.features.errors import HarError
from har.runtime.files import atomic_write


def read_scale_table(path) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Names (561,), raw_min (561,) and raw_max (561,) of the published table at ``path``."""
    with open(path, newline="") as fh:
        rows = list(csv.DictReader(fh))
    idx = [r.get("idx") for r in rows]
    if idx != [str(i) for i in range(1, 562)]:
        raise HarError(f"{path}: expected 561 rows with idx 1..561 in order, got {len(rows)} rows")
    return (np.array([r["name"] for r in rows]),
            np.array([float(r["raw_min"]) for r in rows]),
            np.array([float(r["raw_max"]) for r in rows]))


def build_official_scale(table_path, out_path) -> Path:
    """Write the npz the runtime loads (names, raw_min, raw_max) from the published table, atomically."""
    names, lo, hi = read_scale_table(table_path)
    buf = io.BytesIO()
    np.savez_compressed(buf, names=names, raw_min=lo, raw_max=hi)
    return atomic_write(out_path, buf.getvalue())
