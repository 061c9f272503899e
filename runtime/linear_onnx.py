"""Read and write the engine's linear-softmax ONNX model without the ``onnx`` package.

The runtime has to write a personal model on a phone, where only numpy and onnxruntime exist. The
model is small and its graph fixed, so this module speaks the few protobuf messages it needs by
hand (https://protobuf.dev/programming-guides/encoding/): it parses the bundled model's weights
and metadata, and writes a model of the same contract::

    features [N, D] float32
      -> IsNaN/IsInf/Where                 NaN -> middle of the published range, +-inf -> its ends
                                           (raw-feature models only)
      -> Gemm(coef [D, K], intercept [K])  logits [N, K]
      -> Softmax(axis=1)                -> probabilities [N, K] float32
    logits -> ArgMax(axis=1, keepdims=0) -> Gather(class_ids) -> label [N] int64

Field numbers are those of ``onnx.proto`` (ModelProto, GraphProto, NodeProto, TensorProto, ...).
A file that is not this graph is refused with :class:`~har.runtime.errors.ModelError`.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from har.features.contract import META_FEATURE_SCALE, ONNX_INPUT, ONNX_LABEL, ONNX_PROBABILITIES, SCALE_RAW
from har.features.scale import RAW_MAX, RAW_MIN

from .errors import ModelError
from .files import atomic_write

__all__ = ["LinearModel", "GatedModel", "parse_any", "parse_model", "read_model", "serialize_model", "write_model"]

PRODUCER = "har-engine"
OPSET = 13
IR_VERSION = 8
INPUT_NAME = ONNX_INPUT
PROBA_NAME = ONNX_PROBABILITIES
LABEL_NAME = ONNX_LABEL
_FLOAT, _INT64 = 1, 7               # TensorProto.DataType
_ATTR_INT = 2                       # AttributeProto.AttributeType
_ALLOWED_OPS = {"Gemm", "Softmax", "ArgMax", "Gather"}
_GATED_OPS = {"Slice", "Mul", "Sum"}
#: The input guard of raw-feature models: NaN -> middle of the published range, +-inf -> its ends.
_GUARD_OPS = {"IsNaN", "IsInf", "Where"}
FINITE_NAME = "finite"


@dataclass
class LinearModel:
    """The parameters of a linear-softmax activity model.

    Attributes
    ----------
    weights : ndarray, shape (K, D), float64
        ``logits = features @ weights.T + bias``; rows in the order of ``class_ids``.
    bias : ndarray, shape (K,), float64
    class_ids : ndarray, shape (K,), int64
        Activity id of each row (increasing).
    metadata : dict of str -> str
        The model's ``metadata_props``.
    producer : str
        ``producer_name`` of the file.
    """

    weights: np.ndarray
    bias: np.ndarray
    class_ids: np.ndarray
    metadata: dict = field(default_factory=dict)
    producer: str = PRODUCER

    def logits(self, X: np.ndarray) -> np.ndarray:
        """Logits of feature rows ``X`` (n, D) -> (n, K)."""
        return np.asarray(X, dtype=np.float64) @ self.weights.T + self.bias


# ------------------------------------------------------------------------------------ reading

def _varint(buf: bytes, i: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        if i >= len(buf):
            raise ValueError("truncated varint")
        b = buf[i]
        i += 1
        result |= (b & 0x7F) << shift
        if not b & 0x80:
            return result, i
        shift += 7


def _fields(buf: bytes) -> list[tuple[int, int, object]]:
    """(field number, wire type, value) of a message: int for varint/fixed, bytes for length-delimited."""
    out, i = [], 0
    while i < len(buf):
        key, i = _varint(buf, i)
        number, wire = key >> 3, key & 7
        if wire == 0:
            value, i = _varint(buf, i)
        elif wire == 1:
            value, i = struct.unpack_from("<Q", buf, i)[0], i + 8
        elif wire == 5:
            value, i = struct.unpack_from("<I", buf, i)[0], i + 4
        elif wire == 2:
            n, i = _varint(buf, i)
            if i + n > len(buf):
                raise ValueError("truncated field")
            value, i = bytes(buf[i:i + n]), i + n
        else:
            raise ValueError(f"unsupported wire type {wire}")
        out.append((number, wire, value))
    return out


def _strings(fields, number: int) -> list[str]:
    return [v.decode("utf-8") for n, w, v in fields if n == number and w == 2]


def _one_string(fields, number: int, default: str = "") -> str:
    values = _strings(fields, number)
    return values[-1] if values else default


def _signed(v: int) -> int:
    return v - (1 << 64) if v >= 1 << 63 else v


def _ints(fields, number: int) -> list[int]:
    """A repeated int64 field, packed or not."""
    out = []
    for n, w, v in fields:
        if n != number:
            continue
        if w == 0:
            out.append(_signed(v))
        elif w == 2:
            i = 0
            while i < len(v):
                x, i = _varint(v, i)
                out.append(_signed(x))
    return out


def _tensor(buf: bytes) -> tuple[str, np.ndarray]:
    f = _fields(buf)
    name = _one_string(f, 8)
    dims = _ints(f, 1)
    dtype_code = _ints(f, 2)
    dtype = {_FLOAT: np.float32, _INT64: np.int64}.get(dtype_code[-1] if dtype_code else 0)
    if dtype is None:
        raise ValueError(f"initializer {name!r} has data type {dtype_code}, expected float or int64")
    raw = [v for n, w, v in f if n == 9 and w == 2]
    if raw:
        arr = np.frombuffer(raw[-1], dtype=np.dtype(dtype).newbyteorder("<"))
    elif dtype is np.float32:
        packed = b"".join(v for n, w, v in f if n == 4 and w == 2)
        single = [struct.pack("<I", v) for n, w, v in f if n == 4 and w == 5]
        arr = np.frombuffer(packed + b"".join(single), dtype="<f4")
    else:
        arr = np.array(_ints(f, 7), dtype=np.int64)
    if int(np.prod(dims)) != arr.size:
        raise ValueError(f"initializer {name!r}: {arr.size} values for dims {dims}")
    return name, arr.reshape(dims).astype(dtype)


def _attributes(node_fields) -> dict[str, object]:
    out = {}
    for n, w, v in node_fields:
        if n != 5:
            continue
        a = _fields(v)
        name = _one_string(a, 1)
        floats = [x for k, ww, x in a if k == 2 and ww == 5]
        ints = _ints(a, 3)
        if floats:
            out[name] = struct.unpack("<f", struct.pack("<I", floats[-1]))[0]
        elif ints:
            out[name] = ints[-1]
    return out


@dataclass
class GatedModel:
    """A placement-gated model: per-placement linear heads mixed by a linear gate.

    ``p(class | x) = sum_h softmax(gate(x))_h * softmax(head_h(x))``; each layer is a
    :class:`LinearModel` (the gate's ``class_ids`` are the head indices).
    """

    gate: LinearModel
    heads: list
    class_ids: np.ndarray
    metadata: dict = field(default_factory=dict)
    producer: str = PRODUCER


def _parse(data: bytes, where: str):
    try:
        model = _fields(data)
        graphs = [v for n, w, v in model if n == 7 and w == 2]
        if not graphs:
            raise ValueError("no graph")
        graph = _fields(graphs[-1])
        initializers = dict(_tensor(v) for n, w, v in graph if n == 5 and w == 2)
        nodes = [_fields(v) for n, w, v in graph if n == 1 and w == 2]
        metadata = {}
        for n, w, v in model:
            if n == 14 and w == 2:
                entry = _fields(v)
                metadata[_one_string(entry, 1)] = _one_string(entry, 2)
        producer = _one_string(model, 2)
    except (ValueError, struct.error, UnicodeDecodeError) as exc:
        raise ModelError(f"{where}: not a readable ONNX file ({exc})") from None
    return nodes, initializers, metadata, producer


def _gemm(node, initializers, where: str) -> tuple[np.ndarray, np.ndarray]:
    inputs = _strings(node, 1)
    attrs = _attributes(node)
    if len(inputs) != 3 or inputs[1] not in initializers or inputs[2] not in initializers or attrs.get("transA", 0):
        raise ModelError(f"{where}: a Gemm does not take constant weights and bias")
    B = initializers[inputs[1]].astype(np.float64)
    weights = (B if attrs.get("transB", 0) else B.T) * float(attrs.get("alpha", 1.0))
    bias = np.broadcast_to(initializers[inputs[2]].astype(np.float64).reshape(-1), (weights.shape[0],)).copy()
    return weights, bias * float(attrs.get("beta", 1.0))


def _class_ids(gathers, initializers, n_classes: int, where: str) -> np.ndarray:
    table = _strings(gathers[0], 1)[0] if len(gathers) == 1 else None
    if table not in initializers or initializers[table].shape != (n_classes,):
        raise ModelError(f"{where}: the Gather does not map {n_classes} classes to ids")
    return initializers[table].astype(np.int64)


def parse_any(data: bytes, where: str = "model") -> "LinearModel | GatedModel":
    """A serialized model of this engine: one linear-softmax layer, or placement heads behind a gate.

    Parameters
    ----------
    data : bytes
        A serialized ONNX ModelProto.
    where : str
        Name used in error messages (the file name).

    Raises
    ------
    ModelError
        Not protobuf, or a graph of other operators.
    """
    nodes, initializers, metadata, producer = _parse(data, where)
    ops = [_one_string(nd, 4) for nd in nodes]
    gemms = [nd for nd, op in zip(nodes, ops) if op == "Gemm"]
    gathers = [nd for nd, op in zip(nodes, ops) if op == "Gather"]
    if set(ops) <= _ALLOWED_OPS | _GUARD_OPS and len(gemms) == 1:
        weights, bias = _gemm(gemms[0], initializers, where)
        class_ids = _class_ids(gathers, initializers, weights.shape[0], where)
        return LinearModel(weights, bias, class_ids, metadata, producer)
    if set(ops) <= _ALLOWED_OPS | _GATED_OPS | _GUARD_OPS and len(gemms) >= 3:
        # The gate's softmax output is the one that Slice nodes read.
        producers = {o: nd for nd in nodes for o in _strings(nd, 2)}
        sliced = {_strings(nd, 1)[0] for nd, op in zip(nodes, ops) if op == "Slice"}
        softmax_in = {_strings(nd, 2)[0]: _strings(nd, 1)[0] for nd, op in zip(nodes, ops) if op == "Softmax"}
        gate_outputs = {softmax_in[s] for s in sliced if s in softmax_in}
        if len(gate_outputs) == 1:
            gate_node = producers[gate_outputs.pop()]
            gw, gb = _gemm(gate_node, initializers, where)
            heads = []
            for nd in gemms:
                if nd is gate_node:
                    continue
                heads.append(_gemm(nd, initializers, where))
            if len(heads) == gw.shape[0] and len({w.shape for w, _ in heads}) == 1:
                class_ids = _class_ids(gathers, initializers, heads[0][0].shape[0], where)
                return GatedModel(LinearModel(gw, gb, np.arange(len(heads))),
                                  [LinearModel(w, b, class_ids) for w, b in heads], class_ids, metadata, producer)
    raise ModelError(f"{where}: not a linear-softmax model of this engine (operators {sorted(set(ops))}; "
                     f"expected one Gemm, Softmax, ArgMax and Gather, or placement heads behind a gate)")


def parse_model(data: bytes, where: str = "model") -> LinearModel:
    """The weights, classes and metadata of a serialized linear-softmax model.

    Raises
    ------
    ModelError
        The bytes are not protobuf, or the graph is not one Gemm feeding Softmax and
        ArgMax -> Gather(class_ids).
    """
    model = parse_any(data, where)
    if not isinstance(model, LinearModel):
        raise ModelError(f"{where}: a placement-gated model, not one linear layer")
    return model


def read_model(path) -> LinearModel:
    """:func:`parse_model` of the file at ``path``."""
    path = Path(path)
    if not path.exists():
        raise ModelError(f"{path}: no such model file")
    return parse_model(path.read_bytes(), path.name)


# ------------------------------------------------------------------------------------ writing

def _enc_varint(value: int) -> bytes:
    value &= (1 << 64) - 1
    out = bytearray()
    while True:
        b = value & 0x7F
        value >>= 7
        if value:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def _key(number: int, wire: int) -> bytes:
    return _enc_varint(number << 3 | wire)


def _int(number: int, value: int) -> bytes:
    return _key(number, 0) + _enc_varint(int(value))


def _bytes(number: int, value: bytes | str) -> bytes:
    data = value.encode("utf-8") if isinstance(value, str) else value
    return _key(number, 2) + _enc_varint(len(data)) + data


def _tensor_proto(name: str, array: np.ndarray) -> bytes:
    array = np.ascontiguousarray(array)
    code = _INT64 if array.dtype == np.int64 else _FLOAT
    little = array.astype("<i8" if code == _INT64 else "<f4")
    return (b"".join(_int(1, d) for d in array.shape) + _int(2, code) + _bytes(8, name)
            + _bytes(9, little.tobytes()))


def _value_info(name: str, elem_type: int, dims: list) -> bytes:
    shape = b"".join(_bytes(1, _bytes(2, d) if isinstance(d, str) else _int(1, d)) for d in dims)
    tensor_type = _int(1, elem_type) + _bytes(2, shape)
    return _bytes(1, name) + _bytes(2, _bytes(1, tensor_type))


def _node(op: str, inputs: list[str], outputs: list[str], name: str, **ints) -> bytes:
    body = b"".join(_bytes(1, i) for i in inputs) + b"".join(_bytes(2, o) for o in outputs)
    body += _bytes(3, name) + _bytes(4, op)
    for key, value in ints.items():
        body += _bytes(5, _bytes(1, key) + _int(3, value) + _int(20, _ATTR_INT))
    return body


def _guard_nodes() -> list[bytes]:
    """Raw features -> ``FINITE_NAME``: NaN to the middle of each feature's published range, +-inf to its ends."""
    return [
        _node("IsNaN", [INPUT_NAME], ["is_nan"], "undefined"),
        _node("Where", ["is_nan", "feature_middle", INPUT_NAME], ["defined"], "nan_to_middle"),
        _node("IsInf", ["defined"], ["is_high"], "too_high", detect_negative=0),
        _node("Where", ["is_high", "feature_high", "defined"], ["below_high"], "inf_to_high"),
        _node("IsInf", ["below_high"], ["is_low"], "too_low", detect_positive=0),
        _node("Where", ["is_low", "feature_low", "below_high"], [FINITE_NAME], "inf_to_low"),
    ]


def serialize_model(model: LinearModel, *, doc: str = "") -> bytes:
    """Serialize ``model`` as the engine's ONNX graph (opset 13, IR 8), metadata included.

    A model whose metadata says ``feature_scale`` is raw gets the input guard of the exporter (NaN
    features -> the middle of their published range, +-inf -> its ends) before the Gemm.

    Parameters
    ----------
    model : LinearModel
        Weights (K, D) and bias (K,) are stored as float32; ``metadata`` values must be strings.
    doc : str
        The model's doc string.

    Returns
    -------
    bytes
        A ModelProto that onnxruntime loads and ``onnx.checker`` accepts.
    """
    weights = np.asarray(model.weights, dtype=np.float64)
    n_classes, n_features = weights.shape
    if np.asarray(model.bias).shape != (n_classes,) or np.asarray(model.class_ids).shape != (n_classes,):
        raise ValueError(f"bias and class_ids must have shape ({n_classes},)")
    if not (np.isfinite(weights).all() and np.isfinite(model.bias).all()):
        raise ValueError("weights and bias must be finite")
    raw = model.metadata.get(META_FEATURE_SCALE) == SCALE_RAW
    nodes = _guard_nodes() if raw else []
    nodes += [
        _node("Gemm", [FINITE_NAME if raw else INPUT_NAME, "coef", "intercept"], ["logits"], "linear"),
        _node("Softmax", ["logits"], [PROBA_NAME], "softmax", axis=1),
        # ArgMax on the logits: float32 softmax can round two close classes to one probability.
        _node("ArgMax", ["logits"], ["class_index"], "argmax", axis=1, keepdims=0),
        _node("Gather", ["class_ids", "class_index"], [LABEL_NAME], "to_class_id", axis=0),
    ]
    graph = b"".join(_bytes(1, n) for n in nodes) + _bytes(2, "har_linear_softmax")
    graph += _bytes(5, _tensor_proto("coef", weights.T.astype(np.float32)))
    graph += _bytes(5, _tensor_proto("intercept", np.asarray(model.bias, dtype=np.float32)))
    graph += _bytes(5, _tensor_proto("class_ids", np.asarray(model.class_ids, dtype=np.int64)))
    if raw:
        for name, values in (("feature_middle", (RAW_MIN + RAW_MAX) / 2), ("feature_low", RAW_MIN),
                             ("feature_high", RAW_MAX)):
            graph += _bytes(5, _tensor_proto(name, np.asarray(values, dtype=np.float32)[None]))
    graph += _bytes(11, _value_info(INPUT_NAME, _FLOAT, ["N", n_features]))
    graph += _bytes(12, _value_info(LABEL_NAME, _INT64, ["N"]))
    graph += _bytes(12, _value_info(PROBA_NAME, _FLOAT, ["N", n_classes]))

    out = _int(1, IR_VERSION) + _bytes(2, PRODUCER)
    if doc:
        out += _bytes(6, doc)
    out += _bytes(7, graph) + _bytes(8, _bytes(1, "") + _int(2, OPSET))
    for key, value in model.metadata.items():
        if not isinstance(value, str):
            raise ValueError(f"metadata {key!r}: values must be strings, got {type(value).__name__}")
        out += _bytes(14, _bytes(1, str(key)) + _bytes(2, value))
    return out


def write_model(path, model: LinearModel, *, doc: str = "") -> Path:
    """Write :func:`serialize_model` to ``path`` atomically; returns the path."""
    return atomic_write(path, serialize_model(model, doc=doc))
