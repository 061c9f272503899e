"""The whole engine as one ONNX graph: 64 raw samples and a state in, a window's activity and the new state out.

The graph runs the UCI HAR chain and all 561 features of ``har.features`` with default-domain
operators, then the classifier's own nodes (inlined from its ONNX file)::

    samples [B, 64, 6], state [B, S]
      -> median of 3 (gap rows zeroed: a gap closes and reopens the chain as zero padding does)
      -> IIR cascades in block-state form: y = T u + O z, z' = A^64 z + R u (one matrix product each)
      -> 9 signals for the 64 newest samples, appended to the 128 kept in the state
      -> the window starting 192 samples before the newest sample: 20 time series, 13 spectra
         (DFT as a matrix product), every statistic, Burg AR(4), entropy, angles
      -> features [B, 561] -> classifier -> probabilities [B, K], label [B]

Node count matters as much as arithmetic: onnxruntime spends about 0.3 us per node whatever its
size, so same-kind work is stacked (the 20 series and the 13 spectra, each written twice to 128
values, are one [B, 33, 128] tensor for mean, std, mad, max, min and energy; the statistics of
all 33 are one [B, 33, 8] tensor; the features are one Gather from 7 such pieces), and linear
steps are products with constant matrices (the chain's 9 outputs in one product; Burg's
polynomial updates as 0/+-1 maps). Work that costs per value (the quartile selection, the
entropy's scatter-add) runs on the spectra's own 64 values instead.

Why block-state form: a sample-by-sample recursion in float32 accumulates rounding through poles
at 0.96..0.99 (the 0.3 Hz gravity and 0.1 Hz drift low-passes); the block form applies the pole
only once per block (``A^64``, spectral radius 0.07..0.57), and computes body acceleration and body
gyro with their own impulse responses instead of subtracting two nearly equal float32 signals.

Gaps: a non-finite sample ends the chain's segment exactly as ``features.chain`` does. Within a
block, positions are numbered by segment (cumulative count of gaps); the Toeplitz matrix is masked
to pairs in the same segment and the carried state only reaches the first segment, so the
filters restart with zero state after the gap, as ``extract_recording`` does.

State layout per stream (float, ``STATE_SIZE`` values, zeros for a new stream; ``state_layout()``
and the file's ``state_layout`` metadata give the offsets): 128 past samples of the 9 chain signals
(NaN at gaps), the last 2 raw samples (the median's look-behind and the sample whose median waits
for its successor), the acc and gyro cascades' filter states, the number of blocks seen
(saturating at 3), and for gravity's precise differences the acc filter input of the last 128
samples and the acc filter state at the start of each of the last two blocks.

Float32 precision: gravity (about 1 g, smooth) varies by 1e-6 g at its 4th difference, below
float32 resolution of its samples, and Burg's AR fit of a smooth series depends on exactly those
differences (float32 samples alone put tGravityAcc-arCoeff off by up to 10 on the official scale).
The graph therefore computes gravity's differences directly from the filter input (linear maps
about a steady state, so rounding scales with the motion, not with 1 g), runs gravity's Burg in
the basis of differences, and takes gravity's level-free statistics from its precise increments.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from har.features import HOP, SAMPLE_RATE_HZ, WINDOW
from har.features.contract import ENGINE_INPUTS, ENGINE_OUTPUTS, SCALE_OFFICIAL, SCALE_RAW
from har.features import statistics as st
from har.features.extract import PLAN, _SOURCE_KEYS
from har.features.filters import GRAVITY_SOS, GYRO_DRIFT_SOS, NOISE_SOS
from har.features.scale import RAW_MAX, RAW_MIN
from har.features.table import (DOMAIN_SIZE, FEATURE_DIGEST, FEATURES_VERSION, FREQ_OF_TIME, N_FEATURES,
                                SOURCE_WIDTH)
from har.runtime.files import atomic_write

from .export import ExportError

OPSET = 17            # ScatterElements with reduction="add" needs 16
IR_VERSION = 8

SAMPLES, STATE = ENGINE_INPUTS
PROBABILITIES, LABEL, VALID, FEATURES, STATE_OUT = ENGINE_OUTPUTS

BLOCK = HOP                       # samples per call
SPAN = WINDOW + 1                 # a window reads one more sample for the jerk
HISTORY = 2 * BLOCK               # chain signals kept between calls
#: The window reported after N samples starts at N - WINDOW - DELAY: the median needs one sample of
#: look-ahead and the jerk one more, so the newest complete span ends one block back.
DELAY = BLOCK
RAW_TAIL = 2
N_SIGNALS = 9
BLOCKS_SATURATE = (WINDOW + DELAY) // BLOCK

OFFICIAL_SCALE = SCALE_OFFICIAL
INPUT_UNITS = ("acc x, y, z in g with gravity (Android sign), gyro x, y, z in rad/s; 50 Hz; "
               "NaN or inf marks a missing sample")


# --------------------------------------------------------------------------- linear systems

def _section_ss(sos_row):
    """One second-order section in transposed direct form II as (A, B, C, D), as scipy runs it."""
    b0, b1, b2, _, a1, a2 = sos_row
    A = np.array([[-a1, 1.0], [-a2, 0.0]])
    B = np.array([[b1 - a1 * b0], [b2 - a2 * b0]])
    C = np.array([[1.0, 0.0]])
    D = np.array([[b0]])
    return A, B, C, D


def _series(first, second):
    """``second`` fed by ``first``."""
    A1, B1, C1, D1 = first
    A2, B2, C2, D2 = second
    n1, n2 = A1.shape[0], A2.shape[0]
    A = np.block([[A1, np.zeros((n1, n2))], [B2 @ C1, A2]])
    B = np.vstack([B1, B2 @ D1])
    C = np.hstack([D2 @ C1, C2])
    D = D2 @ D1
    return A, B, C, D


def _cascade(sos):
    system = _section_ss(sos[0])
    for row in sos[1:]:
        system = _series(system, _section_ss(row))
    return system


def chain_systems():
    """The two chain systems driven by the median-filtered samples, each with its named outputs.

    Returns
    -------
    dict
        "acc": (A, B, C, D) with outputs [body acc, gravity]; "gyro": outputs [body gyro].
        Body = clean - low-passed is one output with its own impulse response (no float32
        cancellation between two signals of about 1 g).
    """
    noise = _cascade(NOISE_SOS)
    out = {}
    for key, slow_sos in (("acc", GRAVITY_SOS), ("gyro", GYRO_DRIFT_SOS)):
        slow = _cascade(slow_sos)
        A, B, C_slow, D_slow = _series(noise, slow)
        n_noise = noise[0].shape[0]
        C_clean = np.hstack([noise[2], np.zeros((1, A.shape[0] - n_noise))])
        D_clean = noise[3]
        C_body, D_body = C_clean - C_slow, D_clean - D_slow
        if key == "acc":
            out[key] = (A, B, np.vstack([C_body, C_slow]), np.vstack([D_body, D_slow]))
        else:
            out[key] = (A, B, C_body, D_body)
    return out


def block_matrices(system, length: int = BLOCK):
    """Block-state form of a single-input system over ``length`` samples.

    Returns
    -------
    T : ndarray (outputs, length, length)
        ``y[o, i] = sum_j T[o, i, j] u[j] + sum_k O[o, i, k] z[k]``.
    O : ndarray (outputs, length, order)
    Phi : ndarray (order, order)
        ``A ** length``: ``z' = Phi z + R u``.
    R : ndarray (order, length)
    """
    A, B, C, D = system
    n, n_out = A.shape[0], C.shape[0]
    powers = [np.eye(n)]
    for _ in range(length):
        powers.append(A @ powers[-1])
    markov = [D[:, 0]] + [(C @ powers[k] @ B)[:, 0] for k in range(length - 1)]
    T = np.zeros((n_out, length, length))
    for i in range(length):
        for j in range(i + 1):
            T[:, i, j] = markov[i - j]
    O = np.stack([C @ powers[i] for i in range(length)], axis=1)
    R = np.hstack([powers[length - 1 - j] @ B for j in range(length)])
    return T, O, powers[length], R


STATE_ORDER = {key: s[0].shape[0] for key, s in chain_systems().items()}


def state_layout() -> dict[str, tuple[int, int]]:
    """Name -> (offset, size) of each part of the state vector."""
    parts = [("signals", N_SIGNALS * HISTORY), ("raw_tail", RAW_TAIL * 6),
             ("z_acc", 3 * STATE_ORDER["acc"]), ("z_gyro", 3 * STATE_ORDER["gyro"]), ("blocks", 1),
             # For the gravity differences (see _gravity_differences): the acc filter input and
             # state over the two blocks before this one.
             ("u_acc", 3 * HISTORY), ("z_acc_past", 2 * 3 * STATE_ORDER["acc"])]
    layout, offset = {}, 0
    for name, size in parts:
        layout[name] = (offset, size)
        offset += size
    return layout


STATE_SIZE = sum(size for _, size in state_layout().values())


# --------------------------------------------------------------------------- graph assembly helpers

class _Builder:
    """Nodes and initializers of one graph; float constants in the graph's dtype."""

    def __init__(self, dtype):
        self.dtype = np.dtype(dtype)
        self.elem = TensorProto.FLOAT if self.dtype == np.float32 else TensorProto.DOUBLE
        self.nodes: list = []
        self.inits: list = []
        self._n = 0
        self._consts: dict = {}

    def _name(self, hint: str) -> str:
        self._n += 1
        return f"{hint}_{self._n}"

    def const(self, value, hint: str = "c", dtype=None) -> str:
        arr = np.asarray(value)
        if dtype is not None:
            arr = arr.astype(dtype)
        elif arr.dtype.kind == "f":
            arr = arr.astype(self.dtype)
        elif arr.dtype.kind in "iu":
            arr = arr.astype(np.int64)
        key = (arr.dtype.str, arr.shape, arr.tobytes())
        if key in self._consts:
            return self._consts[key]
        name = self._name(hint)
        self.inits.append(numpy_helper.from_array(np.ascontiguousarray(arr), name))
        self._consts[key] = name
        return name

    def op(self, op_type: str, inputs, hint: str | None = None, outputs: int = 1, out_names=None, **attrs):
        names = out_names or [self._name(hint or op_type.lower()) for _ in range(outputs)]
        self.nodes.append(helper.make_node(op_type, list(inputs), names, name=self._name("n_" + op_type), **attrs))
        return names[0] if outputs == 1 else names

    def subgraph(self, body, hint: str) -> onnx.GraphProto:
        """A branch graph: ``body()`` adds nodes (reading outer names freely) and returns its output."""
        outer, self.nodes = self.nodes, []
        try:
            out = body()
            nodes = self.nodes
        finally:
            self.nodes = outer
        result = self._name(hint + "_out")
        nodes.append(helper.make_node("Identity", [out], [result], name=self._name("n_Identity")))
        return helper.make_graph(nodes, hint, inputs=[],
                                 outputs=[helper.make_tensor_value_info(result, self.elem, None)])

    # shorthands
    def slice(self, x, starts, ends, axes):
        return self.op("Slice", [x, self.const(starts), self.const(ends), self.const(axes)], "slice")

    def reshape(self, x, shape):
        return self.op("Reshape", [x, self.const(np.array(shape, dtype=np.int64))], "reshape")

    def rsum(self, x, axes, keepdims=0):
        return self.op("ReduceSum", [x, self.const(np.array(axes, dtype=np.int64))], "sum", keepdims=keepdims)

    def mean(self, x, axes, keepdims=0):
        return self.op("ReduceMean", [x], "mean", axes=list(axes), keepdims=keepdims)

    def add(self, a, b):
        return self.op("Add", [a, b])

    def sub(self, a, b):
        return self.op("Sub", [a, b])

    def mul(self, a, b):
        return self.op("Mul", [a, b])

    def div(self, a, b):
        return self.op("Div", [a, b])

    def concat(self, xs, axis):
        return self.op("Concat", list(xs), "concat", axis=axis)

    def dot(self, a, b, keepdims=0):
        """Sum of products over the last axis."""
        return self.rsum(self.mul(a, b), [-1], keepdims)


