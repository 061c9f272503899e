"""All the benchmarks in one run: writes ``RESULTS.md`` and ``results.json``.

Run from the repository root::

    python -m benchmarks.run                 # full: several minutes; writes benchmarks/RESULTS.md, results.json
    python -m benchmarks.run --quick         # under ~2 minutes; writes to benchmarks/out/ (or --out DIR)
    python -m benchmarks                     # same as python -m benchmarks.run

Sections:

1. Feature extraction: our batch ``extract_recording``, our ``StreamingExtractor``, the naive
   per-window implementation (``benchmarks/naive.py``, via ``benchmarks/bench_features.py``) and TSFEL's
   default feature set on the 6 raw channels, same windows of real HAPT recordings, one process, one
   core (BLAS/OpenMP pools pinned to 1 thread before numpy is imported).
2. Inference: onnxruntime on the bundled model vs scikit-learn ``predict_proba`` of the same model
   (its weights read out of the ONNX file, the scaler unfolded into a StandardScaler + LogisticRegression
   pipeline), one row and a batch of 1,000.
3. End to end: ``har-live --experiment 3 --fast`` in a subprocess (its summary parsed, its peak RSS from
   ``os.wait4``), the same replay of the bundled excerpt through ``Recognizer.push`` in a fresh process
   that imports only the runtime, the import time of ``har.runtime``, model and dependency sizes.
4. Accuracy on the held-out UCI HAR subjects: the bundled model; our features and TSFEL's through the
   same pipeline and tuning (C in 0.3, 1, 3; GroupKFold by subject) on the same windows.
5. Scaling: 1 min, 1 h, 24 h of samples through the streaming path (constant memory) and the batch path.

Anything unavailable (TSFEL not installed, HAPT cache absent) is skipped with the reason in the output.
Without the HAPT cache the feature sections use the bundled excerpt ``runtime/data/sample_recording.npz``.
"""

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import datetime as _dt  # noqa: E402
import json  # noqa: E402
import math  # noqa: E402
import re  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
import traceback  # noqa: E402
import warnings  # noqa: E402
from pathlib import Path  # noqa: E402
from types import SimpleNamespace  # noqa: E402

import numpy as np  # noqa: E402

from . import bench_features as bf  # noqa: E402
from . import tsfel_features as tf  # noqa: E402
from har.runtime.files import atomic_write  # noqa: E402

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
HOP = 64
REFERENCES = [
    ("Hosted service (seed tutorial)", None, 0.92, "macro-F1 0.92 quoted by the seed tutorial"),
    ("Anguita et al. 2013 (UCI HAR, SVM on the 561 features)", 0.96, None, "96% accuracy, UCI HAR test subjects"),
]

FULL = dict(features=bf.FULL, tsfel_windows=60, tsfel_repeats=3, infer_single=3000, infer_batch=200,
            import_repeats=5, tsfel_train_max=None, scaling=(("1 min", 60), ("1 h", 3600), ("24 h", 86400)),
            batch_scaling=("1 min", "1 h"), scaling_chunk=250)
QUICK = dict(features=bf.QUICK, tsfel_windows=12, tsfel_repeats=1, infer_single=300, infer_batch=20,
             import_repeats=3, tsfel_train_max=0, scaling=(("1 min", 60), ("10 min", 600)),
             batch_scaling=("1 min", "10 min"), scaling_chunk=250)


def log(msg: str) -> None:
    print(f"[bench] {msg}", file=sys.stderr, flush=True)


# ---------------------------------------------------------------- environment and data

def machine() -> dict:
    info = bf.machine_info()
    try:
        import onnxruntime as ort
        info["onnxruntime"] = ort.__version__
    except Exception:           # noqa: BLE001 - report, do not fail
        info["onnxruntime"] = "not installed"
    try:
        import sklearn
        info["scikit-learn"] = sklearn.__version__
    except Exception:           # noqa: BLE001
        info["scikit-learn"] = "not installed"
    info["tsfel"] = tf.tsfel_version() if tf.available() is None else "not installed"
    return info


def bundled_recording():
    path = REPO / "runtime" / "data" / "sample_recording.npz"
    if not path.exists():
        from importlib import resources  # the installed package's copy
        path = Path(str(resources.files("har.runtime").joinpath("data/sample_recording.npz")))
    with np.load(path) as d:
        return SimpleNamespace(acc=d["acc"].astype(np.float64), gyro=d["gyro"].astype(np.float64),
                               labels=d["labels"], experiment=int(d["experiment"]), user=int(d["user"]),
                               n_samples=len(d["acc"]), bundled=True)


def load_data(bundled_only: bool) -> tuple[list, str | None]:
    """HAPT recordings from the local cache, or ([bundled excerpt], reason the cache was not used)."""
    if bundled_only:
        return [bundled_recording()], "--bundled-only"
    try:
        from har.runtime.tools.hapt import load_hapt
        return load_hapt(download=False), None
    except Exception as exc:   # noqa: BLE001 - DatasetError, OSError...
        return [bundled_recording()], f"HAPT cache unavailable ({' '.join(str(exc).split())[:200]})"


def load_window_set():
    """Labelled hop-64 windows (cached features), or None with the reason."""
    try:
        from har.model.windows import load_windows
        return load_windows(hop=HOP, download=False, log=log), None
    except Exception as exc:   # noqa: BLE001
        return None, f"windows unavailable ({' '.join(str(exc).split())[:200]})"


def pct(x, q) -> float:
    return float(np.percentile(np.asarray(x, dtype=np.float64), q))


# ---------------------------------------------------------------- 1. feature extraction

