"""The engine as one ONNX graph: exactness against extract_recording, float32 precision, many streams,
gaps, start indices, the file's constraints, and the numpy + onnxruntime driver."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, numpy_helper

from har.features import extract_recording, from_official_scale, to_official_scale, valid_rows
from har.features.errors import HarError
from har.features.scale import RAW_MAX, RAW_MIN
from har.runtime.tools.hapt import TEST_SUBJECTS
from har.model.engine_graph import DELAY, OPSET, STATE_SIZE, build_engine
from har.runtime.engine import EngineRecognizer, EngineSession, EngineStreams
from har.runtime.model import bundled_model_path, load_model

ROOT = Path(__file__).resolve().parents[1]
SHIPPED = ROOT / "runtime" / "data" / "engine.onnx"


@pytest.fixture(scope="module")
def classifier_bytes() -> bytes:
    return bundled_model_path().read_bytes()


def _session(tmp_path_factory, model: onnx.ModelProto, name: str) -> EngineSession:
    path = tmp_path_factory.mktemp("engine") / name
    path.write_bytes(model.SerializeToString())
    return EngineSession(path)


@pytest.fixture(scope="module")
def engine64(tmp_path_factory, classifier_bytes) -> EngineSession:
    return _session(tmp_path_factory, build_engine(classifier_bytes, "float64"), "engine64.onnx")


@pytest.fixture(scope="module")
def engine32() -> EngineSession:
    return EngineSession(SHIPPED)


def run_streams(session: EngineSession, recordings: list[tuple[np.ndarray, np.ndarray]]) -> list[dict]:
    """All windows of whole recordings run as one batch of streams (with flush): start -> Prediction."""
    streams = EngineStreams(session)
    got = streams.push({i: rec for i, rec in enumerate(recordings)})
    for i in range(len(recordings)):
        got[i] += streams.flush(i)
    return [{p.start: p for p in got[i]} for i in range(len(recordings))]


def run_batch(session: EngineSession, raws: list[np.ndarray]) -> list[tuple]:
    """Streams block by block in one batch with the raw graph outputs (no flush).

    Returns per stream: starts, valid, labels, features (official scale), for the windows the
    stream's complete blocks report (a shorter stream is padded with NaN; its extra windows dropped).
    """
    n_blocks = max(len(r) for r in raws) // session.hop
    samples = np.full((len(raws), n_blocks * 64, 6), np.nan)
    for i, r in enumerate(raws):
        samples[i, :len(r)] = r[:n_blocks * 64]
    state = session.initial_state(len(raws))
    rows = []
    for b in range(n_blocks):
        out = session.run(samples[:, b * 64:(b + 1) * 64], state)
        state = out.state
        rows.append((b + 1) * 64 - 128 - DELAY), rows.append(out)
    result = []
    for i, r in enumerate(raws):
        complete = (len(r) // 64) * 64          # samples in the stream's complete blocks
        keep = [(s, o) for s, o in zip(rows[::2], rows[1::2]) if 0 <= s and s + 128 + DELAY <= complete]
        result.append((np.array([s for s, _ in keep]), np.array([bool(o.valid[i]) for _, o in keep]),
                       np.array([int(o.label[i]) for _, o in keep]),
                       np.array([o.features[i] for _, o in keep], dtype=np.float64)))
    return result


def run_features(session: EngineSession, raw: np.ndarray):
    """One stream: starts, valid, features."""
    starts, valid, _, feats = run_batch(session, [raw])[0]
    return starts, valid, feats


def reference(acc, gyro, on_nonfinite="raise"):
    starts, X = extract_recording(acc, gyro, on_nonfinite=on_nonfinite)
    return starts, to_official_scale(X), valid_rows(X)


def python_labels(Z: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """What har.runtime.Recognizer reports for official-scale rows (the model takes raw features)."""
    model = load_model()
    labels = np.zeros(len(Z), dtype=np.int64)
    if valid.any():
        labels[valid] = model.predict(from_official_scale(Z[valid]))[0]
    return labels


def heldout(hapt_recordings, n=None):
    recs = [r for _, r in sorted(hapt_recordings.items()) if r.user in TEST_SUBJECTS]
    return recs[:n] if n else recs


# --------------------------------------------------------------------------- exactness (float64)

def test_float64_graph_matches_extract_recording_on_the_sample(engine64, sample_recording):
    acc, gyro = sample_recording["acc"], sample_recording["gyro"]
    starts, Z, _ = reference(acc, gyro)
    got = run_streams(engine64, [(acc, gyro)])[0]
    assert sorted(got) == starts.tolist()          # flush delivers the last window too
    E = np.array([[got[s].probabilities[n] for n in engine64.class_names] for s in starts])
    assert np.isfinite(E).all()
    s_ref, valid, feats = run_features(engine64, np.hstack([acc, gyro]))
    assert valid.all()
    ref = Z[np.searchsorted(starts, s_ref)]
    np.testing.assert_allclose(feats, ref, rtol=0, atol=1e-6)


def test_float64_graph_matches_extract_recording_on_heldout_recordings(engine64, hapt_recordings):
    for rec in heldout(hapt_recordings, 2):
        starts, Z, _ = reference(rec.acc, rec.gyro)
        s_got, valid, feats = run_features(engine64, np.hstack([rec.acc, rec.gyro]))
        assert valid.all()
        idx = np.searchsorted(starts, s_got)
        assert (starts[idx] == s_got).all()
        err = np.abs(feats - Z[idx])
        worst = np.unravel_index(np.nanargmax(err), err.shape)
        assert np.nanmax(err) <= 1e-6, f"experiment {rec.experiment}: feature {worst[1]} off by {err[worst]}"
        assert (np.isnan(feats) == np.isnan(Z[idx])).all()


def test_float64_graph_restarts_after_gaps_like_extract_recording(engine64, sample_recording):
    acc, gyro = sample_recording["acc"].copy(), sample_recording["gyro"].copy()
    acc[700, 1] = np.nan            # one sample
    gyro[1500:1503, 2] = np.inf     # several in a row
    acc[2000] = np.nan              # two gaps in one block
    acc[2030] = np.nan
    acc[3000 + 63] = np.nan         # the last sample of a block
    starts, Z, valid = reference(acc, gyro, on_nonfinite="gap")
    s_got, v_got, feats = run_features(engine64, np.hstack([acc, gyro]))
    idx = np.searchsorted(starts, s_got)
    assert (v_got == valid[idx]).all()
    assert (~v_got).sum() >= 8
    ok = v_got
    np.testing.assert_allclose(feats[ok], Z[idx][ok], rtol=0, atol=1e-6)
    assert np.isnan(feats[~ok]).all()


# --------------------------------------------------------------------------- float32 precision

def test_float32_graph_agrees_with_the_python_engine_on_heldout_recordings(engine32, hapt_recordings):
    recs = heldout(hapt_recordings)
    got = run_batch(engine32, [np.hstack([r.acc, r.gyro]).astype(np.float32) for r in recs])
    same = total = 0
    errors = []
    for rec, (s_got, v_got, l_got, feats) in zip(recs, got):
        starts, Z, valid = reference(rec.acc, rec.gyro)
        labels = python_labels(Z, valid)
        idx = np.searchsorted(starts, s_got)
        assert (starts[idx] == s_got).all() and (v_got == valid[idx]).all()
        assert len(s_got) >= len(starts) - 1            # only the window waiting for a flush is left out
        errors.append(np.abs(feats - Z[idx]))
        total += len(idx)
        same += int((l_got == labels[idx]).sum())
    assert total > 4000
    assert same / total >= 0.995, f"labels agree on {same}/{total} windows"
    median = np.nanmedian(np.vstack(errors))
    assert median <= 1e-5, f"median feature error {median}"


# --------------------------------------------------------------------------- many streams, starts, driver

def test_a_batch_of_streams_equals_each_stream_alone(engine32, sample_recording):
    acc, gyro = sample_recording["acc"], sample_recording["gyro"]
    acc2 = acc[::-1].copy()
    acc2[900] = np.nan
    recordings = [(acc, gyro), (acc2, gyro[::-1].copy()), (acc[:1000], gyro[:1000])]
    batched = run_streams(engine32, recordings)
    for rec, together in zip(recordings, batched):
        alone = run_streams(engine32, [rec])[0]
        assert sorted(alone) == sorted(together)
        for s, p in alone.items():
            q = together[s]
            assert (p.valid, p.label_id) == (q.valid, q.label_id)
            # Equal up to float32 rounding: the matrix products may block differently per batch size.
            np.testing.assert_allclose(list(p.probabilities.values()), list(q.probabilities.values()),
                                       rtol=0, atol=1e-5)
    assert not all(p.valid for p in batched[1].values())


def test_window_starts_and_delay_follow_the_contract(engine32, sample_recording):
    meta = engine32.metadata
    assert (int(meta["hop"]), int(meta["window"]), int(meta["sample_rate_hz"])) == (64, 128, 50)
    assert int(meta["delay_samples"]) == DELAY and DELAY % 64 == 0
    assert int(meta["state_size"]) == STATE_SIZE == engine32.state_size
    rec = EngineRecognizer(engine32)
    acc, gyro = sample_recording["acc"][:700], sample_recording["gyro"][:700]
    seen = []
    for i in range(0, 700, 37):                      # chunks that do not line up with blocks
        for p in rec.push(acc[i:i + 37], gyro[i:i + 37]):
            # reported once sample start + 128 + delay - 1 has arrived, not before
            assert p.start + 128 + DELAY <= rec.n_samples < p.start + 128 + DELAY + 37 + 64
            seen.append(p)
    assert [p.start for p in seen] == list(range(0, 700 - 128 - DELAY + 1, 64))
    assert all(p.end == p.start + 128 and p.valid for p in seen)
    tail = rec.flush()
    assert [p.start for p in tail] == [512]          # 512 + 129 <= 700; 576 would need sample 704
    assert rec.n_samples == 0


def test_first_windows_are_not_valid_and_a_reset_stream_starts_again(engine32, sample_recording):
    raw = np.hstack([sample_recording["acc"], sample_recording["gyro"]])[:64 * 4].astype(np.float32)
    state = engine32.initial_state(1)
    valid = []
    for b in range(4):
        out = engine32.run(raw[None, b * 64:(b + 1) * 64], state)
        state = out.state
        valid.append(bool(out.valid[0]))
        if not out.valid[0]:
            assert out.label[0] == 0 and np.isnan(out.probabilities).all() and np.isnan(out.features).all()
    assert valid == [False, False, True, True]
    rec = EngineRecognizer(engine32)
    first = rec.push(raw[:256, :3], raw[:256, 3:])
    rec.reset()
    again = rec.push(raw[:256, :3], raw[:256, 3:])
    assert [p.start for p in first] == [p.start for p in again] == [0, 64]
    assert [p.label_id for p in first] == [p.label_id for p in again]


def _linear_classifier(scale: str) -> bytes:
    """One linear softmax layer with fixed weights on the official scale, as a file taking ``scale``."""
    from onnx import helper

    from har.model.export import build_linear_model

    rng = np.random.default_rng(3)
    w, b, ids = rng.normal(0, 0.3, (6, 561)), rng.normal(0, 0.3, 6), np.arange(1, 7)
    if scale == "raw":
        return build_linear_model(w, b, ids, metadata={}).SerializeToString()
    model = build_linear_model(w, b, ids, metadata={})          # its metadata and outputs, then
    graph = helper.make_graph(                                  # an official-scale Gemm instead
        [helper.make_node("Gemm", ["features", "coef", "intercept"], ["logits"]),
         helper.make_node("Softmax", ["logits"], ["probabilities"], axis=1),
         helper.make_node("ArgMax", ["logits"], ["index"], axis=1, keepdims=0),
         helper.make_node("Gather", ["class_ids", "index"], ["label"], axis=0)],
        "official", [helper.make_tensor_value_info("features", TensorProto.FLOAT, ["N", 561])],
        list(model.graph.output),
        [numpy_helper.from_array(w.T.astype(np.float32), "coef"), numpy_helper.from_array(b.astype(np.float32), "intercept"),
         numpy_helper.from_array(ids.astype(np.int64), "class_ids")])
    del model.graph.node[:], model.graph.initializer[:], model.graph.input[:]
    model.graph.CopyFrom(graph)
    for prop in model.metadata_props:
        if prop.key == "feature_scale":
            prop.value = "uci_official_minmax"
    return model.SerializeToString()


def test_engine_composes_with_classifiers_on_either_scale(tmp_path_factory, sample_recording):
    """Models of an earlier release took official-scale features, today's take raw ones: the graph
    feeds each what it takes, and the same weights give the same windows."""
    engines = {scale: _session(tmp_path_factory, build_engine(_linear_classifier(scale), "float64"), f"{scale}.onnx")
               for scale in ("raw", "uci_official_minmax")}
    assert {s: e.metadata["model_feature_scale"] for s, e in engines.items()} == \
        {"raw": "raw", "uci_official_minmax": "uci_official_minmax"}
    rec = [(sample_recording["acc"][:1500], sample_recording["gyro"][:1500])]
    a, b = (run_streams(e, rec)[0] for e in engines.values())
    assert sorted(a) == sorted(b) and len(a) > 15
    assert len({a[s].label_id for s in a if a[s].valid}) > 1          # the weights separate something
    for s in a:
        assert a[s].label_id == b[s].label_id
        np.testing.assert_allclose(list(a[s].probabilities.values()), list(b[s].probabilities.values()), atol=1e-4)


def test_a_classifier_on_an_unknown_scale_is_refused(classifier_bytes):
    clf = onnx.load_from_string(classifier_bytes)
    for p in clf.metadata_props:
        if p.key == "feature_scale":
            p.value = "zscore_of_something"
    with pytest.raises(HarError, match="feature_scale"):
        build_engine(clf.SerializeToString())


# --------------------------------------------------------------------------- the file

def _all_nodes(graph: onnx.GraphProto):
    """Nodes of a graph and of its branch subgraphs."""
    for node in graph.node:
        yield node
        for a in node.attribute:
            if a.type == onnx.AttributeProto.GRAPH:
                yield from _all_nodes(a.g)


def _float64_free(model: onnx.ModelProto) -> list[str]:
    """Names of everything in the graph that is float64 (tensors, casts, constants, inferred values)."""
    bad = [t.name for t in model.graph.initializer if t.data_type == TensorProto.DOUBLE]
    for node in _all_nodes(model.graph):
        for a in node.attribute:
            if a.name == "to" and a.i == TensorProto.DOUBLE:
                bad.append(node.name)
            if a.type == onnx.AttributeProto.TENSOR and a.t.data_type == TensorProto.DOUBLE:
                bad.append(node.name)
    inferred = onnx.shape_inference.infer_shapes(model)
    for v in list(inferred.graph.value_info) + list(inferred.graph.input) + list(inferred.graph.output):
        if v.type.tensor_type.elem_type == TensorProto.DOUBLE:
            bad.append(v.name)
    return bad


#: Operators whose float kernels the CPU provider (and the mobile builds) have.
CPU_FLOAT_OPS = {
    "Sum",                                   # the placement-gated classifier's mixture
    "Abs", "Acos", "Add", "And", "ArgMax", "ArgMin", "Cast", "Clip", "Concat", "ConstantOfShape", "Cos",
    "CumSum", "Div", "Equal", "Expand", "Floor", "Gather", "GatherElements", "Gemm", "Greater",
    "GreaterOrEqual", "Identity", "If", "IsInf", "IsNaN", "LessOrEqual", "Log", "MatMul", "Max", "Min", "Mul",
    "Neg", "Not", "ReduceL1", "ReduceL2", "ReduceMax", "ReduceMean", "ReduceMin", "ReduceProd", "ReduceSum",
    "ReduceSumSquare", "Reshape", "ScatterElements", "Shape", "Sin", "Slice", "Softmax", "Split", "Sqrt", "Sub",
    "TopK", "Transpose", "Where",
}


def test_shipped_engine_meets_the_file_constraints():
    data = SHIPPED.read_bytes()
    assert len(data) <= 2 * 1024 * 1024
    model = onnx.load_from_string(data)
    onnx.checker.check_model(model, full_check=True)
    assert [(o.domain, o.version) for o in model.opset_import] == [("", OPSET)] and OPSET <= 17
    assert not any(t.data_location == TensorProto.EXTERNAL for t in model.graph.initializer)
    assert {n.domain for n in _all_nodes(model.graph)} <= {"", "ai.onnx"}
    ops = {n.op_type for n in _all_nodes(model.graph)}
    assert "If" in ops and "Identity" in ops        # the branch nodes were walked too
    assert ops <= CPU_FLOAT_OPS, f"unexpected operators {sorted(ops - CPU_FLOAT_OPS)}"
    assert _float64_free(model) == []
    assert [i.name for i in model.graph.input] == ["samples", "state"]
    assert [o.name for o in model.graph.output] == ["probabilities", "label", "valid", "features", "state_out"]
    meta = {p.key: p.value for p in model.metadata_props}
    for key in ("hop", "window", "sample_rate_hz", "state_size", "delay_samples", "class_ids", "class_names",
                "input_units", "model_digest"):
        assert key in meta, key
    assert json.loads(meta["class_names"])[0] == "WALKING"


def test_the_float64_graph_contains_float64(engine64):
    # The check above can fail: the float64 graph is full of what it looks for.
    assert len(_float64_free(onnx.load(str(engine64.path)))) > 100


def test_shipped_engine_is_built_from_the_bundled_model(classifier_bytes):
    meta = {p.key: p.value for p in onnx.load(str(SHIPPED)).metadata_props}
    assert meta["model_digest"] == hashlib.sha256(classifier_bytes).hexdigest(), \
        "runtime/data/engine.onnx is stale: run har export-engine --out runtime/data/engine.onnx"
    assert build_engine(classifier_bytes, "float32").SerializeToString() == SHIPPED.read_bytes(), \
        "the graph builder changed since engine.onnx was exported: run har export-engine --out runtime/data/engine.onnx"


def test_export_engine_command_writes_a_loadable_graph(tmp_path):
    from har.model.cli import main

    out = tmp_path / "e.onnx"
    assert main(["export-engine", "--out", str(out), "--dtype", "float64"]) == 0
    session = EngineSession(out)
    assert session.dtype == np.float64
    assert main(["export-engine", "--out", str(tmp_path / "x.onnx"), "--model", str(tmp_path / "none.onnx")]) == 1


# --------------------------------------------------------------------------- runtime isolation

def import_blocker(allowed: tuple = ()) -> str:
    """Code that makes scipy, onnx, scikit-learn, pandas and every har module but ``allowed`` unimportable."""
    return f"""
