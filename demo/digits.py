"""The digits tab's logic: a grid of generated digits from its settings, and the checks of those settings."""

from __future__ import annotations

import math
from collections.abc import Callable

import gradio as gr
import numpy as np

from demo.models import DemoModels
from translate.errors import InputError
from translate.io.grids import image_grid
from translate.latent import check_truncation, label_mix, slerp  # as the CLI and the runtime
from translate.runtime import Sampler

MAX_DIGITS = 100
SEED_MAX = 2**53 - 1  # the page sends numbers as JavaScript doubles, exact to 2^53 - 1: beyond, a typed seed
# would silently draw a neighbour's digits (the command line and the runtime take seeds to 2^63 - 1)
ALL_DIGITS = ("all 0–9", "all")  # the page's label and the value of the "every digit" choice
SAME_DIGITS = ("same digit", "same")  # ... and of "no walk between digits"
SAME_DIGIT = SAME_DIGITS[1]
MAX_TRUNCATION = 3.0  # beyond 3, fewer than 0.3% of components are ever redrawn
DIGIT_SCALE = 3  # 28 px digits are shown three times larger, with sharp pixels
WHITE = 255  # between the digits: the page is white


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
    return image_grid(sampler.generate(z, _conditioning(sampler, n, labels, _label(sampler, digit_b), t)), columns,
                      DIGIT_SCALE, background=WHITE)


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
    if (not isinstance(count, (int, float)) or not math.isfinite(count) or count != int(count)
            or not 1 <= count <= MAX_DIGITS):
        raise InputError(f"the number of images must be a whole number 1..{MAX_DIGITS}, got {count}")
    return int(count)


def _walk(walk: float | None) -> float:
    if not isinstance(walk, (int, float)) or not 0.0 <= walk <= 1.0:
        raise InputError(f"the walk must lie in 0..1, got {walk}")
    return float(walk)


def _truncation(truncation: float | None) -> float | None:
    """The slider's threshold: 0 is off (None), else at least translate.latent's minimum."""
    if truncation is None or truncation == 0:  # an API call may leave it out
        return None
    try:
        check_truncation(truncation)
    except InputError as exc:  # the page's wording: its slider has no "leaving out"
        raise InputError(str(exc).replace("leave it out for plain codes", "set 0 for plain codes")) from None
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
        raise InputError("enter a seed: a whole number 0 … 2⁵³−1")
    if not isinstance(value, (int, float)) or not float(value).is_integer() or not 0 <= value <= SEED_MAX:
        raise InputError(f"a seed must be a whole number 0 … 2⁵³−1, got {_as_typed(value)}")
    return int(value)


def _as_typed(value: object) -> str:
    """A number as the page sent it. Beyond 2^53 the browser has already rounded it to a float,
    so its last digits are not the user's: show it as the float it is (1e+23)."""
    if isinstance(value, (int, float)) and math.isfinite(value) and abs(value) > 2**53:
        return f"{float(value):.6g}"
    return str(value)
