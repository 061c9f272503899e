"""Package namespaces that load a module on first use of one of its names (PEP 562).

A package lists which module defines each public name; ``import pkg`` then costs nothing, and
``import pkg.contract`` loads that module alone. An app that ships part of the engine (the graph's
driver needs constants and exceptions only) imports no more than it uses.
"""

from __future__ import annotations

from importlib import import_module


def lazy_exports(package: str, exports: dict[str, str]):
    """``__getattr__`` and ``__dir__`` for ``package`` whose public names live in ``exports``.

    Parameters
    ----------
    package : str
        The package's ``__name__``.
    exports : dict of str -> str
        Public name -> the submodule (relative name) that defines it.

    Returns
    -------
    getattr, dir : callables
        To assign to the package's ``__getattr__`` and ``__dir__``.
    """
    def __getattr__(name: str):
        if name not in exports:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(import_module(f".{exports[name]}", package), name)
        setattr(import_module(package), name, value)      # later look-ups skip this function
        return value

    def __dir__():
        return sorted(set(vars(import_module(package))) | set(exports))

    return __getattr__, __dir__
