"""The on-device side: numpy, scipy and onnxruntime only (never scikit-learn, skl2onnx or pandas).

    from har.runtime import Recognizer
    rec = Recognizer()                      # the bundled model
    for p in rec.push(acc, gyro):           # 50 Hz, acc (n, 3) in g, gyro (n, 3) in rad/s
        print(p.t_start, p.label, p.probabilities)

Readers, replay and batch prediction live in ``har.runtime.tools``, which this package never imports.
The names below load their module on first use (PEP 562): ``import har.runtime.engine`` (the engine
graph's driver) pulls in numpy and onnxruntime only, not the feature code.
"""

from har.features.lazy import lazy_exports

#: Public name -> the module that defines it.
_EXPORTS = {
    "Recognizer": "recognizer", "Prediction": "recognizer",
    "GapEvent": "online_resample", "OnlineResampler": "online_resample",
    "ActivityModel": "model", "load_model": "model", "bundled_model_path": "model",
    "HarError": "errors", "ModelError": "errors", "SourceError": "errors", "StreamError": "errors",
    "Calibration": "calibration", "Step": "calibration", "PersonalizeError": "personalize",
}
__all__ = list(_EXPORTS)


__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
