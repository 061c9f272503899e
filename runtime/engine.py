"""The engine as one ONNX graph (``data/engine.onnx``), driven with numpy and onnxruntime only.

The graph takes the next 64 samples of each stream and the stream's state, and returns the
activity of one window and the new state; see ``har export-engine``. This module adds what a
caller needs around it: buffering samples into 64-sample blocks, carrying the state, naming the
window each output belongs to, and batching many streams into one call.

It imports neither scipy nor the feature code (only the engine's constants, exceptions and
``Prediction`` record), so an app can ship numpy + onnxruntime only::

    from har.runtime.engine import EngineRecognizer
    rec = EngineRecognizer()                 # the bundled engine.onnx
    for p in rec.push(acc, gyro):            # 50 Hz, acc (n, 3) in g, gyro (n, 3) in rad/s
        print(p.start, p.label, p.probabilities)
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import onnxruntime as ort

from har.features.contract import ENGINE_INPUTS, ENGINE_OUTPUTS, UNKNOWN
from har.features.errors import HarError

from .prediction import GAP, Prediction


class EngineError(HarError):
    """A file that is not an engine graph, or samples/state of the wrong shape (one-line message)."""


INPUTS, OUTPUTS = ENGINE_INPUTS, ENGINE_OUTPUTS


def bundled_engine_path() -> Path:
    """The engine graph shipped with the package (float32)."""
    return Path(__file__).resolve().parent / "data" / "engine.onnx"


@dataclass(frozen=True)
class EngineOutput:
    """One call's outputs for B streams (arrays in stream order)."""

    probabilities: np.ndarray     # (B, K) class-id order
    label: np.ndarray             # (B,) int64 class id, 0 when not valid
    valid: np.ndarray             # (B,) bool
    features: np.ndarray          # (B, 561) official UCI scale, NaN when not valid
    state: np.ndarray             # (B, S) pass back on the next call


class EngineSession:
    """An onnxruntime session on the engine graph, with its geometry read from the file's metadata.

    Parameters
    ----------
    path : str or Path, optional
        The engine ONNX file; default the bundled float32 ``engine.onnx``.
    threads : int
        onnxruntime intra-op threads (1 suits a phone and a server running many sessions).
    """

    def __init__(self, path=None, *, threads: int = 1):
        self.path = Path(path) if path is not None else bundled_engine_path()
        if not self.path.exists():
            raise FileNotFoundError(f"{self.path}: engine graph not found (build it with har export-engine)")
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        # Constant folding and node fusions (the default level, stated because the graph is built
        # for it); one intra-op thread: the graph's nodes are small, thread hand-offs cost more.
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        self.session = ort.InferenceSession(str(self.path), options, providers=["CPUExecutionProvider"])
        meta = self.session.get_modelmeta().custom_metadata_map
        self.metadata = dict(meta)
        try:
            self.hop = int(meta["hop"])
            self.window = int(meta["window"])
            self.sample_rate_hz = float(meta["sample_rate_hz"])
            self.state_size = int(meta["state_size"])
            self.delay = int(meta["delay_samples"])
            self.class_ids = [int(c) for c in json.loads(meta["class_ids"])]
            self.class_names = [str(c) for c in json.loads(meta["class_names"])]
        except (KeyError, ValueError) as exc:
            raise EngineError(f"{self.path}: not an engine graph (metadata {exc} missing or malformed)") from None
        names = [i.name for i in self.session.get_inputs()]
        if tuple(names) != INPUTS:
            raise EngineError(f"{self.path}: inputs {names}, expected {list(INPUTS)}")
        self.dtype = np.float64 if self.session.get_inputs()[0].type == "tensor(double)" else np.float32
        self._outputs = [o.name for o in self.session.get_outputs()]

    def initial_state(self, n_streams: int = 1) -> np.ndarray:
        """State of ``n_streams`` new streams: zeros, shape (n_streams, state_size)."""
        return np.zeros((n_streams, self.state_size), dtype=self.dtype)

    def run(self, samples: np.ndarray, state: np.ndarray) -> EngineOutput:
        """One block of every stream.

        Parameters
        ----------
        samples : ndarray, shape (B, hop, 6)
            The next ``hop`` (64) samples of each stream: acc x, y, z in g with gravity, gyro x, y, z
            in rad/s, 50 Hz; NaN marks a missing sample.
        state : ndarray, shape (B, state_size)
            ``initial_state`` rows for new streams, else the previous call's ``state``.

        Returns
        -------
        EngineOutput
            The window of each stream starting at ``n - window - delay`` samples, where ``n`` is
            the number of samples the stream has received including this block.
        """
        samples = np.ascontiguousarray(samples, dtype=self.dtype)
        state = np.ascontiguousarray(state, dtype=self.dtype)
        if samples.ndim != 3 or samples.shape[1:] != (self.hop, 6):
            raise EngineError(f"samples: expected shape (B, {self.hop}, 6), got {samples.shape}")
        if state.shape != (samples.shape[0], self.state_size):
            raise EngineError(f"state: expected shape ({samples.shape[0]}, {self.state_size}), got {state.shape}")
        out = self.session.run(None, {"samples": samples, "state": state})
        got = dict(zip(self._outputs, out))
        return EngineOutput(got["probabilities"], got["label"], got["valid"], got["features"], got["state_out"])


