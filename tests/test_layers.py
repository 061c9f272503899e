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


@pytest.mark.parametrize("package", ["har.features", "har.runtime"])
def test_all_lists_exactly_the_public_names_a_package_exports(package):
    import importlib
    import types

    pkg = importlib.import_module(package)
    assert len(set(pkg.__all__)) == len(pkg.__all__)
    for name in pkg.__all__:
        assert getattr(pkg, name) is not None
    # Everything a submodule lists as public and the package re-exports is in the package's __all__.
    for name in dir(pkg):
        value = getattr(pkg, name)
        if not name.startswith("_") and not isinstance(value, types.ModuleType) and name != "lazy_exports":
            assert name in pkg.__all__, name
    with pytest.raises(AttributeError, match="no attribute 'Nope'"):
        pkg.Nope


def test_every_name_in_a_module_all_exists():
    import importlib
    import pkgutil

    import har.features
    import har.runtime

    for pkg in (har.features, har.runtime):
        for info in pkgutil.walk_packages(pkg.__path__, pkg.__name__ + "."):
            module = importlib.import_module(info.name)
            missing = [n for n in getattr(module, "__all__", ()) if not hasattr(module, n)]
            assert not missing, f"{info.name}.__all__ names {missing}, which it does not define"


def test_the_contract_and_errors_load_without_the_feature_code():
    code = ("import sys; import har.features.contract, har.features.errors, har.runtime; "
            "print(','.join(sorted(m for m in sys.modules if m.startswith(('har.', 'scipy')) "
            "and m not in ('har.features', 'har.features.contract', 'har.features.errors', 'har.features.lazy', "
            "'har.runtime'))))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == ""
