"""Delimited text tables read in chunks of rows, from a file or a zip member, errors with lines.

Memory stays bounded whatever the file's length: a :class:`TextTable` reads ``CHUNK_ROWS`` rows at
a time and hands them on as float64 arrays. A zip member is streamed through
:class:`Container`, which refuses members whose expanded size or compression ratio is beyond
:data:`MAX_MEMBER_BYTES` / :data:`MAX_RATIO` before reading a byte, and turns a bad CRC, a truncated
archive or corrupt deflate data into a one-line :class:`~har.runtime.errors.SourceError` naming the
archive and the member.
"""

from __future__ import annotations

import csv
import io
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator

import numpy as np

from ...errors import SourceError

#: Rows per chunk: a few thousand keeps numpy's per-call overhead small and memory flat.
CHUNK_ROWS = 4096
#: Largest expanded zip member read, bytes (a day at 100 Hz of one Sensor Logger CSV is ~0.7 GB).
MAX_MEMBER_BYTES = 2 * 2**30
#: Largest expansion ratio of a zip member over 1 MiB: CSV of sensor numbers deflates 3-6 times;
#: a ratio in the hundreds is a bomb, not a recording.
MAX_RATIO = 100.0
_RATIO_MIN_BYTES = 2**20
ZIP_MAGIC = b"PK\x03\x04"


def quoted(names) -> str:
    """'a', 'b' for messages; 'nothing' for an empty list."""
    names = list(names)
    return ", ".join(f"'{n}'" for n in names) if names else "nothing"


def is_zip(path: Path) -> bool:
    """True when the file starts like a zip archive (whatever its name)."""
    try:
        with open(path, "rb") as fh:
            return fh.read(4) == ZIP_MAGIC
    except OSError:
        return False


class _Guarded(io.RawIOBase):
    """A zip member stream whose archive errors become SourceError naming the member."""

    def __init__(self, raw, shown: str):
        self._raw, self._shown = raw, shown

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        try:
            data = self._raw.read(len(buffer))
        except (zipfile.BadZipFile, zlib.error, EOFError) as exc:
            raise SourceError(self._shown, f"corrupt zip member ({exc}): export it again") from None
        buffer[:len(data)] = data
        return len(data)

    def close(self) -> None:
        self._raw.close()
        super().close()


class Container:
    """The files of an export: a folder, or a zip archive (members streamed, with limits).

    Members are found by base name, case-insensitively; an archive zipped by hand may keep them in
    a top-level folder. ``meta/device.csv``-style paths are found by their last two parts.
    """

    def __init__(self, path) -> None:
        self.path = Path(path)
        self.label = self.path.name
        self._zip: zipfile.ZipFile | None = None
        self._members: dict[str, object] = {}
        if self.path.is_dir():
            # The export's own files and one level of sub-folders (phyphox's meta/), no deeper:
            # a folder passed by mistake (a home folder) is not walked.
            for p in sorted(self.path.iterdir()):
                if p.is_file():
                    self._add(p.name, p)
                elif p.is_dir():
                    for q in sorted(p.iterdir())[:1000]:
                        if q.is_file():
                            self._add(f"{p.name}/{q.name}", q)
        else:
            try:
                self._zip = zipfile.ZipFile(self.path)
                infos = self._zip.infolist()
            except (zipfile.BadZipFile, zlib.error, EOFError, ValueError) as exc:
                raise SourceError(self.label, f"corrupt or truncated zip archive ({exc}): "
                                  "export or download it again") from None
            for info in infos:
                if not info.is_dir():
                    self._add(info.filename, info)

    def _add(self, relative: str, member) -> None:
        parts = relative.split("/")
        for key in ("/".join(parts[-2:]).lower(), parts[-1].lower()):
            self._members.setdefault(key, (relative, member))

    def names(self) -> list[str]:
        return sorted({rel for rel, _ in self._members.values()})

    def find(self, *names: str) -> str | None:
        """The first of ``names`` (case-insensitive) present, as the key for :meth:`open`."""
        for n in names:
            if n.lower() in self._members:
                return n.lower()
        return None

    def display(self, key: str) -> str:
        return f"{self.label}/{self._members[key][0]}"

    def size(self, key: str) -> int:
        member = self._members[key][1]
        return member.file_size if isinstance(member, zipfile.ZipInfo) else member.stat().st_size

    def opener(self, key: str) -> Callable[[], io.BufferedIOBase]:
        """A function opening the member as a binary stream (checked against the limits)."""
        member = self._members[key][1]
        shown = self.display(key)
        if isinstance(member, zipfile.ZipInfo):
            check_member(member, shown)

            def open_member():
                try:
                    raw = self._zip.open(member)
                except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError) as exc:
                    raise SourceError(shown, f"corrupt zip member ({exc})") from None
                return io.BufferedReader(_Guarded(raw, shown), buffer_size=1 << 16)
            return open_member
        return lambda: open(member, "rb")

    def close(self) -> None:
        if self._zip is not None:
            self._zip.close()


