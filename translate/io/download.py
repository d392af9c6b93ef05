"""Fetching the reference datasets from the authors' server, for users who are online: the
CycleGAN paper's unpaired ones (horse2zebra and its siblings, zip archives) and pix2pix's
paired ones (facades, maps, edges2shoes..., tar.gz archives).

The archive is streamed beside its destination, within a byte cap per dataset and a total
deadline (a server that sends forever, or one byte every few seconds, is cut off); a download
stopped by the deadline, Ctrl-C, SIGTERM or a lost connection keeps its bytes, and the same
command goes on from there (:mod:`translate.io.partial_download`). The whole archive is
checked and unpacked into a temporary folder (:mod:`translate.io.archives`) and renamed into
place: nothing that looks like a dataset is ever half there. The archive goes once the
dataset is in place, or as soon as it fails a check.
The temporary folder goes on any exit: errors, Ctrl-C and SIGTERM remove it at once, and one left
by a killed process (SIGKILL) is removed by the next download into the same folder, once no
process holds it. Single files (:func:`fetch_file`: MNIST's, the FID network's archive) are
kept and resumed the same way, and checked against their published sha256. Torch-free.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import http.client
import os
import shutil
import signal
import sys
import threading
import time
import urllib.error
import urllib.request
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from translate.errors import ConfigError, DataError, StorageError, first_line
from translate.io.archives import UNREADABLE_ZIP, unpack
from translate.io.fileio import TEMP_SUFFIX, TEMP_TAG, check_writable, file_sha256, temporary_name, write_failure
from translate.io.partial_download import PartialDownload, holding, partial_download
from translate.progress import Progress

MB = 10**6  # as the progress bar counts (tqdm, SI units), so the two agree


@dataclass(frozen=True)
class DatasetServer:
    """Where a family of reference datasets is downloaded from, and what each archive must be."""

    kind: str  # what messages call its datasets, e.g. "CycleGAN"
    url: str  # with {name}: the reference implementation's download script fetches from here
    url_env: str  # the variable that names another server or mirror, with {name} in it
    suffix: str  # ".zip" or ".tar.gz"
    max_bytes: dict[str, int]  # each dataset's archive, at most (bounds well above their sizes)
    required: tuple[str, ...]  # folders the dataset's top folder must hold
    layout: str  # the layout to copy a dataset into by hand, offline
    refused: dict[str, str] = field(default_factory=dict)  # datasets the server has but may not give, and why

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(self.max_bytes)

    def dataset_url(self, name: str) -> str:
        """Where ``name`` is fetched from: the server's URL, or the one ``url_env`` names."""
        return mirror_url(self.url_env, self.url, name=name)


def mirror_url(env: str, default: str, **fields: str) -> str:
    """``default``, or the URL the environment variable ``env`` names, with ``fields`` filled in;
    a variable whose placeholders are not those is a ConfigError naming it (str.format would
    raise KeyError or ValueError)."""
    template = os.environ.get(env, default)
    try:
        return template.format(**fields)
    except (KeyError, IndexError, ValueError, AttributeError, TypeError) as exc:
        wanted = " and ".join("{" + key + "}" for key in fields)
        raise ConfigError(f"${env} is {template!r}, which str.format cannot fill ({type(exc).__name__}: {exc}): set "
                          f"it to a URL with {wanted} where the name goes, and no other braces") from None


CYCLEGAN = DatasetServer(
    kind="CycleGAN", url="https://efrosgans.eecs.berkeley.edu/cyclegan/datasets/{name}.zip",
    url_env="TRANSLATE_CYCLEGAN_URL", suffix=".zip",
    # horse2zebra.zip is about 116 MB
    max_bytes={
        "apple2orange": 512 * MB, "summer2winter_yosemite": 512 * MB, "horse2zebra": 512 * MB,
        "monet2photo": 1024 * MB, "cezanne2photo": 1024 * MB, "ukiyoe2photo": 1024 * MB, "vangogh2photo": 1024 * MB,
        "maps": 3072 * MB, "facades": 512 * MB, "iphone2dslr_flower": 1024 * MB,
    },
    required=("trainA", "trainB"), layout="{trainA,trainB,testA,testB}",
)
PIX2PIX = DatasetServer(
    kind="pix2pix", url="http://efrosgans.eecs.berkeley.edu/pix2pix/datasets/{name}.tar.gz",
    url_env="TRANSLATE_PIX2PIX_URL", suffix=".tar.gz",
    # facades.tar.gz is about 30 MB, maps 240 MB, edges2shoes 2.2 GB, edges2handbags 8.6 GB
    max_bytes={"facades": 256 * MB, "maps": 1024 * MB, "edges2shoes": 4096 * MB, "night2day": 4096 * MB,
               "edges2handbags": 12288 * MB},
    required=("train",), layout="{train,val,test}",
    refused={"cityscapes": "Cityscapes' licence does not let the pix2pix authors give it out: download "
             "gtFine_trainvaltest.zip and leftImg8bit_trainvaltest.zip from https://cityscapes-dataset.com "
             "(after accepting its terms) and pair them side by side into {dest}/{{train,val}}"},
)
CYCLEGAN_DATASETS = CYCLEGAN.names
DEADLINE = 2 * 3600.0  # seconds for a whole download: 3 GB at 0.4 MB/s
CHUNK = 1 << 20