class _Stream:
    """Sample buffer, state and sample count of one stream."""

    def __init__(self, session: EngineSession):
        self.session = session
        self.reset()

    def reset(self):
        self.state = self.session.initial_state(1)[0]
        self.pending = np.empty((0, 6), dtype=self.session.dtype)
        self.n_blocks = 0          # blocks sent to the graph
        self.n_samples = 0         # samples received

    def add(self, acc: np.ndarray, gyro: np.ndarray):
        """Append validated (n, 3) rows."""
        self.pending = np.concatenate([self.pending, np.hstack([acc, gyro]).astype(self.session.dtype)])
        self.n_samples += len(acc)


def _as_rows(x, name: str) -> np.ndarray:
    a = np.asarray(x, dtype=np.float64)
    if a.ndim == 1:
        a = a.reshape(1, -1)
    if a.ndim != 2 or a.shape[1] != 3:
        raise EngineError(f"{name}: expected shape (n, 3) or (3,) (x, y, z), got {np.shape(x)}")
    return a


class EngineStreams:
    """Many live streams run through one engine session, one batched call per block.

    Parameters
    ----------
    session : EngineSession or path, optional
        Default: the bundled engine.

    Streams are named by any hashable key; a key not seen before starts a new stream. Methods are
    serialised by a lock, so sensor callback threads may share the object.
    """

    def __init__(self, session: EngineSession | str | Path | None = None):
        self.session = session if isinstance(session, EngineSession) else EngineSession(session)
        self._streams: dict = {}
        self._lock = threading.RLock()

    def _stream(self, key) -> _Stream:
        if key not in self._streams:
            self._streams[key] = _Stream(self.session)
        return self._streams[key]

    def push(self, chunks: dict) -> dict:
        """Add samples to streams; return the windows they completed.

        Parameters
        ----------
        chunks : dict
            key -> (acc, gyro): arrays of shape (n, 3) in g (gravity included) and rad/s, 50 Hz.

        Returns
        -------
        dict
            key -> list of Prediction, in window order, for every key in ``chunks``.
        """
        with self._lock:
            return self._push(chunks)

    def _push(self, chunks: dict) -> dict:
        # Validate every chunk before changing any stream.
        rows = {key: (_as_rows(acc, "acc"), _as_rows(gyro, "gyro")) for key, (acc, gyro) in chunks.items()}
        for key, (acc, gyro) in rows.items():
            if len(acc) != len(gyro):
                raise EngineError(f"stream {key!r}: acc has {len(acc)} samples but gyro has {len(gyro)}")
        for key, (acc, gyro) in rows.items():
            self._stream(key).add(acc, gyro)
        result = {key: [] for key in chunks}
        hop = self.session.hop
        while True:
            ready = [k for k, s in self._streams.items() if len(s.pending) >= hop]
            if not ready:
                return result
            for key, preds in self._run(ready, [self._streams[k].pending[:hop] for k in ready]).items():
                result.setdefault(key, []).extend(preds)
            for key in ready:
                self._streams[key].pending = self._streams[key].pending[hop:]

    def flush(self, key) -> list[Prediction]:
        """End a stream: the last window(s) waiting for samples that will not come; the stream restarts."""
        with self._lock:
            return self._flush(key)

    def _flush(self, key) -> list[Prediction]:
        s = self._stream(key)
        out: list[Prediction] = []
        if len(s.pending):
            # NaN padding closes the chain exactly as the end of a recording does.
            block = np.full((self.session.hop, 6), np.nan, dtype=self.session.dtype)
            block[:len(s.pending)] = s.pending
            total = s.n_samples
            preds = self._run([key], [block])[key]
            out = [p for p in preds if p.end + 1 <= total]
        s.reset()
        return out

    def reset(self, key=None) -> None:
        """Forget one stream (or all when ``key`` is None)."""
        with self._lock:
            if key is None:
                self._streams.clear()
            else:
                self._streams.pop(key, None)

    def n_samples(self, key) -> int:
        """Samples received by a stream."""
        return self._stream(key).n_samples

    def _run(self, keys, blocks) -> dict:
        sess = self.session
        streams = [self._streams[k] for k in keys]
        out = sess.run(np.stack(blocks), np.stack([s.state for s in streams]))
        result = {}
        for i, (key, s) in enumerate(zip(keys, streams)):
            s.state = out.state[i]
            s.n_blocks += 1
            start = s.n_blocks * sess.hop - sess.window - sess.delay
            if start < 0:
                result[key] = []
                continue
            result[key] = [self._prediction(start, out, i)]
        return result

    def _prediction(self, start: int, out: EngineOutput, i: int) -> Prediction:
        sess = self.session
        ok = bool(out.valid[i])
        lab = int(out.label[i]) if ok else 0
        names = dict(zip(sess.class_ids, sess.class_names))
        rate = sess.sample_rate_hz
        return Prediction(start=start, end=start + sess.window, t_start=start / rate,
                          t_end=(start + sess.window) / rate, label=names.get(lab, UNKNOWN) if ok else UNKNOWN,
                          label_id=lab, valid=ok,
                          probabilities={n: float(v) for n, v in zip(sess.class_names, out.probabilities[i])},
                          reason=None if ok else GAP)


