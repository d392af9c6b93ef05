"""The demo's server against what a hostile or careless client does, on a real server on
localhost: oversized and nameless uploads, the monitoring pages, SIGTERM."""

from __future__ import annotations

import http.client
import json
import re
import signal
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

import cv2
import numpy as np
import pytest

from demo.process import served_demo
from demo.serving import UploadSweeper


def _multipart(files: list[tuple[str, bytes]], fields: dict[str, str] | None = None) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    parts = b"".join(
        f"--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n".encode()
        for name, value in (fields or {}).items()
    ) + b"".join(
        f"--{boundary}\r\nContent-Disposition: form-data; name=\"files\"; filename=\"{name}\"\r\n"
        f"Content-Type: application/octet-stream\r\n\r\n".encode() + data + b"\r\n" for name, data in files
    )
    return parts + f"--{boundary}--\r\n".encode(), f"multipart/form-data; boundary={boundary}"


def _upload(url: str, files: list[tuple[str, bytes]], chunked: bool = False,
            path: str = "/gradio_api/upload", fields: dict[str, str] | None = None) -> tuple[int, str]:
    body, content_type = _multipart(files, fields)
    host, port = url.removeprefix("http://").strip("/").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=60)
    headers = {"Content-Type": content_type}
    if chunked:
        connection.request("POST", path, body=iter([body]), headers=headers, encode_chunked=True)
    else:
        connection.request("POST", path, body=body, headers=headers)
    response = connection.getresponse()
    return response.status, response.read().decode(errors="replace")


def _stored(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file()) if folder.exists() else 0


def test_a_request_may_not_carry_more_than_max_upload_in_many_files(tmp_path, demo_exports):
    with served_demo(demo_exports, tmp_path / "server") as (url, _):
        uploads = tmp_path / "server" / "gradio"
        before = _stored(uploads)  # the example photos, cached at start
        parts = [(f"part{i}.jpg", b"\0" * (10 << 20)) for i in range(4)]  # 40 MB, 10 MB each
        for path in ("/gradio_api/upload", "/gradio_api/component_server"):  # the sketchpad's drawings come there
            status, text = _upload(url, parts, path=path)
            assert status == 413 and "at most" in text
        status, _ = _upload(url, [("small.jpg", b"\0" * 1024)], chunked=True)
        assert status == 411
        assert _stored(uploads) == before  # nothing of either was written
        status, _ = _upload(url, [("small.jpg", b"\xff\xd8" + b"\0" * 1024)])
        assert status == 200 and 0 < _stored(uploads) - before < 10_000


def test_the_sketchpad_takes_a_drawing_the_way_the_page_sends_it(tmp_path, demo_exports):
    """The form the page posts to the pad's accept_blobs after a stroke, through Gradio's real
    route (which hands the function the form, not a gr.Request)."""
    with served_demo(demo_exports, tmp_path / "server") as (url, _):
        with urllib.request.urlopen(url + "config", timeout=30) as response:
            config = json.load(response)
        [pad] = [c["id"] for c in config["components"] if c.get("props", {}).get("elem_id") == "sketchpad"]
        png = cv2.imencode(".png", np.zeros((8, 8, 4), np.uint8))[1].tobytes()
        fields = {"session_hash": "s1", "component_id": str(pad), "fn_name": "accept_blobs", "type": "composite",
                  "id": "drawing-1", "index": "null"}
        status, text = _upload(url, [("blob", png)], path="/gradio_api/component_server", fields=fields)
        assert status == 200, text


def test_a_refused_upload_name_leaves_nothing_once_swept(tmp_path, demo_exports):
    with served_demo(demo_exports, tmp_path / "server") as (url, _):
        uploads = tmp_path / "server" / "gradio"
        status, _ = _upload(url, [("..", b"\0" * (1 << 20))])
        assert status == 400
        orphans = [p for p in uploads.iterdir() if p.is_file()]
        assert orphans and orphans[0].stat().st_size == 1 << 20  # what Gradio leaves behind after refusing it
        assert UploadSweeper(uploads, age=0).sweep() == len(orphans)
        assert not [p for p in uploads.iterdir() if p.is_file()]
        status, _ = _upload(url, [("photo.jpg", b"\xff\xd8" + b"\0" * 1024)])  # kept uploads are not touched
        assert status == 200 and UploadSweeper(uploads, age=0).sweep() == 0


def test_monitoring_pages_are_off(server):
    for path in ("gradio_api/monitoring/summary", "monitoring/summary"):
        with pytest.raises(urllib.error.HTTPError) as info:
            urllib.request.urlopen(server + path, timeout=10)
        assert info.value.code in (403, 404)


@pytest.mark.parametrize("signals", [1, 200], ids=["once", "again-and-again"])
def test_sigterm_removes_the_servers_temporary_files(tmp_path, demo_exports, horse_photo, signals):
    """Also when SIGTERM comes again during the clean-up, as when `make demo`'s process group
    is stopped: the signals after the first are ignored, not a traceback in the clean-up."""
    from gradio_client import Client, handle_file

    with served_demo(demo_exports, tmp_path / "server", own_temp=True) as (url, process):
        log = tmp_path / "server" / "server.log"
        temp = Path(re.search(r"temporary files in (\S+)", log.read_text()).group(1))
        Client(url, verbose=False, download_files=str(tmp_path / "downloads")).predict(
            handle_file(str(horse_photo)), "AtoB", True, api_name="/translate_photo")
        assert _stored(temp) > 0  # the upload, Gradio's cache and the results are there
        for _ in range(signals):
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
                time.sleep(0.002)
        process.wait(timeout=30)
    deadline = time.monotonic() + 10
    while temp.exists() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not temp.exists()
    assert "Traceback" not in log.read_text()
