"""The hand-built ONNX graph against sklearn and against skl2onnx, and what the file carries."""

from __future__ import annotations

import json
import os
from datetime import datetime, timezone

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import MinMaxScaler, StandardScaler

from har.features import FEATURE_DIGEST, FEATURES_VERSION, N_FEATURES, from_official_scale
from har.model import export as export_mod
from har.model.export import ExportError, export_onnx, read_metadata, skl2onnx_reference

CLASS_IDS = [1, 2, 3, 4, 5, 6]


def _blobs(n_rows=600, classes=CLASS_IDS, seed=0):
    """Overlapping Gaussian blobs; columns with unequal offsets and spreads so the scaler matters."""
    rng = np.random.default_rng(seed)
    y = np.asarray(classes)[np.arange(n_rows) % len(classes)]
    centers = rng.normal(0.0, 0.08, (len(classes), N_FEATURES))
    z = centers[np.searchsorted(classes, y)] + rng.normal(0.0, 1.0, (n_rows, N_FEATURES))
    offset = rng.uniform(-0.5, 0.5, N_FEATURES)
    spread = rng.uniform(0.05, 0.5, N_FEATURES)
    X = np.clip(offset + spread * z, -1.0, 1.0)
    # float32-representable inputs: the graph and sklearn then see the very same numbers.
    return X.astype(np.float32).astype(np.float64), y


def _fit(scaler=None, classes=CLASS_IDS):
    X, y = _blobs(classes=classes)
    clf = LogisticRegression(C=0.02, max_iter=3000)
    model = clf if scaler is None else Pipeline([("scale", scaler), ("clf", clf)])
    return model.fit(X, y), X


def _run(path_or_bytes, X, *, official=False):
    """Run a model on official-scale rows X: our graphs take them in raw units, skl2onnx's as they are."""
    sess = ort.InferenceSession(path_or_bytes, providers=["CPUExecutionProvider"])
    feed = X if official else from_official_scale(X)
    out = dict(zip([o.name for o in sess.get_outputs()], sess.run(None, {"features": feed.astype(np.float32)})))
    return out["label"], out["probabilities"]


VARIANTS = {
    "standard": lambda: StandardScaler(),
    "no_mean": lambda: StandardScaler(with_mean=False),
    "no_std": lambda: StandardScaler(with_std=False),
    "bare": lambda: None,
}


@pytest.fixture(scope="module", params=list(VARIANTS))
def fitted(request):
    return _fit(VARIANTS[request.param]())


@pytest.fixture(scope="module")
def pipeline():
    return _fit(StandardScaler())


@pytest.fixture()
def exported(pipeline, tmp_path):
    model, X = pipeline
    path = tmp_path / "har.onnx"
    export_onnx(model, path, metadata={"trained_on": "synthetic", "accuracy": 0.5, "subjects": [1, 3]})
    return model, X, path


def test_probabilities_and_labels_match_sklearn(fitted, tmp_path):
    model, X = fitted
    path = tmp_path / "m.onnx"
    export_onnx(model, path, metadata={})
    label, proba = _run(str(path), X)
    expected = model.predict_proba(X)
    # Mid-range probabilities, else a wrong fold could hide behind saturated softmax outputs.
    assert expected.max(axis=1).min() < 0.9
    np.testing.assert_allclose(proba, expected, rtol=0, atol=1e-5)
    np.testing.assert_array_equal(label, model.predict(X))


def test_binary_classifier_exports_as_two_column_softmax(tmp_path):
    model, X = _fit(StandardScaler(), classes=[4, 5])
    export_onnx(model, tmp_path / "b.onnx", metadata={})
    label, proba = _run(str(tmp_path / "b.onnx"), X)
    assert proba.shape == (len(X), 2)
    np.testing.assert_allclose(proba, model.predict_proba(X), rtol=0, atol=1e-5)
    np.testing.assert_array_equal(label, model.predict(X))
    assert json.loads(read_metadata(tmp_path / "b.onnx")["class_ids"]) == [4, 5]


def test_matches_skl2onnx_reference(exported):
    model, X, path = exported
    ref_label, ref_proba = _run(skl2onnx_reference(model).SerializeToString(), X, official=True)
    label, proba = _run(str(path), X)
    np.testing.assert_allclose(proba, ref_proba, rtol=0, atol=1e-5)
    np.testing.assert_array_equal(label, ref_label)


def test_graph_uses_only_the_default_domain(exported):
    model = onnx.load(str(exported[2]))
    assert {op.domain for op in model.opset_import} <= {"", "ai.onnx"}
    assert all(node.domain in ("", "ai.onnx") for node in model.graph.node)
    op_types = {node.op_type for node in model.graph.node}
    assert "ZipMap" not in op_types and "LinearClassifier" not in op_types
    # Sanity of the check itself: the skl2onnx reference does use the ml domain.
    ref = skl2onnx_reference(exported[0])
    assert any(node.domain == "ai.onnx.ml" for node in ref.graph.node)


def test_outputs_names_dtypes_and_shapes(exported):
    model, X, path = exported
    graph = onnx.load(str(path)).graph
    [inp] = graph.input
    assert inp.name == "features" and inp.type.tensor_type.elem_type == onnx.TensorProto.FLOAT
    assert inp.type.tensor_type.shape.dim[1].dim_value == N_FEATURES
    outputs = {o.name: o.type.tensor_type for o in graph.output}
    assert set(outputs) == {"label", "probabilities"}
    assert outputs["label"].elem_type == onnx.TensorProto.INT64
    assert outputs["probabilities"].elem_type == onnx.TensorProto.FLOAT
    assert outputs["probabilities"].shape.dim[1].dim_value == 6

    for n in (1, 7):
        label, proba = _run(str(path), X[:n])
        assert label.dtype == np.int64 and label.shape == (n,)
        assert proba.dtype == np.float32 and proba.shape == (n, 6)
        assert set(label) <= set(CLASS_IDS)
        np.testing.assert_allclose(proba.sum(axis=1), 1.0, atol=1e-6)


