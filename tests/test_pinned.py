"""`har pin`: one placement's head of the placement-gated model as a model of its own."""

from __future__ import annotations

import hashlib
import json

import numpy as np
import pytest

from har.features.contract import REQUIRED_META
from har.model.cli import main as har
from har.runtime import Recognizer
from har.runtime.linear_onnx import GatedModel, LinearModel, parse_any, serialize_model
from har.runtime.model import ActivityModel, bundled_model_path
from har.runtime.pinned import PinError, _head_of, pin_placement


@pytest.fixture(scope="module")
def bundled():
    model = parse_any(bundled_model_path().read_bytes())
    if not isinstance(model, GatedModel):
        pytest.skip("the bundled model has no placement gate")
    return model


def test_pinned_model_is_the_named_head_with_its_lineage(tmp_path, bundled, sample_recording):
    from har.features import extract_recording

    _, X = extract_recording(sample_recording["acc"], sample_recording["gyro"])
    names = json.loads(bundled.metadata["placements"])
    for word, head in (("waist", 0), ("POCKET", 1)):
        pinned = pin_placement(bundled_model_path(), word)
        np.testing.assert_array_equal(pinned.weights, bundled.heads[head].weights)
        np.testing.assert_array_equal(pinned.bias, bundled.heads[head].bias)
        meta = pinned.metadata
        assert meta["pinned_placement"] == names[head]
        assert meta["parent_model_sha256"] == hashlib.sha256(bundled_model_path().read_bytes()).hexdigest()
        assert all(meta[k] == bundled.metadata[k] for k in REQUIRED_META)
        assert meta["placement_directions"] == bundled.metadata["placement_directions"]
        parent_meta = json.loads(meta["parent_metadata"])
        assert parent_meta["heldout_waist_macro_f1"] == bundled.metadata["heldout_waist_macro_f1"]
        path = tmp_path / f"{word}.onnx"
        path.write_bytes(serialize_model(pinned))
        labels, _ = ActivityModel(path).predict(X)        # onnxruntime on the written file
        expected = bundled.class_ids[np.argmax(bundled.heads[head].logits(X), axis=1)]
        np.testing.assert_array_equal(labels, expected)
    # On a still waist recording the two heads disagree somewhere: pinning chooses, it is not a no-op.
    waist_labels = bundled.class_ids[np.argmax(bundled.heads[0].logits(X), axis=1)]
    pocket_labels = bundled.class_ids[np.argmax(bundled.heads[1].logits(X), axis=1)]
    assert np.any(waist_labels != pocket_labels)


def test_pin_refuses_in_one_line(tmp_path, bundled):
    with pytest.raises(PinError, match=r"no placement of the model has the word 'belt'; its placements: waist"):
        pin_placement(bundled_model_path(), "belt")
    with pytest.raises(PinError, match="2 placements of the model have the word 'belt'"):
        _head_of(["waist belt", "belt pocket"], "belt")
    assert _head_of(["waist belt", "belt pocket"], "Pocket") == 1
    one = tmp_path / "one.onnx"
    one.write_bytes(serialize_model(LinearModel(bundled.heads[0].weights, bundled.heads[0].bias, bundled.class_ids,
                                                dict(bundled.metadata))))
    with pytest.raises(PinError, match="one linear layer, no placement heads"):
        pin_placement(one, "waist")
    junk = tmp_path / "junk.onnx"
    junk.write_bytes(b"not a model")
    with pytest.raises(PinError, match="junk.onnx"):
        pin_placement(junk, "waist")


def test_heads_without_placement_names_go_by_number(bundled):
    from dataclasses import replace

    from har.runtime.pinned import placement_names

    assert placement_names(bundled) == json.loads(bundled.metadata["placements"])
    for broken in ("not json", "[\"only one\"]", ""):
        model = replace(bundled, metadata={**bundled.metadata, "placements": broken})
        assert placement_names(model) == ["head 0", "head 1"]
    assert _head_of(["head 0", "head 1"], "1") == 1


def test_har_pin_command_writes_a_model_the_recognizer_loads(tmp_path, sample_recording, capsys):
    out = tmp_path / "waist.onnx"
    assert har(["pin", "waist", "--out", str(out)]) == 0
    assert "the waist (HAPT / UCI HAR) head of model.onnx" in capsys.readouterr().out
    preds = Recognizer(str(out)).push(sample_recording["acc"][:1000], sample_recording["gyro"][:1000])
    assert preds and all(p.label in ("WALKING", "WALKING_UPSTAIRS", "WALKING_DOWNSTAIRS", "SITTING", "STANDING",
                                     "LAYING") for p in preds)
    before = out.read_bytes()
    assert har(["pin", "pocket", "--model", str(out), "--out", str(tmp_path / "p.onnx")]) == 1
    err = capsys.readouterr().err.strip()
    assert err == f"har pin: {out}: one linear layer, no placement heads to choose from"
    base = tmp_path / "base.onnx"
    base.write_bytes(bundled_model_path().read_bytes())
    assert har(["pin", "waist", "--model", str(base), "--out", str(base)]) == 1
    err = capsys.readouterr().err.strip()
    assert "is the input" in err and "\n" not in err
    assert base.read_bytes() == bundled_model_path().read_bytes()      # nothing written over the base
    assert har(["pin", "waist", "--out", "-"]) == 1
    assert "--out must be a file path" in capsys.readouterr().err
    assert out.read_bytes() == before


def test_har_personalize_refuses_to_write_over_its_input(tmp_path, sample_recording, capsys):
    from test_personalize import _write_csv

    r = sample_recording
    data = tmp_path / "me.csv"
    _write_csv(data, r["acc"][:3000], r["gyro"][:3000], r["labels"][:3000])
    before = data.read_bytes()
    assert har(["personalize", str(data), "--out", str(data)]) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"har personalize: {data}") and "is the input" in err
    assert data.read_bytes() == before
