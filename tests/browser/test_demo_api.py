"""The demo's API, through gradio_client against the same server the browser tests use."""

from __future__ import annotations

import json
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import cv2
import numpy as np
import pytest
from gradio_client import Client, handle_file
from gradio_client.exceptions import AppError
from PIL import Image

from demo.models import DemoModels
from demo.process import memory_mib
from translate.runtime import Translator

from .conftest import served_log


@pytest.fixture(scope="module")
def client(server, tmp_path_factory):
    # The results it downloads go to the test's folder (by default each is a folder in /tmp, kept).
    return Client(server, verbose=False, download_files=str(tmp_path_factory.mktemp("downloads")))


def _rgb(path: str):
    image = cv2.imread(path, cv2.IMREAD_COLOR)
    assert image is not None, f"{path} is not an image"
    return image


def test_generate_digits_is_seeded(client):
    first = _rgb(client.predict("cdcgan", "7", 9, 4, 5, 0.0, api_name="/generate_digits"))
    again = _rgb(client.predict("cdcgan", "7", 9, 4, 5, 0.0, api_name="/generate_digits"))
    other = _rgb(client.predict("cdcgan", "7", 9, 5, 5, 0.0, api_name="/generate_digits"))
    assert first.shape == again.shape == other.shape and first.std() > 20
    assert (first == again).all() and not (first == other).all()


def test_the_digit_choice_is_taken_as_the_page_labels_it(client):
    by_label = _rgb(client.predict("cdcgan", "all 0–9", 10, 4, 5, 0.0, api_name="/generate_digits"))
    by_value = _rgb(client.predict("cdcgan", "all", 10, 4, 5, 0.0, api_name="/generate_digits"))
    assert (by_label == by_value).all()


def test_translate_photo_keeps_the_size(client, horse_photo, demo_exports):
    shown, translated, back, note = client.predict(handle_file(str(horse_photo)), "AtoB", True,
                                                   api_name="/translate_photo")
    assert _rgb(shown).shape == _rgb(translated).shape == _rgb(back).shape == (256, 256, 3)
    models = DemoModels.load(demo_exports, threads=1)  # the files the server serves: their names and FIDs
    # each way's lowest-FID model: the CUT there, the CycleGAN back, with the shipped files
    there, back = (models.model_label(models.photo_models(way)[0]) for way in ("AtoB", "BtoA"))
    assert note == f"n02381460_1010.jpg: 256×256. By {there}, back by {back}"
    # The model is a fourth, optional input: a key of the direction's models.
    *_, note = client.predict(handle_file(str(horse_photo)), "BtoA", False, "BtoA", api_name="/translate_photo")
    assert note.endswith(f". By {back}")
    *_, note = client.predict(handle_file(str(horse_photo)), "BtoA", False, api_name="/translate_photo")
    assert note.endswith(f". By {back}")  # left out, the model is the way asked for's best, not the page's first
    with pytest.raises(AppError, match="model 'AtoB' does not translate BtoA: choose one of BtoA"):
        client.predict(handle_file(str(horse_photo)), "BtoA", False, "AtoB", api_name="/translate_photo")


def test_translate_sketch_takes_an_uploaded_line_drawing(client, demo_exports, tmp_path):
    drawing = np.full((256, 256, 3), 255, np.uint8)
    cv2.ellipse(drawing, (128, 120), (70, 35), 0, 0, 360, (0, 0, 0), 4)
    cv2.line(drawing, (90, 150), (90, 220), (0, 0, 0), 4)
    cv2.imwrite(str(tmp_path / "drawing.png"), drawing)
    upload = handle_file(str(tmp_path / "drawing.png"))
    lines, output, note = client.predict({"background": upload, "layers": [], "composite": upload},
                                         api_name="/translate_sketch")
    lines, output = _rgb(lines), _rgb(output)
    fid = Translator(demo_exports / "edges2zebra.onnx").info.fid  # None for the tiny model, until one ships
    assert lines.shape == output.shape == (256, 256, 3)
    assert note == f"drawing: 256×256. By pix2pix · {'not scored' if fid is None else f'FID {fid:.1f}'}"
    assert 300 < (lines[..., 0] < 128).sum() < 600  # one-pixel lines: the ellipse's and the leg's length
    assert np.abs(output.astype(int) - lines.astype(int)).mean() > 5