def test_probability_columns_follow_class_ids(exported):
    # A row far along one class's weight direction must put its mass in that class's column.
    model, _, path = exported
    weights, bias, class_ids = export_mod.folded_weights(model)
    for k, cid in enumerate(class_ids):
        x = (weights[k] - weights.mean(axis=0)) * 50.0
        label, proba = _run(str(path), x[None, :])
        assert label[0] == cid and np.argmax(proba[0]) == k


def test_metadata(exported):
    _, _, path = exported
    meta = read_metadata(path)
    assert meta["trained_on"] == "synthetic"
    assert json.loads(meta["accuracy"]) == 0.5 and json.loads(meta["subjects"]) == [1, 3]
    assert json.loads(meta["class_ids"]) == CLASS_IDS
    assert json.loads(meta["class_names"]) == [
        "WALKING", "WALKING_UPSTAIRS", "WALKING_DOWNSTAIRS", "SITTING", "STANDING", "LAYING"]
    assert meta["feature_names_digest"] == FEATURE_DIGEST
    assert meta["features_version"] == FEATURES_VERSION
    assert meta["feature_scale"] == "raw"
    assert meta["n_features"] == str(N_FEATURES)
    created = datetime.fromisoformat(meta["created"])
    assert created.utcoffset().total_seconds() == 0
    assert abs((datetime.now(timezone.utc) - created).total_seconds()) < 600
    # The runtime reads the same map through onnxruntime alone.
    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    assert dict(sess.get_modelmeta().custom_metadata_map) == meta


def test_file_is_small(exported):
    assert os.path.getsize(exported[2]) < 50_000


def test_atomic_write_leaves_only_the_model(pipeline, tmp_path):
    model, _ = pipeline
    path = tmp_path / "har.onnx"
    export_onnx(model, path, metadata={})
    export_onnx(model, path, metadata={"run": "2"})  # overwrite in place
    assert sorted(os.listdir(tmp_path)) == ["har.onnx"]
    assert read_metadata(path)["run"] == "2"


def test_failed_write_keeps_old_file_and_no_temp(pipeline, tmp_path, monkeypatch):
    model, _ = pipeline
    path = tmp_path / "har.onnx"
    export_onnx(model, path, metadata={"run": "1"})
    before = path.read_bytes()

    def broken_replace(src, dst):
        raise OSError("disk gone")

    import har.runtime.files as files_mod

    monkeypatch.setattr(files_mod.os, "replace", broken_replace)
    with pytest.raises(OSError, match="disk gone"):
        export_onnx(model, path, metadata={"run": "2"})
    assert path.read_bytes() == before
    assert sorted(os.listdir(tmp_path)) == ["har.onnx"]


def test_reserved_metadata_key_is_refused(pipeline, tmp_path):
    with pytest.raises(ExportError, match=r"\['n_features'\] are set by export_onnx"):
        export_onnx(pipeline[0], tmp_path / "m.onnx", metadata={"n_features": 3})
    assert not any(tmp_path.iterdir())


def test_other_preprocessing_is_refused(tmp_path):
    X, y = _blobs(n_rows=60)
    model = Pipeline([("mm", MinMaxScaler()), ("clf", LogisticRegression(max_iter=1000))]).fit(X, y)
    with pytest.raises(ExportError, match="only one StandardScaler.*MinMaxScaler"):
        export_onnx(model, tmp_path / "m.onnx", metadata={})


def test_wrong_feature_count_is_refused(tmp_path):
    rng = np.random.default_rng(1)
    model = LogisticRegression().fit(rng.normal(size=(30, 5)), np.arange(30) % 2 + 1)
    with pytest.raises(ExportError, match="takes 5 features, the runtime supplies 561"):
        export_onnx(model, tmp_path / "m.onnx", metadata={})


def test_undefined_features_are_neutral_inside_the_graph(exported):
    """NaN -> the middle of the published range (0 on the official scale), +-inf -> its ends."""
    model, X, path = exported
    row = X[:1].copy()
    nan_row, mid_row = row.copy(), row.copy()
    nan_row[0, [3, 40]] = np.nan
    mid_row[0, [3, 40]] = 0.0
    hi_row, top_row = row.copy(), row.copy()
    top_row[0, 7], lo_row, bottom_row = 1.0, row.copy(), row.copy()
    bottom_row[0, 9] = -1.0
    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])

    def proba(raw):
        return sess.run(["probabilities"], {"features": raw.astype(np.float32)})[0]

    np.testing.assert_allclose(proba(from_official_scale(nan_row)), proba(from_official_scale(mid_row)), atol=1e-6)
    hi_raw = from_official_scale(hi_row)
    hi_raw[0, 7] = np.inf
    np.testing.assert_allclose(proba(hi_raw), proba(from_official_scale(top_row)), atol=1e-6)
    lo_raw = from_official_scale(lo_row)
    lo_raw[0, 9] = -np.inf
    np.testing.assert_allclose(proba(lo_raw), proba(from_official_scale(bottom_row)), atol=1e-6)
    assert np.isfinite(proba(hi_raw)).all()
