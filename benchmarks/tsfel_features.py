"""TSFEL features of HAPT windows, for the comparison in ``benchmarks.run``.

TSFEL (https://github.com/fraunhoferportugal/tsfel) is the usual off-the-shelf answer to "give me
time-series features": its default configuration (``tsfel.get_features_by_domain()``: statistical,
temporal, spectral and fractal domains) on each of the 6 raw channels (acc x/y/z in g, gyro x/y/z in
rad/s) of the same 128-sample windows our extractor sees.

TSFEL takes about 0.1 s per 6-channel window on one core, so the features of the labelled HAPT
windows (about 10,000) are cached on disk, per window, keyed on the TSFEL version and the
(experiment, start) of each window: a rerun only computes what is missing. Computing for the
accuracy comparison may use several processes (it is not what is timed there); the speed
comparison times TSFEL in-process on one core (``n_jobs=None``).
"""

from __future__ import annotations

import io
import os
import warnings
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np

from har.runtime.files import atomic_write

WINDOW = 128
FS = 50
CHANNELS = ("acc_x", "acc_y", "acc_z", "gyro_x", "gyro_y", "gyro_z")


def available() -> str | None:
    """None when TSFEL can be used, else the reason it cannot."""
    try:
        import tsfel  # noqa: F401
    except Exception as exc:     # ImportError, or a broken dependency of it
        return f"tsfel not importable ({type(exc).__name__}: {exc})"
    return None


def tsfel_version() -> str:
    from importlib.metadata import PackageNotFoundError, version
    try:
        return version("tsfel")
    except PackageNotFoundError:
        return "unknown"


def default_config() -> dict:
    import tsfel
    return tsfel.get_features_by_domain()


def extract(windows: np.ndarray, config: dict | None = None) -> tuple[np.ndarray, list[str]]:
    """TSFEL features of raw windows, in this process (one core).

    Parameters
    ----------
    windows : ndarray, shape (n, 128, 6)
        acc xyz (g) and gyro xyz (rad/s).

    Returns
    -------
    X : ndarray, shape (n, n_features), float64
    names : list of str
        TSFEL's column names (sorted, as TSFEL returns them).
    """
    import tsfel
    cfg = config if config is not None else default_config()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        df = tsfel.time_series_features_extractor(cfg, list(np.asarray(windows, dtype=np.float64)), fs=FS,
                                                  verbose=0, n_jobs=None, header_names=list(CHANNELS))
    return df.to_numpy(dtype=np.float64), [str(c) for c in df.columns]


def _extract_chunk(windows: np.ndarray) -> tuple[np.ndarray, list[str]]:
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(var, "1")
    return extract(windows)


def raw_windows(recordings, experiment: np.ndarray, start: np.ndarray) -> np.ndarray:
    """The raw 6-channel samples of windows given by (experiment, start)."""
    by_exp = {int(r.experiment): r for r in recordings}
    out = np.empty((len(start), WINDOW, 6))
    for i, (e, s) in enumerate(zip(np.asarray(experiment), np.asarray(start))):
        r = by_exp[int(e)]
        out[i, :, :3] = r.acc[s:s + WINDOW]
        out[i, :, 3:] = r.gyro[s:s + WINDOW]
    return out


def cache_path() -> Path:
    from har.runtime.tools.hapt import cache_dir
    return cache_dir() / f"tsfel-{tsfel_version()}-default-w{WINDOW}.npz"


def _load_cache(path: Path):
    if not path.exists():
        return None
    try:
        with np.load(path, allow_pickle=False) as d:
            return d["experiment"], d["start"], d["X"], [str(n) for n in d["names"]]
    except (OSError, ValueError, KeyError):
        return None


def _save_cache(path: Path, experiment, start, X, names) -> None:
    buf = io.BytesIO()
    np.savez(buf, experiment=experiment, start=start, X=X, names=np.array(names))
    atomic_write(path, buf.getvalue())


def features_for(recordings, experiment: np.ndarray, start: np.ndarray, *, workers: int = 1,
                 chunk: int = 250, log=print) -> tuple[np.ndarray, list[str]]:
    """TSFEL features of the windows (experiment, start), from the disk cache or computed (and cached).

    Computed in chunks of ``chunk`` windows over ``workers`` processes; the cache is saved after
    every few chunks, so an interrupted run keeps its progress.
    """
    experiment = np.asarray(experiment, dtype=np.int64)
    start = np.asarray(start, dtype=np.int64)
    path = cache_path()
    cached = _load_cache(path)
    known: dict[tuple[int, int], int] = {}
    if cached is not None:
        c_exp, c_start, c_X, names = cached
        known = {(int(e), int(s)): i for i, (e, s) in enumerate(zip(c_exp, c_start))}
        rows = [c_X]
    else:
        c_exp, c_start, names, rows = np.zeros(0, np.int64), np.zeros(0, np.int64), None, []
    missing = np.array([i for i, k in enumerate(zip(experiment.tolist(), start.tolist())) if k not in known],
                       dtype=np.int64)
    if len(missing):
        log(f"tsfel: computing features of {len(missing)} windows ({len(experiment) - len(missing)} cached) "
            f"on {workers} process(es); cache {path}")
        pieces = [missing[i:i + chunk] for i in range(0, len(missing), chunk)]
        new_exp, new_start = [c_exp], [c_start]
        done = 0

        def absorb(idx, result):
            nonlocal names, done
            Xp, nm = result
            if names is None:
                names = nm
            elif nm != names:
                raise RuntimeError("tsfel returned different feature columns for different chunks")
            rows.append(Xp)
            new_exp.append(experiment[idx])
            new_start.append(start[idx])
            done += len(idx)
            _save_cache(path, np.concatenate(new_exp), np.concatenate(new_start), np.vstack(rows), names)
            log(f"tsfel: {done}/{len(missing)} windows")

        if workers > 1:
            with ProcessPoolExecutor(max_workers=workers) as pool:
                futures = [(idx, pool.submit(_extract_chunk, raw_windows(recordings, experiment[idx], start[idx])))
                           for idx in pieces]
                for idx, fut in futures:
                    absorb(idx, fut.result())
        else:
            for idx in pieces:
                absorb(idx, extract(raw_windows(recordings, experiment[idx], start[idx])))
        c_exp, c_start = np.concatenate(new_exp), np.concatenate(new_start)
        known = {(int(e), int(s)): i for i, (e, s) in enumerate(zip(c_exp, c_start))}
    X_all = np.vstack(rows)
    order = np.array([known[(int(e), int(s))] for e, s in zip(experiment, start)], dtype=np.int64)
    return X_all[order], names


if __name__ == "__main__":        # pre-compute the cache: python -m benchmarks.tsfel_features [workers]
    import sys

    from har.runtime.tools.hapt import load_hapt
    from har.model.windows import load_windows

    w = load_windows(hop=64, download=False).labelled()
    recs = load_hapt(download=False)
    X, names = features_for(recs, w.experiment, w.start, workers=int(sys.argv[1]) if len(sys.argv) > 1 else 2)
    print(X.shape, len(names))
