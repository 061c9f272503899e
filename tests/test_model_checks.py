"""Models whose class table disagrees with the engine's activity table are refused on load."""

from __future__ import annotations

import json

import numpy as np
import onnx
import pytest
from onnx import numpy_helper

from har.features.contract import META_CLASS_IDS, META_CLASS_NAMES, MODEL_CLASS_IDS, MODEL_CLASS_NAMES
from har.model import cli
from har.runtime import ModelError, load_model
from har.runtime.model import bundled_model_path
from har.runtime.model_checks import check_model_metadata, check_model_outputs

NAMES = list(MODEL_CLASS_NAMES)
IDS = list(MODEL_CLASS_IDS)
OUTPUTS = {"probabilities": ["N", 6], "label": ["N"]}


def meta(ids=IDS, names=NAMES):
    return {META_CLASS_IDS: json.dumps(ids), META_CLASS_NAMES: json.dumps(names)}


def swapped(names):
    names = list(names)
    names[0], names[5] = names[5], names[0]
    return names


BAD_TABLES = {
    "swapped names": (IDS, swapped(NAMES), "class id 1 is named 'LAYING' in the model but is 'WALKING'"),
    "five names": (IDS, NAMES[:5], "6 class ids [1, 2, 3, 4, 5, 6] but 5 class names"),
    "mismatched ids": ([1, 2, 3, 4, 5, 7], NAMES, "class ids [7] are not activities the engine predicts"),
    "duplicate names": (IDS, NAMES[:5] + ["WALKING"], "duplicate class names ['WALKING']"),
    "duplicate ids": ([1, 2, 3, 4, 5, 5], NAMES, "duplicate class ids [5]"),
    "ids out of order": ([2, 1, 3, 4, 5, 6], NAMES, "are not in increasing order"),
    "misspelt name": (IDS, NAMES[:5] + ["LYING"], "class id 6 is named 'LYING'"),
    "ids not numbers": (["1", 2, 3, 4, 5, 6], NAMES, "class_ids must be integers, got '1'"),
}


def test_the_engines_own_table_passes():
    assert check_model_metadata(meta(), OUTPUTS, "m.onnx") == (tuple(IDS), tuple(NAMES))
    # A model of some of the activities is fine as long as ids and names agree with the table.
    assert check_model_metadata(meta([4, 5, 6], NAMES[3:]), {"probabilities": [None, 3], "label": [None]},
                                "m.onnx") == ((4, 5, 6), tuple(NAMES[3:]))


@pytest.mark.parametrize("case", sorted(BAD_TABLES))
def test_a_bad_class_table_is_refused_with_the_reason(case):
    ids, names, reason = BAD_TABLES[case]
    with pytest.raises(ModelError) as err:
        check_model_metadata(meta(ids, names), OUTPUTS, "bad.onnx")
    assert str(err.value).startswith("bad.onnx: ") and reason in str(err.value)


@pytest.mark.parametrize("outputs, reason", [
    ({"probabilities": ["N", 5], "label": ["N"]}, "has shape ['N', 5], expected [N, 6]"),
    ({"probabilities": ["N"], "label": ["N"]}, "expected [N, 6]"),
    ({"probabilities": ["N", 6], "label": ["N", 1]}, "output 'label' has shape"),
    ({"probabilities": ["N", 6]}, "expected 'label' and 'probabilities'"),
])
def test_outputs_of_the_wrong_shape_are_refused(outputs, reason):
    with pytest.raises(ModelError, match=None) as err:
        check_model_metadata(meta(), outputs, "bad.onnx")
    assert reason in str(err.value)


def test_metadata_that_is_not_json_is_refused():
    with pytest.raises(ModelError, match="class_names is not JSON"):
        check_model_metadata({META_CLASS_IDS: "[1, 2]", META_CLASS_NAMES: "WALKING,SITTING"}, OUTPUTS, "m.onnx")


def test_outputs_checks_catch_labels_outside_and_nan():
    proba = np.eye(6)[[0, 3]]
    check_model_outputs(np.array([1, 4]), proba, IDS, "m.onnx")
    with pytest.raises(ModelError, match=r"gives ids \[11\] outside its class ids"):
        check_model_outputs(np.array([11, 4]), proba, IDS, "m.onnx")
    with pytest.raises(ModelError, match="disagrees with its most probable class"):
        check_model_outputs(np.array([4, 1]), proba, IDS, "m.onnx")
    with pytest.raises(ModelError, match="not finite"):
        check_model_outputs(np.array([1, 4]), proba * np.nan, IDS, "m.onnx")


# --------------------------------------------------------------------------- model files built in the test

def write_model(path, *, ids=None, names=None, graph_ids=None):
    model = onnx.load(str(bundled_model_path()))
    props = {p.key: p for p in model.metadata_props}
    if ids is not None:
        props[META_CLASS_IDS].value = json.dumps(ids)
    if names is not None:
        props[META_CLASS_NAMES].value = json.dumps(names)
    if graph_ids is not None:
        for k, init in enumerate(model.graph.initializer):
            if init.name == "class_ids":
                model.graph.initializer[k].CopyFrom(numpy_helper.from_array(np.asarray(graph_ids, np.int64), "class_ids"))
    onnx.save(model, str(path))
    return path


FILE_CASES = {
    "swapped names": ({"names": swapped(NAMES)}, "class id 1 is named 'LAYING'"),
    "five names": ({"names": NAMES[:5]}, "but 5 class names"),
    "mismatched ids": ({"ids": [1, 2, 3, 4, 5, 7]}, "class ids [7] are not activities"),
    "duplicate names": ({"names": NAMES[:5] + ["SITTING"]}, "duplicate class names ['SITTING']"),
    "label ids outside": ({"graph_ids": [11, 12, 13, 14, 15, 16]}, "label output gives ids"),
    "labels shifted": ({"graph_ids": [2, 3, 4, 5, 6, 1]}, "disagrees with its most probable class"),
}


@pytest.mark.parametrize("case", sorted(FILE_CASES))
def test_load_model_refuses_a_bad_file(tmp_path, case):
    changes, reason = FILE_CASES[case]
    path = write_model(tmp_path / f"{case.replace(' ', '_')}.onnx", **changes)
    with pytest.raises(ModelError) as err:
        load_model(path)
    assert str(err.value).startswith(path.name + ": ") and reason in str(err.value)


def test_the_bundled_model_and_an_unchanged_copy_load(tmp_path):
    model = load_model(write_model(tmp_path / "copy.onnx"))
    assert model.class_ids == tuple(IDS) and model.class_names == tuple(NAMES)


def test_har_predict_with_a_swapped_model_fails_once_and_writes_nothing(tmp_path, capsys):
    bad = write_model(tmp_path / "swapped.onnx", names=swapped(NAMES))
    rec = tmp_path / "r.npz"
    rng = np.random.default_rng(0)
    np.savez(rec, acc=rng.normal(0, 0.1, (500, 3)) + [1, 0, 0], gyro=rng.normal(0, 0.1, (500, 3)))
    out = tmp_path / "p.csv"
    code = cli.main(["predict", str(rec), "--model", str(bad), "--out", str(out)])
    err = capsys.readouterr().err
    assert code == 1 and "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert "swapped.onnx: class id 1 is named 'LAYING'" in err
    assert not out.exists()
