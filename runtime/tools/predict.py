"""``har predict``: per-window activity predictions of recordings, written as one CSV.

    har predict walk.csv SensorLogger.zip RawData/acc_exp03_user02.txt sample.npz --out predictions.csv

Inputs: the engine CSV and recorder exports (anything ``read_any`` reads), official UCI RawData
``acc_expXX_userYY.txt`` files (with their ``gyro_`` sibling), and ``.npz`` files holding ``acc``
and ``gyro`` (n, 3) at 50 Hz in g and rad/s.

Output columns: ``source,start_s,end_s,label,valid,p_WALKING,...,p_LAYING`` (one row per window;
start and end in seconds since the recording's first sample; probabilities empty for an invalid
window, one that touched a gap). The file is written to a temporary file beside ``--out`` and
renamed over it, so a reader never sees half a file. A file that cannot be read is reported on
stderr with its name and line; the others are still processed, and the exit code is 1.
"""

from __future__ import annotations

import csv
import io
import math
import sys
from pathlib import Path

from har.features.errors import HarError

from ..errors import SourceError, StreamError
from ..files import atomic_write
from ..units import ACC_UNITS, GYRO_UNITS


def add_parser(sub):
    p = sub.add_parser("predict", help="per-window predictions of recordings, as CSV",
                       description="Per-window activity predictions of recordings, written as one CSV.")
    p.add_argument("files", nargs="+", metavar="FILE",
                   help="engine CSV, Sensor Logger folder/zip, phyphox, HyperIMU, RawData acc_ file or .npz")
    p.add_argument("--out", required=True, metavar="CSV", help="output CSV (replaced atomically)")
    p.add_argument("--model", metavar="PATH", help="ONNX model (default: the bundled one)")
    p.add_argument("--acc-unit", choices=ACC_UNITS, help="acc unit of engine CSV inputs (default g)")
    p.add_argument("--gyro-unit", choices=GYRO_UNITS, help="gyro unit of engine CSV inputs (default rad/s)")
    return p


def predict_source(source, model) -> list:
    """All predictions of one replay source (whole recording pushed at once, then flushed)."""
    from ..recognizer import Recognizer

    recognizer = Recognizer(model, timestamped=source.timestamped)
    preds = source.push(recognizer, 0, len(source)) + recognizer.flush()
    expected = source.expected_windows(recognizer.n_samples)
    if len(preds) != expected:   # an engine bug, not bad input: say so loudly
        raise StreamError(f"{source.name}: {len(preds)} windows predicted, {expected} expected")
    return preds


def rows_of(name: str, preds, class_names) -> list[list[str]]:
    rows = []
    for p in preds:
        probs = [("" if not p.valid or not math.isfinite(p.probabilities[c])
                  else f"{p.probabilities[c]:.6f}") for c in class_names]
        rows.append([name, f"{p.t_start:.2f}", f"{p.t_end:.2f}", p.label, int(p.valid), *probs])
    return rows


def write_atomic(path: Path, header: list[str], rows: list[list]) -> None:
    """Write the CSV in one piece: a reader sees the old file or the new one."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    atomic_write(path, buf.getvalue())


def run(args) -> int:
    from ..model import load_model
    from .sources import load_any_input

    out = Path(args.out)
    if not out.parent.is_dir() and str(out.parent):
        raise SourceError(str(out), "the output folder does not exist")
    model = load_model(args.model)        # a bad model fails everything: cli.main reports it
    class_names = list(model.class_names)
    header = ["source", "start_s", "end_s", "label", "valid", *(f"p_{c}" for c in class_names)]
    rows, failed, windows, invalid = [], [], 0, 0
    for name in args.files:
        try:
            source = load_any_input(name, acc_unit=args.acc_unit, gyro_unit=args.gyro_unit)
            if len(source) == 0:
                raise SourceError(name, "no samples")
            preds = predict_source(source, model)
        except (HarError, OSError) as exc:
            message = " ".join(str(exc).split()) or type(exc).__name__
            print(f"har predict: {message}", file=sys.stderr)
            failed.append(name)
            continue
        rows.extend(rows_of(name, preds, class_names))
        windows += len(preds)
        invalid += sum(not p.valid for p in preds)
    ok = len(args.files) - len(failed)
    if ok:
        write_atomic(out, header, rows)
        where = f"-> {out}"
    else:
        where = f"nothing written ({out} left as it was)"
    print(f"har predict: {ok} of {len(args.files)} file(s) predicted, {windows} windows "
          f"({invalid} invalid) {where}" + (f"; {len(failed)} failed" if failed else ""),
          file=sys.stderr)
    return 1 if failed else 0