# --------------------------------------------------------------------------- the chain

def _chain(g: _Builder, samples: str, state: str):
    """Median + IIR over one block; returns (window span [B, 9, 129] with NaN at gaps, new state parts)."""
    layout = state_layout()

    def part(name):
        off, size = layout[name]
        return g.slice(state, [off], [off + size], [1])

    hist = g.reshape(part("signals"), [-1, N_SIGNALS, HISTORY])
    tail = g.reshape(part("raw_tail"), [-1, RAW_TAIL, 6])
    blocks = part("blocks")                                           # [B, 1]

    raw = g.concat([tail, samples], axis=1)                           # [B, 66, 6]: samples N-66 .. N-1
    bad = g.op("IsNaN", [g.sub(raw, raw)], "bad")                     # NaN and +-inf
    bad_row = g.op("Cast", [g.op("ReduceMax", [g.op("Cast", [bad], to=TensorProto.INT32)],
                                 axes=[2], keepdims=1)], to=TensorProto.BOOL)   # [B, 66, 1]
    zero = g.const(np.zeros(()))
    clean_raw = g.op("Where", [bad_row, zero, raw], "zeroed")
    left = g.slice(clean_raw, [0], [BLOCK], [1])
    mid = g.slice(clean_raw, [1], [BLOCK + 1], [1])
    right = g.slice(clean_raw, [2], [BLOCK + 2], [1])
    med = g.op("Max", [g.op("Min", [left, mid]), g.op("Min", [g.op("Max", [left, mid]), right])], "median")
    gap = g.slice(bad_row, [1], [BLOCK + 1], [1])                     # [B, 64, 1]: gap at each output position
    u = g.op("Where", [gap, zero, med], "u")                          # a gap sample feeds nothing forward
    u = g.op("Transpose", [u], "u_t", perm=[0, 2, 1])                 # [B, 6, 64]

    # Segment number of each position: same segment <=> filters see each other.
    gap_f = g.op("Cast", [g.reshape(gap, [-1, BLOCK])], to=g.elem)    # [B, 64]
    seg = g.op("CumSum", [gap_f, g.const(np.array(1, dtype=np.int64))], "seg")
    first_seg = g.op("Cast", [g.op("Equal", [seg, zero])], to=g.elem)  # [B, 64]: carried state reaches it
    last = g.slice(seg, [BLOCK - 1], [BLOCK], [1])                    # [B, 1]
    in_last = g.op("Cast", [g.op("Equal", [seg, last])], to=g.elem)   # [B, 64]: feeds the next block's state
    keep_state = g.op("Cast", [g.op("Equal", [last, zero])], to=g.elem)  # [B, 1]

    systems = chain_systems()
    mats = {key: block_matrices(systems[key]) for key in systems}
    xs = {"acc": g.slice(u, [0], [3], [1]), "gyro": g.slice(u, [3], [6], [1])}          # [B, 3, 64]
    zs = {key: g.reshape(part("z_" + key), [-1, 3, STATE_ORDER[key]]) for key in systems}

    def filtered(masked: bool):
        """The 9 signals [B, 9, 64]: with gaps, filters only see their own segment."""
        ys = []
        same_t = None
        if masked:      # [B, 64 (j), 64 (i)]: input j and output i in the same segment
            same_t = g.op("Cast", [g.op("Equal", [g.reshape(seg, [-1, BLOCK, 1]), g.reshape(seg, [-1, 1, BLOCK])])],
                          to=g.elem)
        if not masked:
            # All 9 outputs from one product: [u_acc | z_acc | u_gyro | z_gyro] per axis times a
            # block matrix whose columns are body acc, gravity, body gyro (64 samples each).
            rows = [(mats["acc"][0], mats["acc"][1]), (mats["gyro"][0], mats["gyro"][1])]
            n_in = sum(BLOCK + O.shape[2] for _, O in rows)
            big = np.zeros((n_in, 3 * BLOCK))
            r, col = 0, 0
            for T, O in rows:
                for o in range(T.shape[0]):
                    big[r:r + BLOCK, col:col + BLOCK] = T[o].T
                    big[r + BLOCK:r + BLOCK + O.shape[2], col:col + BLOCK] = O[o].T
                    col += BLOCK
                r += BLOCK + O.shape[2]
            inp = g.concat([xs["acc"], zs["acc"], xs["gyro"], zs["gyro"]], axis=2)
            y = g.reshape(g.op("MatMul", [inp, g.const(big)]), [0, 3, 3, BLOCK])      # [B, axis, signal, 64]
            return g.reshape(g.op("Transpose", [y], perm=[0, 2, 1, 3]), [0, N_SIGNALS, BLOCK])
        for key in ("acc", "gyro"):
            T, O, _, _ = mats[key]
            for o in range(T.shape[0]):
                if masked:
                    y = g.op("MatMul", [xs[key], g.mul(g.const(T[o].T[None]), same_t)])
                    y_state = g.mul(g.op("MatMul", [zs[key], g.const(O[o].T)]), g.reshape(first_seg, [-1, 1, BLOCK]))
                else:
                    y = g.op("MatMul", [xs[key], g.const(T[o].T)])
                    y_state = g.op("MatMul", [zs[key], g.const(O[o].T)])
                ys.append(g.add(y, y_state))
        return g.concat(ys, axis=1)

    # Blocks without a gap (nearly all) take the plain products; per-stream masks only when needed.
    any_gap = g.op("Greater", [g.op("ReduceMax", [gap_f], keepdims=0), zero])
    signals_all = g.op("If", [any_gap], "filtered",
                       then_branch=g.subgraph(lambda: filtered(True), "with_gaps"),
                       else_branch=g.subgraph(lambda: filtered(False), "without_gaps"))
    new_z = {}
    for key in ("acc", "gyro"):
        T, O, Phi, R = mats[key]
        order = Phi.shape[0]
        x, z = xs[key], zs[key]
        # z' = Phi z + R u, written about the steady state s*r of the block's first input r
        # (Phi s + R 1 = s): the products' rounding then scales with the motion, not with 1 g.
        A_sys, B_sys = systems[key][0], systems[key][1]
        steady = np.linalg.solve(np.eye(order) - A_sys, B_sys[:, 0])
        ref = g.slice(x, [0], [1], [2])                                # [B, 3, 1]
        keep3 = g.reshape(keep_state, [-1, 1, 1])
        last3 = g.reshape(in_last, [-1, 1, BLOCK])
        dz = g.sub(z, g.mul(ref, g.const(steady[None, None, :])))
        dx_last = g.mul(g.sub(x, ref), last3)
        # keep * Phi s + R in_last = s minus a correction that is exactly zero without gaps.
        one = g.const(np.ones(()))
        correction = g.add(g.mul(g.sub(one, keep3), g.const((Phi @ steady)[None, None, :])),
                           g.op("MatMul", [g.sub(one, last3), g.const(R.T)]))
        level = g.mul(ref, g.sub(g.const(steady[None, None, :]), correction))
        z_new = g.add(g.add(g.mul(g.op("MatMul", [dz, g.const(Phi.T)]), keep3),
                            g.op("MatMul", [dx_last, g.const(R.T)])), level)
        new_z[key] = g.reshape(z_new, [-1, 3 * order])

    # Gravity and its differences over the window, recomputed from the state two blocks back.
    n_acc = 3 * STATE_ORDER["acc"]
    u_hist = g.reshape(part("u_acc"), [-1, 3, HISTORY])
    u_acc = g.slice(u, [0], [3], [1])
    u_full = g.concat([u_hist, u_acc], axis=2)                         # [B, 3, 192]: inputs N-193 .. N-2
    z_past = part("z_acc_past")
    z_a = g.reshape(g.slice(z_past, [0], [n_acc], [1]), [-1, 3, STATE_ORDER["acc"]])
    z_b = g.slice(z_past, [n_acc], [2 * n_acc], [1])
    # A gap just before the window restarts the filters: the old state no longer reaches it.
    before = g.slice(hist, [0], [1], [2])                              # [B, 9, 1] sample N-193
    keep_a = g.op("Cast", [g.op("Not", [g.op("IsNaN", [g.rsum(before, [1, 2], keepdims=1)])])], to=g.elem)
    M, Nz, steady = gravity_difference_matrices()
    # Relative to the steady state of the first input (where every difference is zero), so the
    # products' rounding scales with the motion, not with the 1 g of gravity.
    u_ref = g.slice(u_full, [0], [1], [2])                             # [B, 3, 1]
    du = g.sub(g.slice(u_full, [0], [M.shape[1]], [2]), u_ref)         # the inputs the window depends on
    dz = g.mul(g.sub(z_a, g.mul(u_ref, g.const(steady[None, None, :]))), keep_a)
    diffs = g.add(g.op("MatMul", [du, g.const(M.T)]), g.op("MatMul", [dz, g.const(Nz.T)]))   # [B, 3, 4 * 128]
    gravity_diffs = g.reshape(diffs, [0, 3, BURG_ORDER, WINDOW])      # orders 1 .. 4
    new_u = g.reshape(g.slice(u_full, [BLOCK], [BLOCK + HISTORY], [2]), [-1, 3 * HISTORY])
    new_z_past = g.concat([z_b, g.reshape(part("z_acc"), [-1, n_acc])], axis=1)

    nan = g.const(np.array(np.nan))
    gap_row = g.reshape(gap, [-1, 1, BLOCK])
    signals = g.op("Where", [gap_row, nan, signals_all], "signals")   # [B, 9, 64]
    full = g.concat([hist, signals], axis=2)                          # [B, 9, 192]: samples N-193 .. N-2
    span = g.slice(full, [1], [1 + SPAN], [2])                        # [B, 9, 129]: starts at N-192
    new_hist = g.reshape(g.slice(full, [BLOCK], [BLOCK + HISTORY], [2]), [-1, N_SIGNALS * HISTORY])
    new_tail = g.reshape(g.slice(raw, [BLOCK], [BLOCK + RAW_TAIL], [1]), [-1, RAW_TAIL * 6])
    new_blocks = g.op("Min", [g.add(blocks, g.const(np.ones((1, 1)))),
                              g.const(np.full((1, 1), float(BLOCKS_SATURATE)))])
    state_out = g.op("Concat", [new_hist, new_tail, new_z["acc"], new_z["gyro"], new_blocks, new_u, new_z_past],
                     out_names=[STATE_OUT], axis=1)
    started = g.op("GreaterOrEqual", [new_blocks, g.const(np.full((1, 1), float(BLOCKS_SATURATE)))])
    return span, started, state_out, gravity_diffs