def bench_tsfel_speed(recs, n_windows: int, repeats: int) -> dict:
    """TSFEL default features of an evenly spread subset of the same windows, in-process, one core."""
    starts = [(r, s) for r in recs for s in np.arange(0, max(r.acc.shape[0] - 128, 0), HOP)]
    pick = np.linspace(0, len(starts) - 1, min(n_windows, len(starts))).astype(int)
    raw = np.stack([np.hstack([starts[i][0].acc[starts[i][1]:starts[i][1] + 128],
                               starts[i][0].gyro[starts[i][1]:starts[i][1] + 128]]) for i in pick])
    cfg = tf.default_config()
    tf.extract(raw[:2], cfg)                               # warm-up (imports, numba/scipy first calls)
    totals, per_window = [], []
    n_features = 0
    for _ in range(repeats):
        t0 = time.perf_counter()
        X, names = tf.extract(raw, cfg)
        totals.append(time.perf_counter() - t0)
        n_features = X.shape[1]
    # per-window latencies: one window per call (includes TSFEL's per-call overhead, as a streaming user sees)
    for w in raw[: max(3, min(len(raw), 10))]:
        t0 = time.perf_counter()
        tf.extract(w[None], cfg)
        per_window.append(time.perf_counter() - t0)
    total = float(np.median(totals))
    return {"windows_timed": int(len(raw)), "features": int(n_features), "windows_per_s": len(raw) / total,
            "ms_per_window_mean": 1e3 * total / len(raw), "ms_per_window_p50": 1e3 * pct(per_window, 50),
            "ms_per_window_p99": 1e3 * pct(per_window, 99),
            "note": "tsfel.time_series_features_extractor(get_features_by_domain(), list of windows, fs=50, "
                    "n_jobs=None): in-process, one core; p50/p99 from one-window calls"}


def section_features(recs, cfg, quick: bool) -> dict:
    fc = cfg["features"]
    recs = recs[:fc["recordings"]]
    log(f"1. features: {len(recs)} recording(s)")
    res = {
        "batch_ours": bf.bench_batch_ours(recs, fc["batch_repeats"]),
        "stream_ours_1": bf.bench_stream_ours(recs, 1, fc["stream_repeats"]),
        "stream_ours_32": bf.bench_stream_ours(recs, bf.CHUNK, max(fc["stream_repeats"], 3)),
        "batch_naive": bf.bench_batch_naive(recs, fc["naive_windows_per_recording"], fc["naive_repeats"]),
        "stream_naive_1": bf.bench_stream_naive(recs, fc["naive_stream_windows"], fc["stream_repeats"]),
    }
    reason = tf.available()
    if reason is None:
        log("1. features: tsfel")
        res["tsfel"] = bench_tsfel_speed(recs, cfg["tsfel_windows"], cfg["tsfel_repeats"])
    else:
        res["tsfel"] = {"skipped": reason}
    ours_ms = 1e3 / res["batch_ours"]["windows_per_s"]

    def row(method, r, features=561):
        if "skipped" in r:
            return {"method": method, "skipped": r["skipped"]}
        ms = 1e3 / r["windows_per_s"]
        return {"method": method, "features": features, "windows_per_s": r["windows_per_s"], "ms_per_window": ms,
                "ms_p50": r.get("ms_per_window_p50"), "ms_p99": r.get("ms_per_window_p99"),
                "x_slower_than_ours_batch": ms / ours_ms}

    rows = [row("ours: batch extract_recording", res["batch_ours"]),
            row("ours: streaming, 1 sample/push", res["stream_ours_1"]),
            row(f"ours: streaming, {bf.CHUNK} samples/push", res["stream_ours_32"]),
            row("naive per-window (benchmarks/naive.py), batch", res["batch_naive"]),
            row("naive per-window, streaming 1 sample/push", res["stream_naive_1"]),
            row("TSFEL 0.2 default set, 6 raw channels", res["tsfel"],
                res["tsfel"].get("features", 0) if "skipped" not in res["tsfel"] else 0)]
    return {"recordings": [{"experiment": int(r.experiment), "user": int(r.user), "samples": int(len(r.acc))}
                           for r in recs],
            "results": res, "rows": rows}


# ---------------------------------------------------------------- 2. inference

def _sklearn_layer(layer, X_fit):
    """A StandardScaler + LogisticRegression pipeline computing exactly one linear-softmax layer of the model.

    The ONNX file holds folded weights: logits = X W'^T + b'. With any scaler (mean, scale),
    W = W' * scale and b = b' + W' mean give the same logits; the scaler here is fitted on ``X_fit`` so
    that the pipeline looks like the one ``har train`` fits. Two classes become scikit-learn's binary
    form (one row, w1 - w0), whose sigmoid is the two-class softmax.
    """
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import StandardScaler

    W, b = np.asarray(layer.weights, dtype=np.float64), np.asarray(layer.bias, dtype=np.float64)
    if len(W) == 2:
        W, b = W[1:] - W[:1], b[1:] - b[:1]
    scaler = StandardScaler().fit(X_fit)
    clf = LogisticRegression()
    clf.classes_ = np.asarray(layer.class_ids)
    clf.coef_ = W * scaler.scale_[None, :]
    clf.intercept_ = b + W @ scaler.mean_
    clf.n_features_in_ = W.shape[1]
    clf.n_iter_ = np.array([0])
    return Pipeline([("scale", scaler), ("clf", clf)])


class _GatedTwin:
    """scikit-learn pipelines of a placement-gated model: the gate's and each head's, mixed as the graph mixes them."""

    def __init__(self, gate, heads, class_ids):
        self.gate, self.heads, self.class_ids = gate, heads, np.asarray(class_ids)

    def predict_proba(self, X):
        g = self.gate.predict_proba(X)
        return sum(g[:, [h]] * head.predict_proba(X) for h, head in enumerate(self.heads))

    def predict(self, X):
        return self.class_ids[np.argmax(self.predict_proba(X), axis=1)]


def _sklearn_twin(model, X_fit):
    """The bundled model's function in scikit-learn (float64), its weights read out of the ONNX file.

    ``X_fit``: rows in the model's input space (its ``feature_scale``), for the scalers.
    """
    from har.runtime.linear_onnx import GatedModel, parse_any

    parsed = parse_any(Path(model.path).read_bytes(), str(model.path))
    if isinstance(parsed, GatedModel):
        return _GatedTwin(_sklearn_layer(parsed.gate, X_fit), [_sklearn_layer(h, X_fit) for h in parsed.heads],
                          parsed.class_ids)
    return _sklearn_layer(parsed, X_fit)


def _model_rows(model, X_official):
    """Window rows on the official scale -> the model's input space (its ``feature_scale`` metadata)."""
    from har.features import from_official_scale
    from har.runtime.personalize import model_input

    return model_input(from_official_scale(X_official), model.metadata["feature_scale"])


def _time_calls(fn, repeats: int) -> dict:
    for _ in range(min(20, repeats)):
        fn()
    t = np.empty(repeats)
    for i in range(repeats):
        t0 = time.perf_counter()
        fn()
        t[i] = time.perf_counter() - t0
    return {"repeats": repeats, "median_ms": 1e3 * float(np.median(t)), "p99_ms": 1e3 * pct(t, 99),
            "mean_ms": 1e3 * float(t.mean())}


