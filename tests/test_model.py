"""Training side: window labels, metrics, the bundled model, training from published features."""

import json

import numpy as np
import onnx
import pytest

from har.features import FEATURE_DIGEST, FEATURES_VERSION, extract_recording, from_official_scale, to_official_scale
from har.model.evaluate import evaluate
from har.runtime.tools.labels import window_labels
from har.runtime import ActivityModel, ModelError, Recognizer, bundled_model_path
from har.model.cli import main as har


def test_window_labels_need_one_activity_over_all_129_samples():
    labels = np.full(400, 5)
    labels[200] = 7              # a transition sample
    labels[330:] = -1
    # 71 spans 71..199: clean; 72 reaches 200; 201 spans 201..329: clean; 202 needs sample 330
    # for its jerk, which is unlabelled
    got = window_labels(labels, np.array([0, 71, 72, 201, 202]))
    np.testing.assert_array_equal(got, [5, 5, 0, 5, 0])


def test_evaluate_known_answers():
    y = np.array([1, 1, 2, 2, 3, 3])
    p = np.array([1, 2, 2, 2, 3, 1])
    ev = evaluate(y, p, subjects=np.array([1, 1, 1, 2, 2, 2]), class_ids=(1, 2, 3))
    assert ev.accuracy == pytest.approx(4 / 6)
    np.testing.assert_array_equal(ev.confusion, [[1, 1, 0], [0, 2, 0], [1, 0, 1]])
    np.testing.assert_allclose(ev.precision, [0.5, 2 / 3, 1.0])
    np.testing.assert_allclose(ev.recall, [0.5, 1.0, 0.5])
    assert ev.per_subject == {1: (pytest.approx(2 / 3), 3), 2: (pytest.approx(2 / 3), 3)}
    with pytest.raises(ValueError, match=r"class ids \[7\] are not among"):
        evaluate([7], [1], [1], class_ids=(1, 2, 3))


def test_the_bundled_model_loads_with_its_metadata():
    model = ActivityModel()
    assert model.class_ids == (1, 2, 3, 4, 5, 6)
    assert model.class_names == ("WALKING", "WALKING_UPSTAIRS", "WALKING_DOWNSTAIRS", "SITTING", "STANDING", "LAYING")
    meta = model.metadata
    assert meta["features_version"] == FEATURES_VERSION and meta["feature_names_digest"] == FEATURE_DIGEST
    for key in ("training_data", "hyperparameters", "heldout_accuracy", "heldout_macro_f1", "created"):
        assert key in meta
    assert model.size_bytes < 50_000
    ops = {n.op_type for n in onnx.load(str(bundled_model_path())).graph.node}
    assert ops <= {"IsNaN", "IsInf", "Where", "Gemm", "Softmax", "ArgMax", "Gather", "MatMul", "Add", "Constant",
                   "Slice", "Mul", "Sum"}
    assert meta["feature_scale"] == "raw"


def test_the_bundled_model_classifies_the_bundled_excerpt(sample_recording):
    acc, gyro, labels = sample_recording["acc"], sample_recording["gyro"], sample_recording["labels"]
    starts, X = extract_recording(acc, gyro)
    y = window_labels(labels, starts)
    pred, proba = ActivityModel().predict(X)
    assert proba.shape == (len(starts), 6)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, atol=1e-5)
    done = y > 0
    assert set(np.unique(y[done])) == {1, 2, 3, 4, 5, 6}     # the excerpt has every activity
    assert np.mean(pred[done] == y[done]) > 0.9


def _save_with_metadata(src, dst, **changes):
    m = onnx.load(str(src))
    for prop in m.metadata_props:
        if prop.key in changes:
            prop.value = changes.pop(prop.key)
    onnx.save(m, str(dst))


@pytest.mark.parametrize("changes, message", [
    ({"features_version": "0.9"}, "trained on features version 0.9.*retrain it with `har train`"),
    ({"feature_names_digest": "deadbeef"}, "trained on other feature columns"),
    ({"feature_scale": "zscore"}, "expects features on scale 'zscore'"),
    ({"feature_scale": "uci_official_minmax"}, "earlier release; re-export it with `har train`"),
])
def test_a_mismatched_model_is_refused_with_its_reason(tmp_path, changes, message):
    path = tmp_path / "m.onnx"
    _save_with_metadata(bundled_model_path(), path, **changes)
    with pytest.raises(ModelError, match=message):
        ActivityModel(path)


