"""MotionSense: an iPhone 6s in the front trouser pocket, 24 subjects, 6 activities, 50 Hz.

Malekzadeh, Clegg, Cavallaro, Haddadi. *Mobile Sensor Data Anonymization.* IoTDI '19, pp. 49-58,
doi:10.1145/3302505.3310068. Data: https://github.com/mmalekzadeh/motion-sense (MIT License).

Two layouts give the same trials:

- the published one: ``A_DeviceMotion_data/<code>_<number>/sub_<n>.csv`` (e.g. ``wlk_7/sub_1.csv``),
  CoreMotion ``CMDeviceMotion`` columns in the iOS sign;
- the compact one: ``motionsense.npz`` (one float32 (n, 6) array per trial, already converted) with its
  ``index.csv``.

Conversion to the engine's units and sign (``acc`` in g with gravity, Android sign; ``gyro`` in rad/s)::

    acc  = -(gravity + userAcceleration)     # iOS reads (0, 0, -1) g face-up, Android (0, 0, +1) g
    gyro = rotationRate                      # right-handed about the same device axes on both

Every trial starts with the subject putting the phone into the pocket and ends with taking it out:
:func:`trial_windows` drops the windows that touch the first or last ``handling_s`` seconds.
"""

from __future__ import annotations

import csv
import hashlib
import re
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from har.features import FEATURE_DIGEST, FEATURES_VERSION, HOP, N_FEATURES, SAMPLE_RATE_HZ, SPAN, extract_recording, to_official_scale
from har.features.contract import MODEL_CLASS_IDS, NO_WINDOW_LABEL, activity_id
from har.runtime.files import atomic_write
from har.runtime.tools.hapt import DatasetError, cache_dir

from .augment import Tilts, rotate
from .windows import WindowSet

#: CSV header of a published trial file (the first column, the row index, has no name).
DEVICE_MOTION_COLUMNS = (
    "", "attitude.roll", "attitude.pitch", "attitude.yaw", "gravity.x", "gravity.y", "gravity.z",
    "rotationRate.x", "rotationRate.y", "rotationRate.z",
    "userAcceleration.x", "userAcceleration.y", "userAcceleration.z",
)
_GRAVITY, _ROTATION, _USER_ACC = slice(4, 7), slice(7, 10), slice(10, 13)

#: Trial code -> the engine's activity id; the codes follow the order of the model's classes (walking,
#: upstairs, downstairs, sitting, standing); jogging has no class among them.
ACTIVITY_OF_CODE = {
    "wlk": activity_id("walk"), "ups": activity_id("upstairs"), "dws": activity_id("downstairs"),
    "sit": activity_id("sit"), "std": activity_id("stand"), "jog": None,
}
#: Trial numbers of the dataset's first session (one long trial per activity); the rest are session 2.
SESSION_1_TRIALS = (1, 3, 5, 6, 7, 9)
SUBJECTS = tuple(range(1, 25))
#: Held out like the UCI HAR test subjects: never trained, tuned or chosen on.
HELDOUT_SUBJECTS = tuple(range(17, 25))
TRAIN_SUBJECTS = tuple(s for s in SUBJECTS if s not in HELDOUT_SUBJECTS)
#: sub_1.csv of sit_13 is byte-identical to sub_1.csv of sit_5 in the published data: not a second trial.
DUPLICATE_TRIALS = ("sub01_sit_13",)
#: Pooled window sets give MotionSense subject n the id SUBJECT_OFFSET + n, apart from HAPT's 1..30.
SUBJECT_OFFSET = 100
#: The held-out subjects' ids in pooled window sets.
HELDOUT_WINDOW_SUBJECTS = tuple(SUBJECT_OFFSET + s for s in HELDOUT_SUBJECTS)
#: Seconds at each end of a trial spent putting the phone into the pocket or taking it out.
HANDLING_S = 3.0

_TRIAL_DIR = re.compile(r"^([a-z]{3})_(\d+)$")
_SUBJECT_FILE = re.compile(r"^sub_(\d+)\.csv$")


