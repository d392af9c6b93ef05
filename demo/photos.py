"""The photo and sketch tabs' logic: an upload or a drawing in, its translation out."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from demo.models import MODEL_FILES, PHOTO_KEYS, DemoModels
from translate.datasets.drawings import strokes_as_lines
from translate.errors import InputError
from translate.io.imageheader import read_header
from translate.io.images import HEADER_BYTES, convert_channels, read_image, scale_to_side

DEFAULT_MAX_SIDE = 1024


def load_photo(path: str | os.PathLike | None, max_side: int) -> tuple[np.ndarray, str]:
    """An uploaded file as RGB, scaled down to ``max_side`` if larger, and a note saying so."""
    if not path:
        raise InputError("upload a photo first (or click one of the examples)")
    path = Path(path)
    return fit_side(read_image(path, name=path.name), max_side, path.name)  # read_image checks the header first


def check_photo(path: str | os.PathLike | None) -> None:
    """load_photo's error for an upload that is no image, from its header: without decoding a
    photo (up to 64 MP) that no model could translate."""
    if not path:
        raise InputError("upload a photo first (or click one of the examples)")
    try:
        with open(path, "rb") as file:
            header = read_header(file.read(HEADER_BYTES))
    except OSError:
        header = None
    if header is None or header.problem:
        load_photo(path, 1)  # refuses it from its header, in its own words


def fit_side(image: np.ndarray, max_side: int, name: str) -> tuple[np.ndarray, str]:
    """``image`` scaled down to ``max_side`` if larger, and a note that says its size and whether it was."""
    height, width = image.shape[:2]
    scaled = scale_to_side(image, max_side)
    if scaled is image:
        return image, f"{name}: {width}×{height}"
    return scaled, (f"{name}: {width}×{height}, scaled down to {scaled.shape[1]}×{scaled.shape[0]} "
                    f"(maximum side {max_side})")


def translate_photo(models: DemoModels, path: str | None, direction: str, round_trip: bool,
                    max_side: int = DEFAULT_MAX_SIDE, model: str | None = None,
                    ) -> tuple[np.ndarray, np.ndarray, np.ndarray | None, str]:
    """(input as used, translation, round trip or None, note) for one uploaded photo, translated
    by ``model`` (a key of MODEL_FILES serving ``direction``; default: its lowest FID). The
    round trip takes the other direction's lowest-FID model."""
    check_photo(path)  # a file that is not an image says so, model or not
    if direction not in PHOTO_KEYS:
        raise InputError(f"unknown direction {direction!r}: choose {' or '.join(PHOTO_KEYS)}")
    key = model or models.default_model(direction) or direction
    if key not in MODEL_FILES or MODEL_FILES[key].serves != direction:
        served = ", ".join(models.photo_models(direction)) or "none"
        raise InputError(f"model {key!r} does not translate {direction}: choose one of {served}")
    translator = models.translators.get(key)
    if translator is None:
        raise InputError(models.problems.get(key, f"{MODEL_FILES[key].file} is missing"))
    image, note = load_photo(path, max_side)  # decoded only for a model that can translate it
    translated = translator.translate(image)
    note += f". By {models.model_label(key)}"
    back = None
    if round_trip:
        reverse = PHOTO_KEYS[1 - PHOTO_KEYS.index(direction)]
        back_key = models.default_model(reverse)
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
    return convert_channels(image, 3)  # alpha over white in uint16: half the memory of float32 arithmetic


def translate_sketch(models: DemoModels, value: Any,
                     max_side: int = DEFAULT_MAX_SIDE) -> tuple[np.ndarray, np.ndarray, str]:
    """(the lines the model is given, what it made of them, note) for a drawing: its dark
    strokes thinned to the one-pixel lines of the pairs the model learnt from. The note names
    the model and its FID, as the photo tab's does."""
    drawing, note = fit_side(sketch_drawing(value), max_side, "drawing")
    translator = models.translators.get("sketch")
    if translator is None:  # before the thinning: no work for a request that cannot be answered
        raise InputError(models.problems["sketch"])
    lines = strokes_as_lines(drawing)
    if lines.min() == 255:
        raise InputError("the drawing is blank: draw dark lines on the white pad (or upload a line drawing)")
    return lines, translator.translate(lines), f"{note}. By {models.model_label('sketch')}"