def check_member(info: zipfile.ZipInfo, shown: str) -> None:
    """Refuse a zip member that would expand beyond the limits (zip bombs)."""
    if info.file_size > MAX_MEMBER_BYTES:
        raise SourceError(shown, f"expands to {info.file_size / 2**30:.1f} GiB, more than the "
                          f"{MAX_MEMBER_BYTES / 2**30:.0f} GiB a recording member may have")
    if info.file_size > _RATIO_MIN_BYTES:
        ratio = info.file_size / max(info.compress_size, 1)
        if ratio > MAX_RATIO:
            raise SourceError(shown, f"compression ratio {ratio:.0f}:1 is beyond the {MAX_RATIO:.0f}:1 "
                              "of any sensor recording: refused as a possible zip bomb")


@dataclass
class Chunk:
    """Rows of a table: numbers of the asked columns and the 1-based line of each row."""

    values: np.ndarray   # (n, k) float64
    lines: np.ndarray    # (n,) int64


def sniff_separator(header_line: str) -> str:
    # Header names hold neither tabs nor semicolons, so whichever appears is the separator.
    if "\t" in header_line:
        return "\t"
    if ";" in header_line:
        return ";"
    return ","


def _split(line: str, sep: str) -> list[str]:
    if sep == " ":
        return line.split()     # whitespace-separated numbers (UCI RawData)
    if '"' in line:
        return next(csv.reader([line], delimiter=sep))
    return line.split(sep)