def section_inference(recs, windows, cfg) -> dict:
    from har.features import extract_recording, to_official_scale
    from har.runtime import load_model

    model = load_model()
    if windows is not None:
        X = windows.labelled().X
        source = "labelled HAPT windows"
    else:
        X = to_official_scale(extract_recording(recs[0].acc, recs[0].gyro)[1])
        source = "windows of the bundled excerpt"
    X = _model_rows(model, X)
    source += f" ({model.metadata['feature_scale']} features, the model's input)"
    rng = np.random.default_rng(0)
    batch = X[rng.choice(len(X), 1000, replace=len(X) < 1000)]
    one = batch[:1]
    out = {"rows_source": source, "model": str(model.path), "hyperparameters": model.metadata.get("hyperparameters")}
    ort_one = _time_calls(lambda: model.predict(one), cfg["infer_single"])
    ort_batch = _time_calls(lambda: model.predict(batch), cfg["infer_batch"])
    rows = [{"method": "onnxruntime (bundled model.onnx, 1 intra-op thread)", "rows": 1, **ort_one},
            {"method": "onnxruntime (bundled model.onnx, 1 intra-op thread)", "rows": 1000, **ort_batch}]
    try:
        twin = _sklearn_twin(model, X)
        p_onnx = model.predict(batch)[1]
        p_skl = twin.predict_proba(batch)
        out["max_abs_probability_difference"] = float(np.abs(p_onnx - p_skl).max())
        out["label_agreement"] = float(np.mean(model.predict(batch)[0] == twin.predict(batch)))
        skl_one = _time_calls(lambda: twin.predict_proba(one), cfg["infer_single"])
        skl_batch = _time_calls(lambda: twin.predict_proba(batch), cfg["infer_batch"])
        name = "scikit-learn Pipeline(StandardScaler, LogisticRegression).predict_proba"
        if isinstance(twin, _GatedTwin):
            name = (f"scikit-learn: gate + {len(twin.heads)} head Pipelines(StandardScaler, LogisticRegression), "
                    f"predict_proba mixed as the graph mixes them")
        rows += [{"method": name, "rows": 1, **skl_one}, {"method": name, "rows": 1000, **skl_batch}]
        out["sklearn_model"] = ("weights read from model.onnx (scalers unfolded: exactly the same function); "
                                "float64, as a fitted pipeline runs")
    except Exception as exc:   # noqa: BLE001 - onnx or sklearn missing
        out["sklearn_skipped"] = f"{type(exc).__name__}: {exc}"
    for r in rows:
        r["us_per_row_median"] = 1e3 * r["median_ms"] / r["rows"]
    out["rows"] = rows
    return out


# ---------------------------------------------------------------- 3. end to end

# Runs one command and reports its own peak RSS. Linux carries a process's RSS high-water mark across
# fork + exec (ru_maxrss of a child starts at its parent's peak), so a child started straight from this
# (large) benchmark process would report our peak, not its own. This small stdlib-only wrapper is exec'd
# first: its children inherit its few MB, and os.wait4 gives the grandchild's ru_maxrss.
_WRAPPER = r"""
import json, os, resource, subprocess, sys, time
cmd, report = json.loads(sys.argv[1]), sys.argv[2]
t0 = time.perf_counter()
p = subprocess.Popen(cmd)
_, status, ru = os.wait4(p.pid, 0)
wall = time.perf_counter() - t0
children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
with open(report, "w") as fh:
    json.dump({"rc": os.waitstatus_to_exitcode(status), "wall_s": wall, "maxrss": ru.ru_maxrss,
               "children_maxrss": children}, fh)
"""


def _run_child(cmd, timeout=600, env=None) -> dict:
    """Run ``cmd``: stdout/stderr text, exit code, wall time, and its own peak RSS (MB, os.wait4 ru_maxrss)."""
    scale = 2**20 if sys.platform == "darwin" else 2**10          # ru_maxrss: bytes on macOS, KiB on Linux
    with tempfile.TemporaryDirectory() as tmp:
        report = os.path.join(tmp, "rusage.json")
        with open(os.path.join(tmp, "out"), "w+") as out, open(os.path.join(tmp, "err"), "w+") as err:
            subprocess.run([sys.executable, "-c", _WRAPPER, json.dumps([str(c) for c in cmd]), report],
                           stdout=out, stderr=err, cwd=str(REPO), env=env, timeout=timeout, check=False)
            out.seek(0)
            err.seek(0)
            text_out, text_err = out.read(), err.read()
        try:
            with open(report) as fh:
                r = json.load(fh)
        except (OSError, ValueError):
            return {"rc": -1, "stdout": text_out, "stderr": text_err, "wall_s": float("nan"), "peak_rss_mb": None,
                    "rusage_children_maxrss_mb": None}
    return {"rc": r["rc"], "stdout": text_out, "stderr": text_err, "wall_s": r["wall_s"],
            "peak_rss_mb": r["maxrss"] / scale, "rusage_children_maxrss_mb": r["children_maxrss"] / scale}


def _har_live_cmd():
    script = Path(sys.executable).parent / "har-live"
    return [str(script)] if script.exists() else [sys.executable, "-c",
                                                  "import sys; from har.runtime.tools.live import main; sys.exit(main())"]


def parse_live_summary(text: str) -> dict:
    out = {}
    m = re.search(r"latency\s+p50 ([\d.]+) ms, p99 ([\d.]+) ms, max ([\d.]+) ms", text)
    if m:
        out.update(latency_p50_ms=float(m[1]), latency_p99_ms=float(m[2]), latency_max_ms=float(m[3]))
    m = re.search(r"speed\s+([\d.]+) s in the recognizer for ([\d.]+) s of recording: real-time factor ([\d,]+)x", text)
    if m:
        out.update(busy_s=float(m[1]), duration_s=float(m[2]), realtime_factor=float(m[3].replace(",", "")))
    m = re.search(r"memory\s+peak RSS ([\d.]+) MB", text)
    if m:
        out["reported_peak_rss_mb"] = float(m[1])
    m = re.search(r"windows\s+(\d+) processed, (\d+) expected", text)
    if m:
        out.update(windows=int(m[1]), expected=int(m[2]))
    m = re.search(r"accuracy\s+([\d.]+) on (\d+) single-activity windows.*macro-F1 ([\d.]+)", text)
    if m:
        out.update(accuracy=float(m[1]), scored_windows=int(m[2]), macro_f1=float(m[3]))
    return out


