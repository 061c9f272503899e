"""The checks an ``--out`` model file passes before a command writes it."""

from __future__ import annotations

from pathlib import Path

from ..errors import SourceError
from .predict import STDOUT, check_output

__all__ = ["check_model_output"]


def check_model_output(out, inputs) -> Path:
    """``out`` as a path, refused (one line) when it is standard output, an input, a folder or read-only.

    Parameters
    ----------
    out : path-like
        The model file to write.
    inputs : list of path-like
        Everything the command reads: recordings, the base model.

    Raises
    ------
    SourceError
    """
    if str(out) == STDOUT:
        raise SourceError(STDOUT, "a model is a binary file: --out must be a file path")
    check_output(str(out), [str(p) for p in inputs])
    return Path(out)
