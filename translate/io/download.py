"""Fetching the CycleGAN paper's unpaired datasets (horse2zebra and its siblings) from the
authors' server, for users who are online.

The archive is streamed to a temporary file beside its destination, checked (a zip whose
members all stay inside one top folder, of a bounded unpacked size, holding ``trainA`` and
``trainB``), unpacked under a temporary name and renamed into place: an interrupted or
failed download leaves nothing that looks like a dataset. Torch-free.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
import urllib.error
import urllib.request
import zipfile
from pathlib import Path, PurePosixPath

from translate.errors import DataError

# The reference implementation's datasets/download_cyclegan_dataset.sh fetches from here.
CYCLEGAN_URL = "https://efrosgans.eecs.berkeley.edu/cyclegan/datasets/{name}.zip"
URL_ENV = "TRANSLATE_CYCLEGAN_URL"  # another server or mirror, with {name} in it
CYCLEGAN_DATASETS = (
    "apple2orange", "summer2winter_yosemite", "horse2zebra", "monet2photo", "cezanne2photo", "ukiyoe2photo",
    "vangogh2photo", "maps", "facades", "iphone2dslr_flower",
)
# horse2zebra unpacks to 118 MB and the largest of the set to about 2 GB; more is not a dataset.
MAX_UNPACKED_BYTES = 8 * 1024**3
CHUNK = 1 << 20


def dataset_url(name: str) -> str:
    return os.environ.get(URL_ENV, CYCLEGAN_URL).format(name=name)


def download_cyclegan_dataset(name: str, data_root: Path, timeout: float = 60.0) -> Path:
    """Download and unpack ``name`` (e.g. ``horse2zebra``) into ``data_root/name``; returns that folder."""
    if name not in CYCLEGAN_DATASETS:
        raise DataError(f"{name} is not one of the CycleGAN datasets that can be downloaded "
                        f"({', '.join(CYCLEGAN_DATASETS)}): put its images in {data_root / name} yourself")
    dest = data_root / name
    if dest.exists():
        raise DataError(f"{dest} already exists: remove it to download {name} again")
    url = dataset_url(name)
    try:
        data_root.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DataError(f"cannot create {data_root} for the download: {exc.strerror}") from exc
    with tempfile.TemporaryDirectory(prefix=f".{name}.", suffix=".tmp", dir=data_root) as work:
        archive = Path(work) / f"{name}.zip"
        _fetch(url, archive, timeout, dest)
        unpacked = Path(work) / "unpacked"
        _unpack(archive, unpacked, name, url)
        os.rename(unpacked / name, dest)
    print(f"downloaded {name} from {url} into {dest}", file=sys.stderr)
    return dest


def _fetch(url: str, archive: Path, timeout: float, dest: Path) -> None:
    offline = (f"; offline, copy the dataset to {dest}/{{trainA,trainB,testA,testB}} "
               "and point --data (or TRANSLATE_DATA) at its parent")
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response, open(archive, "wb") as out:
            total = int(response.headers.get("Content-Length") or 0)
            done = 0
            while chunk := response.read(CHUNK):
                out.write(chunk)
                done += len(chunk)
            if total and done != total:
                raise DataError(f"the download of {url} stopped after {done} of {total} bytes: try again")
    except urllib.error.HTTPError as exc:
        raise DataError(f"could not download {url}: HTTP {exc.code} {exc.reason}{offline}") from None
    except (urllib.error.URLError, TimeoutError, ConnectionError) as exc:
        reason = getattr(exc, "reason", exc)
        raise DataError(f"could not download {url} ({reason}){offline}") from None
    except OSError as exc:
        raise DataError(f"could not save the download of {url} to {archive}: {exc.strerror or exc}") from None


def _unpack(archive: Path, into: Path, name: str, url: str) -> None:
    """Unpack after checking every member: one top folder ``name``, no absolute or ``..`` paths,
    no links, a bounded total size, and ``trainA``/``trainB`` inside."""
    try:
        with zipfile.ZipFile(archive) as zipped:
            members = zipped.infolist()
            total = 0
            for member in members:
                path = PurePosixPath(member.filename)
                if path.is_absolute() or ".." in path.parts or not path.parts or path.parts[0] != name:
                    raise DataError(f"{url} holds {member.filename!r}, outside the folder {name}/: not unpacked")
                if (member.external_attr >> 16) & 0o170000 == 0o120000:
                    raise DataError(f"{url} holds a symbolic link {member.filename!r}: not unpacked")
                total += member.file_size
            if total > MAX_UNPACKED_BYTES:
                raise DataError(f"{url} would unpack to {total / 1e9:.1f} GB, more than any CycleGAN dataset: "
                                "not unpacked")
            tops = {PurePosixPath(m.filename).parts[1] for m in members if len(PurePosixPath(m.filename).parts) > 2}
            if not {"trainA", "trainB"} <= tops:
                raise DataError(f"{url} has no {name}/trainA and {name}/trainB: not a CycleGAN dataset")
            into.mkdir()
            for member in members:
                target = into / member.filename
                if member.is_dir():
                    target.mkdir(parents=True, exist_ok=True)
                    continue
                target.parent.mkdir(parents=True, exist_ok=True)
                with zipped.open(member) as src, open(target, "wb") as dst:
                    shutil.copyfileobj(src, dst, CHUNK)
    except zipfile.BadZipFile as exc:
        raise DataError(f"{url} did not give a zip archive ({exc}): try again later") from None
    except OSError as exc:
        raise DataError(f"could not unpack {url} into {into}: {exc.strerror or exc}") from None