_INPROCESS = r"""
import os, sys, time, json, resource
for v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[v] = "1"
import numpy as np
from har.runtime import Recognizer
path = sys.argv[1]
with np.load(path) as d:
    acc, gyro = d["acc"].astype(np.float64), d["gyro"].astype(np.float64)
chunk = 8
rec = Recognizer()
for i in range(0, 512, chunk):                          # warm-up (first-call costs), in the same small pushes
    rec.push(acc[i:i + chunk], gyro[i:i + chunk])
rec.reset()
lat, busy, n = [], 0.0, 0
for i in range(0, len(acc), chunk):
    t0 = time.perf_counter()
    preds = rec.push(acc[i:i + chunk], gyro[i:i + chunk])
    dt = time.perf_counter() - t0
    busy += dt
    if preds:
        lat.append(dt); n += len(preds)
t0 = time.perf_counter(); n += len(rec.flush()); busy += time.perf_counter() - t0
lat = np.array(lat) * 1e3
print(json.dumps({"samples": len(acc), "duration_s": len(acc) / 50.0, "windows": n, "busy_s": busy,
                  "realtime_factor": len(acc) / 50.0 / busy, "latency_p50_ms": float(np.percentile(lat, 50)),
                  "latency_p99_ms": float(np.percentile(lat, 99)), "latency_max_ms": float(lat.max()),
                  "reported_peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def _dist_size(name: str) -> tuple[int | None, int]:
    """Bytes of an installed distribution's files (package folder, bundled .libs), and the file count."""
    from importlib.metadata import PackageNotFoundError, distribution
    try:
        dist = distribution(name)
    except PackageNotFoundError:
        return None, 0
    total, n = 0, 0
    for f in dist.files or []:
        p = Path(dist.locate_file(f))
        try:
            total += p.stat().st_size
            n += 1
        except OSError:
            pass
    return total, n


def _requires(name: str) -> list[str]:
    from importlib.metadata import PackageNotFoundError, requires
    try:
        reqs = requires(name) or []
    except PackageNotFoundError:
        return []
    return sorted({re.split(r"[ ;<>=!~\[(]", r, maxsplit=1)[0] for r in reqs if "extra ==" not in r})


def section_end_to_end(recs, data_note, cfg) -> dict:
    out = {}
    env = {**os.environ, "TERM": "dumb"}
    # har-live over a full HAPT recording (subprocess)
    # (without the HAPT cache: har-live --fast, which replays the bundled excerpt)
    args = ["--experiment", "3", "--fast"] if data_note is None else ["--fast"]
    command = "har-live " + " ".join(args)
    log(f"3. end to end: {command}")
    try:
        child = _run_child(_har_live_cmd() + args, env=env)
        summary = parse_live_summary(child["stdout"] + child["stderr"])
        ok = child["rc"] == 0 and "realtime_factor" in summary
        out["har_live"] = {"command": command, "rc": child["rc"], "ok": ok,
                           "wall_s": child["wall_s"], "peak_rss_mb_wait4": child["peak_rss_mb"],
                           "rusage_children_maxrss_mb": child["rusage_children_maxrss_mb"], **summary}
        if not ok:
            out["har_live"]["error"] = (child["stderr"].strip().splitlines() or ["no summary"])[-1][:300]
    except Exception as exc:   # noqa: BLE001
        out["har_live"] = {"command": command, "ok": False, "error": repr(exc)}
    # the runtime alone: the bundled excerpt through Recognizer.push in a fresh process
    sample = REPO / "runtime" / "data" / "sample_recording.npz"
    log("3. end to end: Recognizer.push over the bundled excerpt (fresh process)")
    child = _run_child([sys.executable, "-c", _INPROCESS, str(sample)], env=env)
    if child["rc"] == 0:
        res = json.loads(child["stdout"].strip().splitlines()[-1])
        out["recognizer_inprocess"] = {"source": "runtime/data/sample_recording.npz", "chunk": 8, **res,
                                       "peak_rss_mb_wait4": child["peak_rss_mb"], "ok": True}
    else:
        out["recognizer_inprocess"] = {"ok": False, "error": child["stderr"].strip()[-300:]}
    # import time of har.runtime
    reps = cfg["import_repeats"]
    t_pass, t_imp = [], []
    for _ in range(reps):
        t_pass.append(_run_child([sys.executable, "-c", "pass"], env=env)["wall_s"])
        t_imp.append(_run_child([sys.executable, "-c", "import har.runtime"], env=env)["wall_s"])
    imp_child = _run_child([sys.executable, "-c", "import sys, har.runtime; "
                            "print(int('sklearn' in sys.modules), int('pandas' in sys.modules))"], env=env)
    flags = imp_child["stdout"].split()
    out["import"] = {"repeats": reps, "python_pass_s": float(np.median(t_pass)),
                     "import_har_runtime_s": float(np.median(t_imp)),
                     "import_cost_s": float(np.median(t_imp) - np.median(t_pass)),
                     "import_peak_rss_mb": imp_child["peak_rss_mb"],
                     "pulls_in_sklearn": flags[:1] == ["1"], "pulls_in_pandas": flags[1:2] == ["1"]}
    # sizes
    from har.runtime import bundled_model_path
    sizes = [{"item": "model.onnx (bundled)", "bytes": bundled_model_path().stat().st_size, "files": 1}]
    for name in ("numpy", "scipy", "onnxruntime"):
        b, n = _dist_size(name)
        sizes.append({"item": f"{name} (installed files)", "bytes": b, "files": n})
    core = sum(s["bytes"] or 0 for s in sizes[1:])
    sizes.append({"item": "numpy + scipy + onnxruntime", "bytes": core, "files": sum(s["files"] for s in sizes[1:])})
    extra = [r for r in _requires("onnxruntime") if r.lower() not in ("numpy", "scipy")]
    extra_rows = []
    for name in extra:
        b, n = _dist_size(name)
        if b is not None:
            extra_rows.append({"item": f"{name} (required by onnxruntime)", "bytes": b, "files": n})
    sizes += extra_rows
    if extra_rows:
        sizes.append({"item": "runtime install total (incl. onnxruntime's requirements)",
                      "bytes": core + sum(r["bytes"] for r in extra_rows),
                      "files": sum(s["files"] for s in sizes[1:4]) + sum(r["files"] for r in extra_rows)})
    out["sizes"] = sizes
    return out


# ---------------------------------------------------------------- 4. accuracy

