"""Personal models: the hand-written ONNX, fine-tuning, refusals, lineage, calibration, model switching,
the placement check, and ``har update`` on a small added set."""

from __future__ import annotations

import hashlib
import json

import numpy as np
import onnx
import onnxruntime as ort
import pytest

from har.features import extract_recording
from har.runtime import Recognizer
from har.runtime.calibration import Calibration, Step
from har.runtime.errors import ModelError
from har.runtime.finetune import fine_tune
from har.runtime.linear_onnx import GatedModel, LinearModel, parse_any, read_model, serialize_model
from har.runtime.model import ActivityModel, bundled_model_path
from har.runtime.personalize import (MIN_WINDOWS, PersonalizeError, UserWindows, check_windows, personalize,
                                     time_halves)
from har.runtime.placement import PlacementReference, gravity_directions, settled
from har.runtime.tools.user_data import recording_windows

NAMES = ["WALKING", "WALKING_UPSTAIRS", "WALKING_DOWNSTAIRS", "SITTING", "STANDING", "LAYING"]


@pytest.fixture(scope="module")
def sample_windows(sample_recording):
    r = sample_recording
    return recording_windows(r["acc"], r["gyro"], r["labels"])


def _write_csv(path, acc, gyro, labels):
    t = np.arange(len(acc)) / 50.0
    rows = np.column_stack([t, acc, gyro])
    with open(path, "w") as fh:
        fh.write("t,acc_x,acc_y,acc_z,gyro_x,gyro_y,gyro_z,label\n")
        for row, lab in zip(rows, labels):
            fh.write(",".join(f"{v:.6f}" for v in row) + f",{int(lab)}\n")


# ------------------------------------------------------------------------------- ONNX without onnx

@pytest.fixture(scope="module")
def linear_path(tmp_path_factory):
    """A one-layer model written by the training side's exporter: the bundled model's first head
    (or the bundled model itself when it is one layer), with the bundled metadata."""
    from har.features.scale import RAW_MAX, RAW_MIN
    from har.model.export import RESERVED_KEYS, build_linear_model

    bundled = parse_any(bundled_model_path().read_bytes())
    layer = bundled if isinstance(bundled, LinearModel) else bundled.heads[0]
    half_span = (RAW_MAX - RAW_MIN) / 2          # the exporter takes weights on the official scale
    W_off, b_off = layer.weights * half_span, layer.bias + layer.weights @ (half_span + RAW_MIN)
    from har.runtime.placement import PlacementReference

    # Without the placement reference: the tests add one where they need it.
    reference_keys = set(PlacementReference.from_windows(np.zeros((1, 561))).to_metadata())
    meta = {k: v for k, v in bundled.metadata.items() if k not in RESERVED_KEYS and k not in reference_keys}
    path = tmp_path_factory.mktemp("linear") / "linear.onnx"
    path.write_bytes(build_linear_model(W_off, b_off, bundled.class_ids, metadata=meta).SerializeToString())
    return path


def test_written_model_equals_the_exported_one_and_passes_the_checker(linear_path):
    base = read_model(linear_path)
    data = serialize_model(base)
    onnx.checker.check_model(onnx.load_from_string(data), full_check=True)
    X = np.random.default_rng(0).uniform(-1, 1, (40, 561)).astype(np.float32)
    X[0, 5], X[1, 7], X[2, 9] = np.nan, np.inf, -np.inf  # the raw model's input guard
    ref = ort.InferenceSession(str(linear_path)).run(None, {"features": X})
    ours = ort.InferenceSession(data).run(None, {"features": X})
    np.testing.assert_array_equal(ref[0], ours[0])
    np.testing.assert_array_equal(ref[1], ours[1])
    meta = onnx.load_from_string(data).metadata_props
    assert {p.key: p.value for p in meta} == base.metadata


