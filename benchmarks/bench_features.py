"""Feature extraction speed: the vectorised extractor against the naive one-window-at-a-time code.

Run from the repository root::

    python -m benchmarks.bench_features            # 4 HAPT recordings, 5 repeats (about a minute)
    python -m benchmarks.bench_features --quick    # 1 recording, fewer repeats (well under a minute)

Everything runs in one process with every BLAS/OpenMP pool pinned to one thread (set before numpy is
imported), on real HAPT recordings from the local cache. Measured:

batch
    ``extract_recording`` over whole recordings (chain + features), windows/s. The naive path runs the
    same chain over the whole recording, then ``naive_window_features`` window by window; it is slow,
    so it is timed on an evenly spread subset of the windows and its per-window cost extrapolated:
    naive s/window = chain time / all windows + median naive window time.
streaming
    ``StreamingExtractor.push`` one sample at a time over a whole recording, and in 32-sample chunks;
    the latency of each push that completes a window (p50, p99) and the sustained windows/s (windows
    emitted / total push time). Baseline: a naive streamer doing the same per-sample chain step
    (``preprocess`` with carried state) and, when a window completes, ``naive_window_features`` of it;
    it runs over the first windows of each recording only.

Numbers are medians over repeats (percentiles are taken within a repeat, then the median of those).
``ratio`` is how many times faster ours is than the row it is compared with: naive time / our time.
"""

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import platform  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402
import scipy  # noqa: E402

from har.features import StreamingExtractor, extract_recording  # noqa: E402
from har.features.chain import SIGNAL_CHANNELS, preprocess  # noqa: E402

from .naive import SPAN, naive_window_features  # noqa: E402

HOP = 64
CHUNK = 32

FULL = dict(recordings=4, batch_repeats=5, naive_windows_per_recording=40, naive_repeats=3,
            stream_repeats=3, naive_stream_windows=40)
QUICK = dict(recordings=1, batch_repeats=3, naive_windows_per_recording=20, naive_repeats=2,
             stream_repeats=1, naive_stream_windows=20)


