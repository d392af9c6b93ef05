"""A download in progress (a dataset archive, or a single file such as the FID network's),
kept between commands so that a stopped one goes on where it stopped (the pix2pix archives
run to gigabytes over plain HTTP, and a download that ends at its deadline or on Ctrl-C would
otherwise start again from the first byte).

The bytes so far are ``.<archive>.partial`` beside the dataset, with what they are the start
of (URL, the server's validator of that file, its size) in ``.<archive>.partial.json``. A
command that finds them asks the server for the rest only if it is still the same file (an
HTTP ``Range`` request with ``If-Range``); a server that answers with the whole file (it has
changed, or it ignores ranges) starts it over. The archive is unpacked from there, and goes
once the dataset is in place, or at once if it is not the dataset; a stop while unpacking
keeps it whole. A file lock, held from the first byte to the last step, keeps two downloads
of one dataset from writing the same bytes. Nothing partial is ever where the toolkit reads
a dataset.
"""

from __future__ import annotations

import contextlib
import datetime
import email.utils
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
    """The kept start of ``url``'s archive at ``path`` (locked by this process while held)."""

    path: Path
    url: str

    @property
    def file_name(self) -> str:
        """The name of the file these bytes are the start of (:func:`partial_download` hides it)."""
        return self.path.name.removeprefix(".").removesuffix(PARTIAL_SUFFIX)

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

    def total(self) -> int | None:
        """The size of the whole file the kept bytes are the start of, if known."""
        recorded = self._recorded()
        total = recorded.get("total")
        return total if isinstance(total, int) and isinstance(recorded.get("validator"), str) else None

    def resumable(self) -> bool:
        """Whether the kept bytes can be gone on from: some, of a file whose size and validator are known."""
        total = self.total()
        return total is not None and 0 < self.size() <= total

    def complete(self) -> bool:
        """Whether the whole file is kept (a stop came after its last byte)."""
        return self.resumable() and self.size() == self.total()

    def request_headers(self) -> dict[str, str]:
        """The headers that ask for the rest of the same file: none when nothing can be resumed."""
        if not self.resumable():
            return {}
        return {"Range": f"bytes={self.size()}-", "If-Range": str(self._recorded()["validator"])}

    def continues(self, status: int, headers: Mapping[str, str]) -> tuple[int, int]:
        """(kept bytes the response continues, the whole file's size or 0 if unknown), from
        its ``status`` and ``headers``: a 206 must send the rest of the file the kept bytes
        are the start of, or the download is refused and they are dropped; anything else is
        the whole file, recorded as what the bytes to come are the start of."""
        length = (headers.get("Content-Length") or "").strip()
        if status == 206 and self.resumable():
            size, total = self.size(), self.total()
            match = _CONTENT_RANGE.fullmatch((headers.get("Content-Range") or "").strip())
            sent = strong_validator(headers)  # a server that honours Range but not If-Range sends another's
            if (not match or (int(match[1]), int(match[2]), int(match[3])) != (size, total - 1, total)
                    or (length.isdigit() and int(length) != total - size)
                    or sent not in (None, self._recorded()["validator"])):
                self.discard()
                raise DataError(f"{self.url} answered the request for its bytes from {size} on with "
                                f"{headers.get('Content-Range')!r} (of {length or 'unknown'} bytes, version {sent}), "
                                f"not the rest of its {total} bytes: the partial download is removed; the same "
                                "command starts it again")
            return size, total
        self.discard()
        validator = strong_validator(headers)
        if length.isdigit() and validator:  # else what comes cannot be resumed, and is not kept
            try:
                self.info.write_text(json.dumps({"url": self.url, "validator": validator, "total": int(length)}))
            except OSError as exc:
                raise write_failure(self.path.parent, exc) from None
        return 0, int(length) if length.isdigit() else 0

    def discard(self) -> None:
        """Drop the kept bytes and their record (they are not the start of the file, or the
        dataset is in place); the emptied file goes when the download lets go of it."""
        self.info.unlink(missing_ok=True)
        if self.path.exists():
            os.truncate(self.path, 0)

    def kept(self, otherwise: str = "") -> str:
        """What a stop leaves and that the same command goes on from there, for its message;
        ``otherwise`` when nothing is kept that can be gone on from."""
        if not self.resumable():
            return otherwise
        size = amount(self.size())
        what = f"the whole file ({size}) is" if self.complete() else f"the {size} so far are"
        return f"{what} kept in {self.path}; the same command goes on from there"


def strong_validator(headers: Mapping[str, str]) -> str | None:
    """What identifies the server's file for If-Range: a strong ETag, else a Last-Modified at
    least a second older than the response's Date (RFC 9110 8.8.2.2: a file changed within
    the second it was sent in could change again unseen); None if neither."""
    etag = (headers.get("ETag") or "").strip()
    if etag and not etag.startswith("W/"):
        return etag
    modified, date = (headers.get("Last-Modified") or "").strip(), (headers.get("Date") or "").strip()
    try:
        strong = email.utils.parsedate_to_datetime(date) - email.utils.parsedate_to_datetime(modified)
    except (TypeError, ValueError):
        return None
    return modified if strong >= datetime.timedelta(seconds=1) else None


def amount(size: int) -> str:
    """A number of bytes for a message: MB (SI, as the progress bar counts) from 0.1 MB, else bytes."""
    return f"{size / 10**6:.1f} MB" if size >= 10**5 else f"{size} bytes"


def partial_download(data_root: Path, archive_name: str, url: str) -> PartialDownload:
    """Where the start of ``archive_name`` from ``url`` is kept between commands."""
    return PartialDownload(data_root / f".{archive_name}{PARTIAL_SUFFIX}", url)


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
            with contextlib.suppress(OSError):  # the error on its way out is the one to see
                partial.info.unlink(missing_ok=True)
                partial.path.unlink(missing_ok=True)
        os.close(fd)


def _locked(path: Path, dataset: str) -> int:
    """A descriptor of ``path`` (created if need be) holding its lock. The lock is taken again
    if the file was removed meanwhile (by the download that held it last)."""
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
