"""Atomic file writes: a reader never sees a half-written file under its final name.

Work in progress lives under a temporary name (``.NAME.translate-XXXXXXXX.tmp``) beside its
final name, so a crash leaves at most such leftovers, which :func:`remove_temporaries`
clears; the ``translate-`` tag keeps it from touching anyone else's temporary files.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import hashlib
import json
import os
import re
import shutil
import stat
import tempfile
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, BinaryIO

import cv2
import numpy as np

from translate.errors import FileKindError, StorageError, TranslateError

TEMP_SUFFIX = ".tmp"
TEMP_TAG = "translate-"
# .NAME.translate-XXXXXXXX.tmp: temporary_name's eight hex digits, or mkstemp's eight characters.
_OUR_TEMPORARY = re.compile(r"\..+\." + TEMP_TAG + r"[A-Za-z0-9_]{8}" + re.escape(TEMP_SUFFIX))


def _current_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


_UMASK = _current_umask()


@contextlib.contextmanager
def atomic_path(path: Path) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; on success fsync and rename it into place.

    Any OSError on the way (the writer's included) becomes a StorageError naming ``path``.
    """
    tmp = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = _temporary_file(path.parent, path.name)
        yield tmp
        _ready_to_rename(tmp)
        os.replace(tmp, path)
    except OSError as exc:
        raise write_failure(path, exc) from exc
    finally:
        if tmp is not None:
            tmp.unlink(missing_ok=True)


def _temporary_file(folder: Path, name: str) -> Path:
    """A new empty file in ``folder`` named as this toolkit's temporaries for ``name`` are."""
    fd, tmp = tempfile.mkstemp(prefix=f".{name}.{TEMP_TAG}", suffix=TEMP_SUFFIX, dir=folder)
    os.close(fd)
    return Path(tmp)


def _ready_to_rename(tmp: Path) -> None:
    """After the writer (some, as safetensors, replace the file, dropping an earlier chmod):
    mkstemp's 0600 becomes the usual permissions, and the bytes reach the disk."""
    os.chmod(tmp, 0o666 & ~_UMASK)
    with open(tmp, "rb+") as f:
        os.fsync(f.fileno())


def atomic_write(path: Path, write: Callable[[Path], Any]) -> None:
    """Run ``write(tmp_path)`` and move the result to ``path`` atomically."""
    with atomic_path(path) as tmp:
        write(tmp)


def write_together(folder: Path, writers: dict[str, Callable[[Path], Any]]) -> None:
    """Write files that belong together (a model's weights and its config): each under a
    temporary name in ``folder``, all written and synced before the first is renamed into place,
    so a full disk, a failed sync or a kill while writing leaves the earlier files as they were;
    only a kill within the renames themselves (microseconds) can leave some of each."""
    temporaries: dict[str, Path] = {}
    failing = folder  # what an error names
    try:
        folder.mkdir(parents=True, exist_ok=True)
        for name, write in writers.items():
            failing = folder / name
            temporaries[name] = _temporary_file(folder, name)
            write(temporaries[name])
        for name, tmp in temporaries.items():
            failing = folder / name
            _ready_to_rename(tmp)
        for name, tmp in temporaries.items():
            failing = folder / name
            os.replace(tmp, failing)
    except OSError as exc:
        raise write_failure(failing, exc) from exc
    finally:
        for tmp in temporaries.values():
            tmp.unlink(missing_ok=True)


def is_temporary(path: Path) -> bool:
    """Whether ``path`` is named as this toolkit's writes name their temporaries."""
    return _OUR_TEMPORARY.fullmatch(path.name) is not None


