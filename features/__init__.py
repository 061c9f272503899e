"""The 561 UCI HAR features, recomputed from raw 50 Hz acc (g) and gyro (rad/s) samples.

Batch: ``extract_recording(acc, gyro, starts)``. Streaming: ``StreamingExtractor.push``. Both give
the same numbers. Depends on numpy and scipy only.

The names below load their module on first use (PEP 562), so that ``har.features.contract`` and
``har.features.errors`` (constants and exceptions) can be imported by code that ships without the
feature code, such as an app that runs the engine graph.
"""

from .lazy import lazy_exports

#: Public name -> the module that defines it.
_EXPORTS = {
    "SAMPLE_RATE_HZ": "contract", "WINDOW": "contract", "HOP": "contract", "SPAN": "contract",
    "HarError": "errors", "SampleError": "errors",
    "N_FEATURES": "table", "FEATURE_NAMES": "table", "OFFICIAL_NAMES": "table", "FEATURES_VERSION": "table",
    "FEATURE_DIGEST": "table",
    "ChainState": "chain", "preprocess": "chain",
    "extract_recording": "extract", "features_from_spans": "extract", "regular_starts": "extract",
    "valid_rows": "extract",
    "to_official_scale": "scale", "from_official_scale": "scale",
    "StreamingExtractor": "streaming",
}
__all__ = list(_EXPORTS)


__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
