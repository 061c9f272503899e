"""Exceptions raised by the runtime for bad user input, all under the engine's ``HarError``."""

from __future__ import annotations

from har.features.errors import HarError

__all__ = ["HarError", "SourceError", "ModelError", "StreamError"]


class SourceError(HarError):
    """A recording file that cannot be read as the format it claims to be.

    The message names the file, the line (1-based, as a text editor shows it), the column and
    what was expected, so that a command-line tool can print it on one line and the user can open
    the file at the right place::

        Accelerometer.csv line 12: column 'x': expected a number, got 'abc'

    Parameters
    ----------
    file : str
        The file as the user knows it (its name, or ``archive.zip/member.csv``).
    problem : str
        What was expected and what was found.
    line : int, optional
        1-based line number in the file.
    column : str, optional
        Column name as written in the file's header.

    Attributes
    ----------
    file, problem, line, column
        As given, for programs that want to point at the place themselves.
    """

    def __init__(self, file: str, problem: str, *, line: int | None = None,
                 column: str | None = None) -> None:
        self.file = file
        self.problem = problem
        self.line = line
        self.column = column
        where = file if line is None else f"{file} line {line}"
        if column is not None:
            where = f"{where}: column '{column}'"
        super().__init__(f"{where}: {problem}")

    def __reduce__(self):
        # Exceptions pickle as cls(*args); keyword-only fields would be lost across processes.
        return (_rebuild, (self.file, self.problem, self.line, self.column))


def _rebuild(file, problem, line, column):
    return SourceError(file, problem, line=line, column=column)


class ModelError(HarError):
    """A model file that is missing, corrupt, not ours, or made for other features."""


class StreamError(HarError):
    """Samples a stream cannot take: wrong shape, units, or time going backwards."""