import importlib.abc, sys
BLOCKED = ("scipy", "onnx", "sklearn", "skl2onnx", "pandas")
ALLOWED = {tuple(allowed)!r}
class Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if name.split(".")[0] in BLOCKED or (name.split(".")[0] == "har" and name not in ALLOWED):
            raise ImportError(f"blocked: {{name}}")
sys.meta_path.insert(0, Block())
"""


DRIVER_RUN = """
import numpy as np
from har.runtime import engine
rec = engine.EngineRecognizer()
rng = np.random.default_rng(0)
acc = np.tile([0.0, 0.0, 1.0], (400, 1)) + 0.01 * rng.standard_normal((400, 3))
preds = rec.push(acc, 0.01 * rng.standard_normal((400, 3))) + rec.flush()
assert [p.start for p in preds] == [0, 64, 128, 192, 256], [p.start for p in preds]
assert not any(m.startswith("scipy") or (m.startswith("har") and m not in ALLOWED) for m in sys.modules)
print("ok", preds[0].label)
"""
#: What the driver may import of the engine: constants, exceptions and the Prediction record.
DRIVER_IMPORTS = ("har", "har.features", "har.features.contract", "har.features.errors", "har.features.lazy",
                  "har.runtime", "har.runtime.engine", "har.runtime.prediction")


def test_the_driver_runs_with_numpy_and_onnxruntime_only():
    result = subprocess.run([sys.executable, "-c", import_blocker(DRIVER_IMPORTS) + DRIVER_RUN],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("ok")


# --------------------------------------------------------------------------- the documented examples

ENGINE_MD = ROOT / "README.md"     # its engine.onnx examples are run as written


def _code_block(lang: str) -> str:
    import re

    text = ENGINE_MD.read_text()
    section = text[text.index("## The whole engine as one ONNX file"):]
    match = re.search(rf"```{lang}\n(.*?)```", section, re.S)
    assert match, f"no {lang} example in {ENGINE_MD}"
    return match.group(1)


def _expected(sample_recording, n: int):
    """What EngineRecognizer reports for the first n samples (no flush): start -> label name."""
    rec = EngineRecognizer()
    return {p.start: p for p in rec.push(sample_recording["acc"][:n], sample_recording["gyro"][:n])}


def test_engine_md_python_example_runs_on_numpy_and_onnxruntime_only(tmp_path, sample_recording):
    import shutil

    n = 1000
    np.save(tmp_path / "recording.npy", np.hstack([sample_recording["acc"], sample_recording["gyro"]])[:n])
    shutil.copy(SHIPPED, tmp_path / "engine.onnx")
    result = subprocess.run([sys.executable, "-c", import_blocker() + _code_block("python")], cwd=tmp_path,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    got = [line.split() for line in result.stdout.splitlines()]
    expected = _expected(sample_recording, n)
    assert [int(s) for s, _, _ in got] == sorted(expected) == list(range(0, 960 - 192 + 1, 64))
    assert [lab for _, lab, _ in got] == [expected[s].label for s in sorted(expected)]


def _node_modules() -> str | None:
    import shutil

    if shutil.which("node") is None:
        return None
    # .ci/run installs runtime/node-example (npm ci --ignore-scripts); HAR_NODE_MODULES overrides.
    folder = os.environ.get("HAR_NODE_MODULES") or str(ROOT / "runtime" / "node-example" / "node_modules")
    if (Path(folder) / "onnxruntime-node").exists():
        return folder
    return None


JS_HARNESS = """
const fs = require("fs");
const buf = fs.readFileSync(process.argv[3]);
const samples = new Float32Array(buf.buffer, buf.byteOffset, buf.length / 4);
recognize(process.argv[2], samples).then((w) => console.log(JSON.stringify(w)));
"""


def test_engine_md_javascript_example_runs_on_onnxruntime_node(tmp_path, sample_recording):
    modules = _node_modules()
    if modules is None and os.environ.get("CI"):
        pytest.fail("CI must run the JavaScript example: node and runtime/node-example/node_modules are missing")
    if modules is None:
        pytest.skip("node or onnxruntime-node unavailable: set HAR_NODE_MODULES to a node_modules folder "
                    "holding onnxruntime-node (npm install onnxruntime-node --ignore-scripts)")


    n = 1000
    raw = np.hstack([sample_recording["acc"], sample_recording["gyro"]])[:n].astype(np.float32)
    (tmp_path / "samples.bin").write_bytes(raw.tobytes())
    script = tmp_path / "example.js"
    script.write_text(_code_block("js") + JS_HARNESS)
    result = subprocess.run(["node", str(script), str(SHIPPED), str(tmp_path / "samples.bin")],
                            capture_output=True, text=True, timeout=120,
                            env={**os.environ, "NODE_PATH": modules})
    assert result.returncode == 0, result.stderr
    windows = json.loads(result.stdout)
    expected = _expected(sample_recording, n)
    assert [w["start"] for w in windows] == sorted(expected)
    assert [w["label"] for w in windows] == [expected[s].label for s in sorted(expected)]
    for w in windows:
        np.testing.assert_allclose(w["probabilities"], list(expected[w["start"]].probabilities.values()),
                                   rtol=0, atol=1e-5)
    meta = EngineSession(SHIPPED).metadata        # the constants the example spells out
    assert "STATE_SIZE = " + meta["state_size"] in _code_block("js")
    assert json.loads(meta["class_names"]) == json.loads(_code_block("js").split("NAMES = ")[1].split(";")[0])


def test_bad_chunks_are_refused_with_one_line_and_change_no_stream(engine32, sample_recording):
    streams = EngineStreams(engine32)
    acc, gyro = sample_recording["acc"][:100], sample_recording["gyro"][:100]
    with pytest.raises(ValueError, match="stream 'b': acc has 100 samples but gyro has 99"):
        streams.push({"a": (acc, gyro), "b": (acc, gyro[:99])})
    with pytest.raises(ValueError, match=r"gyro: expected shape \(n, 3\)"):
        streams.push({"a": (acc, gyro[:, :2])})
    assert streams.n_samples("a") == 0
    with pytest.raises(ValueError, match=r"samples: expected shape \(B, 64, 6\)"):
        engine32.run(np.zeros((1, 63, 6)), engine32.initial_state(1))
