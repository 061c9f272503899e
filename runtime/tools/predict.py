"""``har predict``: per-window activity predictions of recordings, written as one CSV.

    har predict walk.csv SensorLogger.zip RawData/acc_exp03_user02.txt sample.npz --out predictions.csv

Inputs: the engine CSV and recorder exports (anything ``read_any`` reads), official UCI RawData
``acc_expXX_userYY.txt`` files (with their ``gyro_`` sibling), and ``.npz`` files holding ``acc``
and ``gyro`` (n, 3) at 50 Hz in g and rad/s.

``--out -`` writes the CSV to standard output. The output may never be one of the inputs (the same
file under any name, through symbolic or hard links, or a file inside an input folder), and a
read-only or non-regular output (a folder, a device, a fifo) is refused before any work.

Output columns: ``source,start_s,end_s,label,valid,p_WALKING,...,p_LAYING`` (one row per window;
start and end in seconds since the recording's first sample; probabilities empty for an invalid
window, one that touched a gap or a sample beyond the sensors' physical range, see
``har.runtime.plausibility``; such windows are counted in the summary, with one warning per
file). The file is written to a temporary file beside ``--out`` and renamed over it, so a reader
never sees half a file. A file that cannot be read (a bad cell, a corrupt or truncated archive) is
reported on stderr with its name and line; the others are still processed and written, and the
exit code is 1.
"""

from __future__ import annotations

import csv
import io
import math
import os
import re
import stat
import sys
from pathlib import Path

import numpy as np

from har.features import SAMPLE_RATE_HZ
from har.features.contract import UNKNOWN
from har.features.errors import HarError

from ..errors import SourceError, StreamError
from ..files import atomic_write
from ..plausibility import blank_implausible, describe_limits, windows_touching_times
from ..units import ACC_UNITS, GYRO_UNITS
from .archives import ARCHIVE_ERRORS, describe_archive_error
from .progress import Progress

#: ``--out`` value meaning standard output.
STDOUT = "-"
_RAW_ACC = re.compile(r"^acc_exp\d+_user\d+\.txt$")


def add_parser(sub):
    p = sub.add_parser("predict", help="per-window predictions of recordings, as CSV",
                       description="Per-window activity predictions of recordings, written as one CSV.")
    p.add_argument("files", nargs="+", metavar="FILE",
                   help="engine CSV, Sensor Logger folder/zip, phyphox, HyperIMU, RawData acc_ file or .npz")
    p.add_argument("--out", required=True, metavar="CSV",
                   help="output CSV (replaced atomically; never one of the inputs), or - for standard output")
    p.add_argument("--model", metavar="PATH", help="ONNX model (default: the bundled one)")
    p.add_argument("--acc-unit", choices=ACC_UNITS, help="acc unit of engine CSV inputs (default g)")
    p.add_argument("--gyro-unit", choices=GYRO_UNITS, help="gyro unit of engine CSV inputs (default rad/s)")
    p.add_argument("--quiet", action="store_true", help="no progress display over many files")
    return p


def predict_source(source, model) -> list:
    """All predictions of one replay source (whole recording pushed at once, then flushed)."""
    from ..recognizer import Recognizer

    recognizer = Recognizer(model)
    preds = source.push(recognizer, 0, len(source)) + recognizer.flush()
    expected = source.expected_windows(recognizer.n_samples)
    if len(preds) != expected:   # an engine bug, not bad input: say so loudly
        raise StreamError(f"{source.name}: {len(preds)} windows predicted, {expected} expected")
    return preds


def screen_implausible(source) -> np.ndarray:
    """Turn a replay's physically impossible samples into missing ones; return their times.

    The samples (see :mod:`har.runtime.plausibility`) become NaN rows, so the windows touching them
    come out invalid like those touching a gap.

    Returns
    -------
    ndarray, shape (m,), float64
        Times (seconds, the replay's clock) of the samples blanked, increasing.
    """
    acc, gyro, mask = blank_implausible(source.acc, source.gyro)
    if mask.any():
        source.acc, source.gyro = acc, gyro
    return np.asarray(source.t, dtype=np.float64)[mask]


def implausible_windows(preds, flagged_t: np.ndarray, timestamped: bool) -> int:
    """Invalid windows that touched a blanked implausible sample (at the times ``flagged_t``)."""
    if len(flagged_t) == 0 or not preds:
        return 0
    # A resampled window also reads the raw samples just outside its grid span.
    margin = 1.0 / SAMPLE_RATE_HZ if timestamped else 1e-9
    touched = windows_touching_times(flagged_t, [p.t_start for p in preds], [p.t_end for p in preds], margin)
    return int(sum(t and not p.valid for t, p in zip(touched.tolist(), preds)))


def implausible_warning(name: str, n_windows: int) -> str:
    """The one warning line for a recording with implausible samples."""
    return (f"{name}: {n_windows} window(s) invalid: samples beyond the sensors' physical range "
            f"({describe_limits()})")


def reportable(p) -> bool:
    """A window is shown as valid only with finite probabilities: never a NaN confidence."""
    return bool(p.valid) and all(math.isfinite(v) for v in p.probabilities.values())


def rows_of(name: str, preds, class_names) -> list[list[str]]:
    rows = []
    for p in preds:
        ok = reportable(p)
        probs = [f"{p.probabilities[c]:.6f}" if ok else "" for c in class_names]
        rows.append([name, f"{p.t_start:.2f}", f"{p.t_end:.2f}", p.label if ok else UNKNOWN, int(ok), *probs])
    return rows


