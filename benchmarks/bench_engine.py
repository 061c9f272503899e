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
- the IQR's selection (the graph's TopK nodes) alone at B = 256, against the budget the 256-stream
  target leaves and numpy's sort of the same tensors;
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


def _node_count(path) -> int:
    """Top-level nodes of an ONNX file (-1 without the onnx package, on a runtime-only install)."""
    try:
        import onnx
        return len(onnx.load(str(path), load_external_data=False).graph.node)
    except ImportError:
        return -1


def _median_ms(times) -> float:
    return 1e3 * float(np.median(times))


def _p99_ms(times) -> float:
    return 1e3 * float(np.percentile(times, 99))


def one_stream(acc, gyro, repeats: int, engine=ENGINE, before=None) -> dict:
    from har.runtime import Recognizer
    from har.runtime.engine import EngineRecognizer, EngineSession

    n = (len(acc) // 64) * 64
    blocks = [(acc[i:i + 64], gyro[i:i + 64]) for i in range(0, n, 64)]
    out = {}
    rec = Recognizer()
    eng_rec = EngineRecognizer(engine)
    sess = EngineSession(engine)
    raw = np.hstack([acc, gyro]).astype(np.float32)
    times = {"python": [], "graph": [], "driver": [], "before": []}

    def run_python():
        rec.reset()
        for k, (a, g) in enumerate(blocks):
            t0 = time.perf_counter()
            got = rec.push(a, g)
            if k >= 4:          # steady state: one window per block
                times["python"].append(time.perf_counter() - t0)
                assert len(got) == 1

    def graph_path(session, key):
        def run():
            state = session.initial_state(1)
            for k in range(len(blocks)):
                t0 = time.perf_counter()
                state = session.run(raw[None, k * 64:(k + 1) * 64], state).state
                if k >= 4:
                    times[key].append(time.perf_counter() - t0)
        return run

    run_graph = graph_path(sess, "graph")

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
    if before is not None:
        paths.append(graph_path(EngineSession(before), "before"))
    for r in range(repeats):
        for fn in paths[r % len(paths):] + paths[:r % len(paths)]:
            fn()
    for key, t in times.items():
        if t:
            out[key] = {"p50_ms": _median_ms(t), "p99_ms": _p99_ms(t), "windows": len(t)}
    return out


def _numpy_batch_path(acc, gyro):
    """(run, windows): the Python engine's fastest path, features of a whole recording then the
    bundled classifier, as a function to time, and the number of windows one run yields."""
    from har.features import extract_recording, to_official_scale
    from har.runtime.model import load_model

    model = load_model()

    def run():
        starts, X = extract_recording(acc, gyro)
        model.predict(np.nan_to_num(to_official_scale(X)))

    return run, len(extract_recording(acc, gyro)[0])


def many_streams(acc, gyro, repeats: int, engine=ENGINE, before=None) -> dict:
    """Windows/s of one graph call with B streams against the numpy batch path, interleaved.

    For each B, graph calls (and the ``before`` graph's, if given) alternate with numpy batch runs,
    so the ratios compare the same moments of a shared machine. Wall and thread CPU time are both
    kept (onnxruntime with one intra-op thread and numpy with one BLAS thread run on the calling
    thread): CPU time is what other processes on the machine cannot inflate.
    """
    from har.runtime.engine import EngineSession
    from har.runtime.model import load_model

    model = load_model()
    numpy_batch, numpy_windows = _numpy_batch_path(acc, gyro)

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

    sessions = {"graph": EngineSession(engine)}
    if before is not None:
        sessions["before"] = EngineSession(before)
    raw = np.hstack([acc, gyro]).astype(np.float32)
    n_blocks = len(raw) // 64
    rows = []
    for b in BATCHES:
        # B streams, each a different block of the recording, in steady state (state from a warm-up).
        offsets = (np.arange(b) * 7) % (n_blocks - 4)
        states = {}
        for key, sess in sessions.items():
            state = sess.initial_state(b)
            for k in range(4):
                state = sess.run(np.stack([raw[(o + k) * 64:(o + k + 1) * 64] for o in offsets]), state).state
            states[key] = state
        block = np.stack([raw[(o + 4) * 64:(o + 5) * 64] for o in offsets])
        # Rounds of: one numpy batch run, then a few calls of each graph (the first call of each
        # round only re-warms the caches the numpy run evicted and is not kept).
        rounds = 3 * repeats + 2
        calls = max(2, min(10, 2000 // b))
        wall = {key: [] for key in [*sessions, "numpy"]}
        cpu = {key: [] for key in wall}

        def timed(key, fn):
            t0, c0 = time.perf_counter(), time.thread_time()
            fn()
            cpu[key].append(time.thread_time() - c0)
            wall[key].append(time.perf_counter() - t0)

        for _ in range(rounds):
            timed("numpy", numpy_batch)
            for key, sess in sessions.items():
                sess.run(block, states[key])
                for _ in range(calls - 1):
                    timed(key, lambda: sess.run(block, states[key]))
        per_call = float(np.median(wall["graph"]))
        numpy_wps = numpy_windows / float(np.median(wall["numpy"]))
        numpy_cpu_wps = numpy_windows / float(np.median(cpu["numpy"]))
        row = {"streams": b, "call_ms": 1e3 * per_call, "graph_wps": b / per_call,
               "numpy_wps": numpy_wps, "ratio": (b / per_call) / numpy_wps,
               "cpu_ratio": (b / float(np.median(cpu["graph"]))) / numpy_cpu_wps,
               "live_wps": live_wps, "live_ratio": (b / per_call) / live_wps}
        if "before" in sessions:
            before_call = float(np.median(wall["before"]))
            row.update(before_call_ms=1e3 * before_call, before_ratio=(b / before_call) / numpy_wps,
                       before_cpu_ratio=(b / float(np.median(cpu["before"]))) / numpy_cpu_wps)
        rows.append(row)
    return {"numpy_windows": numpy_windows, "rows": rows, "live_streams": n_live}


def _selection_graphs(engine):
    """The engine with its order-statistic inputs exposed, and the engine's selection nodes alone.

    The selection is every TopK node of the graph (the IQR's partial selections); its inputs are
    the TopK inputs no other TopK produced, its outputs the values no other TopK consumes.
    """
    import onnx
    from onnx import helper

    model = onnx.load(str(engine))
    topk = [n for n in model.graph.node if n.op_type == "TopK"]
    made = {n.output[0] for n in topk}
    used = {n.input[0] for n in topk}
    inputs = [n.input[0] for n in topk if n.input[0] not in made]
    outputs = [n.output[0] for n in topk if n.output[0] not in used]
    exposed = onnx.ModelProto()
    exposed.CopyFrom(model)
    exposed.graph.output.extend(helper.make_tensor_value_info(name, onnx.TensorProto.FLOAT, None)
                                for name in inputs)
    # The selection subgraph: the TopK nodes, their k constants, the exposed tensors as inputs.
    consts = {i for n in topk for i in n.input[1:]}
    nodes = [n for n in model.graph.node if n.output[0] in consts or n in topk]
    inits = [t for t in model.graph.initializer if t.name in consts]
    sub = helper.make_graph(nodes, "selection",
                            [helper.make_tensor_value_info(name, onnx.TensorProto.FLOAT, None) for name in inputs],
                            [helper.make_tensor_value_info(name, onnx.TensorProto.FLOAT, None) for name in outputs],
                            initializer=inits)
    selection = helper.make_model(sub, opset_imports=model.opset_import)
    selection.ir_version = model.ir_version
    return exposed.SerializeToString(), selection.SerializeToString(), inputs, len(topk)


def selection_floor(acc, gyro, repeats: int, engine=ENGINE, streams: int = 256) -> dict:
    """What the IQR's order statistics alone cost the graph at B streams, against the 2x budget.

    ``TopK`` is the only selection operator of the default ONNX domain, and the IQR of 33 series
    per window needs four order statistics of each. This times the engine's own TopK nodes on the
    tensors they receive in steady state, the whole graph call, the numpy batch path for the same
    number of windows (the budget is half of it) and numpy's sort of the same tensors.
    """
    import onnxruntime as ort

    exposed, selection, names, n_topk = _selection_graphs(engine)
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    full = ort.InferenceSession(exposed, options, providers=["CPUExecutionProvider"])
    select = ort.InferenceSession(selection, options, providers=["CPUExecutionProvider"])
    raw = np.hstack([acc, gyro]).astype(np.float32)
    n_blocks = len(raw) // 64
    offsets = (np.arange(streams) * 7) % (n_blocks - 5)
    state_size = int(full.get_modelmeta().custom_metadata_map["state_size"])
    state = np.zeros((streams, state_size), np.float32)
    state_out = [o.name for o in full.get_outputs()].index("state_out")
    for k in range(5):
        block = np.stack([raw[(o + k) * 64:(o + k + 1) * 64] for o in offsets])
        got = full.run(None, {"samples": block, "state": state})
        state = got[state_out]
    feeds = dict(zip(names, got[-len(names):]))
    if not all(np.isfinite(v).all() for v in feeds.values()):
        raise SystemExit("bench_engine: the selection inputs are not finite in steady state")
    # The timed nodes are the selection: each output is a run of the input rows' sorted values.
    for out in select.run(None, feeds):
        k2 = out.shape[-1]
        ranked = [np.sort(v, axis=-1) for v in feeds.values() if v.shape[:-1] == out.shape[:-1]]
        if not any(np.array_equal(out[..., ::-1], r[..., j:j + k2]) for r in ranked
                   for j in range(r.shape[-1] - k2 + 1)):
            raise SystemExit("bench_engine: the extracted TopK nodes do not select order statistics")
    numpy_batch, numpy_windows = _numpy_batch_path(acc, gyro)

    def numpy_sort():
        for v in feeds.values():
            np.sort(v, axis=-1)

    runs = {"graph": lambda: full.run(None, {"samples": block, "state": state}),
            "selection": lambda: select.run(None, feeds), "numpy": numpy_batch, "sort": numpy_sort}
    times = {key: [] for key in runs}
    for _ in range(5 * repeats + 1):
        for key, fn in runs.items():
            fn()                                     # re-warm what the other paths evicted
            t0 = time.thread_time()
            fn()
            times[key].append(time.thread_time() - t0)
    ms = {key: 1e3 * float(np.median(t)) for key, t in times.items()}
    numpy_per_call = ms["numpy"] * streams / numpy_windows
    return {"streams": streams, "graph_ms": ms["graph"], "selection_ms": ms["selection"],
            "numpy_ms": numpy_per_call, "budget_ms": numpy_per_call / 2, "sort_ms": ms["sort"],
            "shapes": [list(v.shape) for v in feeds.values()], "topk_nodes": n_topk}


def session_start(repeats: int, engine=ENGINE) -> dict:
    from har.runtime.engine import EngineSession

    t = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        EngineSession(engine)
        t.append(time.perf_counter() - t0)
    return {"median_ms": _median_ms(t)}


ENGINE_ONLY = """
import sys
import numpy as np
from har.runtime import engine
data = np.load(sys.argv[2])
rec = engine.EngineRecognizer(sys.argv[3])
preds = rec.push(data["acc"], data["gyro"])
sess = rec.session
state = sess.initial_state(256)
for _ in range(3):
    state = sess.run(np.zeros((256, 64, 6), sess.dtype), state).state
# The driver needs the engine's constants and its Prediction record, never the feature code or scipy.
HAR = {"har", "har.features", "har.features.contract", "har.features.errors", "har.features.lazy",
       "har.runtime", "har.runtime.engine", "har.runtime.prediction"}
bad = sorted(m for m in sys.modules if m.split(".")[0] in ("scipy", "sklearn", "onnx", "pandas")
             or (m.split(".")[0] == "har" and m not in HAR))
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


def peak_rss(engine=ENGINE) -> dict:
    sample = ROOT / "runtime" / "data" / "sample_recording.npz"
    out = {}
    for key, code in (("engine", ENGINE_ONLY), ("python", PYTHON_ENGINE)):
        proc = subprocess.run([sys.executable, "-c", PEAK + code, str(ROOT / "runtime" / "engine.py"), str(sample),
                               str(engine)],
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
                      ("driver", "`EngineRecognizer.push` (graph + numpy driver)"),
                      ("before", f"before: `{res.get('before_name')}`, one `InferenceSession.run` (B = 1)")):
        if key not in one:
            continue
        r = one[key]
        lines.append(f"| {name} | {r['p50_ms']:.3f} | {r['p99_ms']:.3f} | {r['windows']} | {base / r['p50_ms']:.2f}x |")
    lines += [
        "",
        "## Many streams: windows per second",
        "",
        f"Numpy batch baseline: `extract_recording` + classifier over the whole recording "
        f"({many['numpy_windows']} windows per run), the Python engine's fastest path, run interleaved with "
        "the graph calls of each row. Ratios in wall time and in thread CPU time (what the other "
        "processes of a shared machine cannot inflate).",
        "",
        f"Live baseline: {many['live_streams']} `Recognizer`s (one per stream) each pushed one 64-sample block, "
        "what a server without the graph does.",
        "",
        "| streams per call (B) | graph call ms | graph windows/s | numpy batch windows/s | graph / numpy batch "
        "| same, CPU time | Recognizer per stream windows/s | graph / Recognizers |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in many["rows"]:
        lines.append(f"| {r['streams']} | {r['call_ms']:.3f} | {r['graph_wps']:.0f} | {r['numpy_wps']:.0f} | "
                     f"{r['ratio']:.2f}x | {r['cpu_ratio']:.2f}x | {r['live_wps']:.0f} | {r['live_ratio']:.2f}x |")
    if "before_call_ms" in many["rows"][0]:
        lines += ["", f"Before (`{res.get('before_name')}`), measured in the same loop:", "",
                  "| streams per call (B) | before call ms | after call ms | speed-up | before / numpy batch | "
                  "after / numpy batch | before / numpy (CPU) | after / numpy (CPU) |",
                  "|---|---|---|---|---|---|---|---|"]
        for r in many["rows"]:
            lines.append(f"| {r['streams']} | {r['before_call_ms']:.3f} | {r['call_ms']:.3f} | "
                         f"{r['before_call_ms'] / r['call_ms']:.2f}x | {r['before_ratio']:.2f}x | {r['ratio']:.2f}x | "
                         f"{r['before_cpu_ratio']:.2f}x | {r['cpu_ratio']:.2f}x |")
    if "floor" in res:
        f = res["floor"]
        lines += [
            "",
            f"## The 256-stream target against the graph's one selection operator (B = {f['streams']})",
            "",
            "The IQR features need four order statistics of each of 33 series per window "
            f"(tensors {' and '.join(str(tuple(x)) for x in f['shapes'])}). `TopK` is the only selection operator "
            f"of the default ONNX domain; here are the engine's own {f['topk_nodes']} TopK nodes, alone, on the "
            "tensors they receive in steady state, beside the whole call and the budget the target sets (half "
            "the numpy batch time for as many windows). Thread CPU time, medians, interleaved.",
            "",
            "| whole graph call ms | its TopK nodes alone ms | numpy batch, same windows ms | target budget ms "
            "| TopK / budget | `np.sort` of the same tensors ms |",
            "|---|---|---|---|---|---|",
            f"| {f['graph_ms']:.1f} | {f['selection_ms']:.1f} | {f['numpy_ms']:.1f} | {f['budget_ms']:.1f} | "
            f"{f['selection_ms'] / f['budget_ms']:.2f} | {f['sort_ms']:.1f} |",
        ]
    rss = res["rss"]
    lines += [
        "",
        "## File, start-up, memory",
        "",
        "| measure | value |",
        "|---|---|",
        f"| `engine.onnx` size | {res['size_bytes'] / 1024:.0f} KiB ({res['size_bytes']} bytes), "
        f"{res['nodes']} nodes |",
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
    parser.add_argument("--engine", type=Path, default=ENGINE,
                        help="engine graph to measure (default: the shipped one)")
    parser.add_argument("--before", type=Path, default=None,
                        help="an earlier engine graph, measured side by side (interleaved) for a before/after table")
    args = parser.parse_args(argv)
    from har.runtime.files import atomic_write

    acc, gyro = _sample()
    repeats = 1 if args.quick else 3
    res = {
        "load": os.getloadavg()[0],
        "before_name": args.before.name if args.before else None,
        "one_stream": one_stream(acc, gyro, repeats, args.engine, args.before),
        "many": many_streams(acc, gyro, repeats, args.engine, args.before),
        "floor": selection_floor(acc, gyro, repeats, args.engine),
        "start": session_start(3 if args.quick else 10, args.engine),
        "size_bytes": args.engine.stat().st_size,
        "nodes": _node_count(args.engine),
        "rss": peak_rss(args.engine),
    }
    command = "python -m benchmarks.bench_engine" + (" --quick" if args.quick else "") + (
        f" --before {args.before}" if args.before else "")
    text = render(res, command)
    atomic_write(args.out, text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
