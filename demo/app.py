"""The browser demo: digits from the exported (c)DCGAN and horse <-> zebra from the exported CycleGAN.

    python demo/app.py [--port 7860] [--share false] [--exports exports]

It runs on the ONNX files in ``--exports`` through :mod:`translate.runtime`, so it needs
no PyTorch. A missing model file disables only its own tab's controls, which show the
commands that make the file. Requests are queued with a small concurrency limit, so
several users at once share the machine instead of exhausting it; an upload request may
carry at most ``--max-upload`` bytes; the page loads no analytics or CDN resources; the
server keeps its files in a temporary folder of its own, removed when it stops.
"""

from __future__ import annotations

import argparse
import atexit
import math
import os
import reprlib
import shutil
import sys
import tempfile
import threading
import uuid
import warnings
from collections import deque
from collections.abc import Callable, Sequence
from functools import wraps
from pathlib import Path
from typing import Any, TypeVar

import cv2
import gradio as gr
import numpy as np
from PIL import Image
from starlette.middleware import Middleware

if __package__ in (None, ""):
    # Run as a file (python demo/app.py, make demo): Python put demo/ on the import path, not
    # the repository that holds the demo package, so add it, from any working directory.
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from demo.models import DIGIT_KEYS, MODEL_FILES, PHOTO_KEYS, ROOT, SKETCH_KEYS, DemoModels, how_to_make  # noqa: E402
from demo.options import check_port_free, exports_folder, port_number, true_or_false  # noqa: E402
from demo.serving import FORM_OVERHEAD, UploadBytesLimit, UploadSweeper, parse_size, private_temp_dir  # noqa: E402
from translate import DECODE_MAX_PIXELS  # noqa: E402
from translate.arguments import positive_int  # noqa: E402
from translate.datasets.drawings import strokes_as_lines  # noqa: E402
from translate.errors import InputError, TranslateError  # noqa: E402
from translate.io.fileio import write_image  # noqa: E402
from translate.io.images import read_image  # noqa: E402
from translate.latent import check_truncation, label_mix, slerp  # noqa: E402  (as the CLI and the runtime)
from translate.runtime import Sampler  # noqa: E402

EXAMPLES = Path(__file__).resolve().parent / "examples"
DIGIT_LABELS = {"cdcgan": "cDCGAN: pick the digit", "dcgan": "DCGAN: unconditional"}
MAX_DIGITS = 100
SEED_MAX = 2**63 - 1  # numpy's generators take any non-negative int; the CLI and the runtime stop here
ALL_DIGITS = ("all 0–9", "all")  # the page's label and the value of the "every digit" choice
SAME_DIGITS = ("same digit", "same")  # ... and of "no walk between digits"
SAME_DIGIT = SAME_DIGITS[1]
MAX_TRUNCATION = 3.0  # beyond 3, fewer than 0.3% of components are ever redrawn
DIGIT_SCALE = 3  # 28 px digits are shown three times larger, with sharp pixels
DEFAULT_MAX_SIDE = 1024
SKETCH_SIZE = 256  # the sketchpad, in pixels: the size of the edges pairs the model learnt from

T = TypeVar("T")


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


def user_errors(function: Callable[..., T]) -> Callable[..., T]:
    """Show our own errors (bad file, bad setting) as a message in the page, never a traceback."""

    @wraps(function)
    def wrapper(*args: Any, **kwargs: Any) -> T:
        try:
            return function(*args, **kwargs)
        except TranslateError as exc:
            raise gr.Error(str(exc), print_exception=False) from exc

    return wrapper