def test_errors_come_back_as_messages_and_leave_no_traceback(client, served, tmp_path):
    logged_before = len(served_log(served))
    fake = tmp_path / "notes.jpg"
    fake.write_bytes(b"\xff\xd8\xff\xe0 truncated")
    with pytest.raises(AppError, match="notes.jpg: not a readable image"):
        client.predict(handle_file(str(fake)), "AtoB", False, api_name="/translate_photo")
    # Values the page's controls never send: Gradio's own checks answer them.
    with pytest.raises(AppError, match="greater than maximum value 100"):
        client.predict("cdcgan", "7", 500, 4, 5, 0.0, api_name="/generate_digits")
    with pytest.raises(AppError, match="less than minimum value 0"):
        client.predict("cdcgan", "7", 9, 4, 5, -1.0, api_name="/generate_digits")
    with pytest.raises(AppError, match="not in the list of choices"):
        client.predict("cdcgan", "eleven", 9, 4, 5, 0.0, api_name="/generate_digits")
    with pytest.raises(AppError, match="not in the list of choices"):
        client.predict(handle_file(str(fake)), "sideways", False, api_name="/translate_photo")
    with pytest.raises(AppError, match="a seed must be a whole number 0 … 2⁵³−1, got -2"):
        client.predict("cdcgan", "7", 9, -2, 5, 0.0, api_name="/generate_digits")
    blank = tmp_path / "blank.png"
    cv2.imwrite(str(blank), np.full((64, 64, 3), 255, np.uint8))
    bomb = tmp_path / "bomb.png"
    Image.new("1", (9000, 9000), 1).save(bomb)  # 81 megapixels in a few kilobytes
    with pytest.raises(AppError, match="exceeds limit"):
        client.predict({"background": handle_file(str(bomb)), "layers": [], "composite": handle_file(str(bomb))},
                       api_name="/translate_sketch")
    with pytest.raises(AppError, match="the drawing is blank"):
        client.predict({"background": handle_file(str(blank)), "layers": [], "composite": handle_file(str(blank))},
                       api_name="/translate_sketch")
    server_log = served_log(served)[logged_before:]  # the server is shared: only what these requests logged
    assert "Traceback" not in server_log, server_log[-2000:]


def call_raw(url: str, api_name: str, data: list) -> str:
    """The error message of an API call made over plain HTTP, as a client that sends what it
    likes (gradio_client would upload a local path before sending it)."""
    request = urllib.request.Request(f"{url}gradio_api/call/{api_name}", json.dumps({"data": data}).encode(),
                                     {"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=60) as response:
        event = json.loads(response.read())["event_id"]
    with urllib.request.urlopen(f"{url}gradio_api/call/{api_name}/{event}", timeout=60) as response:
        stream = response.read().decode()
    assert "event: error" in stream, stream
    return json.loads(stream.split("event: error\ndata: ", 1)[1].splitlines()[0])["error"]


def test_values_of_the_wrong_type_get_a_message_and_leave_no_traceback(client, served):
    logged_before = len(served_log(served))
    with pytest.raises(AppError, match="Seed takes a whole number, not 'abc'"):
        client.predict("cdcgan", "7", 9, "abc", 5, 0.0, api_name="/generate_digits")
    never_uploaded = {"path": "/etc/passwd", "meta": {"_type": "gradio.FileData"}}
    message = call_raw(served[0], "translate_photo", [never_uploaded, "AtoB", False, None])
    assert message == "Cannot move /etc/passwd to the gradio cache dir because it was not uploaded by a user."
    not_a_file = call_raw(served[0], "translate_photo", ["/etc/passwd", "AtoB", False, None])
    assert "validation error for FileData" in not_a_file
    server_log = served_log(served)[logged_before:]
    assert "Traceback" not in server_log, server_log[-2000:]


def test_eight_clients_at_once_are_all_answered_and_memory_stays_flat(served, horse_photo, tmp_path):
    url, process = served

    def session(index: int) -> list[tuple[int, ...]]:
        client = Client(url, verbose=False, download_files=str(tmp_path))
        digits = client.predict("cdcgan", str(index), 10, index, 0, 0.0, api_name="/generate_digits")
        _, translated, _, _ = client.predict(handle_file(str(horse_photo)), "AtoB", False,
                                             api_name="/translate_photo")
        return [_rgb(digits).shape, _rgb(translated).shape]

    rounds = []
    for _ in range(3):
        with ThreadPoolExecutor(8) as pool:
            shapes = list(pool.map(session, range(8)))
        assert all(translated == (256, 256, 3) for _, translated in shapes)
        rounds.append(memory_mib(process.pid))
    # Once warm (the first round grows the allocator's per-thread pools), another round of the
    # same load must not grow the server: nothing is kept per request.
    assert rounds[2] < rounds[1] + 100, f"server memory grew from {rounds[1]:.0f} to {rounds[2]:.0f} MiB"