BURG_ORDER = 4


def gravity_difference_matrices():
    """Gravity's differences of order 1..4 over a window, as linear maps of the acc filter's input and state.

    The window starts one sample after the filter state ``z`` two blocks back; ``u`` are the
    inputs from there (the window's samples depend on the first 129). Returns ``M`` (4 * 128, 129),
    ``Nz`` (4 * 128, order) with ``diff[k - 1, n] = M[(k - 1) * 128 + n] @ u + Nz[(k - 1) * 128 + n] @ z``
    (rows n < k are unused), and the steady state (order,) of a constant unit input.

    Why: gravity is about 1 g and smooth, its 4th difference about 1e-6 g. Burg's AR fit of a
    smooth series depends on those differences, far below float32 resolution of the samples
    themselves; computed directly from the input they keep full relative precision.
    """
    T, O, _, _ = block_matrices(chain_systems()["acc"], length=BLOCK + HISTORY)
    T, O = T[1], O[1]                                   # the gravity output
    rows = np.arange(1, WINDOW + 1)                     # the window in the 192 positions
    M = np.zeros((BURG_ORDER, WINDOW, WINDOW + 1))
    Nz = np.zeros((BURG_ORDER, WINDOW, O.shape[1]))
    from math import comb
    for k in range(1, BURG_ORDER + 1):
        for n, p in enumerate(rows):
            if n < k:
                continue
            for j in range(k + 1):
                M[k - 1, n] += (-1) ** j * comb(k, j) * T[p - j, :WINDOW + 1]
                Nz[k - 1, n] += (-1) ** j * comb(k, j) * O[p - j]
    assert not T[1:WINDOW + 1, WINDOW + 1:].any()       # causal: later inputs do not reach the window
    A, B, _, _ = chain_systems()["acc"]
    steady = np.linalg.solve(np.eye(A.shape[0]) - A, B[:, 0])     # state after a constant unit input
    return M.reshape(-1, WINDOW + 1), Nz.reshape(-1, O.shape[1]), steady