def offline_dataset(server: DatasetServer, dest: Path) -> str:
    """What a failed dataset download ends with: the layout to copy it into without a network."""
    return f"; offline, copy the dataset to {dest}/{server.layout} and point --data (or TRANSLATE_DATA) at its parent"


def offline_copy(dest: Path) -> str:
    """What a failed fetch ends with: where the file or dataset must go without a network."""
    return f"; offline, copy it from a machine that has it to {dest}"


# sha256 of the lines "<sha256>  <folder>/<file>\n" of every image, sorted by folder and name.
TREE_SHA256 = {"horse2zebra": "fb1d1fb79192dfee03e9a251d2e64dbfb4039fda7204196f9c16784a9e153408"}
SPLITS = ("testA", "testB", "trainA", "trainB")


def download_cyclegan_dataset(name: str, data_root: Path, timeout: float = 60.0, deadline: float = DEADLINE,
                              max_bytes: int | None = None) -> Path:
    """Download and unpack the CycleGAN dataset ``name`` (e.g. ``horse2zebra``): see
    :func:`download_dataset`. One with published sums (:data:`TREE_SHA256`) is checked image
    by image, and removed unless it is the published set."""
    def check(unpacked: Path) -> None:
        problem = tree_problem(unpacked, name)
        if problem:
            raise DataError(f"the downloaded {name} {problem}: removed; try again, or another mirror"
                            f"{offline_dataset(CYCLEGAN, data_root / name)}")

    return download_dataset(CYCLEGAN, name, data_root, timeout, deadline, max_bytes, check)


def tree_problem(folder: Path, name: str) -> str:
    """Why the images of ``folder`` are not the published ``name`` (empty when they are, or
    when ``name`` has no published sums)."""
    if name not in TREE_SHA256:
        return ""
    lines = []
    for split in SPLITS:
        if not (folder / split).is_dir():
            return f"has no {split}/"
        lines += [f"{file_sha256(path)}  {split}/{path.name}\n" for path in sorted((folder / split).iterdir())
                  if path.is_file() and path.suffix.lower() in (".jpg", ".jpeg", ".png")]
    if hashlib.sha256("".join(lines).encode()).hexdigest() != TREE_SHA256[name]:
        return f"differs from the published set ({len(lines)} images)"
    return ""


def download_pix2pix_dataset(name: str, data_root: Path, timeout: float = 60.0, deadline: float = DEADLINE,
                             max_bytes: int | None = None) -> Path:
    """Download and unpack the pix2pix dataset ``name`` (e.g. ``facades``): see :func:`download_dataset`."""
    return download_dataset(PIX2PIX, name, data_root, timeout, deadline, max_bytes)


