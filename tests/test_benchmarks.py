"""The benchmark driver runs end to end in --quick mode and writes both reports.

It uses the HAPT cache when present and falls back to the bundled excerpt otherwise (the feature and
scaling sections then run on ``runtime/data/sample_recording.npz``); TSFEL is optional.
"""

import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
HEADINGS = ("## 1. Feature extraction", "## 2. Inference", "## 3. End to end", "## 4. Accuracy", "## 5. Scaling")
SECTIONS = ("features", "inference", "end_to_end", "accuracy", "scaling")


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("bench")
    proc = subprocess.run([sys.executable, "-m", "benchmarks.run", "--quick", "--out", str(out)],
                          cwd=REPO, capture_output=True, text=True, timeout=240)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return out, proc


def test_quick_run_writes_both_reports(quick_run):
    out, _ = quick_run
    md = (out / "RESULTS.md").read_text()
    for heading in HEADINGS:
        assert heading in md
    assert "Machine:" in md and "onnxruntime" in md and "python -m benchmarks.run --quick" in md
    res = json.loads((out / "results.json").read_text())
    assert set(SECTIONS) <= set(res["sections"])
    assert res["quick"] is True
    assert not list(out.glob("*.tmp")) and not list(out.glob(".*.tmp"))   # atomic writes leave nothing behind


def test_quick_run_measured_the_core_paths(quick_run):
    out, _ = quick_run
    res = json.loads((out / "results.json").read_text())
    s = res["sections"]
    for name in ("features", "inference", "scaling"):
        assert "error" not in s[name], s[name]
    ours = s["features"]["rows"][0]
    assert ours["method"].startswith("ours: batch") and ours["windows_per_s"] > 0
    engines = {r["method"].split()[0] for r in s["inference"]["rows"]}
    assert "onnxruntime" in engines and any(e.startswith("scikit-learn") for e in engines), engines
    # The scikit-learn twin is the bundled model's own function (gate and heads included), not another model.
    assert "sklearn_skipped" not in s["inference"], s["inference"].get("sklearn_skipped")
    assert s["inference"]["label_agreement"] > 0.99
    assert s["inference"]["max_abs_probability_difference"] < 1e-4
    # The bundled model gets rows in its own input space: its held-out score, not a scale mix-up's.
    for row in s["accuracy"]["rows"]:
        if row["method"].startswith("ours: bundled"):
            assert row["macro_f1"] > 0.9, row
    stream = [r for r in s["scaling"]["rows"] if r["path"].startswith("streaming") and "skipped" not in r]
    assert stream and all(r["windows"] > 0 for r in stream)


def test_engine_benchmark_runs_the_driver_in_a_process_without_the_feature_code():
    # The peak-RSS child of bench_engine: the driver alone (numpy, onnxruntime, the engine's constants)
    # against the Python engine; it refuses to report if scipy or the feature code was loaded.
    sys.path.insert(0, str(REPO))
    from benchmarks.bench_engine import peak_rss

    got = peak_rss()
    assert got["engine"]["windows"] > 200 and got["python"]["windows"] > 200
    assert 0 < got["engine"]["peak_rss_mb"] < got["python"]["peak_rss_mb"]


def test_engine_benchmark_times_exactly_the_graphs_selection_nodes():
    # The floor the 256-stream target is judged against: the shipped graph's TopK nodes, cut out with
    # the tensors they receive. selection_floor refuses to report if their outputs are not runs of the
    # sorted inputs (the wrong nodes, or the wrong tensors fed).
    sys.path.insert(0, str(REPO))
    from benchmarks.bench_engine import _sample, selection_floor

    acc, gyro = _sample()
    got = selection_floor(acc, gyro, 1, streams=8)
    assert got["topk_nodes"] >= 1
    assert got["shapes"] and all(shape[0] == 8 for shape in got["shapes"])
    assert 0 < got["selection_ms"] < got["graph_ms"]
    assert got["budget_ms"] == pytest.approx(got["numpy_ms"] / 2)