def quiet_checks(component: gr.components.Component) -> None:
    """Make ``component``'s own input check (a slider's range, a radio's choices) answer an API
    call the page's controls never make with Gradio's message alone: without this, Gradio also
    prints a traceback in the server log. A radio also takes a choice by the label the page
    shows ("all 0–9") as well as by its value ("all"). ``build_app`` applies it to every
    component. (The check is wrapped on the instance: a subclass of a Gradio component would
    make Gradio write a ``.pyi`` file next to this one.)"""
    check = component.preprocess
    labels = {label: value for label, value in component.choices} if isinstance(component, gr.Radio) else {}

    def preprocess(payload: Any) -> Any:
        try:
            return check(labels.get(payload, payload) if isinstance(payload, str) else payload)
        except gr.Error as exc:
            raise gr.Error(exc.message, print_exception=False) from None
        except (TypeError, ValueError):  # a value of another type: a string for a number, say
            kind = component.api_info().get("type")
            expected = API_TYPES.get(kind, "another value") if isinstance(kind, str) else "another value"
            raise gr.Error(f"{component.label or 'this input'} takes {expected}, not {reprlib.repr(payload)}",
                           print_exception=False) from None

    component.preprocess = preprocess  # type: ignore[method-assign]


API_TYPES = {"number": "a number", "integer": "a whole number", "boolean": "true or false", "string": "text"}


def quiet_inputs(app: gr.Blocks) -> None:
    """Answer an API value that Gradio refuses before any check of ours (a file path that was
    never uploaded, a malformed file payload) with its message alone: Gradio raises those as
    plain exceptions, which the client gets as ``{"error": null}`` and the server log as a
    traceback. ``build_app`` applies it to the app (on the instance, as :func:`quiet_checks`)."""
    preprocess_data = app.preprocess_data

    async def checked(*args: Any, **kwargs: Any) -> Any:
        try:
            return await preprocess_data(*args, **kwargs)
        except gr.Error:
            raise
        except Exception as exc:  # Gradio's own refusals come in several types, pydantic's among them
            lines = [line.strip() for line in str(exc).splitlines() if not line.strip().startswith("For further")]
            raise gr.Error(" ".join(lines) or type(exc).__name__, print_exception=False) from None

    app.preprocess_data = checked  # type: ignore[method-assign]