def download_dataset(server: DatasetServer, name: str, data_root: Path, timeout: float = 60.0,
                     deadline: float = DEADLINE, max_bytes: int | None = None,
                     check: Callable[[Path], None] | None = None) -> Path:
    """Download and unpack ``name`` from ``server`` into ``data_root/name``; returns that folder.
    ``timeout`` bounds each wait for the server, ``deadline`` the whole download, and
    ``max_bytes`` the archive (default: the dataset's bound, ``server.max_bytes``). ``check``
    raises for an unpacked folder that must not be kept: it runs before the folder takes its
    place, so no one ever reads an unchecked dataset there."""
    dest = data_root / name
    if name in server.refused:
        raise DataError(f"{name} cannot be downloaded: {server.refused[name].format(dest=dest)}")
    if name not in server.names:
        raise DataError(f"{name} is not one of the {server.kind} datasets that can be downloaded "
                        f"({', '.join(server.names)}): put its images in {dest} yourself")
    if dest.exists():
        raise DataError(f"{dest} already exists: remove it to download {name} again")
    url = server.dataset_url(name)
    check_writable(data_root, "--data")
    try:
        data_root.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise write_failure(data_root, exc) from exc
    _remove_abandoned(data_root, name)
    archive_name = f"{name}{server.suffix}"
    partial = partial_download(data_root, archive_name, url)
    with _sigterm_interrupts(dest, partial), holding(partial, name), _work_folder(data_root, name) as work:
        if dest.exists() or dest.is_symlink():  # put there by a fetch that held the lock a moment ago
            return _fetched_meanwhile(dest, name, server, partial)
        offline = offline_dataset(server, dest)
        if not partial.complete():  # else a stop came after its last byte: unpacked as it is
            _fetch(url, partial.path, timeout, time.monotonic() + deadline, max_bytes or server.max_bytes[name],
                   name, offline, partial)
        unpacked = work / "unpacked"
        try:
            unpack(partial.path, unpacked, name, url, server.kind, server.suffix, server.required)
            if check is not None:
                check(unpacked / name)
        except DataError:
            partial.discard()  # not the dataset: nothing of it is worth going on from
            raise
        except StorageError as exc:  # the disk, while unpacking: the whole archive stays, and is named
            raise StorageError(f"{exc}; {partial.kept()}") from None
        try:
            os.rename(unpacked / name, dest)
        except OSError as exc:
            # Whatever the error (ENOTEMPTY, or EPERM in a sticky shared folder, ENOTDIR for a link):
            # a finished dataset in its place is another fetch's, which went through the same checks.
            if dest.exists() or dest.is_symlink():
                return _fetched_meanwhile(dest, name, server, partial)
            raise StorageError(f"{write_failure(dest, exc)}; {partial.kept()}") from exc
        partial.discard()  # the dataset is in place
    print(f"downloaded {name} from {url} into {dest}", file=sys.stderr)
    return dest


def _fetched_meanwhile(dest: Path, name: str, server: DatasetServer, partial: PartialDownload) -> Path:
    """``dest``, which another fetch of ``name`` put in place while this one ran (its copy and
    kept bytes are dropped); a DataError if what is there is not the dataset."""
    if not (dest.is_dir() and all((dest / folder).is_dir() for folder in server.required)):
        raise DataError(f"{dest} appeared while {name} was downloading, and is not the dataset: "
                        f"remove it to download {name} again")
    print(f"{name}: another process fetched it into {dest} meanwhile", file=sys.stderr)
    partial.discard()
    return dest