class EngineRecognizer:
    """Activity recognition on one live stream through the engine graph (``push``/``flush``/``reset``).

    Parameters
    ----------
    session : EngineSession or path, optional
        Default: the bundled engine. Share one EngineSession between recognizers to share the
        onnxruntime session.
    """

    def __init__(self, session: EngineSession | str | Path | None = None):
        self._streams = EngineStreams(session)
        self.session = self._streams.session

    def push(self, acc, gyro) -> list[Prediction]:
        """Add 50 Hz samples; return the predictions of the windows they completed.

        Parameters
        ----------
        acc : array, shape (n, 3) or (3,)
            Accelerometer x, y, z in g, gravity included; NaN marks a missing sample.
        gyro : array, shape (n, 3) or (3,)
            Gyroscope x, y, z in rad/s.

        Returns
        -------
        list of Prediction
            One per completed window, in order. The window starting at sample s is reported
            once sample s + 191 has arrived (the graph's delay is one 64-sample block).
        """
        return self._streams.push({0: (acc, gyro)})[0]

    def flush(self) -> list[Prediction]:
        """End of the stream: the window waiting for the last samples; the recognizer then restarts."""
        return self._streams.flush(0)

    def reset(self) -> None:
        """Forget the stream: the next sample starts a new one."""
        self._streams.reset(0)

    @property
    def n_samples(self) -> int:
        """50 Hz samples received so far."""
        return self._streams.n_samples(0)