def test_a_corrupt_or_foreign_model_is_refused(tmp_path):
    bad = tmp_path / "bad.onnx"
    bad.write_bytes(b"\x08\x07garbage")
    with pytest.raises(ModelError, match="bad.onnx: not a loadable ONNX model"):
        ActivityModel(bad)
    foreign = tmp_path / "foreign.onnx"
    m = onnx.load(str(bundled_model_path()))
    del m.metadata_props[:]
    onnx.save(m, str(foreign))
    with pytest.raises(ModelError, match="not an activity model of this engine"):
        ActivityModel(foreign)
    with pytest.raises(ModelError, match="no such model file"):
        ActivityModel(tmp_path / "missing.onnx")


def _write_uci_folder(root, X, y, subject):
    for split, rows in (("train", slice(None)), ("test", slice(None))):
        d = root / split
        d.mkdir(parents=True)
        np.savetxt(d / f"X_{split}.txt", X[rows], fmt="%.8e")
        np.savetxt(d / f"y_{split}.txt", y[rows], fmt="%d")
        np.savetxt(d / f"subject_{split}.txt", subject[rows], fmt="%d")


def test_train_from_published_features_gives_a_model_the_runtime_accepts(tmp_path, sample_recording, capsys):
    # A miniature 'UCI HAR Dataset/' folder made of real windows of the bundled excerpt.
    acc, gyro, labels = sample_recording["acc"], sample_recording["gyro"], sample_recording["labels"]
    starts, X = extract_recording(acc, gyro, np.arange(0, len(acc) - 129, 16))
    y = window_labels(labels, starts)
    keep = y > 0
    X, y = to_official_scale(X[keep]), y[keep]
    subject = np.arange(len(y)) % 4 + 1            # four pseudo-subjects for the grouped folds
    _write_uci_folder(tmp_path / "UCI HAR Dataset", X, y, subject)
    out = tmp_path / "m" / "model.onnx"
    assert har(["train", "--uci-features", str(tmp_path / "UCI HAR Dataset"), "--quick", "--jobs", "1",
                "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "held-out accuracy" in printed and "<- winner" in printed
    assert (tmp_path / "m" / "model.report.md").exists() and (tmp_path / "m" / "model.confusion.png").exists()
    rec = Recognizer(str(out))
    preds = rec.push(acc[:1000], gyro[:1000]) + rec.flush()
    assert len(preds) == len(range(0, 1000 - 128, 64))
    assert rec.model.placement is not None and sum(p.placement_ok is True for p in preds) > len(preds) // 2
    assert har(["evaluate", "--model", str(out), "--uci-features", str(tmp_path / "UCI HAR Dataset")]) == 0
    metrics = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert metrics["accuracy"] > 0.9


def test_training_cli_errors_are_one_line(tmp_path, capsys):
    (tmp_path / "UCI" / "train").mkdir(parents=True)
    assert har(["train", "--uci-features", str(tmp_path / "UCI"), "--quick"]) == 1
    err = capsys.readouterr().err
    assert "X_train.txt: missing" in err and "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_onnx_and_scikit_learn_agree_on_real_windows(tmp_path, sample_recording):
    from har.model.export import export_onnx
    from har.model.train import make_pipeline

    acc, gyro, labels = sample_recording["acc"], sample_recording["gyro"], sample_recording["labels"]
    starts, X = extract_recording(acc, gyro)
    y = window_labels(labels, starts)
    X, y = to_official_scale(X[y > 0]), y[y > 0]
    pipeline = make_pipeline("l2", 0.3, "balanced").fit(X[::2], y[::2])
    export_onnx(pipeline, tmp_path / "m.onnx", metadata={"purpose": "parity test"})
    labels_onnx, proba_onnx = ActivityModel(tmp_path / "m.onnx").predict(from_official_scale(X))
    np.testing.assert_allclose(proba_onnx, pipeline.predict_proba(X), atol=1e-5)
    np.testing.assert_array_equal(labels_onnx, pipeline.predict(X))


def test_training_refuses_subjects_outside_uci_har(tmp_path, sample_recording, capsys):
    acc, gyro, labels = sample_recording["acc"], sample_recording["gyro"], sample_recording["labels"]
    starts, X = extract_recording(acc, gyro)
    y = window_labels(labels, starts)
    keep = y > 0
    _write_uci_folder(tmp_path / "UCI", to_official_scale(X[keep]), y[keep], np.full(keep.sum(), 31))
    assert har(["train", "--uci-features", str(tmp_path / "UCI"), "--quick"]) == 1
    assert "subjects [31] are not UCI HAR volunteers" in capsys.readouterr().err


def test_training_commands_without_the_train_extra_say_how_to_install_it(monkeypatch, capsys):
    import sys

    # As on a runtime-only install: the training modules cannot be imported.
    for name in ("har.model.train", "har.model.export", "sklearn", "onnx"):
        monkeypatch.setitem(sys.modules, name, None)
    assert har(["train", "--quick"]) == 2
    err = capsys.readouterr().err
    assert "pip install 'har-engine[train]'" in err and "Traceback" not in err
