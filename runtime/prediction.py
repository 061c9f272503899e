"""One window's activity: what every recognizer of the engine returns, the Python one and the graph's.

Plain data with no imports from the rest of the engine, so that the graph's driver
(``har.runtime.engine``), which ships with numpy and onnxruntime only, returns the same record.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Prediction", "GAP"]

#: ``Prediction.reason`` of a window that touched missing samples.
GAP = "gap"


@dataclass(frozen=True)
class Prediction:
    """One window's activity.

    Attributes
    ----------
    start, end : int
        First sample and one past the last sample of the window (50 Hz sample indices since the
        stream began; the window is 128 samples, 2.56 s).
    t_start, t_end : float
        The same in seconds since the stream began (or on the caller's clock for
        ``push_timestamped``).
    label : str
        Activity name, e.g. "WALKING"; "UNKNOWN" for a window touching a gap (``valid`` False).
    label_id : int
        Class id 1..6 (0 for an invalid window).
    probabilities : dict[str, float]
        Per-class probability, summing to 1 (all NaN for an invalid window).
    valid : bool
        False when the window touched missing samples: no activity is claimed for it.
    reason : str or None
        Why an invalid window claims no activity: "gap" (it touched missing samples) or
        "implausible" (a sample beyond the sensors' physical range, ``har.runtime.plausibility``);
        None for a valid window.
    placement_ok : bool or None
        Whether the window's gravity direction (phone orientation) is like one the model was
        trained on (within the model's ``placement_max_angle_deg`` of a reference direction, see
        ``har.runtime.placement``). False: the phone sits in a way the model never saw, so its
        label is a guess; an app can ask the user to calibrate for this placement
        (``har.runtime.calibration``). None when the model carries no reference or the window is
        invalid.
    """

    start: int
    end: int
    t_start: float
    t_end: float
    label: str
    label_id: int
    probabilities: dict
    valid: bool = True
    placement_ok: bool | None = None
    reason: str | None = None

    @property
    def confidence(self) -> float:
        return max(self.probabilities.values()) if self.valid else float("nan")
