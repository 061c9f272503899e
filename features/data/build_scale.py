"""Rebuild official_scale.npz from the published scale constants.

    python features/data/build_scale.py ../shared/uci_reference/official_scale.csv

The CSV (idx, name, raw_min, raw_max) holds the min and max of each published feature over all
10,299 UCI HAR windows, in the units of the official pipeline.
"""
import csv
import sys
from pathlib import Path

import numpy as np

rows = list(csv.DictReader(open(sys.argv[1])))
assert [int(r["idx"]) for r in rows] == list(range(1, 562)), "expected 561 rows in order"
np.savez_compressed(
    Path(__file__).with_name("official_scale.npz"),
    names=np.array([r["name"] for r in rows]),
    raw_min=np.array([float(r["raw_min"]) for r in rows]),
    raw_max=np.array([float(r["raw_max"]) for r in rows]),
)