def machine_info() -> dict:
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:                 # not on every platform
        usable = os.cpu_count()
    return {
        "platform": platform.platform(),
        "machine": platform.machine(),
        "processor": platform.processor() or "unknown",
        "python": platform.python_version(),
        "numpy": np.__version__,
        "scipy": scipy.__version__,
        "cpu_count": os.cpu_count(),
        "cpus_usable": usable,
        "threads": {v: os.environ.get(v) for v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")},
    }


def load_recordings(n: int):
    """The first ``n`` HAPT recordings from the local cache (no download)."""
    from har.runtime.tools.hapt import DatasetError, load_hapt

    try:
        recs = load_hapt(download=False)
    except DatasetError as exc:
        raise SystemExit(f"bench_features: HAPT recordings unavailable: {exc}")
    return recs[:n]


# ---------------------------------------------------------------- batch

def bench_batch_ours(recs, repeats: int) -> dict:
    n_windows = 0
    totals, per_window_ms = [], []
    for r in recs:                                          # warm-up: caches, first-call costs
        extract_recording(r.acc, r.gyro)
    for _ in range(repeats):
        total, n_windows = 0.0, 0
        for r in recs:
            t0 = time.perf_counter()
            starts, _ = extract_recording(r.acc, r.gyro)
            dt = time.perf_counter() - t0
            total += dt
            n_windows += len(starts)
            per_window_ms.append(1e3 * dt / len(starts))
        totals.append(total)
    total = float(np.median(totals))
    return {"windows": n_windows, "seconds_median": total, "windows_per_s": n_windows / total,
            "ms_per_window_p50": float(np.percentile(per_window_ms, 50)),
            "ms_per_window_p99": float(np.percentile(per_window_ms, 99)),
            "note": "per-window ms: whole-recording time / its windows, over recordings x repeats"}


def bench_batch_naive(recs, per_recording: int, repeats: int) -> dict:
    chain_s = []            # per repeat: chain over all recordings
    window_ms = []          # per repeat: list of naive_window_features times
    n_windows = sum(len(np.arange(0, max(len(r.acc) - 128, 0), HOP)) for r in recs)
    timed = 0
    warm, _ = preprocess(np.hstack([recs[0].acc[:SPAN], recs[0].gyro[:SPAN]]), final=True)
    naive_window_features(warm)                              # warm-up
    for _ in range(repeats):
        c, w = 0.0, []
        for r in recs:
            raw = np.hstack([r.acc, r.gyro])
            t0 = time.perf_counter()
            signals, _ = preprocess(raw, final=True)
            c += time.perf_counter() - t0
            starts = np.arange(0, max(len(raw) - 128, 0), HOP)
            subset = starts[np.linspace(0, len(starts) - 1, min(per_recording, len(starts))).astype(int)]
            for s in subset:
                t0 = time.perf_counter()
                naive_window_features(signals[s:s + SPAN])
                w.append(time.perf_counter() - t0)
        timed = len(w)
        chain_s.append(c)
        window_ms.append(1e3 * np.array(w))
    chain_ms_per_window = 1e3 * float(np.median(chain_s)) / n_windows
    p50 = float(np.median([np.percentile(w, 50) for w in window_ms])) + chain_ms_per_window
    p99 = float(np.median([np.percentile(w, 99) for w in window_ms])) + chain_ms_per_window
    mean_ms = float(np.median([w.mean() for w in window_ms])) + chain_ms_per_window
    return {"windows": n_windows, "windows_timed": timed, "windows_per_s": 1e3 / mean_ms,
            "ms_per_window_mean": mean_ms, "ms_per_window_p50": p50, "ms_per_window_p99": p99,
            "chain_ms_per_window": chain_ms_per_window,
            "note": "naive timed on a subset of windows; windows/s extrapolated from mean window time + chain share"}


# ---------------------------------------------------------------- streaming

def _stream_ours(acc, gyro, chunk: int) -> tuple[np.ndarray, float, int]:
    """Push a recording in ``chunk``-sample pieces; latencies (s) of pushes that completed a window."""
    ex = StreamingExtractor()
    lat = []
    emitted = 0
    t_start = time.perf_counter()
    for i in range(0, len(acc), chunk):
        a, g = acc[i:i + chunk], gyro[i:i + chunk]
        t0 = time.perf_counter()
        starts, _ = ex.push(a, g)
        dt = time.perf_counter() - t0
        if len(starts):
            lat.append(dt)
            emitted += len(starts)
    total = time.perf_counter() - t_start
    return np.array(lat), total, emitted


def _stream_medians(run_one, recs, repeats: int) -> dict:
    """Median over repeats of p50/p99 latency and windows/s; ``run_one(rec) -> (latencies, s, windows)``."""
    p50s, p99s, rates, n_lat = [], [], [], 0
    for _ in range(repeats):
        lats, total, emitted = [], 0.0, 0
        for r in recs:
            lat, t, e = run_one(r)
            lats.append(lat)
            total += t
            emitted += e
        lat = np.concatenate(lats)
        n_lat = len(lat)
        p50s.append(1e3 * np.percentile(lat, 50))
        p99s.append(1e3 * np.percentile(lat, 99))
        rates.append(emitted / total)
    return {"windows": n_lat, "windows_per_s": float(np.median(rates)),
            "ms_per_window_p50": float(np.median(p50s)), "ms_per_window_p99": float(np.median(p99s))}


def bench_stream_ours(recs, chunk: int, repeats: int) -> dict:
    r0 = recs[0]
    _stream_ours(r0.acc[:2000], r0.gyro[:2000], chunk)      # warm-up
    res = _stream_medians(lambda r: _stream_ours(r.acc, r.gyro, chunk), recs, repeats)
    return {"chunk": chunk, **res,
            "note": "latency of each push that completed a window; windows/s = windows / total push time"}


def _stream_naive(acc, gyro, max_windows: int) -> tuple[np.ndarray, float, int]:
    """Per-sample chain step with carried state; naive features of each window as it completes."""
    raw = np.hstack([acc, gyro])
    n = min(len(raw), (max_windows - 1) * HOP + SPAN + 1)
    buf = np.empty((n, SIGNAL_CHANNELS))       # whole history: the baseline does not manage memory
    have = 0
    next_start = 0
    state = None
    lat = []
    t_start = time.perf_counter()
    for i in range(n):
        t0 = time.perf_counter()
        out, state = preprocess(raw[i:i + 1], state)
        buf[have:have + len(out)] = out
        have += len(out)
        done = False
        while next_start + SPAN <= have:
            naive_window_features(buf[next_start:next_start + SPAN])
            next_start += HOP
            done = True
        dt = time.perf_counter() - t0
        if done:
            lat.append(dt)
    total = time.perf_counter() - t_start
    return np.array(lat), total, next_start // HOP


def bench_stream_naive(recs, max_windows: int, repeats: int) -> dict:
    r0 = recs[0]
    _stream_naive(r0.acc, r0.gyro, 2)                        # warm-up
    per_rec = max(1, max_windows // len(recs))
    res = _stream_medians(lambda r: _stream_naive(r.acc, r.gyro, per_rec), recs, repeats)
    return {"chunk": 1, **res,
            "note": f"first {per_rec} windows of each recording; per-sample chain step + naive features"}


# ---------------------------------------------------------------- driver

def run(quick: bool) -> dict:
    """Measure everything; return the numbers (JSON-serialisable).

    Returns
    -------
    dict
        ``machine`` (platform, versions, CPU count), ``config`` (sizes and repeats), ``recordings``
        (HAPT experiment ids and sample counts), ``results`` (one dict per measurement) and ``rows``
        (the printed table: method, windows_per_s, ms_p50, ms_p99, ratio = naive time / our time).
    """
    cfg = QUICK if quick else FULL
    recs = load_recordings(cfg["recordings"])
    res = {
        "batch_ours": bench_batch_ours(recs, cfg["batch_repeats"]),
        "batch_naive": bench_batch_naive(recs, cfg["naive_windows_per_recording"], cfg["naive_repeats"]),
        "stream_ours_1": bench_stream_ours(recs, 1, cfg["stream_repeats"]),
        "stream_ours_32": bench_stream_ours(recs, CHUNK, max(cfg["stream_repeats"], 3)),
        "stream_naive_1": bench_stream_naive(recs, cfg["naive_stream_windows"], cfg["stream_repeats"]),
    }
    b, bn = res["batch_ours"], res["batch_naive"]
    s1, s32, sn = res["stream_ours_1"], res["stream_ours_32"], res["stream_naive_1"]

    def row(method, r, ratio):
        return {"method": method, "windows_per_s": r["windows_per_s"], "ms_p50": r["ms_per_window_p50"],
                "ms_p99": r["ms_per_window_p99"], "ratio": ratio}

    rows = [
        row("batch: extract_recording (ours)", b, 1.0),
        row("batch: naive per window", bn, b["windows_per_s"] / bn["windows_per_s"]),
        row("stream 1 sample/push (ours)", s1, 1.0),
        row("stream 32 samples/push (ours)", s32, 1.0),
        row("stream 1 sample/push: naive", sn, sn["ms_per_window_p50"] / s1["ms_per_window_p50"]),
    ]
    rows[-1]["ratio_vs_chunk32"] = sn["ms_per_window_p50"] / s32["ms_per_window_p50"]
    return {
        "machine": machine_info(),
        "config": {"quick": quick, **cfg, "chunk": CHUNK},
        "recordings": [{"experiment": int(r.experiment), "user": int(r.user), "samples": int(len(r.acc))}
                       for r in recs],
        "results": res,
        "rows": rows,
    }


def format_table(out: dict) -> str:
    lines = [f"{'method':36s} {'windows/s':>11s} {'ms p50':>9s} {'ms p99':>9s} {'ratio':>8s}",
             "-" * 77]
    for r in out["rows"]:
        lines.append(f"{r['method']:36s} {r['windows_per_s']:11.1f} {r['ms_p50']:9.3f} {r['ms_p99']:9.3f} "
                     f"{r['ratio']:7.1f}x")
    m = out["machine"]
    lines.append("")
    lines.append("ratio: naive time / our time (batch: windows/s; streaming: p50 latency vs 1-sample push; "
                 f"vs 32-sample push: {out['rows'][-1]['ratio_vs_chunk32']:.1f}x)")
    lines.append(f"machine: {m['platform']} | {m['processor']} | python {m['python']} | numpy {m['numpy']} "
                 f"| scipy {m['scipy']} | {m['cpu_count']} CPUs ({m['cpus_usable']} usable) | threads pinned to 1")
    rec = out["recordings"]
    lines.append(f"data: HAPT experiments {[r['experiment'] for r in rec]}, {sum(r['samples'] for r in rec)} samples; "
                 f"batch {out['results']['batch_ours']['windows']} windows "
                 f"(naive timed on {out['results']['batch_naive']['windows_timed']}), "
                 f"naive streaming {out['results']['stream_naive_1']['windows']} windows")
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.bench_features", description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="1 recording, fewer repeats (< 1 min)")
    args = parser.parse_args(argv)
    t0 = time.perf_counter()
    out = run(args.quick)
    print(format_table(out))
    print(f"(took {time.perf_counter() - t0:.0f} s)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