@contextlib.contextmanager
def _work_folder(data_root: Path, name: str) -> Iterator[Path]:
    """A temporary folder beside the dataset, locked (flock) while this process uses it, so
    that :func:`_remove_abandoned` tells a killed download's folder from a running one's."""
    work = temporary_name(data_root, name)
    try:
        work.mkdir()
    except OSError as exc:  # a folder the data is in, read-only: "read-only is fine" holds only for reading
        raise write_failure(data_root, exc) from exc
    fd = os.open(work, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield work
    finally:
        shutil.rmtree(work, ignore_errors=True)
        os.close(fd)


def _remove_abandoned(data_root: Path, name: str) -> None:
    """Remove the temporary folders that downloads of ``name``, killed, could not (none is held)."""
    for leftover in data_root.glob(f".{name}.{TEMP_TAG}*{TEMP_SUFFIX}"):
        if not leftover.is_dir() or leftover.is_symlink():
            continue
        fd = os.open(leftover, os.O_RDONLY)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            continue  # another download's, still running
        finally:
            os.close(fd)
        shutil.rmtree(leftover, ignore_errors=True)


class Terminated(KeyboardInterrupt):
    """SIGTERM during a download: stops it as Ctrl-C would, with the shell's exit code for SIGTERM."""

    exit_code = 128 + signal.SIGTERM


@contextlib.contextmanager
def _sigterm_interrupts(dest: Path, partial: PartialDownload | None = None) -> Iterator[None]:
    """While downloading ``dest``, SIGTERM raises :class:`Terminated`, so the temporary
    folder is removed on the way out (by default SIGTERM ends the process where it stands); a
    stop by it or by Ctrl-C before ``dest`` is in place says, once that folder is gone, what
    is kept (the bytes so far at ``partial``, or nothing) and how to go on."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def stop(signum: int, frame: object) -> None:
        raise Terminated

    previous = signal.signal(signal.SIGTERM, stop)
    try:
        yield
    except KeyboardInterrupt:
        if not (dest.exists() or dest.is_symlink()):
            nothing = "nothing of it is kept; the same command fetches it again"
            said = partial.kept(nothing) if partial is not None else nothing
            print(f"stopped while downloading {dest.name}: {said}", file=sys.stderr)
        raise
    finally:
        signal.signal(signal.SIGTERM, previous)


def fetch_file(url: str, dest: Path, sha256: str, max_bytes: int, member: str | None = None,
               timeout: float = 60.0, deadline: float = DEADLINE, offline: str | None = None) -> Path:
    """Download ``url`` (or, with ``member``, that file inside the zip at ``url``) to ``dest``,
    within ``max_bytes`` and ``deadline`` seconds, and keep it only if its sha256 is ``sha256``.
    The bytes come into ``.NAME.partial`` beside ``dest``, locked, and a stopped download keeps
    them where the server can send the rest of the same file (as a dataset archive's do: the
    same command goes on from there); the file is renamed into place once checked. A failed or
    wrong download that keeps nothing leaves nothing behind, not even the folders it made for
    ``dest``. One that another process finished meanwhile is taken as it is.
    ``offline`` ends each error (default: where to copy the file without a network)."""
    offline = offline_copy(dest) if offline is None else offline
    made = [folder for folder in (dest.parent, *dest.parent.parents) if not folder.exists()]  # deepest first
    try:
        dest.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise write_failure(dest.parent, exc) from exc
    _remove_abandoned(dest.parent, dest.name)
    partial = partial_download(dest.parent, dest.name, url)
    with _sigterm_interrupts(dest, partial):
        try:
            with holding(partial, dest.name), _work_folder(dest.parent, dest.name) as work:
                if dest.is_file() and file_sha256(dest) == sha256:  # another fetch's, done while this one waited
                    partial.discard()
                    return dest
                if not partial.complete():  # else a stop came after its last byte: checked as it is
                    _fetch(url, partial.path, timeout, time.monotonic() + deadline, max_bytes, dest.name, offline,
                           partial)
                try:  # copied out, so that the locked partial stays whole until the file is in place
                    fetched = _copied_out(partial.path, member, work / "download", url)
                    digest = file_sha256(fetched)
                    if digest != sha256:
                        raise DataError(f"{url}{f' ({member})' if member else ''} has sha256 {digest}, not the "
                                        f"published {sha256}: not kept; try again, or another mirror{offline}")
                except DataError:
                    partial.discard()  # not the file: nothing of it is worth going on from
                    raise
                except StorageError as exc:  # the disk, while copying out: the whole download stays, and is named
                    raise StorageError(f"{exc}; {partial.kept('nothing of it is kept')}") from None
                os.replace(fetched, dest)
                partial.discard()  # the file is in place
        except BaseException:
            for folder in made:  # stops at the first one something else is in: kept bytes, or another's files
                try:
                    folder.rmdir()
                except OSError:
                    break
            raise
    return dest


def _copied_out(download: Path, member: str | None, into: Path, url: str) -> Path:
    """``into``, holding the ``download`` or, with ``member``, that file of the zip it is."""
    try:
        if member is None:
            shutil.copyfile(download, into)
            return into
        with zipfile.ZipFile(download) as bundle, bundle.open(member) as source, open(into, "wb") as out:
            shutil.copyfileobj(source, out, CHUNK)
    except KeyError:
        raise DataError(f"{url} holds no {member}: not the expected archive") from None
    except UNREADABLE_ZIP as exc:
        raise DataError(f"{url} is not a zip archive that can be read ({exc}): not the expected file") from None
    except OSError as exc:  # zipfile's own errors are not OSErrors: this is the disk
        raise write_failure(into.parent.parent, exc) from None
    return into


def _fetch(url: str, archive: Path, timeout: float, deadline: float, cap: int, name: str, offline: str,
           partial: PartialDownload | None = None) -> None:
    """Stream ``url`` to ``archive``: at most ``cap`` bytes, done by ``deadline`` (monotonic).
    With ``partial`` (whose file ``archive`` is), the bytes it holds are not asked for again, and
    those that come are kept when it stops; bytes that are not the file's are dropped. Errors
    call the download ``name`` and end in ``offline`` (what to do without a network)."""
    def refuse(message: str) -> DataError:  # what came is not the file: keep none of it
        if partial is not None:
            partial.discard()
        return DataError(message)

    def kept(otherwise: str = "") -> str:  # what a stop keeps and that the same command goes on, or ``otherwise``
        return partial.kept(otherwise) if partial is not None else otherwise

    def also_kept() -> str:  # the same, after an error's cause
        said = kept()
        return f"; {said}" if said else ""

    folder = archive.parent if partial is not None else archive.parent.parent  # the data folder, for write errors
    request = urllib.request.Request(url, headers=partial.request_headers() if partial else {})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            done, whole = partial.continues(response.status, response.headers) if partial else (0, 0)
            total = whole or _content_length(response.headers.get("Content-Length"), url)  # 0: not known
            if total > cap:
                raise refuse(f"{url} offers {total / MB:.0f} MB, more than the {cap / MB:.0f} MB that {name} can be: "
                             f"not downloaded{offline}")
            late = False
            with (_saving(archive, folder, append=partial is not None, partial=partial) as out,
                  Progress.for_stderr().track(f"downloading {name}", total or None, unit="bytes") as progress):
                progress.update(done)
                while chunk := response.read1(CHUNK):  # returns what has come, so the deadline is checked often
                    if done + len(chunk) > cap:
                        raise refuse(f"{url} sent more than the {cap / MB:.0f} MB that {name} can be: stopped{offline}")
                    _write(out, chunk, folder)
                    done += len(chunk)
                    progress.update(len(chunk))
                    if late := time.monotonic() > deadline and done != total:
                        break
            if late:  # said once the file is closed, so that what it keeps is all there
                raise DataError(f"the download of {url} was not done in time ({done / MB:.1f} MB so far): "
                                f"stopped; {kept('try again later')}{offline}")
            if total and done != total:
                raise DataError(f"the download of {url} stopped after {done} of {total} bytes: "
                                f"{kept('try again')}{offline}")
    except urllib.error.HTTPError as exc:
        if exc.code == 416 and partial is not None and partial.size():  # more kept than the server's file has
            partial.discard()
            _fetch(url, archive, timeout, deadline, cap, name, offline, partial)
            return
        raise DataError(f"could not download {url}: HTTP {exc.code} {first_line(str(exc.reason))}{also_kept()}"
                        f"{offline}") from None
    except (urllib.error.URLError, TimeoutError, ConnectionError, http.client.HTTPException) as exc:
        reason = first_line(str(getattr(exc, "reason", exc)))  # a redirect loop's reason runs to several lines
        raise DataError(f"could not download {url} ({reason}){also_kept()}{offline}") from None
    except OSError as exc:  # reading from the server (a TLS error is an OSError too); writing is _write's
        reason = first_line(str(exc.strerror or exc))
        raise DataError(f"could not download {url} ({reason}){also_kept()}{offline}") from None


@contextlib.contextmanager
def _saving(archive: Path, folder: Path, append: bool = False,
            partial: PartialDownload | None = None) -> Iterator[IO[bytes]]:
    """``archive`` open for writing (after what it holds, with ``append``); a failure to write
    names the data ``folder``, cause and fix, and drops ``partial``'s bytes (the space they
    take is wanted back; the temporary folder of a single file goes anyway)."""
    try:
        try:
            out = open(archive, "ab" if append else "wb")  # noqa: SIM115 (closed below, where a failing close is a write error too)
        except OSError as exc:
            raise write_failure(folder, exc) from None
        try:
            yield out
        finally:
            try:
                out.close()  # the last buffered bytes: a quota can refuse them only here
            except OSError as exc:
                raise write_failure(folder, exc) from None
    except StorageError:
        if partial is not None:
            partial.discard()
        raise


def _write(out: IO[bytes], chunk: bytes, folder: Path) -> None:
    """Save a chunk of the download; a full disk names the data ``folder``."""
    try:
        out.write(chunk)
    except OSError as exc:
        raise write_failure(folder, exc) from None


def _content_length(value: str | None, url: str) -> int:
    """The size a server announces (0: none), or DataError for a header that is not a size."""
    if not value:
        return 0
    if not value.strip().isdigit():
        raise DataError(f"{url} sent an invalid Content-Length header ({value[:40]!r}): try again later or use "
                        "another server")
    return int(value)
