"""Streaming feature extraction: push samples in any chunking, get the windows that completed."""

from __future__ import annotations

import bisect

import numpy as np

from .chain import SIGNAL_CHANNELS, ChainState, preprocess
from .errors import HarError, SampleError
from .extract import HOP, SPAN, _check_policy, check_samples, cut_spans, features_from_spans
from .table import N_FEATURES


class StreamingExtractor:
    """The 561 features of a live 50 Hz stream, identical to ``extract_recording`` on the whole of it.

    Keeps the signal chain's filter state and the last few seconds of its output, never the whole
    history: memory stays bounded however long the stream runs.

    Parameters
    ----------
    hop : int or None
        Regular window starts every ``hop`` samples from sample 0; None for explicit starts only.
    on_nonfinite : {"raise", "gap"}
        See ``extract_recording``. With "gap", a NaN or inf sample restarts the chain and every
        window touching it comes out as a row of NaN.

    Examples
    --------
    >>> import numpy as np
    >>> ex = StreamingExtractor()
    >>> acc, gyro = np.tile([0.0, 0.0, 1.0], (193, 1)), np.zeros((193, 3))   # 3.86 s, g and rad/s
    >>> starts, X = ex.push(acc, gyro)      # the windows this chunk completed
    >>> starts.tolist(), X.shape
    ([0], (1, 561))
    >>> starts, X = ex.flush()              # end of stream: the window that waited for the last sample
    >>> starts.tolist()
    [64]
    """

    def __init__(self, hop: int | None = HOP, *, on_nonfinite: str = "raise"):
        if hop is not None and (int(hop) != hop or hop <= 0):
            raise HarError(f"hop must be a positive number of samples or None, got {hop!r}")
        self.hop = None if hop is None else int(hop)
        self.on_nonfinite = on_nonfinite
        self._allow_nonfinite = _check_policy(on_nonfinite)
        self.reset()

    def reset(self) -> None:
        """Forget everything: the next sample is sample 0 of a new recording."""
        self._state = ChainState.initial()
        self._buf = np.empty((4 * SPAN, SIGNAL_CHANNELS))
        self._base = 0          # absolute index of self._buf[0]
        self._len = 0           # valid rows in self._buf
        self._n_in = 0          # raw samples received
        self._next_regular = 0 if self.hop is not None else None
        self._extra: list[int] = []
        self._closed = False

    @property
    def n_samples(self) -> int:
        """Raw samples pushed so far."""
        return self._n_in

    @property
    def n_processed(self) -> int:
        """Samples whose chain output is final (one fewer than pushed until ``flush``)."""
        return self._base + self._len

    def add_starts(self, starts) -> None:
        """Schedule extra windows at absolute 0-based sample indices (e.g. labelled segments).

        Samples are held only while a pending window needs them: a start before the next regular
        start and before every pending explicit start (or before the samples processed so far
        when there is none) raises ValueError.
        """
        earliest = self._oldest_needed()
        for s in np.atleast_1d(np.asarray(starts, dtype=np.int64)).tolist():
            if s < earliest:
                raise HarError(f"window start {s} is before sample {earliest}, the earliest still held")
            bisect.insort(self._extra, s)

    def push(self, acc, gyro) -> tuple[np.ndarray, np.ndarray]:
        """Add samples; return the windows they completed.

        Parameters
        ----------
        acc : array, shape (n, 3), float
            Accelerometer x, y, z in g, gravity included, 50 Hz. Any n, including 0 and 1.
        gyro : array, shape (n, 3), float
            Gyroscope x, y, z in rad/s, same samples.

        Returns
        -------
        starts : ndarray, shape (k,), int64
            Absolute 0-based first sample of each completed window, ascending.
        X : ndarray, shape (k, 561), float64
            Unscaled features; rows of NaN for windows touching a gap.
        """
        if self._closed:
            raise SampleError("push after flush: call reset() to start a new stream")
        raw = check_samples(acc, gyro, allow_nonfinite=self._allow_nonfinite)
        # Validation happens before any state changes: a refused chunk leaves the stream as it was.
        signals, self._state = preprocess(raw, self._state)
        self._n_in += len(raw)
        self._append(signals)
        return self._emit()

    def push_one(self, acc_xyz, gyro_xyz) -> tuple[np.ndarray, np.ndarray]:
        """One sample: acc (3,) in g and gyro (3,) in rad/s. Same return as ``push``."""
        return self.push(np.reshape(acc_xyz, (1, 3)), np.reshape(gyro_xyz, (1, 3)))

    def flush(self) -> tuple[np.ndarray, np.ndarray]:
        """End the stream: finish the last sample (its median sees a zero after it), emit what completes."""
        if self._closed:
            return np.empty(0, dtype=np.int64), np.empty((0, N_FEATURES))
        signals, self._state = preprocess(np.empty((0, 6)), self._state, final=True)
        self._append(signals)
        self._closed = True
        return self._emit()

    # ------------------------------------------------------------------ internals

    def _append(self, signals: np.ndarray) -> None:
        k = len(signals)
        if k == 0:
            return
        if self._len + k > len(self._buf):
            self._compact(k)
        self._buf[self._len:self._len + k] = signals
        self._len += k

    def _oldest_needed(self) -> int:
        candidates = [self.n_processed]
        if self._next_regular is not None:
            candidates.append(self._next_regular)
        if self._extra:
            candidates.append(self._extra[0])
        return min(candidates)

    def _compact(self, incoming: int) -> None:
        keep_from = max(self._oldest_needed(), self._base)
        drop = keep_from - self._base
        kept = self._len - drop
        size = len(self._buf)
        while kept + incoming > size:
            size *= 2
        buf = self._buf if size == len(self._buf) else np.empty((size, SIGNAL_CHANNELS))
        buf[:kept] = self._buf[drop:self._len]
        self._buf, self._base, self._len = buf, keep_from, kept

    def _ready_starts(self) -> list[int]:
        limit = self.n_processed - SPAN          # a window at s needs chain output up to s + 128
        ready = []
        if self._next_regular is not None:
            while self._next_regular <= limit:
                ready.append(self._next_regular)
                self._next_regular += self.hop
        cut = bisect.bisect_right(self._extra, limit)
        if cut:
            ready.extend(self._extra[:cut])
            del self._extra[:cut]
        return sorted(ready)

    def _emit(self) -> tuple[np.ndarray, np.ndarray]:
        starts = self._ready_starts()
        if not starts:
            return np.empty(0, dtype=np.int64), np.empty((0, N_FEATURES))
        starts = np.asarray(starts, dtype=np.int64)
        X = features_from_spans(cut_spans(self._buf[:self._len], starts - self._base))
        return starts, X