def _impute(train: np.ndarray, *others):
    train = np.where(np.isfinite(train), train, np.nan)
    med = np.nanmedian(train, axis=0)
    med = np.where(np.isfinite(med), med, 0.0)

    def fill(a):
        a = np.where(np.isfinite(a), a, np.nan)
        return np.where(np.isnan(a), med, a)
    return (fill(train), *(fill(o) for o in others))


def _tune_fit_score(X_tr, y_tr, g_tr, X_te, y_te, Cs=(0.3, 1.0, 3.0), folds=4, n_jobs=2) -> dict:
    from joblib import Parallel, delayed
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.metrics import accuracy_score, f1_score
    from sklearn.model_selection import GroupKFold

    from har.model.train import make_pipeline

    def fit_score(C, fit_idx, val_idx):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            m = make_pipeline("l2", C, "balanced").fit(X_tr[fit_idx], y_tr[fit_idx])
        return f1_score(y_tr[val_idx], m.predict(X_tr[val_idx]), average="macro")

    splits = list(GroupKFold(n_splits=folds).split(X_tr, y_tr, groups=g_tr))
    t0 = time.perf_counter()
    scores = Parallel(n_jobs=n_jobs)(delayed(fit_score)(C, f, v) for C in Cs for f, v in splits)
    cv = {C: float(np.mean(scores[i * folds:(i + 1) * folds])) for i, C in enumerate(Cs)}
    best = max(Cs, key=lambda C: round(cv[C], 6))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model = make_pipeline("l2", best, "balanced").fit(X_tr, y_tr)
    pred = model.predict(X_te)
    return {"cv_macro_f1": {str(k): v for k, v in cv.items()}, "best_C": best,
            "accuracy": float(accuracy_score(y_te, pred)), "macro_f1": float(f1_score(y_te, pred, average="macro")),
            "fit_seconds": time.perf_counter() - t0}


def _fitted_rows(text: str):
    m = re.search(r"every 16 samples \((\d+)\)", text) or re.search(r"\((\d+)\)", text)
    return int(m[1]) if m else None


def section_accuracy(recs, windows, windows_note, data_note, cfg, quick: bool) -> dict:
    from sklearn.metrics import accuracy_score, f1_score

    from har.runtime import load_model

    out = {"rows": [], "references": [{"method": m, "accuracy": a, "macro_f1": f, "note": n} for m, a, f, n in REFERENCES]}
    if windows is None or data_note is not None:
        out["skipped"] = windows_note or data_note
        return out
    train, test = windows.labelled().split()
    out.update(train_windows=len(train), test_windows=len(test),
               test_subjects=sorted(int(s) for s in np.unique(test.subject)))
    model = load_model()
    pred, _ = model.predict(_model_rows(model, test.X))
    out["rows"].append({"method": "ours: bundled model.onnx (561 features, tuned & fitted on hop-16 train windows)",
                        "features": 561, "accuracy": float(accuracy_score(test.y, pred)),
                        "macro_f1": float(f1_score(test.y, pred, average="macro")),
                        "train_windows": _fitted_rows(model.metadata.get("training_data", "")),
                        "hyperparameters": model.metadata.get("hyperparameters")})
    if quick:
        out["note"] = ("--quick: only the bundled model is scored; the same-recipe rows (our features and TSFEL's "
                       "through one tuning) run in the full benchmark")
        return out
    log(f"4. accuracy: our features, same recipe ({len(train)} train windows)")
    r = _tune_fit_score(train.X, train.y, train.subject, test.X, test.y)
    out["rows"].append({"method": "ours: 561 features, same recipe as the TSFEL row", "features": 561,
                        "train_windows": len(train), **r})
    reason = tf.available()
    if reason is not None:
        out["rows"].append({"method": "TSFEL default set", "skipped": reason})
        return out
    tr = train
    cap = cfg["tsfel_train_max"]
    if cap is not None and len(train) > cap:
        rng = np.random.default_rng(0)
        tr = train.select(np.sort(rng.choice(len(train), cap, replace=False)))
        out["tsfel_train_note"] = f"train windows subsampled to {cap} of {len(train)} (seed 0)"
    log(f"4. accuracy: TSFEL features of {len(tr)} train + {len(test)} test windows (cached after the first run)")
    t0 = time.perf_counter()
    both_exp = np.concatenate([tr.experiment, test.experiment])
    both_start = np.concatenate([tr.start, test.start])
    F, names = tf.features_for(recs, both_exp, both_start, workers=max(1, min(2, os.cpu_count() or 1)), log=log)
    out["tsfel_feature_seconds"] = time.perf_counter() - t0
    F_tr, F_te = F[:len(tr)], F[len(tr):]
    nonfinite = int((~np.isfinite(F)).any(axis=0).sum())
    F_tr, F_te = _impute(F_tr, F_te)
    log("4. accuracy: tuning on TSFEL features")
    r = _tune_fit_score(F_tr, tr.y, tr.subject, F_te, test.y)
    out["rows"].append({"method": f"TSFEL {tf.tsfel_version()} default set (6 raw channels), same recipe",
                        "features": int(F.shape[1]), "train_windows": len(tr),
                        "columns_with_nonfinite_values": nonfinite, **r})
    return out


# ---------------------------------------------------------------- 5. scaling

def _rss_mb() -> float:
    try:
        with open("/proc/self/statm") as fh:
            return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
    except (OSError, ValueError):
        import resource
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _tiled(src: np.ndarray, start: int, n: int) -> np.ndarray:
    return src[(start + np.arange(n)) % len(src)]


def _stream(acc_src, gyro_src, n_samples: int, chunk: int, trace: bool) -> dict:
    import tracemalloc

    from har.features import StreamingExtractor
    ex = StreamingExtractor()
    rss0 = _rss_mb()
    rss_max = rss0
    windows = 0
    if trace:
        tracemalloc.start()
    t0 = time.perf_counter()
    for k, i in enumerate(range(0, n_samples, chunk)):
        m = min(chunk, n_samples - i)
        starts, _ = ex.push(_tiled(acc_src, i, m), _tiled(gyro_src, i, m))
        windows += len(starts)
        if k % 200 == 0:
            rss_max = max(rss_max, _rss_mb())
    elapsed = time.perf_counter() - t0
    rss_max = max(rss_max, _rss_mb())
    peak = None
    if trace:
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    return {"seconds": elapsed, "windows": windows, "rss_growth_mb": rss_max - rss0,
            "tracemalloc_peak_mb": peak / 2**20 if peak is not None else None}


