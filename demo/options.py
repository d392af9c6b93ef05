"""Checks for the demo's command-line options (counts and sizes use
:func:`translate.arguments.positive_int`), made where they are read, so that a wrong one is
one line naming the option, not a traceback from Gradio once the models are loaded."""

from __future__ import annotations

import argparse
import math
import os
import socket
from pathlib import Path

from translate.arguments import positive_int
from translate.io.images import TRANSLATE_MAX_PIXELS

MAX_SIDE_LIMIT = math.isqrt(TRANSLATE_MAX_PIXELS)  # a square photo scaled to it is what a model translates at most


def true_or_false(text: str) -> bool:
    if text.lower() in ("true", "1", "yes"):
        return True
    if text.lower() in ("false", "0", "no"):
        return False
    raise argparse.ArgumentTypeError(f"expected true or false, got {text!r}")


def port_number(text: str) -> int:
    try:
        port = int(text)
    except ValueError:
        port = 0
    if not 1 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"must be a port number, 1 to 65535, got {text}")
    return port


def max_side(text: str) -> int:
    """The side uploads are scaled to: any photo scaled to it must fit the models' pixel limit."""
    side = positive_int(text)
    if side > MAX_SIDE_LIMIT:
        raise argparse.ArgumentTypeError(f"must be at most {MAX_SIDE_LIMIT}, got {side}: the models translate "
                                         f"at most {TRANSLATE_MAX_PIXELS:,} pixels, a {MAX_SIDE_LIMIT} px square")
    return side


def exports_folder(text: str) -> Path:
    folder = Path(text)
    if not folder.is_dir():
        raise argparse.ArgumentTypeError(f"{text} is not a folder: name the folder of the ONNX files "
                                         "(the repository's exports/ by default)")
    return folder


def check_port_free(host: str, port: int) -> None:
    """Refuse, before the page is built, a port that another program holds: Gradio's own
    error for it is a traceback."""
    try:
        with socket.create_server((host, port)):
            pass
    except OSError as exc:
        reason = os.strerror(exc.errno) if exc.errno else str(exc)  # create_server adds the address to strerror
        raise SystemExit(f"error: cannot listen on {host}:{port} ({reason}): another program may hold "
                         "the port; pass --port with a free one (e.g. --port 7870)") from None