def tile(images: np.ndarray, columns: int, pad: int = 2, scale: int = 1) -> np.ndarray:
    """N x H x W x C uint8 images on a grid with ``columns`` per row, as one RGB image."""
    n, height, width, _ = images.shape
    rows = -(-n // columns)
    grid = np.full((rows * (height + pad) + pad, columns * (width + pad) + pad, 3), 255, np.uint8)
    for index, image in enumerate(images):
        top, left = pad + (index // columns) * (height + pad), pad + (index % columns) * (width + pad)
        grid[top : top + height, left : left + width] = image if image.shape[2] == 3 else image.repeat(3, axis=2)
    if scale > 1:
        grid = cv2.resize(grid, None, fx=scale, fy=scale, interpolation=cv2.INTER_NEAREST)
    return grid


def digit_grid(models: DemoModels, model: str, digit: str | None, count: float, seed: float, seed_b: float,
               walk: float, truncation: float = 0.0, digit_b: str | None = SAME_DIGIT) -> np.ndarray:
    """A grid of ``count`` digits from ``seed``, moved ``walk`` (0..1) of the way to ``seed_b``'s
    codes and, for a conditional model, from ``digit`` to ``digit_b``'s conditioning.

    ``digit`` is "all" (the digits in turn, one column each) or one class name; ``digit_b`` is
    one class name or "same" (no walk between digits); a model without classes ignores both.
    ``truncation`` T > 0 draws every code component beyond ±T again (0: plain codes), as
    ``translate.sample --truncation`` and ``Sampler.sample(truncation=...)`` do.
    """
    sampler = _sampler(models, model)
    n, t, threshold = _count(count), _walk(walk), _truncation(truncation)
    z = slerp(sampler.codes(n, _seed(seed), threshold), sampler.codes(n, _seed(seed_b), threshold), t)
    labels = _label(sampler, digit)
    classes = sampler.classes
    columns = len(classes) if classes and labels is None else int(np.ceil(np.sqrt(n)))
    return tile(sampler.generate(z, _conditioning(sampler, n, labels, _label(sampler, digit_b), t)), min(columns, n),
                scale=DIGIT_SCALE)


def _conditioning(sampler: Sampler, n: int, start: int | None, end: int | None, t: float) -> np.ndarray | None:
    """What the generator is conditioned on: class indices (``start``, or the classes in turn
    for None), or, while walking to class ``end``, class weights ``t`` of the way there."""
    if not sampler.classes:
        return None
    first = np.arange(n) % len(sampler.classes) if start is None else np.full(n, start)
    if end is None or t == 0.0:
        return first
    return label_mix(first, np.full(n, end), len(sampler.classes), t)


def digit_checks(models: DemoModels, model: str, digit: str | None, count: float, seed: float, seed_b: float,
                 walk: float, truncation: float = 0.0, digit_b: str | None = SAME_DIGIT) -> list[dict]:
    """Gradio's validation of :func:`digit_grid`'s inputs, one result per input: the page shows
    a message at the input at fault and keeps the last grid (an error would replace it)."""
    sampler = models.samplers.get(model)
    checks: list[Callable[[], object]] = [
        lambda: _sampler(models, model), lambda: sampler and _label(sampler, digit), lambda: _count(count),
        lambda: _seed(seed), lambda: _seed(seed_b), lambda: _walk(walk), lambda: _truncation(truncation),
        lambda: sampler and _label(sampler, digit_b),
    ]
    return [_validation(check) for check in checks]


def _validation(check: Callable[[], object]) -> dict:
    try:
        check()
    except InputError as exc:
        return gr.validate(False, str(exc))
    return gr.validate(True, "")


def _sampler(models: DemoModels, model: str) -> Sampler:
    sampler = models.samplers.get(model)
    if sampler is None:
        raise InputError(models.problems.get(model, f"unknown model {model!r}"))
    return sampler


def _count(count: float | None) -> int:
    if not isinstance(count, (int, float)) or not math.isfinite(count) or not 1 <= count <= MAX_DIGITS:
        raise InputError(f"the number of images must be a whole number 1..{MAX_DIGITS}, got {count}")
    return int(count)


def _walk(walk: float | None) -> float:
    if not isinstance(walk, (int, float)) or not 0.0 <= walk <= 1.0:
        raise InputError(f"the walk must lie in 0..1, got {walk}")
    return float(walk)


def _truncation(truncation: float | None) -> float | None:
    """The slider's threshold: 0 is off (None), else at least translate.latent's minimum."""
    if truncation == 0:
        return None
    check_truncation(truncation)
    return float(truncation)


def _label(sampler: Sampler, digit: str | None) -> int | None:
    """The class index of ``digit``; None for every digit in turn ("all"), for no walk between
    digits ("same"), or for a model without classes."""
    classes = sampler.classes
    if not classes or digit in ALL_DIGITS or digit in SAME_DIGITS:
        return None
    if digit in classes:
        return classes.index(digit)
    raise InputError(f"unknown digit {digit!r}: choose one of all, {', '.join(classes)}")


def _seed(value: float | None) -> int:
    if value is None or value == "":
        raise InputError("enter a seed: a whole number 0 … 2⁶³−1")
    if not isinstance(value, (int, float)) or not float(value).is_integer() or not 0 <= value <= SEED_MAX:
        raise InputError(f"a seed must be a whole number 0 … 2⁶³−1, got {_as_typed(value)}")
    return int(value)


def _as_typed(value: object) -> str:
    """A number as the page sent it. Beyond 2^53 the browser has already rounded it to a float,
    so its last digits are not the user's: show it as the float it is (1e+23)."""
    if isinstance(value, (int, float)) and math.isfinite(value) and abs(value) >= 2**53:
        return f"{float(value):.6g}"
    return str(value)


def load_photo(path: str | os.PathLike | None, max_side: int) -> tuple[np.ndarray, str]:
    """An uploaded file as RGB, scaled down to ``max_side`` if larger, and a note saying so."""
    if not path:
        raise InputError("upload a photo first (or click one of the examples)")
    path = Path(path)
    return fit_side(read_image(path, name=path.name), max_side, path.name)  # read_image checks the header first


def fit_side(image: np.ndarray, max_side: int, name: str) -> tuple[np.ndarray, str]:
    """``image`` scaled down to ``max_side`` if larger, and a note that says its size and whether it was."""
    height, width = image.shape[:2]
    if max(height, width) <= max_side:
        return image, f"{name}: {width}×{height}"
    factor = max_side / max(height, width)
    size = (max(1, round(width * factor)), max(1, round(height * factor)))
    scaled = cv2.resize(image, size, interpolation=cv2.INTER_AREA)
    return scaled, f"{name}: {width}×{height}, scaled down to {size[0]}×{size[1]} (maximum side {max_side})"


def translate_photo(models: DemoModels, path: str | None, direction: str, round_trip: bool,
                    max_side: int = DEFAULT_MAX_SIDE, model: str | None = None,
                    ) -> tuple[np.ndarray, np.ndarray, np.ndarray | None, str]:
    """(input as used, translation, round trip or None, note) for one uploaded photo, translated
    by ``model`` (a key of MODEL_FILES serving ``direction``; default: its lowest FID). The
    round trip takes the other direction's lowest-FID model."""
    image, note = load_photo(path, max_side)  # a file that is not an image says so, model or not
    if direction not in PHOTO_KEYS:
        raise InputError(f"unknown direction {direction!r}: choose {' or '.join(PHOTO_KEYS)}")
    key = model or next(iter(models.photo_models(direction)), direction)
    if key not in MODEL_FILES or MODEL_FILES[key].serves != direction:
        served = ", ".join(models.photo_models(direction)) or "none"
        raise InputError(f"model {key!r} does not translate {direction}: choose one of {served}")
    translator = models.translators.get(key)
    if translator is None:
        raise InputError(models.problems.get(key, f"{MODEL_FILES[key].file} is missing"))
    translated = translator.translate(image)
    note += f". By {models.model_label(key)}"
    back = None
    if round_trip:
        reverse = PHOTO_KEYS[1 - PHOTO_KEYS.index(direction)]
        back_key = next(iter(models.photo_models(reverse)), None)
        if back_key is None:
            note += f". No round trip: {models.problems[reverse]}"
        else:
            back = models.translators[back_key].translate(translated)
            note += f", back by {models.model_label(back_key)}"
    return image, translated, back, note


def sketch_drawing(value: Any) -> np.ndarray:
    """The sketchpad's picture (the strokes over any uploaded drawing) flattened onto white, as
    RGB: what is transparent is paper."""
    composite = value.get("composite") if isinstance(value, dict) else value
    if composite is None:
        raise InputError("draw something first (or upload a line drawing)")
    image = np.asarray(composite)
    image = image[..., None] if image.ndim == 2 else image
    if image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] not in (1, 3, 4) or 0 in image.shape:
        raise InputError(f"the drawing must be an image of 8-bit pixels, got an array of {image.dtype} "
                         f"{'×'.join(map(str, image.shape))}")
    if image.shape[2] == 4:
        alpha = image[..., 3:].astype(np.float32) / 255
        return (image[..., :3] * alpha + 255 * (1 - alpha)).round().astype(np.uint8)
    return np.repeat(image, 3, axis=2) if image.shape[2] == 1 else image


def translate_sketch(models: DemoModels, value: Any,
                     max_side: int = DEFAULT_MAX_SIDE) -> tuple[np.ndarray, np.ndarray, str]:
    """(the lines the model is given, what it made of them, note) for a drawing: its dark
    strokes thinned to the one-pixel lines of the pairs the model learnt from."""
    drawing, note = fit_side(sketch_drawing(value), max_side, "drawing")
    translator = models.translators.get("sketch")
    if translator is None:  # before the thinning: no work for a request that cannot be answered
        raise InputError(models.problems["sketch"])
    lines = strokes_as_lines(drawing)
    if lines.min() == 255:
        raise InputError("the drawing is blank: draw dark lines on the white pad (or upload a line drawing)")
    return lines, translator.translate(lines), note


def _unavailable(models: DemoModels, keys: Sequence[str]) -> bool:
    """Say once what is unavailable among ``keys`` and show the commands that make it; whether all are."""
    missing = [key for key in keys if key in models.problems]
    if missing:
        gr.Markdown(f"**Unavailable:** {unavailable_text([models.problems[key] for key in missing])}",
                    elem_classes="unavailable")
        gr.Code(how_to_make({key: models.missing[key] for key in missing}), language="shell", interactive=False,
                wrap_lines=True, label="Commands (run them in the project folder)", elem_classes="make-commands")
    return len(missing) == len(keys)


def unavailable_text(problems: list[str]) -> str:
    """One sentence for the problems of a tab's model files, ending in what the commands below do:
    "a.onnx and b.onnx are missing. To make them:"."""
    suffix = " is missing"
    absent = [problem.removesuffix(suffix) for problem in problems if problem.endswith(suffix)]
    other = [problem for problem in problems if not problem.endswith(suffix)]
    sentences = other + ([f"{' and '.join(absent)} {'are' if len(absent) > 1 else 'is'} missing"] if absent else [])
    return "".join(f"{sentence}. " for sentence in sentences) + f"To make {'them' if len(problems) > 1 else 'it'}:"


def build_app(models: DemoModels, max_side: int = DEFAULT_MAX_SIDE, concurrency: int = 2,
              queue_size: int = 32, results: ResultFiles | None = None) -> gr.Blocks:
    """The Blocks app over ``models``; events are queued, at most ``concurrency`` at a time.

    Gradio's cache of uploads and results is swept every 10 minutes of files older than an hour.
    """
    results = results or ResultFiles()
    with gr.Blocks(title="translate: GAN demo", analytics_enabled=False, delete_cache=(600, 3600)) as app:
        gr.Markdown("# translate\nGANs exported to ONNX, running in ONNX Runtime.")
        with gr.Tab("Digits"):
            draw_first_grid = _digits_tab(models, results)
        with gr.Tab("Horse ↔ zebra"):
            _photo_tab(models, results, max_side)
        with gr.Tab(models.sketch_title()):
            _sketch_tab(models, results, max_side)
        if draw_first_grid is not None:
            app.load(*draw_first_grid)
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
DIGIT_HINTS = {True: "the cDCGAN draws the digit you pick", False: "off: the DCGAN is unconditional, it takes no digit"}
WALK_HINTS = {True: "the walk also moves the digit: style stays, the digit changes",
              False: "off: the DCGAN takes no digit"}


def _digits_tab(models: DemoModels, results: ResultFiles) -> tuple | None:
    """The digits tab; returns the (function, inputs, output) that draws a grid when the page opens."""
    none_available = _unavailable(models, list(DIGIT_KEYS))
    choices = [(DIGIT_LABELS[key], key) for key in DIGIT_KEYS]
    first = next((key for key in DIGIT_KEYS if key in models.samplers), "cdcgan")
    # The labels come from the file; without it (the controls are off) the digits' names stand in.
    classes = models.samplers["cdcgan"].classes if "cdcgan" in models.samplers else [str(d) for d in range(10)]
    usable = not none_available
    takes_digit = usable and first == "cdcgan"
    with gr.Row(equal_height=False):
        with gr.Column(scale=1, min_width=280):
            model = gr.Radio(choices, value=first, label="Model", interactive=usable)
            digit = gr.Radio([ALL_DIGITS, *[(c, c) for c in classes]], value=ALL_DIGITS[1] if takes_digit else None,
                             label="Digit", info=DIGIT_HINTS[takes_digit], elem_id="digit-choice",
                             interactive=takes_digit)
            count = gr.Slider(1, MAX_DIGITS, value=20, step=1, label="Images", interactive=usable)
            truncation = gr.Slider(0.0, MAX_TRUNCATION, value=0.0, step=0.25, label="Truncation",
                                   info="0: off; T: every code component beyond ±T is drawn again (less variety, "
                                   "cleaner digits)", elem_id="truncation", interactive=usable)
            with gr.Row():
                seed = gr.Number(0, precision=0, label="Seed", elem_id="seed", interactive=usable)
                seed_b = gr.Number(1, precision=0, label="Walk towards seed", elem_id="seed-b", interactive=usable)
            digit_b = gr.Dropdown([SAME_DIGITS, *[(c, c) for c in classes]], value=SAME_DIGIT,
                                  label="Walk towards digit", info=WALK_HINTS[takes_digit], elem_id="digit-b",
                                  interactive=takes_digit)
            walk = gr.Slider(0.0, 1.0, value=0.0, step=0.05, label="Walk (0: first seed and digit, 1: second)",
                             elem_id="walk", interactive=usable)
            button = gr.Button("Generate", variant="primary", interactive=usable)
        with gr.Column(scale=2, min_width=280):
            # No label or buttons over the picture: at phone width they would hide its first row.
            output = gr.Image(label="Digits", show_label=False, buttons=["download"], type="filepath",
                              interactive=False, elem_id="digits-output")

    # Named parameters: Gradio names the API's parameters, and the inputs a check is about, after them.
    @user_errors
    def generate(model: str, digit: str | None, count: float, seed: float, seed_b: float, walk: float,
                 truncation: float, digit_b: str | None) -> str | None:
        grid = digit_grid(models, model, digit, count, seed, seed_b, walk, truncation, digit_b)
        return results.save(grid, "digits")

    def check(model: str, digit: str | None, count: float, seed: float, seed_b: float, walk: float,
              truncation: float, digit_b: str | None) -> list[dict]:
        return digit_checks(models, model, digit, count, seed, seed_b, walk, truncation, digit_b)

    def digit_choice(model: str) -> tuple[dict, dict]:  # only the conditional model takes digits; none shown chosen
        takes = model in models.samplers and bool(models.samplers[model].classes)
        return (gr.update(interactive=takes, value=ALL_DIGITS[1] if takes else None, info=DIGIT_HINTS[takes]),
                gr.update(interactive=takes, value=SAME_DIGIT if takes else None, info=WALK_HINTS[takes]))

    inputs = [model, digit, count, seed, seed_b, walk, truncation, digit_b]
    # The page checks its settings first (a message at the input at fault, the last grid kept).
    # The API is the same function on a trigger the page does not show, without that check:
    # a Gradio validator answers a value the page never sends (a slider out of range) with a
    # bare "400 Bad Request", where the function's own error names the problem.
    # One listener for the page's three triggers: typing a value into a slider's box and then
    # clicking Generate fires both the box's release (on blur) and the click; one queue runs
    # them in order, and only the latest waiting one, so the grid shown is the last asked for.
    gr.on([button.click, walk.release, truncation.release], generate, inputs, output, api_name=False,
          validator=check, trigger_mode="always_last")
    gr.Button(visible=False).click(generate, inputs, output, api_name="generate_digits")
    model.change(digit_choice, model, [digit, digit_b], api_name=False, queue=False)
    return (generate, inputs, output) if usable else None


def _photo_tab(models: DemoModels, results: ResultFiles, max_side: int) -> None:
    _unavailable(models, list(PHOTO_KEYS))
    served = [key for key in PHOTO_KEYS if models.photo_models(key)]  # the directions some model translates
    usable = bool(served)
    first = served[0] if served else PHOTO_KEYS[0]
    a, _ = models.domains()
    examples = [(path, "AtoB" if path.name.startswith(a) else "BtoA") for path in sorted(EXAMPLES.glob("*.jpg"))]
    examples = [(path, key) for path, key in examples if key in served]
    with gr.Row(equal_height=False):
        with gr.Column(scale=1, min_width=280):
            label = (f"Photo (JPEG, PNG, WebP, BMP or TIFF; larger than {max_side} px is scaled down)" if usable
                     else "Photo upload: off until the model files above exist")
            photo = gr.File(label=label, file_types=["image"], type="filepath", elem_id="photo-input",
                            interactive=usable, elem_classes=None if usable else "off", height=None if usable else 120)
            if examples:
                gallery = gr.Gallery([(str(path), path.stem) for path, _ in examples], label="Or click an example "
                                     "from the horse2zebra test sets", columns=2, rows=2, height=410,
                                     object_fit="cover", allow_preview=False, elem_id="photo-examples",
                                     interactive=False, buttons=[])
            direction = gr.Radio(models.direction_choices(), value=first, label="Direction", interactive=usable)
            model = gr.Radio(**_model_radio(models, first), label="Model", elem_id="photo-model",
                             interactive=usable)
            # Its choices follow the direction in the page, but an API call is checked against the
            # first direction's: any key passes here, translate_photo names the right ones, and
            # the API page lists every direction's.
            keys = [key for direction in PHOTO_KEYS for key in models.photo_models(direction)]
            model.preprocess = lambda key: key  # type: ignore[method-assign]
            model.api_info = lambda: {"enum": keys, "title": "Radio", "type": "string"}  # type: ignore[method-assign]
            round_trip = gr.Checkbox(True, label="Also translate back (round trip)", interactive=usable)
            button = gr.Button("Translate", variant="primary", interactive=usable)
        with gr.Column(scale=2, min_width=280):
            note = gr.Markdown(label="note", elem_id="photo-note")
            with gr.Row():
                outputs = [gr.Image(label=label, type="filepath", interactive=False, elem_id=f"photo-{key}",
                                    elem_classes="photo-output", min_width=160)
                           for key, label in (("shown", "Input"), ("translated", "Translation"),
                                              ("round-trip", "Round trip"))]

    @user_errors
    def run(photo: str | None, direction: str, round_trip: bool, model: str | None = None,
            ) -> tuple[str | None, str | None, str | None, str]:
        image, out, round_image, text = translate_photo(models, photo, direction, round_trip, max_side, model)
        saved = [results.save(array, name) for array, name in
                 ((image, "input"), (out, "translation"), (round_image, "round-trip"))]
        return saved[0], saved[1], saved[2], text

    def pick_example(event: gr.SelectData) -> tuple[str, str, dict]:
        path, key = examples[event.index]
        return str(path), key, gr.update(**_model_radio(models, key))

    inputs = [photo, direction, round_trip, model]
    direction.input(lambda key: gr.update(**_model_radio(models, key)), direction, model, api_name=False,
                    queue=False)
    button.click(run, inputs, [*outputs, note], api_name="translate_photo")
    if examples:
        gallery.select(pick_example, None, [photo, direction, model], api_name=False, queue=False).then(
            run, inputs, [*outputs, note], api_name=False)


def _model_radio(models: DemoModels, direction: str) -> dict[str, Any]:
    """The model choice for a direction: its models with their FIDs, the lowest chosen."""
    choices = models.model_choices(direction)
    return {"choices": choices, "value": choices[0][1] if choices else None, "info": models.scored_text(direction)}


def _sketch_tab(models: DemoModels, results: ResultFiles, max_side: int) -> None:
    usable = not _unavailable(models, list(SKETCH_KEYS))
    _, target = models.sketch_domains()
    with gr.Row(equal_height=False):
        with gr.Column(scale=1, min_width=280):
            # A fixed canvas of the size the pairs were made at; an upload is fitted into it.
            pad = gr.Sketchpad(label=f"Draw the outline of a {target} (or upload a line drawing)" if usable else
                               "Sketchpad: off until the model file above exists", type="numpy",
                               image_mode="RGBA", sources=["upload"], canvas_size=(SKETCH_SIZE, SKETCH_SIZE),
                               fixed_canvas=True, layers=False, elem_id="sketchpad", interactive=usable,
                               brush=gr.Brush(colors=["#000000"], color_mode="fixed", default_size=3),
                               eraser=gr.Eraser(default_size=12))
            button = gr.Button(f"Make a {target}", variant="primary", interactive=usable)
        with gr.Column(scale=2, min_width=280):
            note = gr.Markdown(label="note", elem_id="sketch-note")
            with gr.Row():
                outputs = [gr.Image(label=label, type="filepath", interactive=False, elem_id=f"sketch-{key}",
                                    elem_classes="photo-output", min_width=160)
                           for key, label in (("lines", "Lines the model is given"), ("output", target.capitalize()))]

    @user_errors
    def run(value: Any) -> tuple[str | None, str | None, str]:
        lines, output, text = translate_sketch(models, value, max_side)
        return results.save(lines, "lines"), results.save(output, "sketch-output"), text

    button.click(run, pad, [*outputs, note], api_name="translate_sketch")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python demo/app.py", description="Serve the translate demo in a browser.")
    parser.add_argument("--port", type=port_number, default=7860)
    parser.add_argument("--host", default="127.0.0.1", help="interface to listen on (0.0.0.0: every interface)")
    parser.add_argument("--share", type=true_or_false, default=False,
                        help="make a public gradio.live link (needs internet)")
    parser.add_argument("--exports", type=exports_folder, default=ROOT / "exports", help="folder of the ONNX files")
    parser.add_argument("--max-side", type=positive_int, default=DEFAULT_MAX_SIDE,
                        help="uploads larger than this are scaled")
    parser.add_argument("--concurrency", type=positive_int, default=2, help="requests computed at once; the rest queue")
    parser.add_argument("--queue-size", type=positive_int, default=32,
                        help="requests waiting at most; more are refused")
    parser.add_argument("--max-upload", default="25mb",
                        help="the most an upload request may carry (default 25mb), whatever the number of files")
    parser.add_argument("--monitoring", action="store_true", help="serve Gradio's /monitoring pages (off by default)")
    return parser


def main(argv: list[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    try:
        max_upload = parse_size(args.max_upload)
    except ValueError as exc:
        raise SystemExit(f"error: --max-upload: {exc}") from None
    check_port_free(args.host, args.port)
    # Gradio decodes the sketchpad's uploads with PIL: refuse what OpenCV would refuse to read_image,
    # instead of PIL's warning up to twice that.
    Image.MAX_IMAGE_PIXELS = DECODE_MAX_PIXELS
    warnings.simplefilter("error", Image.DecompressionBombWarning)
    temp = private_temp_dir()  # before Gradio picks its upload folder
    print(f"temporary files in {temp} (removed when the server stops)", flush=True)
    threads = max(1, (os.cpu_count() or 1) // args.concurrency)  # the concurrent requests share the cores
    models = DemoModels.load(args.exports, threads)
    for problem in models.problems.values():
        print(f"warning: {problem}")
    app = build_app(models, args.max_side, args.concurrency, args.queue_size, ResultFiles(temp / "results"))
    UploadSweeper(Path(os.environ["GRADIO_TEMP_DIR"])).start()
    app.launch(server_name=args.host, server_port=args.port, share=args.share, max_file_size=max_upload,
               allowed_paths=[str(EXAMPLES)], footer_links=["api"], enable_monitoring=args.monitoring, css=CSS,
               app_kwargs={"middleware": [Middleware(UploadBytesLimit, limit=max_upload + FORM_OVERHEAD)]})


if __name__ == "__main__":
    main()