def _batch(acc_src, gyro_src, n_samples: int, trace: bool) -> dict:
    import tracemalloc

    from har.features import extract_recording
    acc, gyro = _tiled(acc_src, 0, n_samples), _tiled(gyro_src, 0, n_samples)
    input_mb = (acc.nbytes + gyro.nbytes) / 2**20
    if trace:
        tracemalloc.start()
    t0 = time.perf_counter()
    starts, X = extract_recording(acc, gyro)
    elapsed = time.perf_counter() - t0
    peak = None
    if trace:
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    out = {"seconds": elapsed, "windows": int(len(starts)), "input_mb": input_mb, "output_mb": X.nbytes / 2**20,
           "tracemalloc_peak_mb": peak / 2**20 if peak is not None else None}
    del X, acc, gyro
    return out


def section_scaling(recs, cfg) -> dict:
    src = max(recs, key=lambda r: len(r.acc))
    acc_src, gyro_src = np.ascontiguousarray(src.acc), np.ascontiguousarray(src.gyro)
    chunk = cfg["scaling_chunk"]
    rows = []
    _stream(acc_src, gyro_src, 3000, chunk, False)              # warm-up
    for label, seconds in cfg["scaling"]:
        n = int(seconds * 50)
        log(f"5. scaling: streaming {label} ({n} samples)")
        t = _stream(acc_src, gyro_src, n, chunk, False)
        mem = _stream(acc_src, gyro_src, min(n, 3600 * 50), chunk, True)
        rows.append({"path": f"streaming, {chunk} samples/push", "duration": label, "samples": n,
                     "seconds": t["seconds"], "windows": t["windows"], "windows_per_s": t["windows"] / t["seconds"],
                     "realtime_factor": seconds / t["seconds"], "rss_growth_mb": t["rss_growth_mb"],
                     "tracemalloc_peak_mb": mem["tracemalloc_peak_mb"],
                     "tracemalloc_over": "1 h prefix" if n > 3600 * 50 else label})
    for label, seconds in cfg["scaling"]:
        n = int(seconds * 50)
        if label not in cfg["batch_scaling"]:
            rows.append({"path": "batch extract_recording", "duration": label, "samples": n,
                         "skipped": f"needs the whole signal in memory (input alone "
                                    f"{n * 6 * 8 / 2**20:.0f} MB float64, features {n // 64 * 561 * 8 / 2**20:.0f} MB, "
                                    "plus the chain's intermediates) - the reason to stream"})
            continue
        log(f"5. scaling: batch {label}")
        t = _batch(acc_src, gyro_src, n, False)
        mem = _batch(acc_src, gyro_src, n, True)
        rows.append({"path": "batch extract_recording", "duration": label, "samples": n, "seconds": t["seconds"],
                     "windows": t["windows"], "windows_per_s": t["windows"] / t["seconds"],
                     "realtime_factor": seconds / t["seconds"], "input_mb": t["input_mb"],
                     "output_mb": t["output_mb"], "tracemalloc_peak_mb": mem["tracemalloc_peak_mb"]})
    batch = [r for r in rows if r["path"].startswith("batch") and "skipped" not in r]
    if len(batch) >= 2 and any("skipped" in r for r in rows):
        a, b = batch[0], batch[-1]
        per_sample = (b["tracemalloc_peak_mb"] - a["tracemalloc_peak_mb"]) / (b["samples"] - a["samples"])
        for r in rows:
            if "skipped" in r:
                r["estimated_peak_mb"] = a["tracemalloc_peak_mb"] + per_sample * (r["samples"] - a["samples"])
    return {"signal": f"HAPT experiment {src.experiment} ({len(src.acc)} samples) tiled end to end", "chunk": chunk,
            "rows": rows, "note": "rss_growth_mb: max resident set size sampled during the run minus before it; "
                                  "tracemalloc_peak_mb: peak of numpy/Python allocations during the run (a separate "
                                  "run with tracing on; over the first hour for longer runs)"}


# ---------------------------------------------------------------- report

def _f(x, fmt=None):
    if x is None:
        return "-"
    if fmt is None:
        fmt = "{:,}" if isinstance(x, int) else "{:.3g}"
    if isinstance(x, float) and not math.isfinite(x):
        return "-"
    return fmt.format(x)


def _table(head, rows) -> list[str]:
    lines = ["| " + " | ".join(head) + " |", "|" + "|".join("---" for _ in head) + "|"]
    lines += ["| " + " | ".join(str(c) for c in r) + " |" for r in rows]
    return lines


