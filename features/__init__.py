"""The 561 UCI HAR features, recomputed from raw 50 Hz acc (g) and gyro (rad/s) samples.

Batch: ``extract_recording(acc, gyro, starts)``. Streaming: ``StreamingExtractor.push``. Both give
the same numbers. Depends on numpy and scipy only.
"""

from .chain import ChainState, preprocess
from .contract import HOP, SAMPLE_RATE_HZ, SPAN, WINDOW
from .errors import HarError, SampleError
from .extract import extract_recording, features_from_spans, regular_starts, valid_rows
from .scale import from_official_scale, to_official_scale
from .streaming import StreamingExtractor
from .table import FEATURE_DIGEST, FEATURE_NAMES, FEATURES_VERSION, N_FEATURES, OFFICIAL_NAMES

__all__ = [
    "SAMPLE_RATE_HZ", "WINDOW", "HOP", "SPAN", "N_FEATURES",
    "FEATURE_NAMES", "OFFICIAL_NAMES", "FEATURES_VERSION", "FEATURE_DIGEST",
    "ChainState", "preprocess", "extract_recording", "features_from_spans", "regular_starts", "valid_rows",
    "to_official_scale", "from_official_scale", "StreamingExtractor", "HarError", "SampleError",
]
