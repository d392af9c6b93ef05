"""What the demo's server does about its disk and its surface, beside Gradio's own settings:

- :class:`UploadBytesLimit` bounds the bytes one upload request may send (Gradio's
  ``max_file_size`` bounds each file, and a request may carry 1000 of them);
- :class:`UploadSweeper` removes uploads that Gradio left behind after refusing them (a
  file named ``..`` is written in full, then refused, then never removed);
- :func:`private_temp_dir` gives the server a temporary folder of its own, removed when it
  stops, SIGTERM included, with its results and Gradio's cache inside.
"""

from __future__ import annotations

import atexit
import functools
import os
import shutil
import signal
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

# Where files come in: uploads, and the sketchpad's drawings (sent to its server function).
UPLOAD_PATH_SUFFIXES = ("/upload", "/component_server", "/component_server/")
UPLOAD_PREFIX = "tmp"  # tempfile's default prefix, which Gradio's uploads in progress keep
FORM_OVERHEAD = 64 * 1024  # multipart boundaries and headers around the file bytes


def parse_size(text: str) -> int:
    """``25mb``, ``512kb``, ``1gb`` or a number of bytes (at least one: a limit of 0 would
    refuse every upload)."""
    units = {"kb": 1024, "mb": 1024**2, "gb": 1024**3, "b": 1}
    lowered = text.strip().lower()
    size = None
    for unit, factor in units.items():
        if lowered.endswith(unit) and lowered[: -len(unit)].strip().replace(".", "", 1).isdigit():
            size = int(float(lowered[: -len(unit)]) * factor)
            break
    else:
        if lowered.isdigit():
            size = int(lowered)
    if size is None or size < 1:
        raise ValueError(f"not a size of at least one byte: {text!r} (use e.g. 25mb)")
    return size


class UploadBytesLimit:
    """ASGI middleware: an upload request must say its length (411 otherwise), may not exceed
    ``limit`` bytes (413, before a byte is read), and is cut off if it sends more than it said."""

    def __init__(self, app: Any, limit: int):
        self.app, self.limit = app, limit

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["method"] != "POST" or not scope["path"].endswith(UPLOAD_PATH_SUFFIXES):
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        length = headers.get(b"content-length")
        if length is None or not length.isdigit():
            await _plain(send, 411, "an upload must state its Content-Length")
            return
        if int(length) > self.limit:
            await _plain(send, 413, f"an upload request may carry at most {self.limit} bytes")
            return
        allowed = int(length)
        received = 0

        async def counted() -> dict:
            nonlocal received
            message = await receive()
            received += len(message.get("body", b""))
            if received > allowed:  # more than it said: stop reading
                return {"type": "http.disconnect"}
            return message

        await self.app(scope, counted, send)


async def _plain(send: Any, status: int, text: str) -> None:
    body = text.encode()
    headers = [(b"content-type", b"text/plain; charset=utf-8"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


class UploadSweeper(threading.Thread):
    """Every ``every`` seconds, removes the files at the top of the upload folder that are older
    than ``age`` seconds and named as Gradio names an upload in progress (``tmp...``): Gradio
    writes each upload there, then moves it into a folder named by its hash; a file still at the
    top long after is one it refused and forgot. Only for the server's own folder (see
    :func:`private_temp_dir`): a folder the user named may hold other files."""

    def __init__(self, folder: Path, every: float = 60.0, age: float = 600.0):
        super().__init__(daemon=True, name="upload-sweeper")
        self.folder, self.every, self.age = folder, every, age
        self.stopped = threading.Event()

    def sweep(self) -> int:
        removed = 0
        now = time.time()
        try:
            entries = list(os.scandir(self.folder))
        except OSError:
            return 0
        for entry in entries:
            try:
                if (entry.name.startswith(UPLOAD_PREFIX) and entry.is_file(follow_symlinks=False)
                        and now - entry.stat().st_mtime > self.age):
                    os.unlink(entry.path)
                    removed += 1
            except OSError:
                continue
        return removed

    def run(self) -> None:
        while not self.stopped.wait(self.every):
            self.sweep()


def private_temp_dir() -> Path:
    """A temporary folder for this server (Gradio's uploads and cache go in it, through
    ``GRADIO_TEMP_DIR``, unless the user set that: :func:`owns_gradio_temp` says), removed at
    exit and on SIGTERM."""
    folder = Path(tempfile.mkdtemp(prefix="translate-demo-"))
    os.environ.setdefault("GRADIO_TEMP_DIR", str(folder / "gradio"))
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    # SIGTERM (systemctl, docker stop) ends the process without running atexit.
    signal.signal(signal.SIGTERM, functools.partial(_remove_and_exit, folder))
    return folder


def owns_gradio_temp(folder: Path) -> bool:
    """Whether Gradio's uploads go into ``folder`` (from :func:`private_temp_dir`), rather than
    into a ``GRADIO_TEMP_DIR`` the user set, which the server must not sweep."""
    return os.environ.get("GRADIO_TEMP_DIR") == str(folder / "gradio")


def _remove_and_exit(folder: Path, signum: int, frame: object) -> None:
    """Remove the folder and end the process here, on the first SIGTERM.

    Raising SystemExit is not enough: a signal handled while a destructor runs has its
    exception swallowed ("Exception ignored in ... __del__"), and the server went on serving
    with SIGTERM ignored. The SIGTERMs that follow (a process group signalled twice, as `make
    demo` stopped by a supervisor is) are ignored so that they cannot interrupt the clean-up."""
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    try:
        shutil.rmtree(folder, ignore_errors=True)
        sys.stdout.flush()
        sys.stderr.flush()
    finally:
        os._exit(0)
