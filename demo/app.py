"""The browser demo: digits from the exported (c)DCGAN and horse <-> zebra from the exported CycleGAN.

    python demo/app.py [--port 7860] [--share] [--exports exports]

It runs on the ONNX files in ``--exports`` through :mod:`translate.runtime`, so it needs
no PyTorch. A missing model file disables only its own tab's controls, which show the
commands that make the file. Requests are queued with a small concurrency limit, so
several users at once share the machine instead of exhausting it; an upload request may
carry at most ``--max-upload`` bytes; the page loads no analytics or CDN resources; the
server keeps its files in a temporary folder of its own, removed when it stops.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import gradio as gr
from PIL import Image
from starlette.middleware import Middleware

if __package__ in (None, ""):
    # Run as a file (python demo/app.py, make demo): Python put demo/ on the import path, not
    # the repository that holds the demo package, so add it, from any working directory.
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from demo.gradio_errors import quiet_checks, quiet_inputs  # noqa: E402
from demo.models import ROOT, DemoModels  # noqa: E402
from demo.options import (  # noqa: E402
    MAX_SIDE_LIMIT,
    check_port_free,
    exports_folder,
    max_side,
    port_number,
    true_or_false,
)
from demo.photos import DEFAULT_MAX_SIDE  # noqa: E402
from demo.results import ResultFiles  # noqa: E402
from demo.serving import (  # noqa: E402
    FORM_OVERHEAD,
    UploadBytesLimit,
    UploadSweeper,
    owns_gradio_temp,
    parse_size,
    private_temp_dir,
)
from demo.tabs import EXAMPLES, digits_tab, photo_tab, sketch_tab  # noqa: E402
from translate import DECODE_MAX_PIXELS  # noqa: E402
from translate.arguments import positive_int  # noqa: E402

CONCURRENCY_GROUP = "models"  # every queued event: --concurrency bounds them together


def build_app(models: DemoModels, max_side: int = DEFAULT_MAX_SIDE, concurrency: int = 2,
              queue_size: int = 32, results: ResultFiles | None = None) -> gr.Blocks:
    """The Blocks app over ``models``; events are queued, at most ``concurrency`` at a time.

    Gradio's cache of uploads and results is swept every 10 minutes of files older than an hour.
    """
    results = results or ResultFiles()
    with gr.Blocks(title="translate: GAN demo", analytics_enabled=False, delete_cache=(600, 3600)) as app:
        gr.Markdown("# translate\nGANs exported to ONNX, running in ONNX Runtime.")
        with gr.Tab("Digits"):
            draw_first_grid = digits_tab(models, results)
        with gr.Tab("Horse ↔ zebra"):
            photo_tab(models, results, max_side)
        with gr.Tab(models.sketch_title()):
            sketch_tab(models, results, max_side)
        if draw_first_grid is not None:
            app.load(*draw_first_grid, api_visibility="private")  # /generate_digits is the API for it
    for fn in app.fns.values():  # Gradio limits each function on its own: one limit for all the models' work
        if fn.queue:
            fn.concurrency_id = CONCURRENCY_GROUP
    for block in app.blocks.values():
        if isinstance(block, gr.components.Component):
            quiet_checks(block)
    quiet_inputs(app)
    app.queue(default_concurrency_limit=concurrency, max_size=queue_size)
    return app


# Images fill their column and keep their shape at any width, so a grid stays readable on a phone.
# A control that is off looks off: greyed, its choice no longer in the accent colour.
CSS = """
#digits-output img, .photo-output img { width: 100%; height: auto; object-fit: contain; image-rendering: pixelated; }
label:has(input:disabled), .off { opacity: 0.55; filter: grayscale(1); cursor: not-allowed; }
"""


def upload_size(text: str) -> int:
    """``--max-upload``'s value in bytes, or argparse's one-line error (exit 2) naming the form."""
    try:
        return parse_size(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python demo/app.py", description="Serve the translate demo in a browser.")
    parser.add_argument("--port", type=port_number, default=7860)
    parser.add_argument("--host", default="127.0.0.1", help="interface to listen on (0.0.0.0: every interface)")
    parser.add_argument("--share", type=true_or_false, nargs="?", const=True, default=False, metavar="true|false",
                        help="make a public gradio.live link (needs internet); --share alone means true")
    parser.add_argument("--exports", type=exports_folder, default=ROOT / "exports", help="folder of the ONNX files")
    parser.add_argument("--max-side", type=max_side, default=DEFAULT_MAX_SIDE,
                        help=f"uploads larger than this are scaled (default {DEFAULT_MAX_SIDE}; at most "
                        f"{MAX_SIDE_LIMIT})")
    parser.add_argument("--concurrency", type=positive_int, default=2, help="requests computed at once; the rest queue")
    parser.add_argument("--queue-size", type=positive_int, default=32,
                        help="requests waiting at most; more are refused")
    parser.add_argument("--max-upload", type=upload_size, default="25mb",
                        help="the most an upload request may carry (default 25mb), whatever the number of files")
    parser.add_argument("--monitoring", action="store_true", help="serve Gradio's /monitoring pages (off by default)")
    return parser


def main(argv: list[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    check_port_free(args.host, args.port)
    # Gradio decodes the sketchpad's uploads with PIL: refuse what OpenCV would refuse to read_image.
    # PIL raises DecompressionBombError above twice its bound whatever the warning filters say (a
    # filter that turned its warning into an error would not hold: Gradio's own catch_warnings
    # blocks, overlapping in two threads, can leave an "ignore" filter in place for good).
    Image.MAX_IMAGE_PIXELS = DECODE_MAX_PIXELS // 2
    temp = private_temp_dir()  # before Gradio picks its upload folder
    print(f"temporary files in {temp} (removed when the server stops)", flush=True)
    threads = max(1, (os.cpu_count() or 1) // args.concurrency)  # the concurrent requests share the cores
    models = DemoModels.load(args.exports, threads)
    for problem in models.problems.values():
        print(f"warning: {problem}")
    app = build_app(models, args.max_side, args.concurrency, args.queue_size, ResultFiles(temp / "results"))
    if owns_gradio_temp(temp):
        UploadSweeper(temp / "gradio").start()
    app.launch(server_name=args.host, server_port=args.port, share=args.share, max_file_size=args.max_upload,
               allowed_paths=[str(EXAMPLES)], footer_links=["api"], enable_monitoring=args.monitoring, css=CSS,
               app_kwargs={"middleware": [Middleware(UploadBytesLimit, limit=args.max_upload + FORM_OVERHEAD)]})


if __name__ == "__main__":
    main()