def render(res: dict) -> str:
    m = res["machine"]
    L = ["# Benchmarks", "",
         f"Command: `{res['command']}`  ", f"Date: {res['date']} (took {res['seconds']:.0f} s)  ",
         f"Machine: {m['platform']} | {m['processor']} | {m['cpu_count']} CPUs ({m['cpus_usable']} usable) | "
         f"python {m['python']} | numpy {m['numpy']} | scipy {m['scipy']} | onnxruntime {m['onnxruntime']} | "
         f"scikit-learn {m['scikit-learn']} | tsfel {m['tsfel']}  ",
         "Threads: OMP/OPENBLAS/MKL pinned to 1 in the benchmark process; onnxruntime session with 1 intra-op thread.  ",
         f"Data: {res['data']}", ""]
    if res.get("quick"):
        L += ["_--quick run: fewer recordings and repeats, shorter scaling runs; numbers are indicative._", ""]

    s = res["sections"]
    L += ["## 1. Feature extraction", ""]
    sec = s.get("features", {"error": "not run (--sections)"})
    if "error" in sec:
        L += [f"Failed: {sec['error']}", ""]
    else:
        rows = []
        for r in sec["rows"]:
            if "skipped" in r:
                rows.append([r["method"], "-", "-", "-", "-", "-", f"skipped: {r['skipped']}"])
            else:
                rows.append([r["method"], r["features"], _f(r["windows_per_s"], "{:,.1f}"),
                             _f(r["ms_per_window"], "{:.3f}"), _f(r["ms_p50"], "{:.3f}"), _f(r["ms_p99"], "{:.3f}"),
                             _f(r["x_slower_than_ours_batch"], "{:,.1f}x")])
        L += _table(["method", "features", "windows/s", "ms/window", "p50 ms", "p99 ms", "time vs ours batch"], rows)
        rr = sec["results"]
        recs = sec["recordings"]
        L += ["", f"Same windows (128 samples every 64) of {len(recs)} recording(s), {sum(r['samples'] for r in recs)} "
              f"samples; one process, one core. ms/window = 1000 / windows/s (throughput). Batch p50/p99: whole-"
              f"recording time / its windows; streaming p50/p99: the push that completed a window. Naive batch timed on "
              f"{rr['batch_naive']['windows_timed']} windows, naive streaming on {rr['stream_naive_1']['windows']}"
              + (f"; TSFEL timed on {rr['tsfel']['windows_timed']} windows of the same set (its p50/p99: one-window calls)"
                 if "skipped" not in rr["tsfel"] else "") + ".", ""]

    L += ["## 2. Inference", ""]
    sec = s.get("inference", {"error": "not run (--sections)"})
    if "error" in sec:
        L += [f"Failed: {sec['error']}", ""]
    else:
        rows = [[r["method"], r["rows"], _f(r["median_ms"], "{:.4f}"), _f(r["p99_ms"], "{:.4f}"),
                 _f(r["us_per_row_median"], "{:.2f}"), r["repeats"]] for r in sec["rows"]]
        L += _table(["engine", "rows/call", "median ms", "p99 ms", "µs/row (median)", "repeats"], rows)
        L += ["", f"Model: {sec.get('hyperparameters')}; input rows: {sec['rows_source']}."]
        if "sklearn_skipped" in sec:
            L += [f"scikit-learn skipped: {sec['sklearn_skipped']}"]
        else:
            L += [f"scikit-learn twin: {sec['sklearn_model']}; max |p_onnx - p_sklearn| = "
                  f"{sec['max_abs_probability_difference']:.2e} (float32 vs float64), labels agree on "
                  f"{100 * sec['label_agreement']:.1f}% of the 1,000 rows."]
        L += [""]

    L += ["## 3. End to end", ""]
    sec = s.get("end_to_end", {"error": "not run (--sections)"})
    if "error" in sec:
        L += [f"Failed: {sec['error']}", ""]
    else:
        rows = []
        for key, name in (("har_live", f"`{sec.get('har_live', {}).get('command', 'har-live')}` (subprocess)"),
                          ("recognizer_inprocess", "`Recognizer.push`, bundled excerpt, fresh process")):
            r = sec.get(key, {})
            if not r.get("ok"):
                rows.append([name, "-", "-", "-", "-", "-", "-", "skipped: " + str(r.get("skipped") or r.get("error"))])
                continue
            rows.append([name, _f(r.get("duration_s"), "{:.1f}"), r.get("windows"), _f(r.get("realtime_factor"), "{:,.0f}x"),
                         _f(r.get("latency_p50_ms"), "{:.2f}"), _f(r.get("latency_p99_ms"), "{:.2f}"),
                         _f(r.get("peak_rss_mb_wait4"), "{:.0f}"),
                         (f"accuracy {r['accuracy']:.3f}, macro-F1 {r['macro_f1']:.3f} on {r['scored_windows']} windows"
                          if "accuracy" in r else "")])
        L += _table(["run", "recording s", "windows", "real-time factor", "latency p50 ms", "latency p99 ms",
                     "peak RSS MB", "notes"], rows)
        L += ["", "Latency: the 8-sample push that completed a window (signal chain, 561 features, ONNX inference). "
              "Real-time factor: recording duration / time spent in the recognizer. Peak RSS: the child's own "
              "ru_maxrss from os.wait4 (har-live's includes loading the whole HAPT dataset cache to pick one experiment; "
              "the second row is the runtime alone).", ""]
        imp = sec["import"]
        L += _table(["import", "median s"], [
            ["`python -c pass`", _f(imp["python_pass_s"], "{:.3f}")],
            ["`python -c 'import har.runtime'`", _f(imp["import_har_runtime_s"], "{:.3f}")],
            ["**import har.runtime (difference)**", _f(imp["import_cost_s"], "{:.3f}")]])
        L += ["", f"Median of {imp['repeats']} fresh processes. Peak RSS after the import: "
              f"{_f(imp['import_peak_rss_mb'], '{:.0f}')} MB; pulls in scikit-learn: {imp['pulls_in_sklearn']}, "
              f"pandas: {imp['pulls_in_pandas']}.", ""]
        L += _table(["size", "MB", "files"], [[r["item"], _f((r["bytes"] or 0) / 2**20 if r["bytes"] is not None else None,
                                                           "{:.2f}"), r["files"]] for r in sec["sizes"]])
        L += ["", "Installed files of each distribution (its RECORD: package folder and bundled shared libraries).", ""]

    L += ["## 4. Accuracy", ""]
    sec = s.get("accuracy", {"error": "not run (--sections)"})
    if "error" in sec:
        L += [f"Failed: {sec['error']}", ""]
    else:
        rows = []
        for r in sec.get("rows", []):
            if "skipped" in r:
                rows.append([r["method"], "-", "-", "-", "-", "-", f"skipped: {r['skipped']}"])
                continue
            cv = r.get("cv_macro_f1")
            cvs = ", ".join(f"C={k}: {v:.4f}" for k, v in cv.items()) if cv else (r.get("hyperparameters") or "")
            rows.append([r["method"], r["features"], _f(r.get("train_windows")), _f(r["accuracy"], "{:.4f}"),
                         _f(r["macro_f1"], "{:.4f}"), (f"C={r['best_C']:g}" if "best_C" in r else "-"), cvs])
        for r in sec.get("references", []):
            rows.append([r["method"] + " (reference)", "-", "-", _f(r["accuracy"], "{:.2f}"), _f(r["macro_f1"], "{:.2f}"),
                         "-", r["note"]])
        L += _table(["model", "features", "train windows", "accuracy", "macro-F1", "chosen", "CV macro-F1 / notes"], rows)
        L += [""]
        if "skipped" in sec:
            L += [f"Held-out rows skipped: {sec['skipped']}", ""]
        else:
            L += [f"Held-out: {sec['test_windows']} labelled windows (hop 64) of UCI HAR test subjects "
                  f"{sec['test_subjects']}; train: {sec['train_windows']} labelled hop-64 windows of the other subjects. "
                  "Same recipe: StandardScaler + LogisticRegression(l2, class_weight=balanced), C in {0.3, 1, 3} chosen "
                  "by macro-F1 over GroupKFold(4) by subject on the training windows, refit on all of them."]
            for k in ("note", "tsfel_train_note"):
                if k in sec:
                    L += [f"{sec[k]}."]
            if "tsfel_feature_seconds" in sec:
                n_tsfel = next((r["train_windows"] for r in sec["rows"] if r["method"].startswith("TSFEL")
                                and "train_windows" in r), 0) + sec["test_windows"]
                speed = s.get("features", {}).get("results", {}).get("tsfel", {})
                cost = (f"; computing them costs about {n_tsfel * speed['ms_per_window_mean'] / 6e4:.0f} min on one core "
                        f"at section 1's {speed['ms_per_window_mean']:.0f} ms/window"
                        if "ms_per_window_mean" in speed else "")
                L += [f"TSFEL features of the {n_tsfel:,} windows: {sec['tsfel_feature_seconds']:.0f} s in this run "
                      f"(per-window disk cache, benchmarks/tsfel_features.py{cost}). Non-finite TSFEL values are "
                      "replaced by the training column median."]
            L += [""]

    L += ["## 5. Scaling", ""]
    sec = s.get("scaling", {"error": "not run (--sections)"})
    if "error" in sec:
        L += [f"Failed: {sec['error']}", ""]
    else:
        rows = []
        for r in sec["rows"]:
            if "skipped" in r:
                est = f" (estimated peak ≈ {r['estimated_peak_mb']:,.0f} MB)" if "estimated_peak_mb" in r else ""
                rows.append([r["path"], r["duration"], f"{r['samples']:,}", "-", "-", "-", "-", "-",
                             "skipped: " + r["skipped"] + est])
                continue
            mem_note = (f"RSS growth {r['rss_growth_mb']:.1f} MB" if "rss_growth_mb" in r
                        else f"input {r['input_mb']:.1f} MB, features {r['output_mb']:.1f} MB")
            if r.get("tracemalloc_over") and r["tracemalloc_over"] != r["duration"]:
                mem_note += f"; traced over the {r['tracemalloc_over']}"
            rows.append([r["path"], r["duration"], f"{r['samples']:,}", f"{r['windows']:,}", _f(r["seconds"], "{:.2f}"),
                         _f(r["windows_per_s"], "{:,.0f}"), _f(r["realtime_factor"], "{:,.0f}x"),
                         _f(r["tracemalloc_peak_mb"], "{:.2f}"), mem_note])
        L += _table(["path", "duration", "samples", "windows", "seconds", "windows/s", "real-time factor",
                     "peak traced MB", "memory"], rows)
        L += ["", f"Signal: {sec['signal']}; streaming pushes {sec['chunk']} samples at a time, features discarded "
              f"after each push. {sec['note']}.", ""]
    if res.get("skipped"):
        L += ["## Skipped", ""] + [f"- {x}" for x in res["skipped"]] + [""]
    return "\n".join(L)


