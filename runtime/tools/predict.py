"""``har predict``: per-window activity predictions of recordings, written as one CSV.

    har predict walk.csv SensorLogger.zip RawData/acc_exp03_user02.txt sample.npz --out predictions.csv

Inputs: phone exports as the apps write them (folder, zip or file; see
``har.runtime.tools.readers``), the engine CSV, UCI RawData ``acc_expXX_userYY.txt`` files (with
their ``gyro_`` sibling), and ``.npz`` files holding ``acc`` and ``gyro`` (n, 3) at 50 Hz in g and
rad/s. Units and clocks are recognised from the data (one ``notice:`` line on stderr each);
``--acc-unit``, ``--gyro-unit``, ``--time-unit``, ``--platform`` override, ``--columns`` names the
columns of any CSV. Each input streams through a Recognizer a few thousand samples at a time.

``--out -`` writes the CSV to standard output. The output may never be one of the inputs (the same
file under any name, through symbolic or hard links, or a file inside an input folder), and a
read-only or non-regular output (a folder, a device, a fifo) is refused before any work.

Output columns: ``source,start_s,end_s,label,valid,p_WALKING,...,p_LAYING`` (one row per window;
start and end in seconds since the recording's first sample; probabilities empty for an invalid
window, one that touched a gap or a sample beyond the sensors' physical range, see
``har.runtime.plausibility``; those are counted in the summary, with one warning per file). Rows
go to a temporary file beside ``--out`` as they come, renamed over it at the end, so a reader never
sees half a file and memory stays flat. A file that cannot be read (a bad cell, a corrupt or
truncated archive) is reported on stderr with its name and line and its rows are dropped; the
others are still processed and written, and the exit code is 1.
"""

from __future__ import annotations

import csv
import math
import os
import re
import shutil
import stat
import sys
import tempfile
from pathlib import Path

from har.features.contract import UNKNOWN
from har.features.errors import HarError

from ..errors import SourceError, StreamError
from ..plausibility import IMPLAUSIBLE, describe_limits
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
    p.add_argument("--quiet", action="store_true", help="no progress display over many files")
    from .sources import add_input_options

    add_input_options(p)
    return p


def predict_source(source, model, emit=None) -> tuple[int, int, int]:
    """Stream one source through a Recognizer chunk by chunk; hand each batch of predictions to
    ``emit``. Returns (windows, invalid windows, windows invalid for implausible samples)."""
    from ..recognizer import Recognizer
    from .sources import Feeder

    feeder = Feeder(source, Recognizer(model, timestamped=not source.grid))
    windows = invalid = implausible = 0

    def out(pairs):
        nonlocal windows, invalid, implausible
        preds = [p for p, _ in pairs]
        windows += len(preds)
        invalid += sum(not reportable(p) for p in preds)
        implausible += sum(p.reason == IMPLAUSIBLE for p in preds)
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
    return windows, invalid, implausible


def implausible_warning(name: str, n_windows: int) -> str:
    """The one warning line for a recording with implausible samples."""
    return (f"{name}: {n_windows} window(s) invalid: samples beyond the sensors' physical range "
            f"({describe_limits()})")


def reportable(p) -> bool:
    """A window is shown as valid only with finite probabilities: never a NaN confidence."""
    return bool(p.valid) and all(math.isfinite(v) for v in p.probabilities.values())


def rows_of(name: str, preds, class_names) -> list[list[str]]:
    """CSV rows of predictions: probabilities only for a window shown as valid."""
    rows = []
    for p in preds:
        ok = reportable(p)
        probs = [f"{p.probabilities[c]:.6f}" if ok else "" for c in class_names]
        rows.append([name, f"{p.t_start:.2f}", f"{p.t_end:.2f}", p.label if ok else UNKNOWN, int(ok), *probs])
    return rows


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
                raise SourceError(out, f"is the input {source}; writing over it would lose it: "
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
            raise SourceError(out, f"is {kind}; --out must be a file path")
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
    from .sources import input_options, load_any_input

    out = check_output(args.out, args.files)      # before any work: never clobber an input
    model = load_model(args.model)        # a bad model fails everything: cli.main reports it
    class_names = list(model.class_names)
    header = ["source", "start_s", "end_s", "label", "valid", *(f"p_{c}" for c in class_names)]
    options = input_options(args)
    failed, windows, invalid, implausible = [], 0, 0, 0
    quiet = getattr(args, "quiet", False)
    # Rows go to a temporary file as they come (memory stays flat); a file that fails half-way has
    # its rows cut off again; the rename at the end (or the copy to standard output) publishes all.
    with atomic_output(out) as sink, \
            Progress("har predict", len(args.files), unit="files", quiet=quiet or len(args.files) < 2) as bar:
        fh = sink.fh
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(header)
        for name in args.files:
            fh.flush()
            mark = fh.tell()
            try:
                source = load_any_input(name, **options)
                n, bad, odd = predict_source(
                    source, model, lambda preds: writer.writerows(rows_of(name, preds, class_names)))
            except (HarError, OSError) + ARCHIVE_ERRORS as exc:
                # A corrupt archive is bad input like any other: report it, keep the other files.
                fh.flush()
                fh.seek(mark)
                fh.truncate()
                bar.message(f"har predict: {_one_line(exc, name)}")
                failed.append(name)
                bar.advance()
                continue
            if odd:
                bar.message(f"har predict: warning: {implausible_warning(name, odd)}")
            windows += n
            invalid += bad
            implausible += odd
            bar.advance()
        ok = len(args.files) - len(failed)
        if not ok:
            sink.discard()
    where = ("-> standard output" if out is None else f"-> {out}") if ok else \
        "nothing written" + (f" ({out} left as it was)" if out is not None else "")
    print(f"har predict: {ok} of {len(args.files)} file(s) predicted, {windows} windows "
          f"({invalid} invalid{f', {implausible} of them implausible' if implausible else ''}) {where}"
          + (f"; {len(failed)} failed" if failed else ""),
          file=sys.stderr)
    return 1 if failed else 0


class atomic_output:
    """A text file written beside ``path`` and renamed over it on success (``discard()``: not).

    ``path`` None: the text is spooled to a temporary file and copied to standard output on
    success, so that standard output never carries the rows of a file that failed half-way.
    """

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self._keep = True

    def __enter__(self):
        if self.path is None:
            self.fh = self._fh = tempfile.TemporaryFile("w+", encoding="utf-8", newline="")
            self._tmp = None
            return self
        folder = self.path.parent if str(self.path.parent) else Path(".")
        fd, self._tmp = tempfile.mkstemp(dir=folder, prefix=f".{self.path.name}.", suffix=".tmp")
        self.fh = self._fh = os.fdopen(fd, "w", encoding="utf-8", newline="")
        return self

    def discard(self) -> None:
        self._keep = False

    def __exit__(self, exc_type, exc, tb):
        try:
            if exc_type is None and self._keep:
                self._fh.flush()
                if self.path is None:
                    self._fh.seek(0)
                    shutil.copyfileobj(self._fh, sys.stdout)
                    sys.stdout.flush()
                    return False
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
            if self._tmp is not None and os.path.exists(self._tmp):
                os.unlink(self._tmp)
        return False
