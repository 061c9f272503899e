"""The engine graph (``runtime/data/engine.onnx``) against the Python engine, side by side in one run.

Run from the repository root::

    python -m benchmarks.bench_engine            # writes benchmarks/RESULTS_engine.md
    python -m benchmarks.bench_engine --quick    # fewer repeats, for a smoke test

Measured on the bundled recording (``runtime/data/sample_recording.npz``), one core
(onnxruntime with one intra-op thread, numpy's BLAS limited to one thread by the caller's
``OMP_NUM_THREADS=1``):

- one stream, per window: ``har.runtime.Recognizer.push`` of 64 samples (one window each) against
  one graph call (``EngineSession.run``, B = 1) and ``EngineRecognizer.push`` (the graph plus the
  numpy driver); p50 and p99 over the recording's windows, in steady state;
- many streams: windows per second of one graph call with B = 1, 16, 256, 1024 streams against
  the numpy batch path (``extract_recording`` over a whole recording, then the classifier);
- the graph file's size, the time to open an onnxruntime session on it, and the peak RSS of a
  process that imports numpy and onnxruntime only and runs the engine (against one running
  ``har.runtime.Recognizer``).
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
ENGINE = ROOT / "runtime" / "data" / "engine.onnx"
OUT = Path(__file__).resolve().parent / "RESULTS_engine.md"
BATCHES = (1, 16, 256, 1024)


def _sample():
    data = np.load(ROOT / "runtime" / "data" / "sample_recording.npz")
    return data["acc"], data["gyro"]


def _median_ms(times) -> float:
    return 1e3 * float(np.median(times))


def _p99_ms(times) -> float:
    return 1e3 * float(np.percentile(times, 99))


def one_stream(acc, gyro, repeats: int) -> dict:
    from har.runtime import Recognizer
    from har.runtime.engine import EngineRecognizer, EngineSession

    n = (len(acc) // 64) * 64
    blocks = [(acc[i:i + 64], gyro[i:i + 64]) for i in range(0, n, 64)]
    out = {}
    rec = Recognizer()
    eng_rec = EngineRecognizer()
    sess = EngineSession()
    raw = np.hstack([acc, gyro]).astype(np.float32)
    times = {"python": [], "graph": [], "driver": []}

    def run_python():
        rec.reset()
        for k, (a, g) in enumerate(blocks):
            t0 = time.perf_counter()
            got = rec.push(a, g)
            if k >= 4:          # steady state: one window per block
                times["python"].append(time.perf_counter() - t0)
                assert len(got) == 1

    def run_graph():
        state = sess.initial_state(1)
        for k in range(len(blocks)):
            t0 = time.perf_counter()
            state = sess.run(raw[None, k * 64:(k + 1) * 64], state).state
            if k >= 4:
                times["graph"].append(time.perf_counter() - t0)

    def run_driver():
        eng_rec.reset()
        for k, (a, g) in enumerate(blocks):
            t0 = time.perf_counter()
            got = eng_rec.push(a, g)
            if k >= 4:
                times["driver"].append(time.perf_counter() - t0)
                assert len(got) == 1

    # Each path over the whole recording in turn (its own working set warm, as in an app that
    # only runs the engine), the order rotating between repeats.
    paths = [run_python, run_graph, run_driver]
    for r in range(repeats):
        for fn in paths[r % 3:] + paths[:r % 3]:
            fn()
    t_py, t_graph, t_driver = times["python"], times["graph"], times["driver"]
    out["python"] = {"p50_ms": _median_ms(t_py), "p99_ms": _p99_ms(t_py), "windows": len(t_py)}
    out["graph"] = {"p50_ms": _median_ms(t_graph), "p99_ms": _p99_ms(t_graph), "windows": len(t_graph)}
    out["driver"] = {"p50_ms": _median_ms(t_driver), "p99_ms": _p99_ms(t_driver), "windows": len(t_driver)}
    return out


def many_streams(acc, gyro, repeats: int) -> dict:
    from har.features import extract_recording, to_official_scale
    from har.runtime.engine import EngineSession
    from har.runtime.model import load_model

    model = load_model()
    times = []
    n_windows = 0
    for _ in range(repeats):
        t0 = time.perf_counter()
        starts, X = extract_recording(acc, gyro)
        model.predict(np.nan_to_num(to_official_scale(X)))
        times.append(time.perf_counter() - t0)
        n_windows = len(starts)
    numpy_wps = n_windows / float(np.median(times))

    # The live Python alternative for many streams: one Recognizer per stream, one block each.
    from har.runtime import Recognizer

    n_live = 64
    live = [Recognizer(model) for _ in range(n_live)]
    for k in range(4):
        for i, r in enumerate(live):
            r.push(acc[(i + k) * 64:(i + k + 1) * 64], gyro[(i + k) * 64:(i + k + 1) * 64])
    t_live = []
    for k in range(4, 4 + 3 * repeats):
        t0 = time.perf_counter()
        for i, r in enumerate(live):
            r.push(acc[(i + k) * 64:(i + k + 1) * 64], gyro[(i + k) * 64:(i + k + 1) * 64])
        t_live.append(time.perf_counter() - t0)
    live_wps = n_live / float(np.median(t_live))

    sess = EngineSession()
    raw = np.hstack([acc, gyro]).astype(np.float32)
    n_blocks = len(raw) // 64
    rows = []
    for b in BATCHES:
        # B streams, each a different block of the recording, in steady state (state from a warm-up).
        offsets = (np.arange(b) * 7) % (n_blocks - 4)
        state = sess.initial_state(b)
        for k in range(4):
            state = sess.run(np.stack([raw[(o + k) * 64:(o + k + 1) * 64] for o in offsets]), state).state
        block = np.stack([raw[(o + 4) * 64:(o + 5) * 64] for o in offsets])
        reps = max(3, min(repeats * 10, 4000 // b))
        t = []
        for _ in range(reps):
            t0 = time.perf_counter()
            sess.run(block, state)
            t.append(time.perf_counter() - t0)
        per_call = float(np.median(t))
        rows.append({"streams": b, "call_ms": 1e3 * per_call, "graph_wps": b / per_call,
                     "numpy_wps": numpy_wps, "ratio": (b / per_call) / numpy_wps,
                     "live_wps": live_wps, "live_ratio": (b / per_call) / live_wps})
    return {"numpy_windows": n_windows, "numpy_s": float(np.median(times)), "rows": rows, "live_streams": n_live}


def session_start(repeats: int) -> dict:
    from har.runtime.engine import EngineSession

    t = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        EngineSession()
        t.append(time.perf_counter() - t0)
    return {"median_ms": _median_ms(t)}


ENGINE_ONLY = """
import sys, importlib.util
import numpy as np
spec = importlib.util.spec_from_file_location("engine_alone", sys.argv[1])
engine = importlib.util.module_from_spec(spec); sys.modules[spec.name] = engine; spec.loader.exec_module(engine)
data = np.load(sys.argv[2])
rec = engine.EngineRecognizer()
preds = rec.push(data["acc"], data["gyro"])
sess = rec.session
state = sess.initial_state(256)
for _ in range(3):
    state = sess.run(np.zeros((256, 64, 6), sess.dtype), state).state