def _jsonable(x):
    if isinstance(x, dict):
        return {str(k): _jsonable(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_jsonable(v) for v in x]
    if isinstance(x, (np.integer,)):
        return int(x)
    if isinstance(x, (np.floating,)):
        return float(x)
    if isinstance(x, np.bool_):
        return bool(x)
    if isinstance(x, float) and not math.isfinite(x):
        return None
    return x


def run(quick: bool = False, bundled_only: bool = False, sections=None) -> dict:
    """Measure every section; return the results (JSON-serialisable)."""
    cfg = QUICK if quick else FULL
    t0 = time.perf_counter()
    recs, data_note = load_data(bundled_only)
    windows, windows_note = (None, data_note) if data_note else load_window_set()
    skipped = []
    if data_note:
        skipped.append(f"HAPT recordings: {data_note}; feature sections use the bundled excerpt "
                       "runtime/data/sample_recording.npz; held-out accuracy skipped; har-live replays the bundled excerpt")
    if tf.available() is not None:
        skipped.append(f"TSFEL: {tf.available()}")
    if data_note:
        data = f"bundled excerpt runtime/data/sample_recording.npz ({len(recs[0].acc)} samples)"
    else:
        data = f"HAPT (UCI HAR with raw recordings), {len(recs)} recordings from the local cache"
    res = {"command": "python -m benchmarks.run" + (" --quick" if quick else "") + (" --bundled-only" if bundled_only else ""),
           "date": _dt.datetime.now().astimezone().isoformat(timespec="seconds"), "quick": quick,
           "machine": machine(), "data": data, "config": {k: v for k, v in cfg.items() if k != "features"},
           "sections": {}, "skipped": skipped}
    todo = [("features", lambda: section_features(recs, cfg, quick)),
            ("inference", lambda: section_inference(recs, windows, cfg)),
            ("end_to_end", lambda: section_end_to_end(recs, data_note, cfg)),
            ("accuracy", lambda: section_accuracy(recs, windows, windows_note, data_note, cfg, quick)),
            ("scaling", lambda: section_scaling(recs, cfg))]
    for name, fn in todo:
        if sections and name not in sections:
            continue
        t1 = time.perf_counter()
        try:
            res["sections"][name] = fn()
        except Exception as exc:   # noqa: BLE001 - one failing section must not lose the others
            traceback.print_exc()
            res["sections"][name] = {"error": f"{type(exc).__name__}: {exc}"}
        res["sections"][name]["section_seconds"] = time.perf_counter() - t1
        log(f"{name}: {time.perf_counter() - t1:.1f} s")
    res["seconds"] = time.perf_counter() - t0
    return _jsonable(res)


def write(res: dict, out_dir: Path) -> tuple[Path, Path]:
    md, js = out_dir / "RESULTS.md", out_dir / "results.json"
    atomic_write(js, json.dumps(res, indent=1) + "\n")
    atomic_write(md, render(res))
    return md, js


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.run", description=__doc__.split("\n")[0])
    p.add_argument("--quick", action="store_true", help="fewer recordings and repeats, short scaling runs (< ~2 min)")
    p.add_argument("--out", metavar="DIR", help="output folder (default: benchmarks/ for a full run, "
                   "benchmarks/out/ for --quick)")
    p.add_argument("--bundled-only", action="store_true",
                   help="use only the bundled excerpt, as if the HAPT cache were absent")
    p.add_argument("--sections", nargs="+", choices=("features", "inference", "end_to_end", "accuracy", "scaling"),
                   help="run only these sections")
    args = p.parse_args(argv)
    out_dir = Path(args.out) if args.out else (HERE / "out" if args.quick else HERE)
    res = run(args.quick, args.bundled_only, args.sections)
    md, js = write(res, out_dir)
    print(render(res))
    print(f"\nwrote {md} and {js} ({res['seconds']:.0f} s)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
