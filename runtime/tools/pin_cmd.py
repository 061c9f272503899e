"""``har pin``: one placement's head of a placement-gated model, for apps that know where the phone is.

    har pin waist --out waist.onnx [--model BASE]

Writes the head of the named placement (a word of its name: ``waist``, ``pocket``) as a model of its
own, atomically (``har.runtime.pinned``). A refusal (no such placement, a model without a gate, an
``--out`` that is the base model) is one line and exit code 1; nothing is written.
"""

from __future__ import annotations

from pathlib import Path

from ..linear_onnx import serialize_model
from ..model import bundled_model_path
from ..pinned import pin_placement
from .model_out import check_model_output

__all__ = ["add_parser", "run"]


def add_parser(sub):
    p = sub.add_parser("pin", help="one placement's head as a model of its own (waist, pocket)",
                       description="Write the head of one phone placement of a placement-gated model as a "
                                   "model of its own, for apps that know where the phone is.")
    p.add_argument("placement", help="a word of the placement's name, e.g. waist or pocket")
    p.add_argument("--out", required=True, type=Path, metavar="ONNX", help="pinned model to write")
    p.add_argument("--model", type=Path, metavar="BASE", help="placement-gated model (default: the bundled one)")
    return p


def run(args) -> int:
    from ..files import atomic_write

    base = args.model or bundled_model_path()
    out = check_model_output(args.out, [base])
    model = pin_placement(base, args.placement)
    placement = model.metadata["pinned_placement"]
    atomic_write(out, serialize_model(model, doc=f"Activity model pinned to one placement ({placement})"))
    print(f"model: {out}: the {placement} head of {Path(base).name} "
          f"(parent sha256 {model.metadata['parent_model_sha256'][:12]})")
    return 0