def write_json(path: Path, data: Any) -> None:
    """``data`` as indented JSON with sorted keys, written atomically."""
    atomic_write(path, lambda tmp: tmp.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n"))


def open_regular(path: Path, fix: str = "replace it with the file translate wrote", *,
                 follow_links: bool = True) -> BinaryIO:
    """``path`` opened for reading, only if it is a regular file; FileKindError (ending in
    ``fix``) otherwise. Opening never blocks: reading a FIFO would wait for a writer forever,
    SIGTERM included, and a device would never end. With ``follow_links=False`` a symbolic
    link is refused too: a run's own files are never links to elsewhere. A missing file
    raises FileNotFoundError."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | (0 if follow_links else os.O_NOFOLLOW))
    except OSError as exc:
        if exc.errno == errno.ELOOP and not follow_links:
            raise FileKindError(f"{path} is a symbolic link, not a regular file, so it was not read: {fix}") from None
        raise
    mode = os.fstat(fd).st_mode
    if not stat.S_ISREG(mode):
        os.close(fd)
        raise FileKindError(f"{path} is {_kind(mode)}, not a regular file, so it was not read: {fix}")
    os.set_blocking(fd, True)
    return os.fdopen(fd, "rb")


def _kind(mode: int) -> str:
    kinds = ((stat.S_ISFIFO, "a FIFO"), (stat.S_ISDIR, "a folder"), (stat.S_ISCHR, "a character device"),
             (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket"))
    return next((name for test, name in kinds if test(mode)), "a special file")


def check_regular(path: Path, fix: str = "replace it with the file translate wrote") -> None:
    """FileKindError unless ``path`` is a regular file (links followed): for libraries that
    open a path themselves (safetensors), which would block on a FIFO."""
    open_regular(path, fix).close()


def read_json_if_exists(path: Path) -> Any:
    """The JSON document at ``path``, or None when there is no such file or it does not parse;
    FileKindError when it is not a regular file."""
    try:
        with open_regular(path) as file:
            return json.loads(file.read())
    except (OSError, ValueError, RecursionError):
        return None


# The largest side each format holds (JPEG's 65,500 and WebP's 16,383 pixels, as OpenCV's encoders enforce).
FORMAT_MAX_SIDE = {".jpg": 65_500, ".jpeg": 65_500, ".webp": 16_383}


@contextlib.contextmanager
def opencv_log_level(level: int) -> Iterator[None]:
    """OpenCV's log level set to ``level`` for a while: OpenCV logs to stderr what this toolkit
    then says in one line (an encoder's refusal, a file it cannot open)."""
    before = cv2.utils.logging.getLogLevel()
    cv2.utils.logging.setLogLevel(level)
    try:
        yield
    finally:
        cv2.utils.logging.setLogLevel(before)


def write_image(path: Path, rgb: np.ndarray) -> None:
    """Save an H x W x 3 (RGB), H x W x 1 or H x W (grey) uint8 array; the format follows the
    file extension."""
    check_image_suffix(path)
    side = FORMAT_MAX_SIDE.get(path.suffix.lower())
    if side is not None and max(rgb.shape[:2]) > side:  # else OpenCV logs its own error, then fails
        raise TranslateError(f"a {rgb.shape[1]}x{rgb.shape[0]} picture is too large for {path.suffix} (at most "
                             f"{side:,} pixels a side): write .png, or make it smaller")
    if rgb.ndim == 3 and rgb.shape[2] == 1:
        rgb = rgb[:, :, 0]
    bgr = cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR) if rgb.ndim == 3 else rgb
    with opencv_log_level(cv2.utils.logging.LOG_LEVEL_SILENT):
        try:
            ok, encoded = cv2.imencode(path.suffix or ".png", bgr)
        except cv2.error:
            ok = False
    if not ok:
        raise TranslateError(f"could not encode an image as {path.suffix!r}: use .png or .jpg")
    atomic_write(path, lambda tmp: tmp.write_bytes(encoded.tobytes()))


def check_image_suffix(path: Path) -> None:
    """TranslateError unless OpenCV writes images named like ``path`` (no suffix: PNG); to
    check an output before any work is done, as :func:`write_image` does again."""
    if not cv2.haveImageWriter(f"image{path.suffix or '.png'}"):
        raise TranslateError(f"cannot write an image as {path.suffix!r}: use .png or .jpg")


def write_animation(path: Path, frames: list[np.ndarray], frame_ms: int) -> None:
    """Save same-sized RGB (H x W x 3) uint8 frames as an animation that loops: .webp
    (lossless) or .gif (at most 256 colours), each frame shown ``frame_ms`` milliseconds."""
    suffix = path.suffix.lower()
    if suffix not in (".webp", ".gif"):
        raise TranslateError(f"cannot write an animation as {path.suffix!r}: use .webp or .gif")
    if not hasattr(cv2, "imencodeanimation"):
        raise TranslateError(f"OpenCV {cv2.__version__} cannot write animations: install opencv-python-headless 4.12 "
                             "or later, or write a .png strip")
    animation = cv2.Animation()
    animation.frames = [cv2.cvtColor(np.ascontiguousarray(frame), cv2.COLOR_RGB2BGR) for frame in frames]
    animation.durations = [frame_ms] * len(frames)
    animation.loop_count = 0  # forever
    lossless = [cv2.IMWRITE_WEBP_QUALITY, 101] if suffix == ".webp" else []  # above 100: lossless
    ok, encoded = cv2.imencodeanimation(suffix, animation, lossless)
    if not ok:
        raise TranslateError(f"could not encode {len(frames)} frames as {suffix}: write a .png strip instead")
    atomic_write(path, lambda tmp: tmp.write_bytes(np.asarray(encoded).tobytes()))


def file_sha256(path: Path) -> str:
    """Hex sha256 of a file, read in 1 MiB blocks (weights files can be large)."""
    digest = hashlib.sha256()
    with open_regular(path) as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def temporary_name(folder: Path, name: str) -> Path:
    """A fresh temporary name for ``name`` in ``folder`` (nothing is created)."""
    return folder / f".{name}.{TEMP_TAG}{uuid.uuid4().hex[:8]}{TEMP_SUFFIX}"


def remove_temporaries(folder: Path) -> None:
    """Delete the leftovers of this toolkit's writes that a crash or kill interrupted in
    ``folder`` (names made by :func:`temporary_name` and :func:`atomic_path` only).

    Call it only where no other process of ours is writing into ``folder``.
    """
    for leftover in folder.glob(f".*{TEMP_SUFFIX}"):
        if not is_temporary(leftover):
            continue
        if leftover.is_dir() and not leftover.is_symlink():
            shutil.rmtree(leftover, ignore_errors=True)
        else:
            leftover.unlink(missing_ok=True)


def write_failure(path: Path, exc: OSError) -> StorageError:
    """A one-line error for an OSError while writing ``path``: the cause and the fix."""
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        cause, fix = "the disk is full", "free some space there or choose a folder on another disk"
    elif exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        cause, fix = "the place is not writable", "choose a folder you can write to"
    elif exc.errno == errno.EFBIG:
        cause, fix = "the file is larger than this process may write", "raise the limit (ulimit -f) or the quota"
    elif exc.errno in (errno.ENOTDIR, errno.EEXIST):
        cause, fix = "a file is in the way of a folder", "choose another path"
    else:
        cause, fix = "the system refused", "check the disk and the path"
    return StorageError(f"could not write {path}: {cause} ({exc.strerror or exc}): {fix}")


def check_writable(folder: Path, flag: str) -> None:
    """Fail at start-up, not at the first checkpoint hours later, when ``folder`` cannot be
    created or written. Creates nothing."""
    existing = folder
    while not existing.exists() and existing != existing.parent:  # a file in the path also ends here
        existing = existing.parent
    if not existing.is_dir():
        raise StorageError(f"{flag} {folder} cannot be created: {existing} is a file, not a folder: "
                           f"choose another {flag}")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise StorageError(f"{flag} {folder} is not writable ({existing} does not allow writing): "
                           f"choose another {flag}")


def replace_folder(dest: Path, build: Callable[[Path], Any]) -> None:
    """Put a folder built by ``build(tmp)`` in place of ``dest`` in one step, as checkpoints
    appear: a reader, or a kill at any moment, finds the old folder whole or the new one
    whole, never files of both. The new folder is assembled under a temporary name beside
    ``dest`` (cleared by :func:`remove_temporaries` if a kill interrupts it), then exchanged
    with the old one atomically (Linux ``renameat2(RENAME_EXCHANGE)``; elsewhere the old one
    is renamed aside first), and the old one is removed."""
    tmp = temporary_name(dest.parent, dest.name)
    try:
        tmp.mkdir(parents=True)
        build(tmp)
        for file in (f for f in tmp.iterdir() if f.is_file()):
            with open(file, "rb") as f:
                os.fsync(f.fileno())
        fsync_dir(tmp)
        if dest.exists():
            _exchange(tmp, dest)  # tmp now holds the old folder
        else:
            os.rename(tmp, dest)
        fsync_dir(dest.parent)
    except OSError as exc:
        raise write_failure(dest, exc) from exc
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _exchange(new: Path, old: Path) -> None:
    """Swap two folders' names atomically where the system can; else rename ``old`` aside to
    the name ``new`` had, leaving an instant when neither name exists."""
    libc = ctypes.CDLL(None, use_errno=True)
    if hasattr(libc, "renameat2"):
        at_cwd, exchange = -100, 2  # AT_FDCWD, RENAME_EXCHANGE
        if libc.renameat2(at_cwd, os.fsencode(new), at_cwd, os.fsencode(old), exchange) == 0:
            return
        if ctypes.get_errno() not in (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP):
            raise OSError(ctypes.get_errno(), os.strerror(ctypes.get_errno()), str(old))
    aside = temporary_name(old.parent, old.name)
    os.rename(old, aside)
    os.rename(new, old)
    os.rename(aside, new)


def fsync_dir(path: Path) -> None:
    """Persist a rename inside ``path`` (a no-op where directories cannot be opened)."""
    with contextlib.suppress(OSError):
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
