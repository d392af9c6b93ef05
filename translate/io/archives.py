"""A dataset archive (zip or tar.gz), checked whole before anything of it is written, then
unpacked: what a downloaded archive must be before it may become a dataset. Torch-free."""

from __future__ import annotations

import contextlib
import gzip
import shutil
import tarfile
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import IO

from translate.errors import DataError
from translate.io.fileio import write_failure

# The largest of either paper's sets unpacks to about 9 GB (edges2handbags); more is not a dataset.
MAX_UNPACKED_BYTES = 16 * 1024**3
COPY_CHUNK = 1 << 20


@dataclass(frozen=True)
class Member:
    """One entry of an archive, as the checks before unpacking see it."""

    name: str
    size: int
    is_dir: bool
    is_file: bool  # a regular file (not a link, device or pipe)
    open: Callable[[], IO[bytes]]  # a binary stream of its bytes

# What reading a zip raises when its bytes are not a zip zipfile can read (the last two: one
# compressed or encrypted beyond zipfile): shared by unpacking and by a single file's member.
UNREADABLE_ZIP = (zipfile.BadZipFile, EOFError, zlib.error, NotImplementedError, RuntimeError)


def members_of(archive: Path, suffix: str, stack: contextlib.ExitStack) -> list[Member]:
    """The entries of a zip or tar.gz archive, open until ``stack`` closes. A tar.gz is read
    to the end of its gzip stream, whose checksum is checked only there (tarfile stops at the
    archive's last block): a zip's members are checked as they are read."""
    if suffix == ".zip":
        zipped = stack.enter_context(zipfile.ZipFile(archive))
        return [Member(m.filename, m.file_size, m.is_dir(),
                        not m.is_dir() and (m.external_attr >> 16) & 0o170000 in (0, 0o100000),
                        lambda m=m: zipped.open(m)) for m in zipped.infolist()]
    tarred = stack.enter_context(tarfile.open(archive, "r:gz"))  # noqa: SIM115 (the stack closes it)
    members = tarred.getmembers()
    while tarred.fileobj is not None and tarred.fileobj.read(COPY_CHUNK):
        pass
    return [Member(m.name, m.size, m.isdir(), m.isfile(), lambda m=m: tarred.extractfile(m)) for m in members]


def unpack(archive: Path, into: Path, name: str, url: str, kind: str, suffix: str, required: tuple[str, ...]) -> None:
    """Unpack the ``suffix`` archive from ``url`` into ``into`` after checking every member: one
    top folder ``name``, no absolute or ``..`` paths, nothing but folders and regular files, a
    bounded total size, and the ``required`` folders inside (else it is not a ``kind`` dataset)."""
    try:
        with contextlib.ExitStack() as stack:
            members = members_of(archive, suffix, stack)
            total = 0
            for member in members:
                path = PurePosixPath(member.name)
                if path.is_absolute() or ".." in path.parts or not path.parts or path.parts[0] != name:
                    raise DataError(f"{url} holds {member.name!r}, outside the folder {name}/: not unpacked")
                if not (member.is_dir or member.is_file):
                    raise DataError(f"{url} holds {member.name!r}, a link or special file: not unpacked")
                total += member.size
            if total > MAX_UNPACKED_BYTES:
                raise DataError(f"{url} would unpack to {total / 1e9:.1f} GB, more than any {kind} dataset: "
                                "not unpacked")
            tops = {PurePosixPath(m.name).parts[1] for m in members if len(PurePosixPath(m.name).parts) > 2}
            if not set(required) <= tops:
                folders = " and ".join(f"{name}/{folder}" for folder in required)
                raise DataError(f"{url} has no {folders}: not a {kind} dataset")
            into.mkdir()
            for member in members:
                target = into / member.name
                if member.is_dir:
                    target.mkdir(parents=True, exist_ok=True)
                    continue
                target.parent.mkdir(parents=True, exist_ok=True)
                with member.open() as src, open(target, "wb") as dst:
                    shutil.copyfileobj(src, dst, COPY_CHUNK)
    except (*UNREADABLE_ZIP, tarfile.TarError, gzip.BadGzipFile) as exc:
        raise DataError(f"{url} did not give a {suffix[1:]} archive ({exc}): try again later") from None
    except OSError as exc:  # local files only: the disk filling as the archive and its tree coexist, most likely
        raise write_failure(into.parent.parent, exc) from None