# --------------------------------------------------------------------------- the features

#: Per-series statistics of the stacked series, in this order along the last axis of one tensor.
STATS = ("mean", "std", "mad", "max", "min", "energy", "iqr", "entropy")


def _stats(g: _Builder, x: str, shifted: str, f: str):
    """The STATS of series x [B, S, W] as one tensor [B, S, len(STATS)]; also the deviations [B, S, W].

    ``x`` stacks the 20 time series and the 13 spectra written twice (see ``_features``);
    ``shifted``: x minus any per-series constant, used for the statistics that do not depend on the
    level (std, mad, iqr, deviations), when it is more precise than x itself. Quartiles and entropy
    cost per value, so the spectra ``f`` [B, 13, 64] enter those once, not twice.
    Scale factors are applied once, to the stacked tensor.
    """
    n = WINDOW
    n_t = 20
    d = g.sub(shifted, g.mean(shifted, [2], keepdims=1))
    t_shifted = g.slice(shifted, [0], [n_t], [1])
    t = g.slice(x, [0], [n_t], [1])
    parts = [g.mean(x, [2], keepdims=1),
             g.op("ReduceL2", [d], axes=[2], keepdims=1),
             g.op("ReduceL1", [d], axes=[2], keepdims=1),
             g.op("ReduceMax", [x], axes=[2], keepdims=1),
             g.op("ReduceMin", [x], axes=[2], keepdims=1),
             g.op("ReduceSumSquare", [x], axes=[2], keepdims=1),
             g.concat([_iqr(g, t_shifted, n), _iqr(g, f, n // 2)], axis=1),
             g.concat([_entropy_sum(g, t, n), _entropy_sum(g, f, n // 2)], axis=1)]
    rows = np.array([n] * n_t + [n // 2] * 13, dtype=np.float64)[:, None]      # values per series
    scale = np.ones((len(rows), len(STATS)))
    offset = np.zeros((len(rows), len(STATS)))
    scale[:, 1:3] = [1.0 / np.sqrt(n), 1.0 / n]
    scale[:, 5] = 1.0 / n
    scale[:, 7:8] = -1.0 / (rows * np.log(2))
    offset[:, 7:8] = np.log2(rows)                   # entropy: log2 n - sum(log2 count) / n
    stats = g.add(g.mul(g.concat(parts, axis=2), g.const(scale)), g.const(offset))
    return stats, d


def _iqr(g: _Builder, x: str, n: int):
    """Q3 - Q1 (Hazen) of series x [B, S, n] as [B, S, 1], from partial selections, not a full sort.

    The order statistics needed sit next to each other near each quartile. The series and their
    negatives are stacked, so one selection of the ``k`` smallest serves both quartiles: the
    largest of them hold sorted[lo1], sorted[hi1] (from x) and -sorted[lo3], -sorted[hi3] (from -x).
    ``k`` is large enough that onnxruntime selects with nth_element, not a (slower) heap.
    """
    idx, weights = st._hazen_weights(n, (25, 75))
    w = weights[1] - weights[0]                       # per entry of idx: lo q1, hi q1, lo q3, hi q3
    lo1, hi1, lo3, hi3 = (int(i) for i in idx)
    if not (hi1 == lo1 + 1 and hi3 == lo3 + 1 and hi3 == n - 1 - lo1):
        raise AssertionError(f"unexpected quartile positions {idx} for n = {n}")
    k = max(hi1 + 1, int(np.ceil(2 ** (0.726 * np.log2(n)))))
    k2 = k - lo1
    both = g.concat([x, g.op("Neg", [x])], axis=1)                                    # [B, 2S, n]
    low = g.op("TopK", [both, g.const(np.array([k], dtype=np.int64))], outputs=2, axis=-1, largest=0,
               sorted=0)[0]
    top = g.op("TopK", [low, g.const(np.array([k2], dtype=np.int64))], outputs=2, axis=-1, largest=1,
               sorted=1)[0]                                                            # [B, 2S, k2]
    # x rows end [.., s(hi1), s(lo1)]; -x rows end [.., -s(lo3), -s(hi3)] (hi3 = n - 1 - lo1);
    # iqr = q3 - q1 = -(w lo3 * -s(lo3) + w hi3 * -s(hi3)) - (w lo1 s(lo1) + w hi1 s(hi1)).
    sep = g.reshape(top, [0, 2, -1, k2])                                              # [B, 2, S, k2]
    weights_both = np.zeros((2, 1, k2))
    weights_both[0, 0, -2:] = w[1], w[0]
    weights_both[1, 0, -2:] = -w[2], -w[3]
    return g.reshape(g.rsum(g.mul(sep, g.const(weights_both)), [1, 3]), [0, -1, 1])


def _entropy_sum(g: _Builder, x: str, n: int):
    """sum over samples of ln(count of the sample's level) for MATLAB image entropy; [B, S, 1].

    Levels are round(255 x) saturating to 0..255; counts by scatter-add into 256 bins.
    H = log2 n - (this sum) / (n ln 2).
    """
    levels = g.op("Floor", [g.add(g.mul(x, g.const(np.array(255.0))), g.const(np.array(0.5)))])
    levels = g.op("Clip", [levels, g.const(np.array(0.0)), g.const(np.array(255.0))])
    idx = g.op("Cast", [levels], to=TensorProto.INT64)
    zeros = g.mul(levels, g.const(np.array(0.0)))                                     # [B, S, n]
    ones = g.add(zeros, g.const(np.array(1.0)))
    bins = g.concat([zeros] * (256 // n), axis=2)                                      # [B, S, 256]
    counts = g.op("ScatterElements", [bins, idx, ones], "counts", axis=2, reduction="add")
    per_sample = g.op("GatherElements", [counts, idx], axis=2)
    # One logarithm per 16 samples: a product of 16 counts (each <= 128) stays below 2^112, inside
    # float32 range, and rounds to a relative 1e-6 at most (1e-8 bits of entropy).
    chunks = g.op("ReduceProd", [g.reshape(per_sample, [0, 0, n // 16, 16])], axes=[3], keepdims=0)
    return g.rsum(g.op("Log", [chunks]), [2], keepdims=1)


def _arburg(g: _Builder, x: str, order: int = 4):
    """Burg AR coefficients [B, S, order] as ``statistics.arburg``."""
    ef = eb = x
    a = None
    two = g.const(np.array(-2.0))
    for m in range(1, order + 1):
        efp = g.slice(ef, [1], [np.iinfo(np.int64).max], [2])
        ebp = g.slice(eb, [0], [-1], [2])
        den = g.add(g.op("ReduceSumSquare", [efp], axes=[2], keepdims=1),
                    g.op("ReduceSumSquare", [ebp], axes=[2], keepdims=1))
        k = g.div(g.mul(two, g.dot(ebp, efp, 1)), den)                                              # [B, S, 1]
        a = k if a is None else g.concat([g.add(a, g.mul(k, g.op("MatMul", [a, g.const(np.eye(m - 1)[::-1])]))), k],
                                          axis=2)
        if m < order:
            ef, eb = g.add(efp, g.mul(k, ebp)), g.add(ebp, g.mul(k, efp))
    return a


def _arburg_differences(g: _Builder, t: str, gravity_diffs: str):
    """Burg AR(4) coefficients [B, 20, 4] as ``statistics.arburg``; gravity's in the basis of differences.

    The prediction-error filters of stage m are polynomials in z^-1; they are kept as coefficients
    in powers of the difference operator (1 - z^-1), each as an exact integer plus a float (the
    integers only ever add and subtract, so they stay exact), and applied to the series' precise
    differences. For a smooth series (gravity) the reflection coefficients are close to -1 or +1
    and the errors are tiny differences of nearly equal samples: written k = -1 + (1 + k) or
    1 - (1 - k), with 1 +- k from sums of squares of the errors, nothing small is ever added to
    something large in float.
    Coefficient vectors have ``BURG_ORDER + 1`` entries (higher ones are exact zeros).
    """
    W, K = WINDOW, BURG_ORDER + 1
    # Only gravity (series 3, 4, 5) needs this: the other series are not smooth, plain Burg is exact
    # enough for them and much cheaper.
    other = _arburg(g, g.concat([g.slice(t, [0], [3], [1]), g.slice(t, [6], [20], [1])], axis=1), BURG_ORDER)
    t = g.slice(t, [3], [6], [1])                                                   # [B, 3, W]
    S = 3
    diffs = gravity_diffs
    # A polynomial is one tensor [B, S, 2, K]: row 0 the exact integer parts, row 1 the float parts.
    D = g.concat([g.reshape(t, [0, S, 1, W]), diffs], axis=2)                      # [B, S, K, W]
    D2 = g.concat([D, D], axis=2)                                                   # [B, S, 2K, W]
    # The two polynomials E (forward) and P = z^-1 B (backward, delayed) as one row per stream and
    # series: X = [E int | E float | P int | P float] ([B, S, 1, 4K]). Every linear step below is a
    # product with a constant matrix of 0 and +-1 entries, so integer parts stay exact and each
    # float part gets the same few roundings as written out term by term.
    Cm, U = _burg_difference_maps()
    zeros = g.mul(g.slice(D2, [0, 0], [1, 4 * K], [2, 3]), g.const(np.array(0.0)))  # [B, S, 1, 4K]
    X = g.add(zeros, g.const(_burg_difference_start()))
    one_f = g.const(np.array(1.0))
    two_f = g.const(np.array(2.0))
    a = None                                                                         # [B, S, m - 1]
    for m in range(1, BURG_ORDER + 1):
        # E - P and E + P (the error filters for k = -1 and k = +1), integer and float parts
        # summed in one product with the differences: [B, S, 2, W - m].
        coeffs = g.reshape(g.op("MatMul", [X, g.const(Cm)]), [0, S, 2, 2 * K])
        vals = g.slice(g.op("MatMul", [coeffs, D2]), [m], [W], [3])
        sq = g.op("ReduceSumSquare", [vals], axes=[3], keepdims=1)                  # [B, S, 2, 1]
        c = g.div(g.mul(sq, two_f), g.rsum(sq, [2], keepdims=1))                    # 1 + k, 1 - k
        c_min = g.op("ReduceMin", [c], axes=[2], keepdims=1)                         # [B, S, 1, 1]
        # sign -1 when 1 + k <= 1 - k (k = -1 + c_min), else +1 (k = 1 - c_min)
        sign = g.sub(g.mul(g.op("Cast", [g.op("ArgMin", [c], axis=2, keepdims=1)], to=g.elem), two_f), one_f)
        k = g.reshape(g.mul(sign, g.sub(one_f, c_min)), [0, S, 1])
        if a is None:
            a = k
        else:
            # a_i + k a_{m-i} for i < m, then k: the reversal is a product with the exchange matrix.
            rev = g.op("MatMul", [a, g.const(np.eye(m - 1)[::-1])])
            a = g.concat([g.add(a, g.mul(k, rev)), k], axis=2)
        if m < BURG_ORDER:
            # E' = E + k P, B' = P + k E with k = sign (1 - c_min):
            # E' = (E + sign P) + f (P int + P float), B' = (P + sign E) + f (E int + E float),
            # f = -sign c_min; f times a polynomial is small, so it joins the float parts.
            # The next P = z^-1 B' = B' - (1 - z^-1) B' is folded into the same maps.
            f = g.op("Neg", [g.mul(sign, c_min)])
            w = g.concat([g.mul(sign, sign), sign, f], axis=2)                          # [B, S, 3, 1]
            Y = g.reshape(g.op("MatMul", [X, g.const(U)]), [0, S, 3, 4 * K])
            X = g.rsum(g.mul(Y, w), [2], keepdims=1)
    return g.concat([g.slice(other, [0], [3], [1]), a, g.slice(other, [3], [17], [1])], axis=1)


def _burg_difference_start() -> np.ndarray:
    """X for stage 1: E = 1 and P = z^-1 = 1 - (1 - z^-1), integer parts, in the layout of ``_burg_difference_maps``."""
    K = BURG_ORDER + 1
    X = np.zeros((4, K))
    X[0, 0] = 1.0
    X[2, :2] = 1.0, -1.0
    return X.reshape(1, 4 * K)


def _burg_difference_maps():
    """Constant maps of the Burg stage on X = [E int | E float | P int | P float] (K entries each).

    Returns ``Cm`` (4K, 4K): X -> [E - P int | E - P float | E + P int | E + P float], and ``U``
    (4K, 3 * 4K): X -> three candidates whose combination ``1 * U0 + sign * U1 + f * U2`` is the
    next X (E' = E + sign P + f (P int + P float); B' likewise with E and P swapped; then
    P' = B' - (1 - z^-1) B', coefficient k minus coefficient k - 1).
    """
    K = BURG_ORDER + 1
    E_I, E_F, P_I, P_F = (np.arange(K) + i * K for i in range(4))
    eye = np.eye(K)
    Cm = np.zeros((4 * K, 4 * K))
    for dst, pairs in ((E_I, ((E_I, 1), (P_I, -1))), (E_F, ((E_F, 1), (P_F, -1))),
                       (P_I, ((E_I, 1), (P_I, 1))), (P_F, ((E_F, 1), (P_F, 1)))):
        for src, sign in pairs:
            Cm[src[:, None], dst] += sign * eye
    diff = eye - np.eye(K, k=1)          # column k: p_k - p_{k-1} (row k gives +1, row k-1 gives -1)
    U = np.zeros((3, 4 * K, 4 * K))
    # U0: E -> E'; P -> B' (then differenced)
    U[0][E_I[:, None], E_I] = eye
    U[0][E_F[:, None], E_F] = eye
    U[0][P_I[:, None], P_I] = diff
    U[0][P_F[:, None], P_F] = diff
    # U1 (times sign): P -> E'; E -> B'
    U[1][P_I[:, None], E_I] = eye
    U[1][P_F[:, None], E_F] = eye
    U[1][E_I[:, None], P_I] = diff
    U[1][E_F[:, None], P_F] = diff
    # U2 (times f): P int + P float -> E' float; E int + E float -> B' float
    U[2][P_I[:, None], E_F] = eye
    U[2][P_F[:, None], E_F] = eye
    U[2][E_I[:, None], P_F] = diff
    U[2][E_F[:, None], P_F] = diff
    return Cm, np.concatenate(list(U), axis=1)


def _acos(g: _Builder, c: str):
    """arccos; the CPU provider has Acos for float only, so float64 refines a float32 guess by Newton."""
    if g.dtype == np.float32:
        return g.op("Acos", [c])
    guess = g.op("Cast", [g.op("Acos", [g.op("Cast", [c], to=TensorProto.FLOAT)])], to=TensorProto.DOUBLE)
    theta = guess
    tiny = g.const(np.array(1e-12))
    for _ in range(2):
        s = g.op("Sin", [theta])
        step = g.div(g.sub(g.op("Cos", [theta]), c), g.op("Max", [s, tiny]))
        theta = g.op("Where", [g.op("Greater", [s, tiny]), g.add(theta, step), theta])
    return theta


def _features(g: _Builder, span: str, gravity_diffs: str):
    """The 561 raw features [B, 561] of spans [B, 9, 129] (finite values)."""
    W = WINDOW
    body = g.slice(span, [0], [3], [1])
    grav = g.slice(span, [3], [6], [1])
    gyro = g.slice(span, [6], [9], [1])

    def first(x):
        return g.slice(x, [0], [W], [2])

    def jerk(x):
        return g.sub(g.slice(x, [1], [SPAN], [2]), first(x))

    t3 = g.concat([first(body), first(grav), jerk(body), first(gyro), jerk(gyro)], axis=1)   # [B, 15, 128]
    t3_4 = g.reshape(t3, [0, 5, 3, W])
    mags = g.op("Sqrt", [g.rsum(g.mul(t3_4, t3_4), [2])])                                  # [B, 5, 128]
    mags = g.op("Gather", [mags, g.const(np.array([0, 0, 2, 3, 4]))], axis=1)              # tGravityAccMag quirk
    t = g.concat([t3, mags], axis=1)                                                        # [B, 20, 128]

    # Spectrum |rfft|[1..64] / 64 as one matrix product with [cos | sin].
    n_idx = np.arange(W)[:, None]
    k_idx = np.arange(1, W // 2 + 1)[None, :]
    ang = 2 * np.pi * ((n_idx * k_idx) % W) / W
    dft = np.hstack([np.cos(ang), -np.sin(ang)]) / (W // 2)
    ts = g.op("Gather", [t, g.const(np.array(FREQ_OF_TIME))], axis=1)                       # [B, 13, 128]
    reim = g.op("MatMul", [ts, g.const(dft)])                                               # [B, 13, 128]
    re = g.slice(reim, [0], [W // 2], [2])
    im = g.slice(reim, [W // 2], [W], [2])
    f = g.op("Sqrt", [g.add(g.mul(re, re), g.mul(im, im))], "spectrum")                     # [B, 13, 64]

    # Gravity minus its first sample, from its precise first differences: its spread is about 1e-3 g,
    # near float32 resolution of the samples (about 1 g).
    g1 = g.reshape(g.slice(gravity_diffs, [0], [1], [2]), [0, 3, W])
    g1 = g.concat([g.mul(g.slice(g1, [0], [1], [2]), g.const(np.array(0.0))), g.slice(g1, [1], [W], [2])], axis=2)
    rel = g.op("CumSum", [g1, g.const(np.array(2, dtype=np.int64))])
    t_shifted = g.concat([g.slice(t, [0], [3], [1]), rel, g.slice(t, [6], [20], [1])], axis=1)

    # The 20 time series and the 13 spectra stacked as 33 series of 128: a spectrum written twice
    # has the same mean, std, mad, max, min, energy, quartiles (Hazen positions of 2n fall on the
    # repeated values) and entropy, so every per-series statistic is one node for all 33.
    f2 = g.concat([f, f], axis=2)                                                           # [B, 13, 128]
    stats, d = _stats(g, g.concat([t, f2], axis=1), g.concat([t_shifted, f2], axis=1), f)  # [B, 33, 8]

    ar = _arburg_differences(g, t, gravity_diffs)                                           # [B, 20, 4]

    sma = g.mul(g.op("ReduceL1", [t3_4], axes=[2, 3], keepdims=0), g.const(np.array(1.0 / W)))   # [B, 5]
    d3 = g.reshape(g.slice(d, [0], [15], [1]), [0, 5, 3, W])
    pa = g.op("Gather", [d3, g.const(np.array([0, 0, 1]))], axis=2)
    pb = g.op("Gather", [d3, g.const(np.array([1, 2, 2]))], axis=2)
    corr = g.div(g.dot(pa, pb), g.op("Sqrt", [g.mul(g.dot(pa, pa), g.dot(pb, pb))]))     # [B, 5, 3]

    # Spectrum shape: maxInds, meanFreq, skewness, kurtosis, 14 band energies -> [B, 13, 18].
    max_inds = g.op("Cast", [g.op("ArgMax", [f], axis=2, keepdims=1)], to=g.elem)
    bins = np.arange(1, W // 2 + 1, dtype=np.float64).reshape(-1, 1)
    mean_freq = g.div(g.op("MatMul", [f, g.const(bins)]), g.rsum(f, [2], keepdims=1))
    df = g.slice(d, [20], [33], [1])                        # the doubled spectra: same moments
    d2 = g.mul(df, df)
    m2 = g.rsum(d2, [2], keepdims=1)
    n_f = float(W)
    skew = g.div(g.mul(g.dot(d2, df, 1), g.const(np.array(np.sqrt(n_f)))), g.mul(m2, g.op("Sqrt", [m2])))
    kurt = g.div(g.mul(g.dot(d2, d2, 1), g.const(np.array(n_f))), g.mul(m2, m2))
    bands = g.op("MatMul", [g.mul(f, f), g.const(st._BAND_MATRIX)])
    f_shape = g.concat([max_inds, mean_freq, skew, kurt, bands], axis=2)

    means = g.slice(stats, [0, 0], [33, 1], [1, 2])                                        # [B, 33, 1]
    f_sma = g.rsum(g.reshape(g.slice(means, [20], [29], [1]), [0, 3, 3]), [2])            # [B, 3]
    # Angle: the 4 mean vectors and the 3 unit axes against gravity's mean, one product + constant.
    pick = np.zeros((33, 21))
    for row, series in enumerate([0, 1, 2, 6, 7, 8, 9, 10, 11, 12, 13, 14]):
        pick[series, row] = 1.0
    u = g.reshape(g.add(g.op("MatMul", [g.reshape(means, [0, 33]), g.const(pick)]),
                        g.const(np.concatenate([np.zeros(12), np.eye(3).ravel()]))), [0, 7, 3])
    v = g.reshape(g.slice(means, [3], [6], [1]), [0, 1, 3])
    cos = g.div(g.dot(u, v), g.op("Sqrt", [g.mul(g.dot(u, u), g.dot(v, v))]))
    cos = g.op("Clip", [cos, g.const(np.array(-1.0)), g.const(np.array(1.0))])
    angle = _acos(g, cos)

    pieces = [(stats, 33, len(STATS)), (ar, 20, BURG_ORDER), (sma, 5, 1), (corr, 5, 3), (f_shape, 13, 18),
              (f_sma, 3, 1), (angle, 7, 1)]
    where = {}          # (domain, source) -> (piece, first row, first column)
    for i, stat in enumerate(STATS):
        where[("t", stat)] = (0, 0, i)
        where[("f", stat)] = (0, 20, i)
    where[("t", "arCoeff")] = (1, 0, 0)
    where[("t3", "sma3")] = (2, 0, 0)
    where[("t3", "correlation")] = (3, 0, 0)
    for col, source in ((0, "maxInds"), (1, "meanFreq"), (2, "skewness"), (3, "kurtosis"), (4, "bandsEnergy")):
        where[("f", source)] = (4, 0, col)
    where[("f3", "sma3")] = (5, 0, 0)
    where[("angle", "angle")] = (6, 0, 0)
    flat = g.concat([g.reshape(p, [0, rows * cols]) for p, rows, cols in pieces], axis=1)
    return g.op("Gather", [flat, g.const(_feature_plan(pieces, where))], "raw_features", axis=1)


def _feature_plan(pieces, where) -> np.ndarray:
    """Column of each of the 561 features in the concatenated pieces (``extract.PLAN`` remapped)."""
    starts = np.concatenate([[0], np.cumsum([rows * cols for _, rows, cols in pieces])])
    remap = []
    for key in _SOURCE_KEYS:
        piece, row0, col0 = where[key]
        cols = pieces[piece][2]
        for series in range(DOMAIN_SIZE[key[0]]):
            for j in range(SOURCE_WIDTH[key[1]]):
                remap.append(starts[piece] + (row0 + series) * cols + col0 + j)
    return np.array(remap)[PLAN]


# --------------------------------------------------------------------------- the classifier

def _classifier_scale(classifier: onnx.ModelProto) -> str:
    meta = {p.key: p.value for p in classifier.metadata_props}
    scale = meta.get("feature_scale", OFFICIAL_SCALE)
    if scale == OFFICIAL_SCALE:
        return "official"
    if scale == SCALE_RAW:
        return "raw"
    raise ExportError(f"classifier metadata feature_scale={scale!r}: expected {SCALE_RAW!r} or {OFFICIAL_SCALE!r}")


def _inline_classifier(g: _Builder, classifier: onnx.ModelProto, features: str) -> tuple[str, str]:
    """Copy the classifier's nodes into the graph, fed by ``features``; returns (probabilities, label)."""
    for imp in classifier.opset_import:
        if imp.domain not in ("", "ai.onnx"):
            raise ExportError(f"classifier uses operator domain {imp.domain!r}: only ai.onnx operators can be inlined")
    if classifier.opset_import[0].version != OPSET:
        try:
            classifier = onnx.version_converter.convert_version(classifier, OPSET)
        except Exception as exc:   # noqa: BLE001 - any converter failure means we cannot inline safely
            raise ExportError(f"classifier opset {classifier.opset_import[0].version} cannot be converted to "
                             f"{OPSET}: {exc}") from None
    graph = classifier.graph
    init_names = {t.name for t in graph.initializer}
    inputs = [i.name for i in graph.input if i.name not in init_names]
    if len(inputs) != 1:
        raise ExportError(f"classifier must have one input (features), has {inputs}")
    outs = [o.name for o in graph.output]
    if PROBABILITIES not in outs or LABEL not in outs:
        raise ExportError(f"classifier outputs {outs}: expected {PROBABILITIES!r} and {LABEL!r}")
    rename = {inputs[0]: features}

    def name(n):
        if not n:
            return n
        return rename.setdefault(n, "classifier/" + n)

    double = g.dtype == np.float64
    for t in graph.initializer:
        arr = numpy_helper.to_array(t)
        if double and arr.dtype == np.float32:
            arr = arr.astype(np.float64)
        g.inits.append(numpy_helper.from_array(arr, name(t.name)))
    for node in graph.node:
        new = onnx.NodeProto()
        new.CopyFrom(node)
        for a in new.attribute:
            if a.type in (onnx.AttributeProto.GRAPH, onnx.AttributeProto.GRAPHS):
                raise ExportError(f"classifier node {node.name or node.op_type} has a subgraph: not supported")
            if double and a.name == "to" and a.i == TensorProto.FLOAT:
                a.i = TensorProto.DOUBLE
            if double and a.type == onnx.AttributeProto.TENSOR and a.t.data_type == TensorProto.FLOAT:
                a.t.CopyFrom(numpy_helper.from_array(numpy_helper.to_array(a.t).astype(np.float64), a.t.name))
        new.input[:] = [name(i) for i in node.input]
        new.output[:] = [name(o) for o in node.output]
        new.name = "classifier/" + (node.name or node.op_type)
        g.nodes.append(new)
    return name(PROBABILITIES), name(LABEL)


# --------------------------------------------------------------------------- the model

def model_digest(data: bytes) -> str:
    """Digest of a classifier file's bytes, stored in the engine's metadata."""
    return hashlib.sha256(data).hexdigest()


def build_engine(classifier_bytes: bytes, dtype="float32") -> onnx.ModelProto:
    """Build the engine graph around a classifier.

    Parameters
    ----------
    classifier_bytes : bytes
        A serialized classifier ONNX model: input ``features`` [N, 561] (scale named by its
        ``feature_scale`` metadata), outputs ``probabilities`` [N, K] and ``label`` [N] int64.
    dtype : {"float32", "float64"}
        Float type of every tensor (inputs, outputs, weights). float32 is what apps ship.

    Returns
    -------
    onnx.ModelProto
        Inputs ``samples`` [B, 64, 6] (acc g, gyro rad/s, 50 Hz), ``state`` [B, STATE_SIZE];
        outputs ``probabilities`` [B, K], ``label`` int64 [B] (0 when not valid), ``valid`` bool [B],
        ``features`` [B, 561] (official scale, NaN when not valid), ``state_out`` [B, STATE_SIZE].
    """
    if dtype not in ("float32", "float64"):
        raise ExportError(f"dtype must be 'float32' or 'float64', got {dtype!r}")
    classifier = onnx.load_from_string(classifier_bytes)
    meta = {p.key: p.value for p in classifier.metadata_props}
    scale_kind = _classifier_scale(classifier)
    g = _Builder(np.float32 if dtype == "float32" else np.float64)

    span, started, _, gravity_diffs = _chain(g, SAMPLES, STATE)
    finite = g.op("Not", [g.op("IsNaN", [g.rsum(span, [1, 2])])])    # NaN marks gaps in the history
    valid = g.op("And", [finite, g.reshape(started, [-1])], out_names=[VALID])
    span0 = g.op("Where", [g.op("IsNaN", [span]), g.const(np.zeros(())), span])
    raw = _features(g, span0, gravity_diffs)
    span_r = RAW_MAX - RAW_MIN
    official = g.add(g.mul(raw, g.const(2.0 / span_r)), g.const(-2.0 * RAW_MIN / span_r - 1.0))
    row_valid = g.reshape(valid, [-1, 1])
    nan = g.const(np.array(np.nan))
    g.op("Where", [row_valid, official, nan], out_names=[FEATURES])
    if scale_kind == "official":
        # As the Python Recognizer: an undefined feature of a valid window takes the scale's middle.
        fin = g.op("Where", [g.op("IsNaN", [official]), g.const(np.zeros(())), official])
        fin = g.op("Clip", [fin, g.const(np.array(-np.finfo(g.dtype).max)), g.const(np.array(np.finfo(g.dtype).max))])
        fin = g.op("Where", [g.op("IsInf", [official], detect_negative=0), g.const(np.array(1.0)), fin])
        fin = g.op("Where", [g.op("IsInf", [official], detect_positive=0), g.const(np.array(-1.0)), fin])
        clf_in = g.op("Where", [row_valid, fin, g.const(np.zeros(()))], "classifier_input")
    else:
        clf_in = g.op("Where", [row_valid, raw, g.const(np.zeros(()))], "classifier_input")
    proba, label = _inline_classifier(g, classifier, clf_in)
    g.op("Where", [row_valid, proba, nan], out_names=[PROBABILITIES])
    g.op("Where", [valid, label, g.const(np.array(0, dtype=np.int64))], out_names=[LABEL])

    class_ids = json.loads(meta.get("class_ids", "[1, 2, 3, 4, 5, 6]"))
    elem = g.elem
    graph = helper.make_graph(
        g.nodes, "har_engine",
        inputs=[helper.make_tensor_value_info(SAMPLES, elem, ["B", BLOCK, 6]),
                helper.make_tensor_value_info(STATE, elem, ["B", STATE_SIZE])],
        outputs=[helper.make_tensor_value_info(PROBABILITIES, elem, ["B", len(class_ids)]),
                 helper.make_tensor_value_info(LABEL, TensorProto.INT64, ["B"]),
                 helper.make_tensor_value_info(VALID, TensorProto.BOOL, ["B"]),
                 helper.make_tensor_value_info(FEATURES, elem, ["B", N_FEATURES]),
                 helper.make_tensor_value_info(STATE_OUT, elem, ["B", STATE_SIZE])],
        initializer=g.inits,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)], producer_name="har-engine",
                              doc_string="HAR engine: raw 50 Hz acc/gyro blocks and state in, UCI HAR features, "
                                         "activity probabilities and state out.")
    model.ir_version = IR_VERSION
    props = {
        "hop": str(HOP), "window": str(WINDOW), "sample_rate_hz": str(int(SAMPLE_RATE_HZ)),
        "state_size": str(STATE_SIZE), "delay_samples": str(DELAY),
        "class_ids": json.dumps(class_ids),
        "class_names": meta.get("class_names", "[]"),
        "input_units": INPUT_UNITS,
        "model_digest": model_digest(classifier_bytes),
        "model_feature_scale": meta.get("feature_scale", OFFICIAL_SCALE),
        "features_scale": OFFICIAL_SCALE,
        "feature_names_digest": FEATURE_DIGEST,
        "features_version": FEATURES_VERSION,
        "dtype": dtype,
        "state_layout": json.dumps(state_layout()),
    }
    helper.set_model_props(model, props)
    onnx.checker.check_model(model, full_check=True)
    return model


def export_engine(out, *, model=None, dtype="float32") -> onnx.ModelProto:
    """Build the engine around the classifier file ``model`` (default: the bundled one) and write it atomically."""
    if model is None:
        from har.runtime.model import bundled_model_path
        model = bundled_model_path()
    path = Path(model)
    if not path.exists():
        raise ExportError(f"{path}: classifier model not found")
    engine = build_engine(path.read_bytes(), dtype)
    atomic_write(out, engine.SerializeToString())
    return engine
