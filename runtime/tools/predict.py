"""``har predict``: per-window activity predictions of recordings, written as one CSV.

    har predict walk.csv SensorLogger.zip RawData/acc_exp03_user02.txt sample.npz --out predictions.csv

Inputs: phone exports as the apps write them (folder, zip or file; see
``har.runtime.tools.readers``), the engine CSV, UCI RawData ``acc_expXX_userYY.txt`` files (with
their ``gyro_`` sibling), and ``.npz`` files holding ``acc`` and ``gyro`` (n, 3) at 50 Hz in g and
rad/s. Units and clocks are recognised from the data (one ``notice:`` line on stderr each);
``--acc-unit``, ``--gyro-unit``, ``--time-unit``, ``--platform`` override, ``--columns`` names the
columns of any CSV. Each input streams through a Recognizer a few thousand samples at a time.

Output columns: ``source,start_s,end_s,label,valid,p_WALKING,...,p_LAYING`` (one row per window;
start and end in seconds since the recording's first sample; probabilities empty for an invalid
window, one that touched a gap). The file is written to a temporary file beside ``--out`` and
renamed over it, so a reader never sees half a file; rows are written as they come. A file that cannot be read is reported on
stderr with its name and line; the others are still processed, and the exit code is 1.
"""

from __future__ import annotations

import csv
import math
import sys
from pathlib import Path

from har.features.errors import HarError

from ..errors import SourceError, StreamError


def add_parser(sub):
    p = sub.add_parser("predict", help="per-window predictions of recordings, as CSV",
                       description="Per-window activity predictions of recordings, written as one CSV.")
    p.add_argument("files", nargs="+", metavar="FILE",
                   help="engine CSV, Sensor Logger folder/zip, phyphox, HyperIMU, RawData acc_ file or .npz")
    p.add_argument("--out", required=True, metavar="CSV", help="output CSV (replaced atomically)")
    p.add_argument("--model", metavar="PATH", help="ONNX model (default: the bundled one)")
    from .sources import add_input_options

    add_input_options(p)
    return p


def predict_source(source, model, emit=None) -> tuple[int, int]:
    """Stream one source through a Recognizer chunk by chunk; hand each batch of predictions to
    ``emit``. Returns (windows, invalid windows)."""
    from ..recognizer import Recognizer
    from .sources import Feeder

    feeder = Feeder(source, Recognizer(model, timestamped=not source.grid))
    windows = invalid = 0

    def out(pairs):
        nonlocal windows, invalid
        preds = [p for p, _ in pairs]
        windows += len(preds)
        invalid += sum(not p.valid for p in preds)
        if emit is not None and preds:
            emit(preds)

    for chunk in source.chunks():
        out(feeder.push(chunk))
    out(feeder.finish())
    if windows == 0:
        raise SourceError(source.name, "no samples" if feeder.samples_in == 0 else
                          f"too short: {source.duration_s:.2f} s, less than one window (2.56 s)")
    if windows != feeder.expected:   # an engine bug, not bad input: say so loudly
        raise StreamError(f"{source.name}: {windows} windows predicted, {feeder.expected} expected")
    return windows, invalid


def rows_of(name: str, preds, class_names) -> list[list[str]]:
    rows = []
    for p in preds:
        probs = [("" if not p.valid or not math.isfinite(p.probabilities[c])
                  else f"{p.probabilities[c]:.6f}") for c in class_names]
        rows.append([name, f"{p.t_start:.2f}", f"{p.t_end:.2f}", p.label, int(p.valid), *probs])
    return rows


def run(args) -> int:
    from ..model import load_model
    from .sources import input_options, load_any_input

    out = Path(args.out)
    if not out.parent.is_dir() and str(out.parent):
        raise SourceError(str(out), "the output folder does not exist")
    model = load_model(args.model)        # a bad model fails everything: cli.main reports it
    class_names = list(model.class_names)
    header = ["source", "start_s", "end_s", "label", "valid", *(f"p_{c}" for c in class_names)]
    options = input_options(args)
    failed, windows, invalid = [], 0, 0
    # Rows go to a temporary file beside --out as they come (memory stays flat); a file that
    # fails half-way has its rows cut off again; the rename at the end publishes the whole.
    with atomic_output(out) as sink:
        fh = sink.fh
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(header)
        for name in args.files:
            fh.flush()
            mark = fh.tell()
            try:
                source = load_any_input(name, **options)
                n, bad = predict_source(
                    source, model, lambda preds: writer.writerows(rows_of(name, preds, class_names)))
            except (HarError, OSError) as exc:
                fh.flush()
                fh.seek(mark)
                fh.truncate()
                message = " ".join(str(exc).split()) or type(exc).__name__
                print(f"har predict: {message}", file=sys.stderr)
                failed.append(name)
                continue
            windows += n
            invalid += bad
        ok = len(args.files) - len(failed)
        if not ok:
            sink.discard()
    where = f"-> {out}" if ok else f"nothing written ({out} left as it was)"
    print(f"har predict: {ok} of {len(args.files)} file(s) predicted, {windows} windows "
          f"({invalid} invalid) {where}" + (f"; {len(failed)} failed" if failed else ""),
          file=sys.stderr)
    return 1 if failed else 0


class atomic_output:
    """A text file written beside ``path`` and renamed over it on success (``discard()``: not)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._keep = True

    def __enter__(self):
        import os
        import tempfile

        folder = self.path.parent if str(self.path.parent) else Path(".")
        fd, self._tmp = tempfile.mkstemp(dir=folder, prefix=f".{self.path.name}.", suffix=".tmp")
        self.fh = self._fh = os.fdopen(fd, "w", encoding="utf-8", newline="")
        return self

    def discard(self) -> None:
        self._keep = False

    def __exit__(self, exc_type, exc, tb):
        import os

        try:
            if exc_type is None and self._keep:
                self._fh.flush()
                os.fsync(self._fh.fileno())
                self._fh.close()
                umask = os.umask(0)
                os.umask(umask)
                os.chmod(self._tmp, 0o666 & ~umask)
                os.replace(self._tmp, self.path)
                return False
        finally:
            if not self._fh.closed:
                self._fh.close()
            if os.path.exists(self._tmp):
                os.unlink(self._tmp)
        return False
