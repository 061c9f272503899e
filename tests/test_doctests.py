"""Every docstring example of the engine runs and prints what it says."""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import har.features
import har.runtime

MODULES = sorted(m.name for pkg in (har.features, har.runtime)
                 for m in pkgutil.walk_packages(pkg.__path__, pkg.__name__ + "."))


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples_run(name):
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE, verbose=False)
    assert result.failed == 0, f"{result.failed} of {result.attempted} examples failed in {name}"


def test_the_examples_are_found():
    attempted = sum(doctest.testmod(importlib.import_module(n), verbose=False, report=False).attempted
                    for n in MODULES)
    assert attempted >= 10