@dataclass(frozen=True)
class Trial:
    """One MotionSense trial in the engine's units.

    Attributes
    ----------
    subject : int
        1..24.
    code : str
        Activity code of the dataset: ``dws, ups, wlk, jog, sit, std``.
    number : int
        Trial number (1..16), as in the folder name ``wlk_7``.
    acc : ndarray, shape (n, 3), float64
        Accelerometer x, y, z in g, gravity included, Android sign, 50 Hz.
    gyro : ndarray, shape (n, 3), float64
        Gyroscope x, y, z in rad/s, 50 Hz.
    """

    subject: int
    code: str
    number: int
    acc: np.ndarray
    gyro: np.ndarray

    @property
    def key(self) -> str:
        return f"sub{self.subject:02d}_{self.code}_{self.number}"

    @property
    def activity(self) -> int | None:
        """The engine's activity id, or None (jogging)."""
        return ACTIVITY_OF_CODE[self.code]

    @property
    def session(self) -> int:
        return 1 if self.number in SESSION_1_TRIALS else 2

    @property
    def n_samples(self) -> int:
        return int(self.acc.shape[0])


def convert_device_motion(gravity: np.ndarray, user_acceleration: np.ndarray,
                          rotation_rate: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """CoreMotion device motion (iOS sign) -> the engine's acc and gyro.

    Parameters
    ----------
    gravity, user_acceleration : ndarray, shape (n, 3)
        ``CMDeviceMotion.gravity`` and ``.userAcceleration``, in g, iOS sign.
    rotation_rate : ndarray, shape (n, 3)
        ``CMDeviceMotion.rotationRate``, rad/s.

    Returns
    -------
    acc : ndarray, shape (n, 3), float64
        g, gravity included, Android sign (face-up on a table: (0, 0, +1) g).
    gyro : ndarray, shape (n, 3), float64
        rad/s, unchanged.
    """
    acc = -(np.asarray(gravity, dtype=np.float64) + np.asarray(user_acceleration, dtype=np.float64))
    return acc, np.array(rotation_rate, dtype=np.float64)


def read_device_motion_csv(path) -> tuple[np.ndarray, np.ndarray]:
    """One published trial file ``sub_<n>.csv`` -> (acc (n, 3) g Android sign, gyro (n, 3) rad/s).

    Raises DatasetError naming the file, line and column when the header or a value is not as published.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise DatasetError(f"{path}: cannot read ({exc})") from None
    lines = text.splitlines()
    if not lines:
        raise DatasetError(f"{path}: empty file")
    header = [h.strip().strip('"') for h in lines[0].split(",")]
    if header[0] in ("index", "Unnamed: 0"):
        header[0] = ""
    if tuple(header) != DEVICE_MOTION_COLUMNS:
        raise DatasetError(f"{path} line 1: expected the CoreMotion header "
                           f"{','.join(DEVICE_MOTION_COLUMNS)!r}, got {lines[0][:120]!r}")
    values = np.empty((len(lines) - 1, len(DEVICE_MOTION_COLUMNS)), dtype=np.float64)
    n = 0
    for lineno, line in enumerate(lines[1:], start=2):
        if not line.strip():
            continue
        parts = line.split(",")
        if len(parts) != len(DEVICE_MOTION_COLUMNS):
            raise DatasetError(f"{path} line {lineno}: expected {len(DEVICE_MOTION_COLUMNS)} comma-separated "
                               f"values, got {len(parts)}")
        for col, part in enumerate(parts):
            try:
                values[n, col] = float(part)
            except ValueError:
                raise DatasetError(f"{path} line {lineno}: column '{DEVICE_MOTION_COLUMNS[col] or 'index'}': "
                                   f"expected a number, got {part.strip()[:30]!r}") from None
        n += 1
    values = values[:n]
    if n == 0:
        raise DatasetError(f"{path}: no samples after the header")
    bad = ~np.isfinite(values)
    if bad.any():
        row, col = np.argwhere(bad)[0]
        raise DatasetError(f"{path}: column '{DEVICE_MOTION_COLUMNS[col] or 'index'}': sample {row} is not "
                           f"a finite number")
    return convert_device_motion(values[:, _GRAVITY], values[:, _USER_ACC], values[:, _ROTATION])


def _published_root(folder: Path) -> Path:
    """The folder holding the ``<code>_<number>/`` trial folders (the zip nests it once more)."""
    for candidate in (folder, folder / "A_DeviceMotion_data", folder / "A_DeviceMotion_data" / "A_DeviceMotion_data"):
        if candidate.is_dir() and any(_TRIAL_DIR.match(p.name) and p.is_dir() for p in candidate.iterdir()):
            return candidate
    raise DatasetError(f"{folder}: no MotionSense trial folders (expected A_DeviceMotion_data/<code>_<n>/sub_<n>.csv "
                       f"or motionsense.npz with index.csv)")


def read_published(folder) -> list[Trial]:
    """Every trial of the published layout (``A_DeviceMotion_data/<code>_<number>/sub_<n>.csv``).

    Hidden files, ``__MACOSX`` and other names that are not trial folders or ``sub_<n>.csv`` are ignored.
    """
    root = _published_root(Path(folder))
    trials = []
    for trial_dir in sorted(root.iterdir()):
        m = _TRIAL_DIR.match(trial_dir.name)
        if not (m and trial_dir.is_dir()):
            continue
        code, number = m.group(1), int(m.group(2))
        if code not in ACTIVITY_OF_CODE:
            raise DatasetError(f"{trial_dir}: unknown activity code {code!r} (expected one of "
                               f"{', '.join(ACTIVITY_OF_CODE)})")
        for file in sorted(trial_dir.iterdir()):
            s = _SUBJECT_FILE.match(file.name)
            if s:
                acc, gyro = read_device_motion_csv(file)
                trials.append(Trial(int(s.group(1)), code, number, acc, gyro))
    if not trials:
        raise DatasetError(f"{root}: trial folders hold no sub_<n>.csv files")
    return sorted(trials, key=lambda t: (t.subject, t.code, t.number))


_KEY = re.compile(r"^sub(\d+)_([a-z]{3})_(\d+)$")


def read_compact(folder) -> list[Trial]:
    """Every trial of the compact copy: ``motionsense.npz`` (already converted) with ``index.csv``."""
    folder = Path(folder)
    npz, index = folder / "motionsense.npz", folder / "index.csv"
    for p in (npz, index):
        if not p.exists():
            raise DatasetError(f"{p}: missing; expected motionsense.npz and index.csv side by side")
    with open(index, newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    trials = []
    with np.load(npz, allow_pickle=False) as data:
        for lineno, row in enumerate(rows, start=2):
            key = row.get("key", "")
            m = _KEY.match(key)
            if not m or m.group(2) not in ACTIVITY_OF_CODE:
                raise DatasetError(f"{index} line {lineno}: column 'key': expected subNN_<code>_<number>, got {key!r}")
            if key not in data.files:
                raise DatasetError(f"{npz}: no array {key!r} (listed in {index.name} line {lineno})")
            x = np.asarray(data[key], dtype=np.float64)
            if x.ndim != 2 or x.shape[1] != 6:
                raise DatasetError(f"{npz}: array {key!r} has shape {x.shape}, expected (n, 6)")
            trials.append(Trial(int(m.group(1)), m.group(2), int(m.group(3)), x[:, :3], x[:, 3:]))
    return sorted(trials, key=lambda t: (t.subject, t.code, t.number))


def load_motionsense(path) -> list[Trial]:
    """MotionSense trials from either layout, duplicate trials removed.

    Parameters
    ----------
    path : str or Path
        A folder with ``motionsense.npz`` and ``index.csv``, or the published ``A_DeviceMotion_data``
        folder (or a folder containing it).
    """
    path = Path(path)
    if not path.is_dir():
        raise DatasetError(f"{path}: not a folder (expected MotionSense's A_DeviceMotion_data or motionsense.npz)")
    trials = read_compact(path) if (path / "motionsense.npz").exists() else read_published(path)
    return [t for t in trials if t.key not in DUPLICATE_TRIALS]


def turned_about_y(trial: Trial) -> Trial:
    """The trial as the phone turned by 180 degrees about its y axis (screen to the thigh or away) records it.

    A proper rotation: x and z of both sensors change sign, y stays. Used to augment the training data,
    whose subjects mostly put the phone in one way round.
    """
    flip = np.array([-1.0, 1.0, -1.0])
    return Trial(trial.subject, trial.code, trial.number, trial.acc * flip, trial.gyro * flip)


def trial_windows(trial: Trial, hop: int = HOP, handling_s: float = HANDLING_S, index: int = 0) -> WindowSet:
    """Labelled windows of one trial every ``hop`` samples, on the official scale.

    Windows touching the first or last ``handling_s`` seconds are dropped. Label: the trial's activity
    (0 for jogging). Subject: ``SUBJECT_OFFSET + subject``; experiment: ``index`` (the trial's position).
    """
    edge = int(round(handling_s * SAMPLE_RATE_HZ))
    # The runtime's grid (every hop samples from the first one), less the windows touching the ends.
    starts = np.arange(0, max(trial.n_samples - SPAN + 1, 0), hop)
    starts = starts[(starts >= edge) & (starts + SPAN <= trial.n_samples - edge)]
    if len(starts) == 0:
        return _empty()
    starts, X = extract_recording(trial.acc, trial.gyro, starts)
    k = len(starts)
    return WindowSet(to_official_scale(X), np.full(k, trial.activity or NO_WINDOW_LABEL, dtype=np.int64),
                     np.full(k, SUBJECT_OFFSET + trial.subject), np.full(k, index), np.asarray(starts))


def _empty() -> WindowSet:
    z = np.zeros(0, dtype=np.int64)
    return WindowSet(np.zeros((0, N_FEATURES)), z, z, z, z)


def motionsense_windows(trials: list[Trial], hop: int = HOP, handling_s: float = HANDLING_S) -> WindowSet:
    """Windows of all ``trials`` (see :func:`trial_windows`), concatenated; experiment = trial position."""
    return WindowSet.concatenate([trial_windows(t, hop, handling_s, i) for i, t in enumerate(trials)] or [_empty()])


def _source_key(folder: Path) -> str:
    """Names and sizes of the files windows are computed from: a changed copy gets new cache entries."""
    files = ([folder / "motionsense.npz", folder / "index.csv"] if (folder / "motionsense.npz").exists()
             else sorted(_published_root(folder).glob("*_*/sub_*.csv")))
    stamp = "|".join(f"{p.relative_to(folder)}:{p.stat().st_size}" for p in files)
    return hashlib.sha256(stamp.encode()).hexdigest()[:12]


def tilted_trials(trials: list[Trial], tilts: Tilts) -> list[Trial]:
    """Each training-subject trial (of ``tilts.activity``, when set) again, ``tilts.copies`` times, as a
    tilted phone records it.

    The rotation depends on the trial's key (a CRC-32 of it), not on the list's order.
    """
    out = []
    for t in trials:
        if t.subject not in TRAIN_SUBJECTS:
            continue            # held out: never augmented, never trained on
        if not tilts.keep(np.array([t.activity or NO_WINDOW_LABEL]))[0]:
            continue
        for rotation in tilts.rotations(zlib.crc32(t.key.encode())):
            acc, gyro = rotate(t.acc, t.gyro, rotation)
            out.append(Trial(t.subject, t.code, t.number, acc, gyro))
    return out


def load_motionsense_windows(path, *, hop: int = HOP, handling_s: float = HANDLING_S, turned: bool = False,
                             tilts: Tilts | None = None, use_cache: bool = True, log=print) -> WindowSet:
    """Windows of every MotionSense trial (see :func:`trial_windows`), cached until the feature code changes.

    Parameters
    ----------
    path : str or Path
        As in :func:`load_motionsense`.
    hop : int
        Samples between window starts (on the runtime's grid from each trial's first sample).
    handling_s : float
        Seconds dropped at each end of a trial.
    turned : bool
        Windows of every trial :func:`turned_about_y` instead (training augmentation).
    tilts : Tilts, optional
        Windows of the training subjects' trials tilted instead (:func:`tilted_trials`; after ``turned``).

    Returns
    -------
    WindowSet
        Subjects are ``SUBJECT_OFFSET + n``; jogging windows carry label 0.
    """
    folder = Path(path)
    if not folder.is_dir():
        raise DatasetError(f"{folder}: not a folder (expected MotionSense's A_DeviceMotion_data or motionsense.npz)")
    cache = cache_dir() / (f"motionsense-f{FEATURES_VERSION}-{FEATURE_DIGEST}-{_source_key(folder)}"
                           f"-hop{hop}-edge{int(round(handling_s * SAMPLE_RATE_HZ))}{'-turned' if turned else ''}"
                           f"{'-train-' + tilts.tag if tilts else ''}.npz")
    if use_cache and cache.exists():
        try:
            with np.load(cache) as data:
                return WindowSet.from_npz(data)
        except (OSError, ValueError, KeyError) as exc:
            raise DatasetError(f"{cache}: corrupt feature cache ({exc}); delete it to rebuild") from None
    log(f"extracting MotionSense features (cache: {cache})")
    trials = load_motionsense(folder)
    if turned:
        trials = [turned_about_y(t) for t in trials]
    if tilts is not None:
        trials = tilted_trials(trials, tilts)
    windows = motionsense_windows(trials, hop, handling_s)
    atomic_write(cache, windows.npz_bytes())
    return windows


def split_subjects(windows: WindowSet) -> tuple[WindowSet, WindowSet]:
    """(training subjects 1-16, held-out subjects 17-24) of MotionSense windows."""
    held = np.isin(windows.subject, HELDOUT_WINDOW_SUBJECTS)
    return windows.select(~held), windows.select(held)
