"""The demo served in a process of its own (where torch cannot be imported), and headless Chromium.

Chromium is Debian's (``apt-get install chromium``), driven by Playwright. Where it is not
installed the browser tests skip, unless ``TRANSLATE_REQUIRE_BROWSER=1`` (set by CI) makes
that a failure. Screenshots go to ``test-artifacts/browser/<test>/``.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np
import pytest

from demo.process import served_demo
from demo.tabs import SKETCH_SIZE

REPO = Path(__file__).resolve().parents[2]
CHROMIUM = Path(os.environ.get("TRANSLATE_CHROMIUM", "/usr/bin/chromium"))
# Headless, and no calls home: this machine's network is closed, and the demo must work offline.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@pytest.fixture(scope="session")
def served(demo_exports, tmp_path_factory) -> Iterator[tuple[str, subprocess.Popen]]:
    """(URL, process) of ``python demo/app.py`` serving the test exports (shipped digits, tiny CycleGAN)."""
    with served_demo(demo_exports, tmp_path_factory.mktemp("server")) as started:
        yield started


@pytest.fixture(scope="session")
def server(served) -> str:
    return served[0]


@pytest.fixture(scope="session")
def browser():
    """Headless Debian Chromium through Playwright."""
    reason = None
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        reason = "playwright is not installed (pip install -e '.[dev]')"
    if reason is None and not CHROMIUM.is_file():
        reason = f"no Chromium at {CHROMIUM}: apt-get install chromium (or set TRANSLATE_CHROMIUM)"
    if reason is not None:
        if os.environ.get("TRANSLATE_REQUIRE_BROWSER") == "1":
            pytest.fail(reason)
        pytest.skip(reason)
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser):
    """A fresh page that records every request leaving localhost (there must be none)."""
    context = browser.new_context(viewport={"width": 1280, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(60_000)
    outside: list[str] = []
    page.on("request", lambda request: outside.append(request.url) if not _local(request.url) else None)
    yield page
    context.close()
    assert not outside, f"the page fetched from outside localhost: {outside}"


def _local(url: str) -> bool:
    return url.startswith(("http://127.0.0.1", "http://localhost", "ws://127.0.0.1", "data:", "blob:"))


@pytest.fixture
def artifacts(request) -> Path:
    """This test's screenshot folder, emptied first."""
    folder = REPO / "test-artifacts" / "browser" / request.node.name
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    return folder


def served_log(served: tuple[str, subprocess.Popen]) -> str:
    """What the served demo has written to its log so far."""
    return served[1].log_path.read_text()


def shown_image(page, selector: str, previous: str | None = None,
                timeout: float | None = None) -> tuple[np.ndarray, str]:
    """The RGB image an output component shows once its source is new and loaded, and that source
    (waiting up to ``timeout`` ms; the page's default when None)."""
    page.wait_for_function(
        """([selector, previous]) => {
            const img = document.querySelector(selector + ' img');
            return img && img.src && img.src !== previous && img.complete && img.naturalWidth > 0;
        }""",
        arg=[selector, previous],
        timeout=timeout,
    )
    src = page.locator(f"{selector} img").first.get_attribute("src")
    body = page.request.get(src).body()
    image = cv2.imdecode(np.frombuffer(body, np.uint8), cv2.IMREAD_COLOR)
    assert image is not None, f"{selector} shows something that is not an image: {src}"
    return cv2.cvtColor(image, cv2.COLOR_BGR2RGB), src


def shown_until_equal(page, selector: str, expected: np.ndarray, previous: str | None,
                      later_wait_ms: float = 20_000) -> tuple[np.ndarray, str]:
    """The image the component shows once it is ``expected``, and its source.

    One change of settings can draw more than one image (typing into a slider's box and then
    clicking fires the box's release on blur and the click); the ones before are passed over.
    Fails, naming what was shown, when no later image comes within ``later_wait_ms``.
    """
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    image, previous = shown_image(page, selector, previous)
    shown = 1
    while not (image.shape == expected.shape and np.array_equal(image, expected)):
        try:
            image, previous = shown_image(page, selector, previous, timeout=later_wait_ms)
        except PlaywrightTimeout:
            how = (f"{int((image != expected).any(axis=-1).sum())} of its pixels differ"
                   if image.shape == expected.shape else f"shape {image.shape}, expected {expected.shape}")
            raise AssertionError(f"{selector} settled, after {shown} new image(s), on one that is not the "
                                 f"expected: {how}") from None
        shown += 1
    return image, previous


def open_photo_tab(page, url: str) -> None:
    page.goto(url)
    page.get_by_role("tab", name="Horse ↔ zebra").click()
    page.get_by_role("button", name="Translate").wait_for()


def radio_labels(group) -> list[str]:
    """The labels of a radio group's choices, in the order the page lists them."""
    return [label.inner_text().strip() for label in group.locator("label").all()]


def upload_photo(page, path: Path) -> None:
    page.locator("#photo-input input[type=file]").set_input_files(str(path))
    page.locator("#photo-input").get_by_text(path.stem).first.wait_for()  # shown as stem + suffix


def translated_photo(page, photo: Path, screenshot: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(the photo, its translation, the round trip back) as RGB arrays, after uploading
    ``photo`` to the open photo tab and clicking Translate; the page is saved to ``screenshot``."""
    upload_photo(page, photo)
    page.get_by_role("button", name="Translate").click()
    translated, _ = shown_image(page, "#photo-translated")
    back, _ = shown_image(page, "#photo-round-trip")
    page.screenshot(path=screenshot)
    return cv2.cvtColor(cv2.imread(str(photo)), cv2.COLOR_BGR2RGB), translated, back


# An animal drawn on the sketch tab's pad, as strokes of points (fractions of the drawing): a
# body, four legs and a neck.
ZEBRA_OUTLINE = [[(0.25 + 0.5 * x, 0.45 + 0.15 * y) for x, y in
                  ((0, 0), (0.2, -1), (0.8, -1), (1, 0), (0.8, 1), (0.2, 1), (0, 0))],
                 *([(x, 0.6), (x, 0.85)] for x in (0.3, 0.4, 0.6, 0.7)),
                 [(0.75, 0.35), (0.9, 0.2)]]


def draw_on_sketchpad(page, strokes: list[list[tuple[float, float]]]) -> None:
    """Pick the brush and drag the mouse along each stroke, with points as fractions of the
    256-px drawing: the editor shows it centred in its canvas at the zoom it displays."""
    pad = page.locator("#sketchpad")
    pad.get_by_role("button", name="Brush").click()
    zoom = int(re.search(r"(\d+)%", pad.inner_text()).group(1)) / 100
    box = pad.locator("canvas").first.bounding_box()
    centre = (box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    for stroke in strokes:
        points = [(centre[0] + (fx - 0.5) * SKETCH_SIZE * zoom, centre[1] + (fy - 0.5) * SKETCH_SIZE * zoom)
                  for fx, fy in stroke]
        page.mouse.move(*points[0])
        page.mouse.down()
        for point in points[1:]:
            page.mouse.move(*point, steps=8)
        page.mouse.up()