class TextTable:
    """A delimited text table with a header line, read lazily in chunks.

    Parameters
    ----------
    name : str
        The file as the user knows it (for messages).
    opener : callable
        Returns a fresh binary stream of the file each time it is called.
    sep : str, optional
        Separator; default: sniffed from the header (tab, semicolon, else comma). With a tab or
        semicolon separator a decimal comma is accepted.
    comment : str, optional
        Lines starting with it are skipped (the engine CSV's ``#``).
    skip : callable, optional
        ``skip(stripped_line) -> bool`` for lines before the header to pass over (HyperIMU's ``@``
        lines, AndroSensor's ``sep=;``).
    """

    def __init__(self, name: str, opener, *, sep: str | None = None, comment: str | None = None,
                 skip=None, headerless: int | None = None) -> None:
        self.name = name
        self.headerless = headerless
        self._opener = opener
        self.comment = comment
        self.preamble: list[str] = []
        self.header_line = 0
        header = None
        if headerless is not None:
            # Numbers from the first line on, no header: columns are numbered.
            self.sep = sep or " "
            self.decimal_comma = False
            self.header = [f"column {k + 1}" for k in range(headerless)]
            return
        with self._open() as fh:
            for lineno, line in self._numbered(fh):
                s = line.strip()
                if not s or self._comment(s) or (skip is not None and skip(s)):
                    self.preamble.append(s)
                    continue
                header, self.header_line = line.rstrip("\r\n"), lineno
                break
        if header is None:
            raise SourceError(name, "no samples (empty file)")
        self.sep = sep if sep is not None else sniff_separator(header)
        self.decimal_comma = self.sep != ","
        names = [h.strip().strip('"').strip() for h in _split(header, self.sep)]
        while names and names[-1] == "":
            names.pop()  # a trailing separator is not a column
        self.header = names

    # ------------------------------------------------------------------ reading

    def _open(self):
        return io.TextIOWrapper(self._opener(), encoding="utf-8-sig", newline="")

    def _numbered(self, fh) -> Iterator[tuple[int, str]]:
        lineno = 0
        try:
            for lineno, line in enumerate(fh, start=1):
                yield lineno, line
        except UnicodeDecodeError as exc:
            raise SourceError(self.name, f"not a UTF-8 text file (line {lineno + 1}, byte "
                              f"{exc.start} of a read block)") from None

    def _comment(self, s: str) -> bool:
        return self.comment is not None and s.startswith(self.comment)

    def index(self, column) -> int:
        if isinstance(column, int):
            return column
        try:
            return self.header.index(column)
        except ValueError:
            raise SourceError(self.name, f"missing column '{column}'; found {quoted(self.header)}",
                              line=self.header_line) from None

    def require(self, columns) -> None:
        missing = [c for c in columns if c not in self.header]
        if missing:
            raise SourceError(self.name, f"missing column{'s' if len(missing) > 1 else ''} "
                              f"{quoted(missing)}; found {quoted(self.header)}", line=self.header_line)

    def first_cells(self, n: int = 3) -> list[list[str]]:
        """The first ``n`` data rows as split text (to recognise a layout)."""
        rows = []
        with self._open() as fh:
            for lineno, fields in self._data_rows(fh):
                rows.append([c.strip() for c in fields])
                if len(rows) >= n:
                    break
        return rows

    def chunks(self, columns, *, allow_nan: bool = False, rows: int = CHUNK_ROWS,
               text_columns=()) -> Iterator[Chunk]:
        """Yield the numbers of ``columns`` (names or indices) ``rows`` rows at a time.

        ``allow_nan``: a ``nan`` cell passes as NaN (a gap) instead of being an error. Columns in
        ``text_columns`` are returned as integers parsed from text (labels), -1 for empty.
        """
        idx = [self.index(c) for c in columns]
        names = [self.header[k] if k < len(self.header) else str(k) for k in idx]
        need = max(idx) + 1 if idx else 0
        with self._open() as fh:
            cells: list[list[str]] = [[] for _ in idx]
            lines: list[int] = []
            for lineno, fields in self._data_rows(fh):
                if self.headerless is not None and len(fields) != self.headerless:
                    raise SourceError(self.name, f"expected {self.headerless} numbers, the line has "
                                      f"{len(fields)}", line=lineno)
                if len(fields) < need:
                    short = next(j for j, k in enumerate(idx) if k >= len(fields))
                    raise SourceError(self.name, f"expected a value, but the line has only "
                                      f"{len(fields)} fields for {len(self.header)} columns",
                                      line=lineno, column=names[short])
                for j, k in enumerate(idx):
                    cells[j].append(fields[k])
                lines.append(lineno)
                if len(lines) >= rows:
                    yield self._convert(cells, lines, names, allow_nan)
                    cells, lines = [[] for _ in idx], []
            if lines:
                yield self._convert(cells, lines, names, allow_nan)

    def _convert(self, cells, lines, names, allow_nan) -> Chunk:
        out = np.empty((len(lines), len(cells)), dtype=np.float64)
        for j, col in enumerate(cells):
            text = [c.strip() for c in col]
            if self.decimal_comma:
                text = [c.replace(",", ".") for c in text]
            try:
                values = np.array(text, dtype=np.float64)
            except ValueError:
                values = None
            if values is None:
                for i, c in enumerate(text):
                    try:
                        float(c)
                    except ValueError:
                        self.bad_number(lines[i], names[j], col[i].strip())
                raise AssertionError("unreachable: numpy refused a column that float() accepts")
            bad = np.flatnonzero(~np.isfinite(values))
            for i in bad:
                if not (allow_nan and text[i].lower() == "nan"):
                    self.bad_number(lines[i], names[j], col[i].strip())
            out[:, j] = values
        return Chunk(out, np.asarray(lines, dtype=np.int64))

    def _data_rows(self, fh) -> Iterator[tuple[int, list[str]]]:
        """(1-based line number, fields) of each data line: after the header, no blank or comment lines."""
        for lineno, line in self._numbered(fh):
            if lineno <= self.header_line:
                continue
            s = line.strip()
            if not s or self._comment(s):
                continue
            yield lineno, _split(line.rstrip("\r\n"), self.sep)

    def bad_number(self, line: int, column: str, cell: str):
        got = "an empty cell" if cell == "" else f"'{cell}'"
        raise SourceError(self.name, f"expected a number, got {got}", line=int(line), column=column)

    def text_chunks(self, column, rows: int = CHUNK_ROWS) -> Iterator[tuple[list[str], np.ndarray]]:
        """Yield the raw text cells of one column with their lines (labels, annotations)."""
        k = self.index(column)
        with self._open() as fh:
            cells, lines = [], []
            for lineno, fields in self._data_rows(fh):
                cells.append(fields[k].strip() if k < len(fields) else "")
                lines.append(lineno)
                if len(lines) >= rows:
                    yield cells, np.asarray(lines, dtype=np.int64)
                    cells, lines = [], []
            if lines:
                yield cells, np.asarray(lines, dtype=np.int64)


def file_table(path, **kwargs) -> TextTable:
    """A :class:`TextTable` of a plain file."""
    path = Path(path)
    return TextTable(path.name, lambda: open(path, "rb"), **kwargs)
