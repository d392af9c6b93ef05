"""Gradio's refusals and our own errors as a message for the user, never a traceback in the log."""

from __future__ import annotations

import reprlib
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

import gradio as gr

from translate.errors import TranslateError

T = TypeVar("T")


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
    shows ("all 0–9") as well as by its value ("all"), and so does a dropdown. ``build_app`` applies it to every
    component. (The check is wrapped on the instance: a subclass of a Gradio component would
    make Gradio write a ``.pyi`` file next to this one.)"""
    check = component.preprocess
    labels = ({label: value for label, value in component.choices} if isinstance(component, gr.Radio | gr.Dropdown)
              else {})

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
