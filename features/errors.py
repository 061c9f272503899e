"""The engine's one exception root.

Every error the engine raises for bad input (samples, files, models, options) derives from
``HarError``, so a command-line tool catches ``HarError`` (and ``OSError``) and prints one line;
anything else is a bug and keeps its traceback. ``HarError`` is a ``ValueError`` so that callers
written against plain ``ValueError`` keep working.
"""

from __future__ import annotations


class HarError(ValueError):
    """Bad input to the engine: the message says what was wrong and where."""


class SampleError(HarError):
    """Samples the feature extractor cannot take: wrong shape, dtype, or a non-finite value."""
