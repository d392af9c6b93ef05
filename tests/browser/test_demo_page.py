"""The demo in headless Chromium: what a person clicking through the page gets."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import cv2
import numpy as np

from demo.app import CSS, build_app
from demo.digits import digit_grid
from demo.models import DemoModels
from demo.process import free_port, wait_until_serving

from .conftest import (
    ZEBRA_OUTLINE,
    draw_on_sketchpad,
    open_photo_tab,
    radio_labels,
    served_log,
    shown_image,
    shown_until_equal,
    translated_photo,
    upload_photo,
)


def test_a_grid_is_drawn_when_the_page_opens(page, server, artifacts):
    page.goto(server)
    grid, _ = shown_image(page, "#digits-output")  # without a click
    page.screenshot(path=artifacts / "1-opened.png")
    assert grid.shape[1] > 300 and grid.std() > 20


def test_digits_for_a_chosen_digit_and_a_new_seed(page, server, artifacts):
    page.goto(server)
    generate = page.get_by_role("button", name="Generate")
    generate.wait_for()
    _, opening = shown_image(page, "#digits-output")
    page.screenshot(path=artifacts / "1-loaded.png")
    page.locator("#digit-choice").get_by_role("radio", name="3", exact=True).check()
    page.locator("#seed input").fill("0")
    generate.click()
    first, src = shown_image(page, "#digits-output", previous=opening)
    page.screenshot(path=artifacts / "2-digit-3-seed-0.png")
    assert first.shape[0] > 100 and first.shape[1] > 100
    assert first.std() > 20, "the grid is blank"
    page.locator("#seed input").fill("1")
    generate.click()
    second, _ = shown_image(page, "#digits-output", previous=src)
    page.screenshot(path=artifacts / "3-digit-3-seed-1.png")
    assert second.shape == first.shape and np.abs(second.astype(int) - first).mean() > 5


def test_a_walk_between_digits_and_truncated_codes_draw_what_the_library_draws(page, server, artifacts,
                                                                               demo_exports):
    models = DemoModels.load(demo_exports, threads=1)
    page.goto(server)
    _, src = shown_image(page, "#digits-output")
    page.locator("#digit-choice").get_by_role("radio", name="3", exact=True).check()
    page.locator("#digit-b input").click()
    page.get_by_role("option", name="8", exact=True).click()
    page.locator("#walk input[type=number]").fill("1")
    page.get_by_role("button", name="Generate").click()  # after the walk box's own release, on blur
    _, src = shown_until_equal(page, "#digits-output", digit_grid(models, "cdcgan", "3", 20, 0, 1, 1.0, digit_b="8"),
                               previous=src)
    page.screenshot(path=artifacts / "1-walked-from-3-to-8.png")
    page.locator("#truncation input[type=number]").fill("0.5")
    page.get_by_role("button", name="Generate").click()
    _, src = shown_until_equal(page, "#digits-output", digit_grid(models, "cdcgan", "3", 20, 0, 1, 1.0, 0.5, "8"),
                               previous=src)
    page.screenshot(path=artifacts / "2-truncated-at-0.5.png")
    page.locator("#walk input[type=number]").fill("0.5")
    page.keyboard.press("Tab")  # leaving the box is a release: the grid redraws without a click
    shown_until_equal(page, "#digits-output", digit_grid(models, "cdcgan", "3", 20, 0, 1, 0.5, 0.5, "8"), previous=src)
    page.screenshot(path=artifacts / "3-half-way-on-leaving-the-box.png")


def test_the_digit_choice_is_off_for_the_unconditional_model(page, server, artifacts):
    page.goto(server)
    three = page.locator("#digit-choice").get_by_role("radio", name="3", exact=True)
    three.wait_for()
    assert three.is_enabled()
    assert _opacity(page.locator("#digit-choice label").first) == 1
    page.get_by_role("radio", name="DCGAN: unconditional").check()
    page.wait_for_function("() => document.querySelector('#digit-choice input[type=radio]').disabled")
    page.locator("#digit-choice").get_by_text("off: the DCGAN is unconditional").wait_for()
    page.wait_for_timeout(300)
    page.screenshot(path=artifacts / "1-dcgan-digit-choice-off.png")
    # It looks off: no digit shows as chosen, and every choice is greyed.
    assert page.locator("#digit-choice input[type=radio]:checked").count() == 0
    assert all(_opacity(label) < 1 for label in page.locator("#digit-choice label").all())
    page.get_by_role("radio", name="cDCGAN: pick the digit").check()
    page.wait_for_function("() => !document.querySelector('#digit-choice input[type=radio]').disabled")
    page.locator("#digit-choice").get_by_role("radio", name="all 0–9").wait_for()
    assert page.locator("#digit-choice").get_by_role("radio", name="all 0–9").is_checked()


def _opacity(locator) -> float:
    return float(locator.evaluate("element => getComputedStyle(element).opacity"))


def test_a_bad_seed_is_named_at_the_seed_and_the_last_grid_stays(page, served, artifacts):
    url, _ = served
    page.goto(url)
    grid, src = shown_image(page, "#digits-output")
    logged_before = len(served_log(served))
    for typed, message in (("-3", "a seed must be a whole number 0 … 2⁵³−1, got -3"),
                           ("99999999999999999999999", "a seed must be a whole number 0 … 2⁵³−1, got 1e+23"),
                           ("9007199254740992", "a seed must be a whole number 0 … 2⁵³−1, got 9007199254740992"),
                           ("", "enter a seed: a whole number 0 … 2⁵³−1")):
        page.locator("#seed input").fill(typed)
        page.get_by_role("button", name="Generate").click()
        page.locator("#seed").get_by_text(message).wait_for()
        page.screenshot(path=artifacts / f"seed-{typed or 'empty'}.png")
        # The grid drawn before is still shown, not an error badge.
        assert page.locator("#digits-output img").get_attribute("src") == src
        assert page.locator("#digits-output").get_by_text("Error").count() == 0
    page.locator("#seed input").fill("5")
    page.get_by_role("button", name="Generate").click()
    new, _ = shown_image(page, "#digits-output", previous=src)
    assert page.locator("#seed").get_by_text("enter a seed").count() == 0  # the message goes with the fix
    assert new.shape == grid.shape and not np.array_equal(new, grid)
    server_log = served_log(served)[logged_before:]  # the server is shared: only what this request logged
    assert "Traceback" not in server_log, server_log[-2000:]


def test_digits_are_readable_at_phone_width(browser, server, artifacts):
    context = browser.new_context(viewport={"width": 390, "height": 844}, device_scale_factor=2, is_mobile=True)
    page = context.new_page()
    try:
        page.goto(server)
        shown_image(page, "#digits-output")
        page.screenshot(path=artifacts / "1-phone.png", full_page=True)
        box = page.locator("#digits-output img").bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= 390  # no sideways scrolling
        # 20 digits, 10 to a row: each 28 px digit is drawn at least 28 CSS pixels wide.
        assert box["width"] / 10 >= 28, box
    finally:
        context.close()


def test_a_horse_becomes_a_zebra_of_the_same_size(page, server, artifacts, horse_photo):
    open_photo_tab(page, server)
    page.screenshot(path=artifacts / "1-tab.png")
    horse, translated, back = translated_photo(page, horse_photo, artifacts / "2-translated.png")
    assert translated.shape == back.shape == horse.shape
    assert np.abs(translated.astype(int) - horse).mean() > 5, "the translation is the input"
    page.get_by_text("n02381460_1010.jpg: 256×256").wait_for()


def test_a_text_file_named_jpg_gets_a_message_in_the_page(page, server, artifacts, tmp_path):
    fake = tmp_path / "notes.jpg"
    fake.write_text("these are notes, not a photo\n")
    open_photo_tab(page, server)
    upload_photo(page, fake)
    page.get_by_role("button", name="Translate").click()
    page.get_by_test_id("toast-text").get_by_text("notes.jpg: not a readable image").wait_for()
    page.wait_for_timeout(500)  # the toast slides in
    page.screenshot(path=artifacts / "1-error.png")
    assert page.locator("#photo-translated img").count() == 0


def test_an_example_thumbnail_translates_with_one_click(page, server, artifacts):
    open_photo_tab(page, server)
    thumbnails = page.locator("#photo-examples img")
    thumbnails.first.wait_for()
    assert thumbnails.count() == 4
    page.screenshot(path=artifacts / "1-thumbnails.png")
    thumbnails.first.click()
    translated, _ = shown_image(page, "#photo-translated")
    shown, _ = shown_image(page, "#photo-shown")
    page.screenshot(path=artifacts / "2-example-translated.png")
    assert translated.shape == shown.shape and np.abs(translated.astype(int) - shown).mean() > 5


@contextmanager
def serving_only(demo_exports: Path, folder: Path, files: list[str]) -> Iterator[str]:
    """The URL of the demo, served in this process, over a folder holding only ``files`` of ``demo_exports``."""
    folder.mkdir()
    for name in files:
        (folder / name).write_bytes((demo_exports / name).read_bytes())
    app = build_app(DemoModels.load(folder, threads=1))
    port = free_port()
    app.launch(server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, quiet=True, css=CSS)
    try:
        url = f"http://127.0.0.1:{port}/"
        wait_until_serving(url)
        yield url
    finally:
        app.close()


def test_a_missing_model_is_named_and_the_rest_still_works(page, artifacts, demo_exports, tmp_path):
    with serving_only(demo_exports, tmp_path / "exports", ["cdcgan-mnist.onnx"]) as url:
        page.goto(url)
        page.get_by_role("tab", name="Horse ↔ zebra").click()
        said = page.get_by_text("horse2zebra.onnx and zebra2horse.onnx are missing. To make them:")
        said.wait_for()
        assert said.count() == 1 and page.get_by_text("zebra2horse.onnx is missing").count() == 0  # once, for both
        commands = page.locator(".make-commands").filter(has_text="translate.train cyclegan")
        commands.wait_for()
        assert "python -m translate.export runs/horse2zebra --direction AtoB" in commands.inner_text()
        assert page.get_by_role("button", name="Translate").is_disabled()
        assert page.locator("#photo-input input[type=file]").count() == 0  # no upload box to use
        page.get_by_text("Photo upload: off until the model files above exist").wait_for()
        # The direction and the round trip are off and look it.
        for control in (page.get_by_role("radio", name="horse → zebra"), page.get_by_role("checkbox")):
            assert control.is_disabled()
            assert _opacity(page.locator("label").filter(has=control)) < 1
        assert str(tmp_path) not in page.content()  # no server paths in the page
        page.screenshot(path=artifacts / "1-missing-cyclegan.png")
        # On a phone the commands wrap instead of running off the screen.
        page.set_viewport_size({"width": 390, "height": 844})
        page.wait_for_timeout(300)
        page.screenshot(path=artifacts / "2-missing-cyclegan-phone.png", full_page=True)
        scroller = commands.locator(".cm-scroller")
        assert scroller.evaluate("element => element.scrollWidth <= element.clientWidth + 1")
        assert commands.bounding_box()["width"] <= 390
        page.set_viewport_size({"width": 1280, "height": 1000})
        page.get_by_role("tab", name="Digits").click()
        page.get_by_role("button", name="Generate").click()
        grid, _ = shown_image(page, "#digits-output")
        page.screenshot(path=artifacts / "3-digits-still-work.png")
        assert grid.std() > 20
        page.get_by_text("Partly available: dcgan-mnist.onnx is missing. To make it:").wait_for()  # cDCGAN works
        assert page.get_by_role("radio", name="cDCGAN: pick the digit").is_checked()
        assert page.get_by_role("radio", name="DCGAN: unconditional").count() == 0  # no model that cannot draw


def test_a_cut_model_alone_translates_its_direction(page, artifacts, demo_exports_with_choices, tmp_path,
                                                     horse_photo):
    """Without the CycleGAN files, one CUT file serves its direction: the page says what is
    missing without calling the tab unavailable, and offers only the direction it can translate."""
    with serving_only(demo_exports_with_choices, tmp_path / "exports", ["cut-horse2zebra.onnx"]) as url:
        open_photo_tab(page, url)
        page.get_by_text("Partly available: horse2zebra.onnx and zebra2horse.onnx are missing. To make them:"
                         ).wait_for()
        assert page.get_by_text("Unavailable: horse2zebra.onnx").count() == 0
        assert radio_labels(page.locator("#photo-model")) == ["CUT · FID 60.2"]
        assert page.get_by_role("radio", name="horse → zebra").is_checked()
        assert page.get_by_role("radio", name="zebra → horse").count() == 0  # no direction that cannot work
        assert page.get_by_role("checkbox").is_disabled() and not page.get_by_role("checkbox").is_checked()
        page.get_by_text("off: no model file translates back").wait_for()
        upload_photo(page, horse_photo)
        page.get_by_role("button", name="Translate").click()
        translated, _ = shown_image(page, "#photo-translated")
        page.locator("#photo-note").get_by_text(f"{horse_photo.name}: 256×256. By CUT · FID 60.2", exact=True
                                                ).wait_for()
        page.screenshot(path=artifacts / "1-cut-alone.png")
        assert translated.shape == cv2.imread(str(horse_photo)).shape
        assert page.locator("#photo-round-trip img").count() == 0


def test_each_direction_lists_its_models_with_their_fid_and_the_chosen_one_translates(
        page, artifacts, demo_exports_with_choices, tmp_path, horse_photo):
    files = sorted(path.name for path in demo_exports_with_choices.iterdir())
    with serving_only(demo_exports_with_choices, tmp_path / "exports", files) as url:
        open_photo_tab(page, url)
        models = page.locator("#photo-model")
        assert radio_labels(models) == ["CUT · FID 60.2", "CycleGAN · FID 97.6"]  # the lowest FID first
        assert page.get_by_role("radio", name="CUT · FID 60.2").is_checked()
        models.get_by_text("FID (lower is better) of 120 horse test images against 140 zebra test images").wait_for()
        page.screenshot(path=artifacts / "1-horse-to-zebra-models.png")
        page.get_by_role("radio", name="zebra → horse").click()
        page.get_by_role("radio", name="CUT · not scored").wait_for()
        assert radio_labels(models) == ["CycleGAN · FID 120.0", "CUT · not scored"]
        assert page.get_by_role("radio", name="CycleGAN · FID 120.0").is_checked()
        page.get_by_role("radio", name="CUT · not scored").click()
        upload_photo(page, horse_photo)
        page.get_by_role("button", name="Translate").click()
        page.locator("#photo-note").get_by_text("By CUT · not scored, back by CUT · FID 60.2").wait_for()
        _, by_cut = shown_image(page, "#photo-translated")
        page.screenshot(path=artifacts / "2-zebra-to-horse-by-cut.png")
        # An example horse switches the direction back and picks its best model.
        page.locator("#photo-examples img").first.click()
        page.locator("#photo-note").get_by_text("By CUT · FID 60.2, back by CycleGAN · FID 120.0").wait_for()
        shown_image(page, "#photo-translated", previous=by_cut)
        page.wait_for_timeout(500)  # the outputs fade back in from their pending look
        assert page.get_by_role("radio", name="horse → zebra").is_checked()
        assert radio_labels(models) == ["CUT · FID 60.2", "CycleGAN · FID 97.6"]
        page.screenshot(path=artifacts / "3-example-by-the-best.png")


def test_a_drawing_made_with_the_mouse_becomes_a_zebra(page, server, artifacts):
    page.goto(server)
    page.get_by_role("tab", name="Sketch → zebra").click()
    page.get_by_role("button", name="Make a zebra").wait_for()
    page.get_by_text("Draw a zebra's outline", exact=True).wait_for()  # short: the pad's buttons cover the rest
    page.get_by_text("or upload a line drawing with the pad's picture button").wait_for()
    page.get_by_role("button", name="Make a zebra").click()  # nothing drawn yet
    page.get_by_test_id("toast-text").get_by_text("draw something first").wait_for()
    draw_on_sketchpad(page, ZEBRA_OUTLINE)
    page.screenshot(path=artifacts / "1-drawn.png")
    page.get_by_role("button", name="Make a zebra").click()
    lines, _ = shown_image(page, "#sketch-lines")
    output, _ = shown_image(page, "#sketch-output")
    page.screenshot(path=artifacts / "2-zebra.png")
    assert lines.shape == output.shape == (256, 256, 3)
    dark = lines[..., 0] < 128
    # The strokes arrive where they were drawn, as one-pixel lines: the legs' columns are dark
    # across their length, a column away from them is not.
    assert dark[165:215, 70:115].any(axis=1).all() and not dark[165:215, 120:140].any()
    assert dark[58:85, 195:228].any(axis=1).all()  # the neck, drawn at 45 degrees, is there along its length
    assert 300 < dark.sum() < 1500
    assert np.abs(output.astype(int) - lines.astype(int)).mean() > 5, "the output is the drawing"
    page.get_by_text("drawing: 256×256").wait_for()


def test_without_the_sketch_model_its_tab_says_how_to_make_it(page, artifacts, demo_exports, tmp_path):
    others = [file.name for file in demo_exports.iterdir() if file.name != "edges2zebra.onnx"]
    with serving_only(demo_exports, tmp_path / "exports", others) as url:
        page.goto(url)
        page.get_by_role("tab", name="Sketch → zebra").click()
        page.get_by_text("edges2zebra.onnx is missing. To make it:").wait_for()
        commands = page.locator(".make-commands").filter(has_text="translate.train pix2pix")
        assert "python -m translate.pairs edges" in commands.inner_text()
        assert page.get_by_role("button", name="Make a zebra").is_disabled()
        page.get_by_text("Sketchpad: off until the model file above exists").wait_for()
        page.screenshot(path=artifacts / "1-missing-sketch-model.png")
