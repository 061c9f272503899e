"""The on-device side: numpy, scipy and onnxruntime only (never scikit-learn, skl2onnx or pandas).

    from har.runtime import Recognizer
    rec = Recognizer()                      # the bundled model
    for p in rec.push(acc, gyro):           # 50 Hz, acc (n, 3) in g, gyro (n, 3) in rad/s
        print(p.t_start, p.label, p.probabilities)

Readers, replay and batch prediction live in ``har.runtime.tools``, which this package never imports.
"""

from .errors import HarError, ModelError, SourceError, StreamError
from .model import ActivityModel, bundled_model_path, load_model
from .online_resample import GapEvent, OnlineResampler
from .calibration import Calibration, Step
from .personalize import PersonalizeError
from .recognizer import Prediction, Recognizer

__all__ = ["Recognizer", "Prediction", "GapEvent", "OnlineResampler", "ActivityModel", "load_model",
           "bundled_model_path", "HarError", "ModelError", "SourceError", "StreamError", "Calibration", "Step",
           "PersonalizeError"]