bad = sorted(m for m in sys.modules if m.split(".")[0] in ("scipy", "har", "sklearn", "onnx"))
assert not bad, bad
print(len(preds), peak_mb())
"""

PYTHON_ENGINE = """
import sys
import numpy as np
from har.runtime import Recognizer
data = np.load(sys.argv[2])
preds = Recognizer().push(data["acc"], data["gyro"])
print(len(preds), peak_mb())
"""

# VmHWM is this process's own peak (ru_maxrss would carry the parent's peak across exec).
PEAK = """
def peak_mb():
    try:
        with open("/proc/self/status") as fh:
            return next(int(l.split()[1]) for l in fh if l.startswith("VmHWM")) / 1024
    except (OSError, StopIteration):
        import resource
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
"""


def peak_rss() -> dict:
    sample = ROOT / "runtime" / "data" / "sample_recording.npz"
    out = {}
    for key, code in (("engine", ENGINE_ONLY), ("python", PYTHON_ENGINE)):
        proc = subprocess.run([sys.executable, "-c", PEAK + code, str(ROOT / "runtime" / "engine.py"), str(sample)],
                              capture_output=True, text=True, timeout=300)
        if proc.returncode != 0:
            raise SystemExit(f"bench_engine: peak RSS child ({key}) failed: {proc.stderr.strip()[-500:]}")
        n, mb = proc.stdout.split()
        out[key] = {"windows": int(n), "peak_rss_mb": float(mb)}
    return out


def render(res: dict, command: str) -> str:
    import onnxruntime

    one, many = res["one_stream"], res["many"]
    lines = [
        "# Engine graph benchmark",
        "",
        f"Command: `{command}`. Machine: {platform.machine()}, {platform.processor() or 'cpu'}, Python "
        f"{platform.python_version()}, numpy {np.__version__}, onnxruntime {onnxruntime.__version__}; one core "
        "(onnxruntime intra-op threads = 1). Data: the bundled recording (HAPT experiment 3). Medians of repeated "
        f"runs. Load average at the start: {res['load']:.1f} (a shared machine: absolute times vary, ratios are "
        "measured side by side in the same run).",
        "",
        "## One stream, per window (64 new samples -> one window)",
        "",
        "| path | p50 ms | p99 ms | windows | speed-up vs Recognizer (p50) |",
        "|---|---|---|---|---|",
    ]
    base = one["python"]["p50_ms"]
    for key, name in (("python", "`har.runtime.Recognizer.push` (numpy/scipy features + ONNX classifier)"),
                      ("graph", "`engine.onnx`, one `InferenceSession.run` (B = 1)"),
                      ("driver", "`EngineRecognizer.push` (graph + numpy driver)")):
        r = one[key]
        lines.append(f"| {name} | {r['p50_ms']:.3f} | {r['p99_ms']:.3f} | {r['windows']} | {base / r['p50_ms']:.2f}x |")
    lines += [
        "",
        "## Many streams: windows per second",
        "",
        f"Numpy batch baseline: `extract_recording` + classifier over the whole recording "
        f"({many['numpy_windows']} windows in {many['numpy_s']:.3f} s), the Python engine's fastest path.",
        "",
        f"Live baseline: {many['live_streams']} `Recognizer`s (one per stream) each pushed one 64-sample block, "
        "what a server without the graph does.",
        "",
        "| streams per call (B) | graph call ms | graph windows/s | numpy batch windows/s | graph / numpy batch "
        "| Recognizer per stream windows/s | graph / Recognizers |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in many["rows"]:
        lines.append(f"| {r['streams']} | {r['call_ms']:.3f} | {r['graph_wps']:.0f} | {r['numpy_wps']:.0f} | "
                     f"{r['ratio']:.2f}x | {r['live_wps']:.0f} | {r['live_ratio']:.2f}x |")
    rss = res["rss"]
    lines += [
        "",
        "## File, start-up, memory",
        "",
        "| measure | value |",
        "|---|---|",
        f"| `engine.onnx` size | {res['size_bytes'] / 1024:.0f} KiB ({res['size_bytes']} bytes) |",
        f"| session start (`EngineSession()`, median) | {res['start']['median_ms']:.1f} ms |",
        f"| peak RSS, numpy + onnxruntime only, engine on 1 stream then B = 256 | "
        f"{rss['engine']['peak_rss_mb']:.0f} MB |",
        f"| peak RSS, `har.runtime.Recognizer` (numpy, scipy, onnxruntime) on 1 stream | "
        f"{rss['python']['peak_rss_mb']:.0f} MB |",
        "",
        "Targets: one stream >= 3x faster per window than `Recognizer.push`; 256 streams >= 2x the numpy "
        "batch windows/s.",
        "",
    ]
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats (smoke test)")
    parser.add_argument("--out", type=Path, default=OUT, help=f"report file (default {OUT})")
    args = parser.parse_args(argv)
    from har.runtime.files import atomic_write

    acc, gyro = _sample()
    repeats = 1 if args.quick else 3
    res = {
        "load": os.getloadavg()[0],
        "one_stream": one_stream(acc, gyro, repeats),
        "many": many_streams(acc, gyro, repeats),
        "start": session_start(3 if args.quick else 10),
        "size_bytes": ENGINE.stat().st_size,
        "rss": peak_rss(),
    }
    command = "python -m benchmarks.bench_engine" + (" --quick" if args.quick else "")
    text = render(res, command)
    atomic_write(args.out, text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
