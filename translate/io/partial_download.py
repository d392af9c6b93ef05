"""A dataset archive's download in progress, kept between commands so that a stopped one goes
on where it stopped (the pix2pix archives run to gigabytes over plain HTTP, and a download
that ends at its deadline or on Ctrl-C would otherwise start again from the first byte).

The bytes so far are ``.<archive>.partial`` beside the dataset, with what they are the start
of (URL, the server's validator of that file, its size) in ``.<archive>.partial.json``. A
command that finds them asks the server for the rest only if it is still the same file (an
HTTP ``Range`` request with ``If-Range``); a server that answers with the whole file (it has
changed, or it ignores ranges) starts it over. A file lock keeps two downloads of one dataset
from writing the same bytes. Nothing partial is ever where the toolkit reads a dataset.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from translate.errors import DataError
from translate.io.fileio import write_failure

PARTIAL_SUFFIX = ".partial"
_CONTENT_RANGE = re.compile(r"bytes (\d+)-(\d+)/(\d+)")


@dataclass
class PartialDownload:
    """The kept start of ``url``'s archive at ``path`` (locked by this process while open)."""

    path: Path
    url: str

    @property
    def info(self) -> Path:
        return self.path.with_name(self.path.name + ".json")

    def size(self) -> int:
        return self.path.stat().st_size if self.path.exists() else 0

    def _recorded(self) -> dict[str, object]:
        """What the kept bytes are the start of; empty when unknown, unreadable or another URL's."""
        try:
            recorded = json.loads(self.info.read_text())
        except (OSError, ValueError):
            return {}
        return recorded if isinstance(recorded, dict) and recorded.get("url") == self.url else {}

    def request_headers(self) -> dict[str, str]:
        """The headers that ask for the rest of the same file: none when nothing can be resumed
        (no bytes, or no validator that says the server's file is still the one they came from)."""
        recorded, size = self._recorded(), self.size()
        if not size or not isinstance(recorded.get("validator"), str) or not isinstance(recorded.get("total"), int):
            return {}
        return {"Range": f"bytes={size}-", "If-Range": recorded["validator"]}

    def continues(self, status: int, headers: Mapping[str, str]) -> int:
        """How many kept bytes the response with ``status`` and ``headers`` continues: the
        kept size for a 206 that starts where they end, 0 for a whole file (the kept bytes
        are dropped). Records the file the bytes are now the start of."""
        if status == 206 and "Range" in self.request_headers():
            match = _CONTENT_RANGE.fullmatch((headers.get("Content-Range") or "").strip())
            size = self.size()
            if not match or int(match[1]) != size or int(match[3]) != self._recorded().get("total"):
                self.discard()
                raise DataError(f"{self.url} answered the request for its bytes from {size} on with "
                                f"{headers.get('Content-Range')!r}: the partial download is removed; "
                                "the same command starts it again")
            return size
        self.discard()
        length, validator = (headers.get("Content-Length") or "").strip(), _validator(headers)
        if length.isdigit() and validator:  # else what comes cannot be resumed, and is not kept
            self.info.write_text(json.dumps({"url": self.url, "validator": validator, "total": int(length)}))
        return 0

    def discard(self) -> None:
        """Drop the kept bytes and their record (they are not the start of the file); the
        emptied file stays, as the lock is held on it."""
        if self.path.exists():
            os.truncate(self.path, 0)
        self.info.unlink(missing_ok=True)

    def finished(self, archive: Path) -> None:
        """The whole file is here: move it to ``archive`` (it is never resumed again)."""
        os.replace(self.path, archive)
        self.info.unlink(missing_ok=True)

    def resumable(self) -> bool:
        """Whether the kept bytes can be gone on from: some, of a file whose size and validator are known."""
        return bool(self.request_headers())

    def kept(self) -> str:
        """What a stop leaves, for its message."""
        size = self.size()
        amount = f"{size / 10**6:.1f} MB" if size >= 10**5 else f"{size} bytes"
        return f"the {amount} so far are kept in {self.path}; the same command goes on from there"


def _validator(headers: Mapping[str, str]) -> str | None:
    """What identifies the server's file for If-Range: a strong ETag, else Last-Modified (a
    weak ETag may not be used for ranges)."""
    etag = (headers.get("ETag") or "").strip()
    if etag and not etag.startswith("W/"):
        return etag
    return (headers.get("Last-Modified") or "").strip() or None


def partial_download(data_root: Path, archive_name: str, url: str) -> PartialDownload:
    """Where the start of ``archive_name`` from ``url`` is kept between commands."""
    return PartialDownload(data_root / f".{archive_name}{PARTIAL_SUFFIX}", url)


def kept_of(data_root: Path, archive_name: str) -> tuple[int, int] | None:
    """The bytes kept of a stopped download of ``archive_name`` and the whole file's size, if
    any are kept (of whichever URL: for saying so, as ``translate.data list`` does)."""
    partial = partial_download(data_root, archive_name, "")
    try:
        total = json.loads(partial.info.read_text()).get("total")
    except (OSError, ValueError, AttributeError):
        return None
    size = partial.size()
    return (size, total) if size and isinstance(total, int) else None


@contextlib.contextmanager
def holding(partial: PartialDownload, dataset: str) -> Iterator[PartialDownload]:
    """``partial``, locked against other processes while the block runs; bytes of another URL
    or of nothing known are dropped first. On the way out, what cannot be resumed is removed."""
    fd = _locked(partial.path, dataset)
    try:
        if not partial.resumable():
            partial.discard()
        yield partial
    finally:
        if not partial.resumable():
            partial.path.unlink(missing_ok=True)
            partial.info.unlink(missing_ok=True)
        os.close(fd)


def _locked(path: Path, dataset: str) -> int:
    """A descriptor of ``path`` (created if need be) holding its lock. The lock is taken again
    if the file was removed or replaced meanwhile (by the download that held it last)."""
    while True:
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise write_failure(path.parent, exc) from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            raise DataError(f"another process is downloading {dataset} into {path.parent}: wait for it to "
                            "finish, or stop it and run this again") from None
        try:
            if os.stat(path).st_ino == os.fstat(fd).st_ino:
                return fd
        except FileNotFoundError:
            pass
        os.close(fd)
