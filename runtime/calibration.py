"""Guided calibration: prompt the user through a few activities, learn a personal model on the phone.

    from har.runtime import Recognizer
    from har.runtime.calibration import Calibration

    rec = Recognizer()
    cal = Calibration(rec)
    while not cal.done:
        show(cal.prompt)                      # "Stand still, phone where you carry it: 30 s"
        cal.begin()                           # the user taps "start"
        while cal.recording:
            cal.push(acc, gyro)               # 50 Hz samples; returns rec's predictions as usual
            show_progress(cal.progress)
    result = cal.finish("files/personal.onnx")   # writes the model, switches rec to it
    show(result.before, result.after)

The first :data:`~har.runtime.placement.SETTLE_S` seconds of each step (and after an abrupt turn of
the phone) are the phone being put in place and are not learnt from; a step ends once it holds its
seconds of settled data. ``skip()`` leaves an activity out (the personal model keeps the base
model's knowledge of it). numpy and onnxruntime only.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from har.features import StreamingExtractor
from har.features.contract import ACTIVITY_BY_ID

from .errors import StreamError
from .personalize import TRAIN_HOP, PersonalModel, UserWindows, personalize, windows_in
from .placement import SETTLE_S, gravity_directions, settled

__all__ = ["Calibration", "Step", "DEFAULT_STEPS"]


@dataclass(frozen=True)
class Step:
    """One prompted activity.

    Attributes
    ----------
    activity : int
        Activity id (1..6).
    instruction : str
        What to tell the user.
    seconds : float
        Seconds of settled data to collect (the settling seconds come on top).
    """

    activity: int
    instruction: str
    seconds: float = 30.0

    @property
    def windows_needed(self) -> int:
        """Windows every ``TRAIN_HOP`` samples that ``seconds`` of data hold."""
        return windows_in(self.seconds)


DEFAULT_STEPS = (
    Step(5, "Stand still, phone where you usually carry it"),
    Step(4, "Sit on a chair, phone where you usually carry it"),
    Step(1, "Walk on level ground at your usual pace"),
    Step(2, "Walk up stairs"),
    Step(3, "Walk down stairs"),
)


class Calibration:
    """Collects a user's windows step by step from a live stream and makes the personal model.

    Parameters
    ----------
    recognizer : Recognizer
        The live recognizer; ``push`` forwards samples to it, ``finish`` switches it to the
        personal model (its stream state is kept).
    base : path, optional
        Model to personalise (default: the recognizer's current model file).
    steps : sequence of Step
        The activities to prompt for, in order.
    """

    def __init__(self, recognizer, base=None, steps=DEFAULT_STEPS):
        if not steps:
            raise ValueError("a calibration needs at least one step")
        self.recognizer = recognizer
        self.base = Path(base) if base is not None else Path(recognizer.model.path)
        self.steps = tuple(steps)
        self._index = 0
        self._recording = False
        self._extractor = StreamingExtractor(TRAIN_HOP, on_nonfinite="gap")
        self._parts: list[UserWindows] = []
        # Settled windows of the step being recorded (never more than the step needs: bounded memory).
        self._starts: list[np.ndarray] = []
        self._rows: list[np.ndarray] = []
        self._settle_state = None

    # ------------------------------------------------------------------ state for the app

    @property
    def step(self) -> Step | None:
        """The step to do now, or None when all are done or skipped."""
        return self.steps[self._index] if self._index < len(self.steps) else None

    @property
    def done(self) -> bool:
        return self._index >= len(self.steps)

    @property
    def recording(self) -> bool:
        """True between ``begin`` and the moment the step has its data."""
        return self._recording

    @property
    def prompt(self) -> str:
        """The instruction for the current step, with its duration ("" when done)."""
        step = self.step
        if step is None:
            return ""
        return f"{step.instruction}: {step.seconds:g} s (plus {SETTLE_S:g} s to settle)"

    @property
    def progress(self) -> float:
        """Fraction (0..1) of the current step's settled windows collected."""
        step = self.step
        if step is None:
            return 1.0
        return min(1.0, self._count() / step.windows_needed)

    @property
    def windows_per_activity(self) -> dict[str, int]:
        """Settled windows collected so far per activity name (finished steps)."""
        out: dict[str, int] = {}
        for part in self._parts:
            for c in np.unique(part.y):
                name = ACTIVITY_BY_ID[int(c)].name
                out[name] = out.get(name, 0) + int((part.y == c).sum())
        return out

    # ------------------------------------------------------------------ driving it

    def begin(self) -> None:
        """Start recording the current step: its first seconds are settling."""
        if self.done:
            raise StreamError("calibration: every step is done; call finish()")
        self._extractor.reset()
        self._clear()
        self._recording = True

    def skip(self) -> None:
        """Leave the current activity out and move to the next step."""
        if self.done:
            return
        self._recording = False
        self._clear()
        self._index += 1

    def push(self, acc, gyro) -> list:
        """Forward 50 Hz samples to the recognizer, and learn from them while a step records.

        Parameters
        ----------
        acc : array, shape (n, 3)
            Acceleration with gravity, g.
        gyro : array, shape (n, 3)
            Angular rate, rad/s.

        Returns
        -------
        list of Prediction
            The recognizer's predictions for these samples.
        """
        predictions = self.recognizer.push(acc, gyro)
        if self._recording:
            acc2 = np.asarray(acc, dtype=np.float64).reshape(-1, 3)
            gyro2 = np.asarray(gyro, dtype=np.float64).reshape(-1, 3)
            starts, X = self._extractor.push(acc2, gyro2)
            self._take(starts, X)
            if self._count() >= self.step.windows_needed:
                self._close_step()
        return predictions

    def finish(self, path, *, apply: bool = True) -> PersonalModel:
        """Make the personal model from the finished steps, write it to ``path``.

        Parameters
        ----------
        path : path-like
            Destination ``.onnx`` (written atomically).
        apply : bool
            Switch the recognizer to the new model (stream state kept).

        Raises
        ------
        PersonalizeError
            Too little data, a contradictory activity, or a base model not of this engine.
        """
        if self._recording:
            raise StreamError("calibration: a step is still recording; push more samples or skip() it")
        parts = self._parts
        windows = UserWindows(
            np.vstack([p.X for p in parts]) if parts else np.empty((0, 561)),
            *(np.concatenate([getattr(p, f) for p in parts]) if parts else np.empty(0, np.int64)
              for f in ("y", "segment", "start")))
        result = personalize(self.base, windows, source="guided calibration: " + ", ".join(
            f"{k} {v}" for k, v in self.windows_per_activity.items()))
        result.write(path)
        if apply:
            self.recognizer.set_model(path)
        return result

    # ------------------------------------------------------------------ internals

    def _clear(self) -> None:
        self._starts, self._rows, self._settle_state = [], [], None

    def _count(self) -> int:
        return int(sum(len(s) for s in self._starts)) if self._recording else 0

    def _take(self, starts: np.ndarray, X: np.ndarray) -> None:
        """Keep the settled windows of a batch; windows touching a gap are dropped (and restart settling)."""
        if len(starts) == 0:
            return
        finite = np.isfinite(X).all(axis=1)
        starts, X = starts[finite], X[finite]
        keep, self._settle_state = settled(gravity_directions(X), starts, np.zeros(len(starts)), self._settle_state)
        need = self.step.windows_needed - self._count()
        self._starts.append(starts[keep][:need])
        self._rows.append(X[keep][:need])

    def _close_step(self) -> None:
        starts = np.concatenate(self._starts)
        X = np.vstack(self._rows)
        n = len(starts)
        self._parts.append(UserWindows(X, np.full(n, self.step.activity), np.full(n, self._index), starts))
        self._recording = False
        self._clear()
        self._index += 1
