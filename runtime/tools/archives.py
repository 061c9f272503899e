"""Reading compressed data with limits: a small archive must not expand into gigabytes in memory.

A decompression bomb is a few kilobytes that expand to gigabytes. Reading such a member whole
(``gzip.decompress``, ``ZipFile.read``) fills the memory before anything can look at it. Instead,
members are read as streams through :class:`CappedReader`, which counts the bytes it hands out
and refuses, with one line naming the file, as soon as they pass the cap on expanded size or on
the expansion ratio (expanded / compressed size).

``ARCHIVE_ERRORS`` are the exceptions the standard library's decompressors raise for a corrupt or
truncated file; tools turn them into one-line errors naming the file.
"""

from __future__ import annotations

import gzip
import io
import tarfile
import zipfile
import zlib

from har.features.errors import HarError

__all__ = ["ARCHIVE_ERRORS", "ArchiveLimitError", "CappedReader", "expansion_limit", "describe_archive_error"]

#: What a corrupt or truncated zip, gzip or tar file raises while being read.
ARCHIVE_ERRORS = (zipfile.BadZipFile, zlib.error, gzip.BadGzipFile, tarfile.TarError, EOFError)


class ArchiveLimitError(HarError):
    """A compressed member expands past the size or ratio the reader accepts."""


def expansion_limit(compressed_bytes: int, *, max_bytes: int, max_ratio: float,
                    floor_bytes: int = 1 << 20) -> int:
    """Largest expanded size accepted for a member of ``compressed_bytes``.

    ``max_ratio * compressed_bytes`` bounded by ``max_bytes``; never below ``floor_bytes`` (tiny
    members can have large ratios: 1 KiB of one repeated line) unless ``max_bytes`` is lower.
    """
    return int(min(max_bytes, max(max_ratio * max(compressed_bytes, 0), floor_bytes)))


def describe_archive_error(exc: BaseException) -> str:
    """A short text for a decompressor's exception (its class name when the message is empty)."""
    text = " ".join(str(exc).split())
    name = type(exc).__name__
    return f"{name}: {text}" if text else name


class CappedReader(io.RawIOBase):
    """A read-only stream over ``raw`` that refuses to hand out more than ``limit`` bytes.

    Parameters
    ----------
    raw : binary file
        The expanding stream (a ``GzipFile``, a zip member opened with ``ZipFile.open``, ...).
    limit : int
        Bytes accepted in all; reading past them raises :class:`ArchiveLimitError`.
    where : str
        The file as the user knows it, for the message.
    why : str
        What the limit is, for the message (e.g. "expands past 256 MiB").

    Reads ask ``raw`` for at most ``limit + 1`` bytes in all, so even a single huge ``read(n)``
    allocates no more than the cap.
    """

    def __init__(self, raw, limit: int, where: str, why: str | None = None):
        super().__init__()
        self.raw = raw
        self.limit = int(limit)
        self.where = where
        self.why = why or f"expands past {self.limit} bytes"
        self.count = 0

    def readable(self) -> bool:
        return True

    def _check(self, got: int) -> None:
        self.count += got
        if self.count > self.limit:
            raise ArchiveLimitError(f"{self.where}: refused, {self.why} (a decompression bomb or not the "
                                    f"expected file)")

    def read(self, n: int = -1) -> bytes:
        room = self.limit + 1 - self.count
        want = room if n is None or n < 0 else min(n, room)
        if want <= 0:
            self._check(1)
            return b""
        if n is None or n < 0:
            parts = []
            while want > 0:
                part = self.raw.read(min(want, 1 << 20))
                if not part:
                    break
                parts.append(part)
                want -= len(part)
                self._check(len(part))
            return b"".join(parts)
        data = self.raw.read(want)
        self._check(len(data))
        return data

    def readinto(self, buffer) -> int:
        view = memoryview(buffer).cast("B")
        data = self.read(len(view))
        view[:len(data)] = data
        return len(data)

    def readline(self, size: int = -1) -> bytes:
        # Lines are short in the files read here; a line is bounded by the remaining allowance.
        room = self.limit + 1 - self.count
        want = room if size is None or size < 0 else min(size, room)
        data = self.raw.readline(max(want, 1))
        self._check(len(data))
        return data
