"""The layers hold at run time: what a phone app imports pulls in nothing from above it."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

FORBIDDEN = ("sklearn", "skl2onnx", "pandas", "onnx", "har.model", "har.runtime.tools", "matplotlib")


@pytest.mark.parametrize("statement", [
    "from har.runtime import Recognizer; import numpy as np; "
    "r = Recognizer(); r.push(np.tile([0, 0, 1.0], (300, 1)), np.zeros((300, 3))); r.flush()",
    "from har.runtime import Recognizer; import numpy as np; "
    "r = Recognizer(timestamped=True); r.push_timestamped(np.arange(300) / 100, np.tile([0, 0, 1.0], (300, 1)), "
    "np.zeros((300, 3)))",
])
def test_the_embeddable_runtime_loads_no_training_or_tool_module(statement):
    code = statement + textwrap.dedent(f"""
        import sys
        bad = sorted(m for m in sys.modules if m.split(".")[0] in {FORBIDDEN!r} or m in {FORBIDDEN!r}
                     or any(m.startswith(f + ".") for f in {FORBIDDEN!r}))
        print(",".join(bad))
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "", f"the runtime imported {out.strip()}"


def test_the_activity_names_are_written_in_one_module():
    """Each fact once: the activity names appear as string literals only in the contract module."""
    import pathlib

    root = pathlib.Path(__file__).resolve().parents[1]
    hits = []
    for folder in ("features", "runtime", "model", "benchmarks"):
        for path in (root / folder).rglob("*.py"):
            text = path.read_text()
            if '"WALKING_UPSTAIRS"' in text or "'WALKING_UPSTAIRS'" in text:
                hits.append(str(path.relative_to(root)))
    assert hits == ["features/contract.py"]
