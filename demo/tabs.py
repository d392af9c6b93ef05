"""The page's three tabs, each a column of controls beside its outputs, over the logic in digits and photos."""

from __future__ import annotations

import threading
import uuid
from collections import OrderedDict, deque
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import gradio as gr

from demo.digits import ALL_DIGITS, MAX_DIGITS, MAX_TRUNCATION, SAME_DIGIT, SAME_DIGITS, digit_checks, digit_grid
from demo.gradio_errors import user_errors
from demo.models import DIGIT_KEYS, PHOTO_KEYS, SKETCH_KEYS, DemoModels, how_to_make
from demo.photos import translate_photo, translate_sketch
from demo.results import ResultFiles

EXAMPLES = Path(__file__).resolve().parent / "examples"
DIGIT_LABELS = {"cdcgan": "cDCGAN: pick the digit", "dcgan": "DCGAN: unconditional"}
SKETCH_SIZE = 256  # the sketchpad, in pixels: the size of the edges pairs the model learnt from
DIGIT_HINTS = {True: "the cDCGAN draws the digit you pick", False: "off: the DCGAN is unconditional, it takes no digit"}
WALK_HINTS = {True: "the walk also moves the digit: style stays, the digit changes",
              False: "off: the DCGAN takes no digit"}


def _unavailable(models: DemoModels, keys: Sequence[str], usable: bool | None = None) -> bool:
    """Say once what is unavailable among ``keys`` and show the commands that make it; whether
    all are. A tab that works without them (``usable``: by default, while any of ``keys`` is
    there) says it is partly available, not unavailable."""
    missing = [key for key in keys if key in models.problems]
    usable = len(missing) < len(keys) if usable is None else usable
    if missing:
        heading = "Partly available" if usable else "Unavailable"
        gr.Markdown(f"**{heading}:** {unavailable_text([models.problems[key] for key in missing])}",
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


def digits_tab(models: DemoModels, results: ResultFiles) -> tuple | None:
    """The digits tab; returns the (function, inputs, output) that draws a grid when the page opens."""
    none_available = _unavailable(models, list(DIGIT_KEYS))
    # Only the models there are files for, where there are any: no choice that cannot work.
    offered = [key for key in DIGIT_KEYS if key in models.samplers] or list(DIGIT_KEYS)
    choices = [(DIGIT_LABELS[key], key) for key in offered]
    first = offered[0]
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


def photo_tab(models: DemoModels, results: ResultFiles, max_side: int) -> None:
    served = [key for key in PHOTO_KEYS if models.photo_models(key)]  # the directions some model translates
    usable = bool(served)
    _unavailable(models, list(PHOTO_KEYS), usable)  # a CUT file alone serves its direction
    first = served[0] if served else PHOTO_KEYS[0]
    examples = [(path, key) for path, key in _examples(models) if key in served]
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
            # Only the directions a model translates, where there are any: no choice that cannot work.
            directions = [(label, key) for label, key in models.direction_choices() if key in (served or PHOTO_KEYS)]
            direction = gr.Radio(directions, value=first, label="Direction", interactive=usable)
            model = gr.Radio(**_model_radio(models, first), label="Model", elem_id="photo-model",
                             interactive=usable)
            # The API's model: left out, it is None (the direction's lowest FID), not the page's
            # first choice, which belongs to the first direction only.
            api_model = gr.Radio(choices=model.choices, value=None, label="Model", visible=False)
            # Its choices follow the direction in the page, but an API call is checked against the
            # first direction's: any key passes here, translate_photo names the right ones, and
            # the API page lists every direction's.
            keys = [key for direction in PHOTO_KEYS for key in models.photo_models(direction)]
            info = {"enum": keys, "title": "Radio", "type": "string"}
            for radio in (model, api_model):
                radio.preprocess = lambda key: key  # type: ignore[method-assign]
                radio.api_info = lambda: info  # type: ignore[method-assign]
            both = len(served) == len(PHOTO_KEYS)  # a round trip needs a model for the way back
            round_trip = gr.Checkbox(both or not usable, label="Also translate back (round trip)",
                                     info=None if both or not usable else "off: no model file translates back",
                                     interactive=both)
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
    button.click(run, inputs, [*outputs, note], api_name=False)
    gr.Button(visible=False).click(run, [photo, direction, round_trip, api_model], [*outputs, note],
                                   api_name="translate_photo")
    if examples:
        gallery.select(pick_example, None, [photo, direction, model], api_name=False, queue=False).then(
            run, inputs, [*outputs, note], api_name=False)


def _examples(models: DemoModels) -> list[tuple[Path, str]]:
    """The bundled photos (``<domain>-<n>.jpg``) with the direction that translates each: only
    those of the served models' domains (a model of other domains gets none)."""
    directions = dict(zip(models.domains(), ("AtoB", "BtoA"), strict=True))
    named = [(path, directions.get(path.stem.rsplit("-", 1)[0])) for path in sorted(EXAMPLES.glob("*.jpg"))]
    return [(path, key) for path, key in named if key is not None]


def _model_radio(models: DemoModels, direction: str) -> dict[str, Any]:
    """The model choice for a direction: its models with their FIDs, the lowest chosen."""
    return {"choices": models.model_choices(direction), "value": models.default_model(direction),
            "info": models.scored_text(direction)}


BLOBS_PER_SESSION = 4  # a session's newest drawings: a click still queued when the next stroke comes finds its own
SESSIONS_KEPT = 64  # sessions whose drawings are kept; the one that drew least recently goes beyond this
BLOB_MAX_BYTES = 1 << 20  # a composite of the 256-px pad is a few dozen kB; a larger one is not the page's


def composite_only(pad: gr.Sketchpad) -> None:
    """Bound what the sketchpad takes in and decodes to what the tab uses, its composite.

    Gradio decodes the background and every layer a payload lists before the handler runs (an
    API call naming one uploaded 64 MP picture a hundred times asks for 25 GB), and keeps every
    drawing the page sends to the pad's ``accept_blobs`` in a dict shared by all sessions until
    an event uses it, growing a layer list to whatever index a request names. The page sends its
    composite after every stroke, under a new id: the newest few are kept per session, so that
    other people's strokes never push out a drawing whose click waits in the queue."""
    decode, accept = pad.preprocess, pad.accept_blobs
    sessions: OrderedDict[str, deque[str]] = OrderedDict()  # blob ids by session, the latest to draw last
    lock = threading.Lock()  # Gradio runs both in its thread pool

    def preprocess(payload: Any) -> Any:
        if payload is not None and payload.id is None:  # an API call: its files are in the payload
            payload = payload.model_copy(update={"background": None, "layers": []})
            return decode(payload)
        with lock:  # the page's, sent before by id: moved under a key of its own, for this request alone
            kept = pad.blob_storage.pop(payload.id, None) if payload is not None else None
            if kept is not None:
                key = f"{payload.id}/{uuid.uuid4().hex}"  # in no session's list: nothing evicts it
                pad.blob_storage[key] = kept.model_copy(update={"background": None, "layers": []})
                payload = payload.model_copy(update={"id": key})
        # Decoded without the lock, so that no session waits on another's picture (Gradio's decode
        # takes the drawing out of the storage).
        return decode(payload)

    def accept_blobs(data: Any) -> None:
        if data.data.get("type") != "composite" or len(data.files) != 1 or len(data.files[0][1]) > BLOB_MAX_BYTES:
            return None  # the background and layers are never used; one picture is what the page sends
        session = str(data.data.get("session_hash") or "")  # a field of the form the page posts
        with lock:
            accept(data)
            ids = sessions.pop(session, deque())
            if data.data["id"] in ids:
                ids.remove(data.data["id"])  # sent again: the newest now
            ids.append(data.data["id"])
            while len(ids) > BLOBS_PER_SESSION:
                pad.blob_storage.pop(ids.popleft(), None)
            sessions[session] = ids
            while len(sessions) > SESSIONS_KEPT:
                for key in sessions.popitem(last=False)[1]:
                    pad.blob_storage.pop(key, None)
        return None

    accept_blobs._is_server_fn = True  # type: ignore[attr-defined]  # how Gradio's route finds it
    pad.preprocess = preprocess  # type: ignore[method-assign]
    pad.accept_blobs = accept_blobs  # type: ignore[method-assign]


def sketch_tab(models: DemoModels, results: ResultFiles, max_side: int) -> None:
    usable = not _unavailable(models, list(SKETCH_KEYS))
    _, target = models.sketch_domains()
    with gr.Row(equal_height=False):
        with gr.Column(scale=1, min_width=280):
            # A fixed canvas of the size the pairs were made at; an upload is fitted into it. The
            # label is short: the pad's zoom and undo buttons cover all but its first 30 characters.
            pad = gr.Sketchpad(label=f"Draw a {target}'s outline" if usable else
                               "Sketchpad: off until the model file above exists", type="numpy",
                               image_mode="RGBA", sources=["upload"], canvas_size=(SKETCH_SIZE, SKETCH_SIZE),
                               fixed_canvas=True, layers=False, elem_id="sketchpad", interactive=usable,
                               brush=gr.Brush(colors=["#000000"], color_mode="fixed", default_size=3),
                               eraser=gr.Eraser(default_size=12))
            if usable:
                gr.Markdown("With the mouse or a finger; or upload a line drawing with the pad's picture button.",
                            elem_id="sketch-hint")
            button = gr.Button(f"Make a {target}", variant="primary", interactive=usable)
        with gr.Column(scale=2, min_width=280):
            note = gr.Markdown(label="note", elem_id="sketch-note")
            with gr.Row():
                outputs = [gr.Image(label=label, type="filepath", interactive=False, elem_id=f"sketch-{key}",
                                    elem_classes="photo-output", min_width=160)
                           for key, label in (("lines", "Lines the model is given"), ("output", target.capitalize()))]

    composite_only(pad)

    @user_errors
    def run(value: Any) -> tuple[str | None, str | None, str]:
        lines, output, text = translate_sketch(models, value, max_side)
        return results.save(lines, "lines"), results.save(output, "sketch-output"), text

    button.click(run, pad, [*outputs, note], api_name="translate_sketch")
