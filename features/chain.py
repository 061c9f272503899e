"""The UCI HAR signal chain as a pure function with explicit state.

Per recording, continuous and causal, as the official pipeline filtered each recording whole:

1. median filter, kernel 3, zero-padded at both ends of a segment;
2. Butterworth order 10, 20 Hz low-pass (noise), zero initial state;
3. acc: Butterworth order 3, 0.3 Hz low-pass = gravity; body acc = acc - gravity;
4. gyro: Butterworth order 2, 0.1 Hz low-pass = drift; body gyro = gyro - drift.

``preprocess(raw, state)`` returns ``(signals, new_state)`` in the manner of
``scipy.signal.sosfilt(..., zi=...)``: filtering a recording in one call or chunk by chunk with the
state carried over gives the same numbers. The median filter needs one sample of look-ahead, so a
call returns one sample fewer than it received until ``final=True`` closes the segment.

A non-finite sample (NaN or inf on any axis) ends the current segment: the chain is closed as at the
end of a recording, its output at that sample is NaN, and the next finite sample starts a new
segment with fresh filter state, as at the start of a recording. That keeps a NaN from entering the
IIR state, where it would otherwise poison every later sample.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from .contract import RAW_CHANNELS, SAMPLE_RATE_HZ
from .filters import GRAVITY_SOS, GYRO_DRIFT_SOS, NOISE_SOS
from .iir import sosfilt_rows

#: Columns of the chain output: body acc x, y, z (g); gravity x, y, z (g); body gyro x, y, z (rad/s).
BODY_ACC = slice(0, 3)
GRAVITY_ACC = slice(3, 6)
BODY_GYRO = slice(6, 9)
SIGNAL_CHANNELS = 9


@dataclass(frozen=True)
class ChainState:
    """Filter state between calls. Arrays are never mutated: each call returns a new state."""

    prev: np.ndarray          # (6,) raw sample before `pending` (zeros at a segment start)
    pending: np.ndarray       # (0 or 1, 6) raw sample whose median still waits for its successor
    noise_zi: np.ndarray      # (sections, 2, 6)
    gravity_zi: np.ndarray    # (sections, 2, 3)
    drift_zi: np.ndarray      # (sections, 2, 3)

    @classmethod
    def initial(cls) -> "ChainState":
        """The state at the start of a recording (or of a segment after a gap)."""
        return cls(
            prev=np.zeros(RAW_CHANNELS),
            pending=np.zeros((0, RAW_CHANNELS)),
            noise_zi=np.zeros((NOISE_SOS.shape[0], 2, RAW_CHANNELS)),
            gravity_zi=np.zeros((GRAVITY_SOS.shape[0], 2, 3)),
            drift_zi=np.zeros((GYRO_DRIFT_SOS.shape[0], 2, 3)),
        )


def _median3(left: np.ndarray, mid: np.ndarray, right: np.ndarray) -> np.ndarray:
    # The median of three is one of the three values, so this equals scipy.signal.medfilt exactly.
    return np.maximum(np.minimum(left, mid), np.minimum(np.maximum(left, mid), right))


def _run_segment(raw: np.ndarray, state: ChainState, final: bool) -> tuple[np.ndarray, ChainState]:
    """Chain over finite samples of one segment; see ``preprocess``."""
    seq = np.concatenate([state.pending, raw]) if len(state.pending) else raw
    n = len(seq)
    if n == 0:
        return np.empty((0, SIGNAL_CHANNELS)), state
    n_out = n if final else n - 1
    if n_out == 0:
        return np.empty((0, SIGNAL_CHANNELS)), ChainState(
            state.prev, seq[-1:].copy(), state.noise_zi, state.gravity_zi, state.drift_zi)
    left = np.empty((n_out, RAW_CHANNELS))
    left[0] = state.prev
    left[1:] = seq[:n_out - 1]
    right = np.zeros((n_out, RAW_CHANNELS))
    right[: n - 1] = seq[1:]
    med = _median3(left, seq[:n_out], right)

    clean, noise_zi = sosfilt_rows(NOISE_SOS, med, state.noise_zi)
    gravity, gravity_zi = sosfilt_rows(GRAVITY_SOS, clean[:, :3], state.gravity_zi)
    drift, drift_zi = sosfilt_rows(GYRO_DRIFT_SOS, clean[:, 3:], state.drift_zi)

    out = np.empty((n_out, SIGNAL_CHANNELS))
    out[:, BODY_ACC] = clean[:, :3] - gravity
    out[:, GRAVITY_ACC] = gravity
    out[:, BODY_GYRO] = clean[:, 3:] - drift
    if final:
        return out, ChainState.initial()
    return out, ChainState(seq[n_out - 1].copy(), seq[n_out:].copy(), noise_zi, gravity_zi, drift_zi)


def preprocess(raw: np.ndarray, state: ChainState | None = None, *, final: bool = False
               ) -> tuple[np.ndarray, ChainState]:
    """Run the signal chain over a chunk of raw samples.

    Parameters
    ----------
    raw : ndarray, shape (n, 6), float64
        Acc x, y, z in g (gravity included), then gyro x, y, z in rad/s; 50 Hz. Rows with a
        non-finite value are gaps (see the module docstring).
    state : ChainState, optional
        From the previous call; ``None`` starts a recording.
    final : bool
        Close the recording: the last sample's median sees a zero after it.

    Returns
    -------
    signals : ndarray, shape (m, 9), float64
        Body acc x, y, z (g), gravity x, y, z (g), body gyro x, y, z (rad/s) for the samples whose
        output is now final: m is n plus the one held back by the previous call, minus the one
        held back now (none when ``final``). Gap samples give rows of NaN.
    state : ChainState
    """
    state = ChainState.initial() if state is None else state
    finite = np.isfinite(raw).all(axis=1)
    if finite.all():
        return _run_segment(raw, state, final)
    pieces = []
    bad = np.flatnonzero(~finite)
    begin = 0
    for b in bad:
        out, _ = _run_segment(raw[begin:b], state, final=True)
        pieces.append(out)
        pieces.append(np.full((1, SIGNAL_CHANNELS), np.nan))
        state = ChainState.initial()
        begin = b + 1
    out, state = _run_segment(raw[begin:], state, final)
    pieces.append(out)
    return np.concatenate(pieces), state
