"""``har personalize``: a personal model from a user's labelled recordings.

    har personalize walk.csv sit.csv SensorLogger.zip --out my.onnx [--model BASE]

The recordings (anything ``har predict`` reads, with per-sample labels) are cut into windows every
16 samples; the first seconds after each placement change are dropped; the base model (default: the
bundled one) is fine-tuned on them (``har.runtime.personalize``). Prints the windows per class and
the before/after scores on the held-out halves, writes the model atomically. A refusal (too little
data, a contradictory class, a base model not of this engine) is one line and exit code 1; nothing
is written.
"""

from __future__ import annotations

from pathlib import Path

from ..model import bundled_model_path
from ..personalize import personalize
from ..units import ACC_UNITS, GYRO_UNITS
from .model_out import check_model_output

__all__ = ["add_parser", "run"]


def add_parser(sub):
    p = sub.add_parser("personalize", help="adapt the model to your own labelled recordings",
                       description="Fine-tune the activity model on your own labelled recordings.")
    p.add_argument("files", nargs="+", metavar="DATA",
                   help="labelled recordings: engine CSV with a label column, Sensor Logger export, .npz with labels, ...")
    p.add_argument("--out", required=True, type=Path, metavar="ONNX", help="personal model to write")
    p.add_argument("--model", type=Path, metavar="BASE", help="base model (default: the bundled one)")
    p.add_argument("--acc-unit", choices=ACC_UNITS, help="acc unit of engine CSV inputs (default g)")
    p.add_argument("--gyro-unit", choices=GYRO_UNITS, help="gyro unit of engine CSV inputs (default rad/s)")
    return p


def run(args) -> int:
    from .user_data import read_user_windows

    base = args.model or bundled_model_path()
    check_model_output(args.out, [*args.files, base])
    windows, described = read_user_windows(args.files, acc_unit=args.acc_unit, gyro_unit=args.gyro_unit)
    result = personalize(base, windows, source="; ".join(described))
    path = result.write(args.out)
    per_class = ", ".join(f"{k} {v}" for k, v in result.windows_per_class.items())
    print(f"windows per class: {per_class}")
    print(f"held-out halves ({result.after['windows']} windows): macro-F1 {result.before['macro_f1']:.3f} "
          f"-> {result.after['macro_f1']:.3f}, accuracy {result.before['accuracy']:.3f} -> {result.after['accuracy']:.3f}")
    if result.fallback:
        print("fine-tuning did not help on the held-out halves: the model keeps the base weights")
    print(f"model: {path} (parent sha256 {result.model.metadata['parent_model_sha256'][:12]})")
    return 0
