"""The dataset of windows: HAPT recordings -> official-scale features, labels, subjects.

Windows are cut as the runtime sees them: 128 samples every 64 from each recording's first sample.
A window is labelled with an activity when its 128 samples and the jerk look-ahead sample all carry
the same label in 1..6; other windows keep label 0 (mixed, transition or unlabelled) so that replays
can count every window. Features are cached on disk, keyed on the feature code's version and digest
and on the content of the source (a hash of its bytes), so retraining does not re-extract.
"""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from har.features import (FEATURE_DIGEST, FEATURES_VERSION, HOP, SPAN, extract_recording, regular_starts,
                          to_official_scale)

from har.runtime.files import atomic_write
from har.runtime.tools.labels import window_labels

from har.runtime.tools.archives import ARCHIVE_ERRORS
from har.runtime.tools.hapt import (TEST_SUBJECTS, DatasetError, Recording, cache_dir, file_sha256, load_hapt,
                                    sdist_path)
from har.runtime.tools.progress import iterate

from .augment import Tilts, rotate


@dataclass(frozen=True)
class WindowSet:
    """Feature rows of windows.

    Attributes
    ----------
    X : ndarray, shape (n, 561), float64
        Features on the official [-1, 1] scale.
    y : ndarray, shape (n,), int
        Activity id 1..6, or 0 for a window without one activity throughout.
    subject, experiment, start : ndarray, shape (n,), int
        Volunteer, HAPT experiment id, first sample (0-based, 50 Hz) of the window.
    """

    X: np.ndarray
    y: np.ndarray
    subject: np.ndarray
    experiment: np.ndarray
    start: np.ndarray

    FIELDS = ("X", "y", "subject", "experiment", "start")

    def __len__(self) -> int:
        return len(self.y)

    def select(self, mask: np.ndarray) -> "WindowSet":
        return WindowSet(*(getattr(self, f)[mask] for f in self.FIELDS))

    @classmethod
    def concatenate(cls, parts: list["WindowSet"]) -> "WindowSet":
        return cls(*(np.concatenate([getattr(p, f) for p in parts]) for f in cls.FIELDS))

    def npz_bytes(self) -> bytes:
        """The set as an ``.npz`` file's bytes (for an atomic cache write)."""
        buf = io.BytesIO()
        np.savez(buf, **{f: getattr(self, f) for f in self.FIELDS})
        return buf.getvalue()

    @classmethod
    def from_npz(cls, data) -> "WindowSet":
        return cls(*(data[f] for f in cls.FIELDS))

    def labelled(self) -> "WindowSet":
        return self.select(self.y > 0)

    def split(self) -> tuple["WindowSet", "WindowSet"]:
        """(train, test) by the UCI HAR subject split."""
        test = np.isin(self.subject, TEST_SUBJECTS)
        return self.select(~test), self.select(test)


def recording_windows(rec: Recording, hop: int = HOP, keep=None) -> WindowSet:
    """Every window of one recording every ``hop`` samples from its start, on the official scale.

    ``keep``: a function of the windows' labels giving the mask of those to extract (default: all).
    """
    starts = regular_starts(rec.n_samples, hop)
    if keep is not None:
        starts = starts[keep(window_labels(rec.labels, starts))]
    starts, X = extract_recording(rec.acc, rec.gyro, starts)
    n = len(starts)
    return WindowSet(to_official_scale(X), window_labels(rec.labels, starts),
                     np.full(n, rec.user), np.full(n, rec.experiment), starts)


def build_windows(recordings: list[Recording], hop: int = HOP, *, quiet: bool = True, keep=None) -> WindowSet:
    """Windows of every recording (those ``keep`` keeps); a progress bar on a terminal unless ``quiet``."""
    return WindowSet.concatenate([recording_windows(r, hop, keep) for r in iterate(
        recordings, "extracting features", unit="recordings", quiet=quiet)])


def _source_key(source: Path | None) -> str:
    """Key of the recordings' content: a SHA-256 of their bytes (and, for a folder, file names).

    Never name, size or time alone: a different file of the same name and size is another key.
    """
    path = Path(source) if source is not None else sdist_path()
    digest = hashlib.sha256()
    if path.is_dir():
        for p in sorted(path.glob("*.txt")):
            digest.update(f"{p.name}\0{file_sha256(p)}\0".encode())
    elif path.exists():
        digest.update(file_sha256(path).encode())
    else:
        digest.update(path.name.encode())      # nothing to read: loading it will say why
    return digest.hexdigest()[:16]


def windows_cache_path(source: Path | None = None, hop: int = HOP, tilts: Tilts | None = None) -> Path:
    extra = f"-train-{tilts.tag}" if tilts is not None else ""
    return cache_dir() / f"windows-f{FEATURES_VERSION}-{FEATURE_DIGEST}-{_source_key(source)}-hop{hop}{extra}.npz"


def tilted_recordings(recordings: list[Recording], tilts: Tilts) -> list[Recording]:
    """Each training-subject recording again, ``tilts.copies`` times, as a tilted phone records it.

    The rotation depends on the experiment id, not on the list's order (see :mod:`.augment`).
    """
    out = []
    for rec in recordings:
        if rec.user in TEST_SUBJECTS:
            continue            # held out: never augmented, never trained on
        for rotation in tilts.rotations(rec.experiment):
            acc, gyro = rotate(rec.acc, rec.gyro, rotation)
            out.append(replace(rec, acc=acc, gyro=gyro))
    return out


def load_windows(source: str | Path | None = None, *, hop: int = HOP, download: bool = True,
                 use_cache: bool = True, log=print, quiet: bool = False, tilts: Tilts | None = None) -> WindowSet:
    """All windows of all HAPT recordings every ``hop`` samples, cached until the feature code changes.

    The cache is keyed on the feature code (version, digest) and on the content of the source
    (a hash of its bytes). Extraction shows a progress bar on a terminal unless ``quiet``.
    With ``tilts``: the training subjects' recordings tilted instead (see :func:`tilted_recordings`), only
    the windows of ``tilts.activity`` when it is set.
    """
    if source is None and not sdist_path().exists():
        load_hapt(download=download)        # fetch (or raise a one-line reason) before keying the cache
    path = windows_cache_path(source, hop, tilts)
    if use_cache and path.exists():
        try:
            with np.load(path) as data:
                return WindowSet.from_npz(data)
        except (OSError, ValueError, KeyError) + ARCHIVE_ERRORS as exc:
            raise DatasetError(f"{path}: corrupt feature cache ({type(exc).__name__}: {exc}); "
                               f"delete it to rebuild") from None
    log(f"extracting features from the recordings{' (' + tilts.describe() + ')' if tilts else ''} (cache: {path})")
    recordings = load_hapt(source, download=download)
    if tilts is not None:
        recordings = tilted_recordings(recordings, tilts)
    windows = build_windows(recordings, hop, quiet=quiet, keep=tilts.keep if tilts is not None else None)
    atomic_write(path, windows.npz_bytes())
    return windows