def test_parse_reads_the_weights_the_exporter_wrote():
    pytest.importorskip("sklearn")
    from sklearn.linear_model import LogisticRegression

    from har.model.export import build_model, folded_weights, raw_unit_weights

    rng = np.random.default_rng(1)
    X = rng.normal(size=(120, 561))
    y = np.repeat([1, 2, 4], 40)
    clf = LogisticRegression(max_iter=500).fit(X, y)
    model = parse_any(build_model(clf, metadata={}).SerializeToString())
    W, b, ids = raw_unit_weights(*folded_weights(clf))      # the file takes raw features
    assert isinstance(model, LinearModel)
    np.testing.assert_allclose(model.weights, W, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(model.bias, b, rtol=1e-6, atol=1e-6)
    np.testing.assert_array_equal(model.class_ids, ids)


def test_parse_reads_a_gated_model():
    pytest.importorskip("sklearn")
    from har.model.export import build_model
    from har.model.gated import PlacementGatedClassifier

    rng = np.random.default_rng(2)
    X = rng.normal(size=(240, 561))
    y = np.tile(np.repeat([1, 4, 5], 40), 2)
    placement = np.repeat([0, 1], 120)
    X[placement == 1, 0] += 5
    est = PlacementGatedClassifier().fit(X, y, placement=placement)
    model = parse_any(build_model(est, metadata={}).SerializeToString())
    assert isinstance(model, GatedModel) and len(model.heads) == 2
    from har.features import from_official_scale

    raw = from_official_scale(X)                     # the file takes raw features
    g = model.gate.logits(raw)
    gate = np.exp(g - g.max(1, keepdims=True))
    gate /= gate.sum(1, keepdims=True)
    proba = 0
    for h, head in enumerate(model.heads):
        z = head.logits(raw)
        p = np.exp(z - z.max(1, keepdims=True))
        proba = proba + gate[:, [h]] * p / p.sum(1, keepdims=True)
    np.testing.assert_allclose(proba, est.predict_proba(X), atol=1e-4)


def test_parse_refuses_garbage_and_foreign_graphs():
    with pytest.raises(ModelError, match="not a readable ONNX"):
        parse_any(b"\xff\xff\xff\xff", "junk.onnx")
    node = onnx.helper.make_node("Relu", ["features"], ["label"])
    graph = onnx.helper.make_graph([node], "g", [onnx.helper.make_tensor_value_info("features", 1, [1, 561])],
                                   [onnx.helper.make_tensor_value_info("label", 1, [1, 561])])
    with pytest.raises(ModelError, match="not a linear-softmax model"):
        parse_any(onnx.helper.make_model(graph).SerializeToString(), "relu.onnx")


# ------------------------------------------------------------------------------- fine-tuning

def test_fine_tune_learns_the_user_and_keeps_unrecorded_rows(sample_windows, linear_path):
    from har.runtime.personalize import model_input

    base = read_model(linear_path)
    w = sample_windows
    still = np.isin(w.y, [4, 5])
    X = model_input(w.X[still], base.metadata["feature_scale"])
    y = np.where(w.y[still] == 4, 5, 4)                   # a user whose sitting looks like others' standing
    W, b = fine_tune(base.weights, base.bias, base.class_ids, X, y, lam=1e-3)
    pred = base.class_ids[np.argmax(X @ W.T + b, axis=1)]
    assert np.mean(pred == y) > 0.9
    assert np.mean(base.class_ids[np.argmax(base.logits(X), axis=1)] == y) < 0.1
    unrecorded = ~np.isin(base.class_ids, [4, 5])
    np.testing.assert_array_equal(W[unrecorded], base.weights[unrecorded])
    np.testing.assert_array_equal(b[unrecorded], base.bias[unrecorded])
    W_stiff, b_stiff = fine_tune(base.weights, base.bias, base.class_ids, X, y, lam=1e6)
    assert np.abs(W_stiff - base.weights).max() < np.abs(W - base.weights).max() / 100


def test_fine_tune_does_not_depend_on_the_feature_scale(sample_windows, linear_path):
    """The same model on raw features or on the official scale fine-tunes to the same classifier."""
    from har.features import to_official_scale
    from har.features.scale import RAW_MAX, RAW_MIN
    from har.runtime.personalize import feature_unit, model_input

    base = read_model(linear_path)
    assert base.metadata["feature_scale"] == "raw"
    Xr = model_input(sample_windows.X, "raw")
    half_span = (RAW_MAX - RAW_MIN) / 2
    W_off, b_off = base.weights * half_span, base.bias + base.weights @ (half_span + RAW_MIN)
    Wr, br = fine_tune(base.weights, base.bias, base.class_ids, Xr, sample_windows.y, lam=1e-3,
                       unit=feature_unit("raw"))
    Wo, bo = fine_tune(W_off, b_off, base.class_ids, to_official_scale(Xr), sample_windows.y, lam=1e-3,
                       unit=feature_unit("uci_official_minmax"))
    np.testing.assert_allclose(Xr @ Wr.T + br, to_official_scale(Xr) @ Wo.T + bo, atol=1e-8)


# ------------------------------------------------------------------------------- settling, placement

def test_settled_drops_the_first_seconds_and_after_a_gravity_jump():
    starts = np.arange(0, 1600, 16)
    dirs = np.tile([0.0, 1.0, 0.0], (len(starts), 1))
    dirs[starts >= 800] = [0.0, 0.0, 1.0]          # the phone turned 90 degrees at 16 s
    keep, _ = settled(dirs, starts, np.zeros(len(starts)))
    assert not keep[starts < 250].any() and keep[(starts >= 250) & (starts < 800)].all()
    assert not keep[(starts >= 800) & (starts < 1050)].any() and keep[starts >= 1050].all()
    # a new segment restarts the clock
    keep2, _ = settled(np.tile([0.0, 1.0, 0.0], (len(starts), 1)), starts, (starts >= 800).astype(int))
    assert not keep2[(starts >= 800) & (starts < 1050)].any()


def test_settled_in_pieces_equals_settled_at_once(sample_windows):
    w = sample_windows
    dirs = gravity_directions(w.X)
    whole, _ = settled(dirs, w.start, w.segment)
    state, parts = None, []
    for chunk in np.array_split(np.arange(len(w)), 7):
        keep, state = settled(dirs[chunk], w.start[chunk], w.segment[chunk], state)
        parts.append(keep)
    np.testing.assert_array_equal(np.concatenate(parts), whole)


def test_placement_check_flags_an_unseen_orientation(sample_recording):
    r = sample_recording
    _, X = extract_recording(r["acc"], r["gyro"])
    ref = PlacementReference.from_windows(X)
    assert ref.check(X).all()
    # Rotate the phone 180 degrees about z: an upright waist phone (x up) now hangs upside down.
    rot = np.diag([-1.0, -1.0, 1.0])
    _, Xr = extract_recording(r["acc"] @ rot.T, r["gyro"] @ rot.T)
    upright = gravity_directions(X)[:, 0] > 0.8
    assert upright.sum() > 20
    assert not ref.check(Xr[upright]).any()
    again = PlacementReference.from_metadata(ref.to_metadata())
    np.testing.assert_array_equal(again.check(Xr), ref.check(Xr))


def test_prediction_carries_placement_ok(tmp_path, sample_recording, linear_path):
    r = sample_recording
    assert all(p.placement_ok is None for p in Recognizer(str(linear_path)).push(r["acc"][:1000], r["gyro"][:1000]))
    base = read_model(linear_path)
    _, X = extract_recording(r["acc"], r["gyro"])
    base.metadata.update(PlacementReference.from_windows(X).to_metadata())
    path = tmp_path / "with_reference.onnx"
    path.write_bytes(serialize_model(base))
    rot = np.diag([-1.0, -1.0, 1.0])
    preds = Recognizer(str(path)).push(r["acc"][:3000] @ rot.T, r["gyro"][:3000] @ rot.T)
    straight = Recognizer(str(path)).push(r["acc"][:3000], r["gyro"][:3000])
    assert all(p.placement_ok is True for p in straight)
    assert sum(p.placement_ok is False for p in preds) > len(preds) // 2


# ------------------------------------------------------------------------------- refusals

def _windows(X, y):
    return UserWindows(X, np.asarray(y), np.zeros(len(y), np.int64), np.arange(len(y)) * 16)


def test_refuses_too_little_data(sample_windows):
    w = sample_windows
    few = w.select(np.isin(np.arange(len(w)), np.flatnonzero(w.y == 4)[:MIN_WINDOWS - 1]) | (w.y == 5))
    with pytest.raises(PersonalizeError, match=r"too little data: SITTING \d+ usable windows") as exc:
        personalize(bundled_model_path(), few)
    assert "\n" not in str(exc.value)
    with pytest.raises(PersonalizeError, match="no labelled windows"):
        personalize(bundled_model_path(), w.select(np.zeros(len(w), bool)))


def test_refuses_the_same_windows_under_two_labels(sample_windows):
    w = sample_windows
    walk = w.select(w.y == 1)
    twice = UserWindows(np.vstack([walk.X, walk.X]), np.concatenate([walk.y, np.full(len(walk), 3)]),
                        np.concatenate([walk.segment, walk.segment + 10**6]), np.concatenate([walk.start, walk.start]))
    with pytest.raises(PersonalizeError, match="contradictory class WALKING: .* also labelled WALKING_DOWNSTAIRS"):
        check_windows(twice, [1, 2, 3, 4, 5, 6], NAMES)


def test_refuses_a_label_the_motion_contradicts(sample_windows):
    w = sample_windows
    y = w.y.copy()
    y[y == 1] = 2
    y[y == 5] = 1                                           # standing still, labelled walking
    relabelled = UserWindows(w.X, y, w.segment, w.start)
    with pytest.raises(PersonalizeError, match="contradictory class WALKING: .* still"):
        personalize(bundled_model_path(), relabelled)
    y = w.y.copy()
    y[y == 6] = 4
    y[y == 3] = 6                                           # walking downstairs, labelled lying
    with pytest.raises(PersonalizeError, match="contradictory class LAYING: .* moving"):
        personalize(bundled_model_path(), UserWindows(w.X, y, w.segment, w.start))


def test_refuses_a_base_model_not_of_this_engine(tmp_path, sample_windows):
    base = onnx.load(str(bundled_model_path()))
    base.producer_name = "someone-else"
    foreign = tmp_path / "foreign.onnx"
    foreign.write_bytes(base.SerializeToString())
    with pytest.raises(PersonalizeError, match="not a model of this engine"):
        personalize(foreign, sample_windows)
    notonnx = tmp_path / "notes.onnx"
    notonnx.write_text("hello")
    with pytest.raises(PersonalizeError, match="base model notes.onnx: not a"):
        personalize(notonnx, sample_windows)


# ------------------------------------------------------------------------------- lineage

def test_lineage_metadata(tmp_path, sample_windows):
    result = personalize(bundled_model_path(), sample_windows, source="sample")
    path = result.write(tmp_path / "my.onnx")
    onnx.checker.check_model(onnx.load(str(path)), full_check=True)
    meta = ActivityModel(path).metadata
    assert meta["parent_model_sha256"] == hashlib.sha256(bundled_model_path().read_bytes()).hexdigest()
    assert meta["personal_data_sha256"] == sample_windows.digest()
    per_class = json.loads(meta["personal_windows_per_class"])
    assert per_class == {n: int((sample_windows.y == c).sum()) for c, n in enumerate(NAMES, 1)
                         if (sample_windows.y == c).any()}
    held = json.loads(meta["personal_heldout"])
    assert held["before"] == result.before and held["after"] == result.after
    assert 0 < held["after"]["windows"] <= len(sample_windows)
    assert "L2 pull" in meta["personal_method"] and meta["personal_fallback"] in ("yes", "no")
    assert meta["created"][:4].isdigit() and meta["parent_metadata"]
    assert meta["class_names"] == json.dumps(NAMES)
    # another data set gives another digest
    assert sample_windows.select(sample_windows.y != 2).digest() != meta["personal_data_sha256"]


def test_personalize_a_gated_base(tmp_path, sample_windows):
    pytest.importorskip("sklearn")
    from har.features import to_official_scale
    from har.model.export import export_onnx
    from har.model.gated import PlacementGatedClassifier

    w = sample_windows
    X = to_official_scale(w.X)
    placement = (np.arange(len(w)) % 2).astype(int)
    X2 = X.copy()
    X2[placement == 1, :40] *= -1                       # a second "placement" the gate can tell apart
    est = PlacementGatedClassifier(head_C=1.0).fit(X2, w.y, placement=placement)
    base = tmp_path / "gated.onnx"
    export_onnx(est, base, metadata={"training_data": "synthetic"})
    result = personalize(base, w)
    meta = result.model.metadata
    assert meta["parent_head"].startswith("head ") and "placement-gated" in meta["parent_head"]
    out = result.write(tmp_path / "p.onnx")
    assert isinstance(read_model(out), LinearModel)
    assert ActivityModel(out).predict(X[:5])[0].shape == (5,)


def test_time_halves_never_overlap(sample_windows):
    fold = time_halves(sample_windows)
    for c in np.unique(sample_windows.y):
        a = (fold == 0) & (sample_windows.y == c)
        b = (fold == 1) & (sample_windows.y == c)
        assert a.sum() and b.sum()
        for seg in np.unique(sample_windows.segment[a]):
            sa = sample_windows.start[a & (sample_windows.segment == seg)]
            sb = sample_windows.start[b & (sample_windows.segment == seg)]
            if len(sa) and len(sb):
                assert sa.max() + 129 <= sb.min()


# ------------------------------------------------------------------------------- command line

def test_har_personalize_command(tmp_path, sample_recording, capsys):
    from har.model.cli import main

    r = sample_recording
    data = tmp_path / "me.csv"
    _write_csv(data, r["acc"], r["gyro"], r["labels"])
    out = tmp_path / "my.onnx"
    assert main(["personalize", str(data), "--out", str(out)]) == 0
    assert "windows per class" in capsys.readouterr().out
    assert Recognizer(str(out)).push(r["acc"][:500], r["gyro"][:500])
    short = tmp_path / "short.csv"
    _write_csv(short, r["acc"][:900], r["gyro"][:900], r["labels"][:900])
    assert main(["personalize", str(short), "--out", str(tmp_path / "no.onnx")]) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("har personalize: too little data") and "\n" not in err
    assert not (tmp_path / "no.onnx").exists()


# ------------------------------------------------------------------------------- app side

def _segments(labels, activity):
    idx = np.flatnonzero(labels == activity)
    cut = np.flatnonzero(np.diff(idx) > 1)
    return np.split(idx, cut + 1)


def test_calibration_collects_steps_and_switches_the_model_keeping_the_stream(tmp_path, sample_recording):
    r = sample_recording
    rec = Recognizer()
    cal = Calibration(rec, steps=[Step(5, "Stand still", 10), Step(1, "Walk", 10), Step(2, "Walk upstairs", 60)])
    assert cal.prompt.startswith("Stand still: 10 s")
    for activity in (5, 1):
        seg = _segments(r["labels"], activity)[0]
        cal.begin()
        for a in range(seg[0], seg[-1], 50):
            cal.push(r["acc"][a:a + 50], r["gyro"][a:a + 50])
            if not cal.recording:
                break
        assert not cal.recording and cal.progress == 0.0
    cal.skip()
    assert cal.done and set(cal.windows_per_activity) == {"STANDING", "WALKING"}
    n_before = rec.n_samples
    result = cal.finish(tmp_path / "cal.onnx")
    assert rec.model.path == tmp_path / "cal.onnx"
    assert json.loads(result.model.metadata["personal_windows_per_class"]).keys() == {"STANDING", "WALKING"}
    # the stream goes on: the next windows come on the usual grid, no refill
    preds = rec.push(r["acc"][n_before:n_before + 200], r["gyro"][n_before:n_before + 200])
    assert preds and all(p.start % 64 == 0 and p.start >= n_before - 128 for p in preds)


def test_set_model_keeps_the_stream_state(tmp_path, sample_recording, sample_windows):
    r = sample_recording
    other = personalize(bundled_model_path(), sample_windows).write(tmp_path / "p.onnx")
    switched = Recognizer()
    first = switched.push(r["acc"][:3000], r["gyro"][:3000])
    switched.set_model(str(other))
    second = switched.push(r["acc"][3000:6000], r["gyro"][3000:6000])
    fresh = Recognizer(str(other)).push(r["acc"][:6000], r["gyro"][:6000])
    assert [p.start for p in first + second] == [p.start for p in fresh]
    for a, b in zip(second, fresh[len(first):]):
        assert a.label == b.label
        assert a.probabilities == pytest.approx(b.probabilities, abs=1e-6)


def test_personal_model_on_the_phone_loads_no_training_or_tool_module(tmp_path, linear_path):
    import subprocess
    import sys

    code = f"""
import sys, numpy as np
from har.runtime import Calibration, Recognizer
from har.runtime.linear_onnx import read_model, serialize_model
from har.runtime.finetune import fine_tune
base = read_model({str(linear_path)!r})
X = np.random.default_rng(0).normal(size=(50, 561))
W, b = fine_tune(base.weights, base.bias, base.class_ids, X, np.repeat([4, 5], 25), lam=1e-3)
base.weights, base.bias = W, b
open({str(tmp_path / 'p.onnx')!r}, 'wb').write(serialize_model(base))
rec = Recognizer({str(tmp_path / 'p.onnx')!r})
cal = Calibration(rec)
bad = sorted(m for m in sys.modules if m.split('.')[0] in ('sklearn', 'skl2onnx', 'onnx', 'pandas')
             or m.startswith('har.model') or m.startswith('har.runtime.tools'))
print(','.join(bad))
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == ""


# ------------------------------------------------------------------------------- har update (CI)

def test_har_update_small_added_set(tmp_path, hapt_recordings, capsys):
    from conftest import SHARED

    from har.model.cli import main
    from har.runtime.tools.hapt import TRAIN_SUBJECTS

    motionsense = SHARED / "motionsense"
    if not (motionsense / "motionsense.npz").exists():
        pytest.skip(f"MotionSense not found at {motionsense}: the bundled model learnt the pocket from it")
    pocket = ["--motionsense", str(motionsense)]

    rec = next(r for r in hapt_recordings.values() if r.user in TRAIN_SUBJECTS)
    good = tmp_path / "good.npz"
    np.savez(good, acc=rec.acc, gyro=rec.gyro, labels=rec.labels)
    swap = {1: 6, 6: 1, 2: 4, 4: 2, 3: 5, 5: 3}
    bad = tmp_path / "bad.npz"
    np.savez(bad, acc=rec.acc, gyro=rec.gyro, labels=np.array([swap.get(int(v), v) for v in rec.labels]))

    out = tmp_path / "new.onnx"
    assert main(["update", "--add", str(good), "--out", str(out), "--train-fraction", "0.1",
                 "--tolerance", "0.05", *pocket]) == 0
    meta = ActivityModel(out).metadata
    assert meta["parent_model_sha256"] == hashlib.sha256(bundled_model_path().read_bytes()).hexdigest()
    # Refitted with the base's own recipe (augmented trials, borrowed LAYING, gate temperature).
    base_recipe = ActivityModel(bundled_model_path()).metadata["recipe"]
    assert meta["recipe"] == base_recipe and "gate_temperature" in json.loads(base_recipe)
    assert meta["augmentation"] == ActivityModel(bundled_model_path()).metadata["augmentation"]
    assert meta["model"].startswith(ActivityModel(bundled_model_path()).metadata["hyperparameters"])
    scores = json.loads(meta["heldout_update_scores"])
    assert scores["waist"]["before"] - scores["waist"]["after"] <= 0.05
    assert sum(json.loads(meta["added_windows_per_class"]).values()) > 100
    capsys.readouterr()

    refused = tmp_path / "refused.onnx"
    assert main(["update", "--add", str(bad), str(bad), "--out", str(refused), "--train-fraction", "0.1",
                 "--tolerance", "0.01", *pocket]) == 1
    err = capsys.readouterr().err.strip()
    assert "refused, nothing written: waist macro-F1 would drop by" in err and "\n" not in err
    assert not refused.exists() and not list(tmp_path.glob(".*candidate*"))


def test_update_reads_a_recipe_back_as_the_estimator_parameters():
    from har.model.update import _recipe

    params = {"head_data": [[0], [1, 2]], "borrowed": [[], [6]], "gate_placements": [0, 1], "gate_C": 0.1,
              "gate_temperature": 16.0, "head_C": [0.3, 0.1]}
    got = _recipe(json.dumps(params))
    assert got == {"head_data": ((0,), (1, 2)), "borrowed": ((), (6,)), "gate_placements": (0, 1), "gate_C": 0.1,
                   "gate_temperature": 16.0, "head_C": (0.3, 0.1)}
    assert _recipe(None) is None and _recipe("") is None


def test_update_refits_with_the_augmentation_the_base_was_trained_with():
    from har.model.augment import Augmentation, Tilts
    from har.model.update import recipe_augmentation

    recipe = {"head_data": ((0, 3), (1, 2))}
    aug = Augmentation(waist=Tilts(10.0, 30.0, 1, seed=1), pocket=Tilts(20.0, 45.0, 2, seed=2), pocket_turned=True)
    assert recipe_augmentation({"augmentation": aug.to_json()}, recipe) == aug
    # Gated models from before tilting stored no augmentation: their pocket head learnt the turned trials.
    assert recipe_augmentation({}, {"head_data": ((0,), (1, 2))}) == Augmentation(pocket_turned=True)
    assert recipe_augmentation({}, {"head_data": ((0,), (0, 1))}) is None
    assert recipe_augmentation({}, None) is None
