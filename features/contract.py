"""The engine's contract: every fact that more than one part of the engine relies on, written once.

Sample rate and window geometry (the features), the activity table (the model, the runtime, the
readers, the reports) and the names inside an exported model file (the exporter writes them, the
loader checks them). Everything else imports from here; nothing retypes these values.
"""

from __future__ import annotations

from dataclasses import dataclass

# --------------------------------------------------------------------------- samples and windows

#: Rate of the samples the features are defined on, Hz.
SAMPLE_RATE_HZ = 50.0
#: Samples per window (2.56 s at 50 Hz).
WINDOW = 128
#: Samples between regular window starts (1.28 s).
HOP = 64
#: A window also reads the sample after it, for the jerk.
SPAN = WINDOW + 1
#: Columns of a raw sample: acc x, y, z in g (gravity included, Android sign), gyro x, y, z in rad/s.
RAW_CHANNELS = 6
INPUT_UNITS = "acc x,y,z in g with gravity (Android sign), gyro x,y,z in rad/s, 50 Hz"

# --------------------------------------------------------------------------- activities


@dataclass(frozen=True)
class Activity:
    """One row of the activity table: HAPT label id, name, one-letter code for timelines, and the
    other words people write for it in label columns and annotations."""

    id: int
    name: str
    letter: str
    synonyms: tuple = ()


#: The HAPT label ids: 1..6 activities, 7..12 postural transitions.
ACTIVITIES = (
    Activity(1, "WALKING", "W", ("WALK",)),
    Activity(2, "WALKING_UPSTAIRS", "U", ("UPSTAIRS", "STAIRS_UP", "UP")),
    Activity(3, "WALKING_DOWNSTAIRS", "D", ("DOWNSTAIRS", "STAIRS_DOWN", "DOWN")),
    Activity(4, "SITTING", "s", ("SIT",)),
    Activity(5, "STANDING", "S", ("STAND",)),
    Activity(6, "LAYING", "L", ("LAY", "LYING", "LIE", "LYING_DOWN")),
    Activity(7, "STAND_TO_SIT", "t"),
    Activity(8, "SIT_TO_STAND", "t"),
    Activity(9, "SIT_TO_LIE", "t"),
    Activity(10, "LIE_TO_SIT", "t"),
    Activity(11, "STAND_TO_LIE", "t"),
    Activity(12, "LIE_TO_STAND", "t"),
)
#: Label id of an unlabelled sample.
UNLABELLED = -1
#: Label id of a window whose samples do not share one activity (mixed, transition, unlabelled).
NO_WINDOW_LABEL = 0
#: Name reported for a window that claims no activity (it touched missing or implausible samples).
UNKNOWN = "UNKNOWN"
#: Timeline letter of such a window.
UNKNOWN_LETTER = "?"

#: id -> name, for every HAPT label id (and -1).
LABEL_NAMES = {UNLABELLED: "NONE", **{a.id: a.name for a in ACTIVITIES}}
#: id -> Activity.
ACTIVITY_BY_ID = {a.id: a for a in ACTIVITIES}
#: name -> Activity.
ACTIVITY_BY_NAME = {a.name: a for a in ACTIVITIES}
_WORDS = {word: a.id for a in ACTIVITIES for word in (a.name, *a.synonyms)}


def activity_id(text: str) -> int | None:
    """Activity id of a label as people write it: "walking", "upstairs", "Walking-Upstairs", "5", "-1".

    Returns None for a text that names no activity of the table (nor the unlabelled id -1).

    >>> activity_id("walking upstairs"), activity_id("sit"), activity_id("-1"), activity_id("jogging")
    (2, 4, -1, None)
    """
    s = str(text).strip()
    try:
        value = int(s)
    except ValueError:
        return _WORDS.get("_".join(s.upper().replace("-", " ").replace("_", " ").split()))
    return value if value == UNLABELLED or value in ACTIVITY_BY_ID else None


#: The classes the models predict (the six activities of UCI HAR).
MODEL_CLASS_IDS = (1, 2, 3, 4, 5, 6)
MODEL_CLASS_NAMES = tuple(ACTIVITY_BY_ID[c].name for c in MODEL_CLASS_IDS)

# --------------------------------------------------------------------------- model files (ONNX)

#: Graph input of a classifier: float32 [N, 561] features.
ONNX_INPUT = "features"
#: Graph outputs: float32 [N, K] probabilities in class-id order, int64 [N] class id.
ONNX_PROBABILITIES = "probabilities"
ONNX_LABEL = "label"

#: Scale of the features a classifier takes: raw pipeline units (the official min-max scale and the
#: standardisation are folded into its first layer) ...
SCALE_RAW = "raw"
#: ... or the published [-1, 1] scale (models exported before the scale was folded in).
SCALE_OFFICIAL = "uci_official_minmax"

#: Metadata keys (``metadata_props``) every classifier file carries.
META_CLASS_IDS = "class_ids"                 # JSON list of int, increasing
META_CLASS_NAMES = "class_names"             # JSON list of str, same order
META_FEATURE_DIGEST = "feature_names_digest"
META_FEATURES_VERSION = "features_version"
META_FEATURE_SCALE = "feature_scale"
META_N_FEATURES = "n_features"
META_CREATED = "created"
REQUIRED_META = (META_CLASS_IDS, META_CLASS_NAMES, META_FEATURE_DIGEST, META_FEATURES_VERSION,
                 META_FEATURE_SCALE, META_N_FEATURES)

#: The engine graph (``har export-engine``): inputs samples [B, 64, 6] and state [B, S]; outputs
#: probabilities [B, K], label [B], valid [B], features [B, 561] (official scale), state_out [B, S].
ENGINE_INPUTS = ("samples", "state")
ENGINE_OUTPUTS = ("probabilities", "label", "valid", "features", "state_out")