def write_atomic(path: Path, header: list[str], rows: list[list]) -> None:
    """Write the CSV in one piece: a reader sees the old file or the new one."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    atomic_write(path, buf.getvalue())


def _input_paths(name: str) -> list[Path]:
    """The files an input name reads: itself, and for a RawData acc_ file its gyro_ sibling and labels.txt."""
    path = Path(name)
    paths = [path]
    if _RAW_ACC.match(path.name):
        paths += [path.with_name("gyro_" + path.name[len("acc_"):]), path.with_name("labels.txt")]
    return paths


def _same_file(a: Path, b: Path) -> bool:
    try:
        if a.exists() and b.exists():
            return os.path.samefile(a, b)           # also hard links and every symlink route
        return a.resolve() == b.resolve()
    except OSError:
        return False


def check_output(out: str, inputs: list[str]) -> Path | None:
    """The output path after the checks that must pass before any work; None for standard output.

    Parameters
    ----------
    out : str
        The ``--out`` value; ``-`` is standard output.
    inputs : list of str
        The input files and folders as given.

    Raises
    ------
    SourceError
        The output is one of the inputs (any name, link or hard link, or inside an input folder),
        a folder, a device, a fifo, read-only, or in a folder that is missing or not writable.
    """
    if out == STDOUT:
        return None
    path = Path(out)
    for name in inputs:
        for source in _input_paths(name):
            if _same_file(path, source):
                raise SourceError(out, f"is the input {source}; writing it would destroy the recording: "
                                       f"choose another --out")
            try:
                if source.is_dir() and path.resolve().is_relative_to(source.resolve()):
                    raise SourceError(out, f"is inside the input folder {source}; choose an --out elsewhere")
            except OSError:
                pass
    try:
        st = path.stat()
    except FileNotFoundError:
        st = None
    except OSError as exc:
        raise SourceError(out, f"cannot be checked as an output ({exc.strerror})") from None
    if st is not None:
        if not stat.S_ISREG(st.st_mode):
            kind = ("a folder" if stat.S_ISDIR(st.st_mode) else "a fifo" if stat.S_ISFIFO(st.st_mode)
                    else "a device" if stat.S_ISCHR(st.st_mode) or stat.S_ISBLK(st.st_mode) else "not a regular file")
            raise SourceError(out, f"is {kind}; --out must be a CSV file path (or - for standard output)")
        # No write bit at all means read-only even for a user (root) whom access() would let through.
        if not st.st_mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH) or not os.access(path, os.W_OK):
            raise SourceError(out, "is read-only; not replacing it (make it writable or choose another --out)")
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise SourceError(out, "the output folder does not exist")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise SourceError(out, f"the output folder {folder} is not writable")
    return path


def _one_line(exc: BaseException, name: str) -> str:
    if isinstance(exc, ARCHIVE_ERRORS):
        return f"{name}: corrupt or truncated file ({describe_archive_error(exc)})"
    return " ".join(str(exc).split()) or type(exc).__name__


def run(args) -> int:
    from ..model import load_model
    from .sources import load_any_input

    out = check_output(args.out, args.files)      # before any work: never clobber an input
    model = load_model(args.model)        # a bad model fails everything: cli.main reports it
    class_names = list(model.class_names)
    header = ["source", "start_s", "end_s", "label", "valid", *(f"p_{c}" for c in class_names)]
    rows, failed, windows, invalid, implausible = [], [], 0, 0, 0
    quiet = getattr(args, "quiet", False)
    with Progress("har predict", len(args.files), unit="files", quiet=quiet or len(args.files) < 2) as bar:
        for name in args.files:
            try:
                source = load_any_input(name, acc_unit=args.acc_unit, gyro_unit=args.gyro_unit)
                if len(source) == 0:
                    raise SourceError(name, "no samples")
                flagged = screen_implausible(source)
                preds = predict_source(source, model)
            except (HarError, OSError) + ARCHIVE_ERRORS as exc:
                # A corrupt archive is bad input like any other: report it, keep the other files.
                bar.message(f"har predict: {_one_line(exc, name)}")
                failed.append(name)
                bar.advance()
                continue
            rows.extend(rows_of(name, preds, class_names))
            windows += len(preds)
            invalid += sum(not reportable(p) for p in preds)
            n_implausible = implausible_windows(preds, flagged, source.timestamped)
            if n_implausible:
                bar.message(f"har predict: warning: {implausible_warning(name, n_implausible)}")
            implausible += n_implausible
            bar.advance()
    ok = len(args.files) - len(failed)
    if ok and out is None:
        writer = csv.writer(sys.stdout, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)
        sys.stdout.flush()
        where = "-> standard output"
    elif ok:
        write_atomic(out, header, rows)
        where = f"-> {out}"
    else:
        where = "nothing written" + (f" ({out} left as it was)" if out is not None else "")
    print(f"har predict: {ok} of {len(args.files)} file(s) predicted, {windows} windows "
          f"({invalid} invalid{f', {implausible} of them implausible' if implausible else ''}) {where}"
          + (f"; {len(failed)} failed" if failed else ""),
          file=sys.stderr)
    return 1 if failed else 0
