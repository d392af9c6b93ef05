"""Where the demo's output images go: files of their own, written whole, the newest kept."""

from __future__ import annotations

import atexit
import shutil
import tempfile
import threading
import uuid
from collections import deque
from pathlib import Path

import numpy as np

from translate.io.fileio import write_image


class ResultFiles:
    """Output images as PNG files of their own, which is how the demo hands them to Gradio.

    Gradio caches a returned numpy image under a name derived from its content and rewrites
    that file in place, so when two requests produce the same image (two users translating
    the same example photo) one rewrite truncates the file while the other is downloading it
    ("Too little data for declared Content-Length"). A returned path is instead copied into
    Gradio's cache under a temporary name and renamed. Each file here is written whole
    (``write_image`` is atomic) under a unique name; only the newest ``keep`` are kept, as
    Gradio has its own copy by the time a request completes.
    """

    def __init__(self, folder: Path | None = None, keep: int = 256):
        self.folder = folder or Path(tempfile.mkdtemp(prefix="translate-demo-"))
        self.keep = keep
        self._saved: deque[Path] = deque()
        self._lock = threading.Lock()  # requests run in several threads at once
        if folder is None:
            atexit.register(shutil.rmtree, self.folder, ignore_errors=True)

    def save(self, image: np.ndarray | None, name: str) -> str | None:
        if image is None:
            return None
        path = self.folder / f"{name}-{uuid.uuid4().hex}.png"
        write_image(path, image if image.shape[-1] == 3 else image[..., 0])
        with self._lock:
            self._saved.append(path)
            while len(self._saved) > self.keep:
                self._saved.popleft().unlink(missing_ok=True)
        return str(path)
