"""Run the demo in a child process, give it an exports folder and read its memory: for the
browser tests and the load bench.

The child runs ``demo/app.py`` as ``__main__`` with ``import torch`` made to fail, which
proves on every use that the demo needs no PyTorch.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

APP = Path(__file__).resolve().parent / "app.py"
SHIPPED_EXPORTS = APP.parent.parent / "exports"
SERVE = ("import runpy, sys; sys.modules['torch'] = None; sys.argv = sys.argv[1:]; "
         "runpy.run_path(sys.argv[0], run_name='__main__')")


def free_port() -> int:
    """A TCP port on localhost that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until_serving(url: str, process: subprocess.Popen | None = None, log: Path | None = None,
                       timeout: float = 90) -> None:
    """Poll ``url`` until it answers 200; RuntimeError (with the log) if the process dies or time runs out."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"the demo exited with {process.returncode}:\n{log.read_text() if log else ''}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise RuntimeError(f"the demo did not answer at {url} within {timeout} s:\n{log.read_text() if log else ''}")


@contextmanager
def served_demo(exports: Path, workdir: Path, *options: str,
                own_temp: bool = False) -> Iterator[tuple[str, subprocess.Popen]]:
    """(URL, process) of the demo serving ``exports``; its log lives in ``workdir``, and its
    uploads too unless ``own_temp`` leaves the server to make its own temporary folder."""
    workdir.mkdir(parents=True, exist_ok=True)
    port = free_port()
    log = workdir / "server.log"
    env = {k: v for k, v in os.environ.items() if k != "GRADIO_TEMP_DIR"}
    env["PYTHONUNBUFFERED"] = "1"
    if not own_temp:
        env["GRADIO_TEMP_DIR"] = str(workdir / "gradio")
    argv = [sys.executable, "-c", SERVE, str(APP), "--port", str(port), "--exports", str(exports), *options]
    with log.open("w") as out:
        process = subprocess.Popen(argv, cwd=APP.parent.parent, env=env, stdout=out, stderr=subprocess.STDOUT)
    process.log_path = log  # type: ignore[attr-defined]
    url = f"http://127.0.0.1:{port}/"
    try:
        wait_until_serving(url, process, log)
        yield url, process
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


def assemble_exports(dest: Path, cyclegan_run: Path, sketch_run: Path | None = None) -> Path:
    """``dest`` laid out as the demo expects: every file the repository ships (``exports/``), and
    for the translators it does not ship yet, the CycleGAN of ``cyclegan_run`` (a run, checkpoint
    or model folder) exported in both directions and the pix2pix of ``sketch_run`` as the sketch
    model, where given."""
    from demo.models import MODEL_FILES
    from translate.families import export_model as export  # needs torch, as the callers that build exports do

    dest.mkdir(parents=True)
    runs = {"AtoB": cyclegan_run, "BtoA": cyclegan_run, "sketch": sketch_run}  # the optional models: none
    for key, spec in MODEL_FILES.items():
        if (SHIPPED_EXPORTS / spec.file).exists():
            shutil.copy(SHIPPED_EXPORTS / spec.file, dest / spec.file)
        elif runs.get(key) is not None:
            export(runs[key], dest / spec.file, direction=spec.direction)
    return dest


def memory_mib(pid: int, field: str = "VmRSS") -> float:
    """A process's memory from /proc (``VmRSS``: resident now, ``VmHWM``: peak so far), in MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no {field} in /proc/{pid}/status")
