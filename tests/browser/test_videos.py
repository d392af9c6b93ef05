"""A video that ``apply`` writes with the video extra (H.264) plays in the browser. (OpenCV's own
MPEG-4 Part 2, what the base install writes, did not: Chromium answered MEDIA_ERR_SRC_NOT_SUPPORTED,
which is why the extra exists.)"""

from __future__ import annotations

import base64

import numpy as np
import pytest

from translate.io.video import write_video

REPORT = """<video id="v" muted src="data:video/mp4;base64,{data}"></video><div id="r">pending</div>
<script>
const v = document.getElementById("v"), r = document.getElementById("r");
v.addEventListener("loadeddata", () => { r.textContent = `loaded ${v.videoWidth}x${v.videoHeight}`; });
v.addEventListener("error", () => { r.textContent = `error ${v.error && v.error.code}`; });
</script>"""


def test_an_h264_video_plays_in_chromium(browser, tmp_path):
    pytest.importorskip("imageio_ffmpeg")  # dev installs the video extra, so CI runs this
    frames = [np.full((48, 64, 3), 20 * i, np.uint8) for i in range(12)]
    assert write_video(tmp_path / "clip.mp4", frames, 12.0) == 12
    page = browser.new_page()
    try:
        page.set_content(REPORT.replace("{data}", base64.b64encode((tmp_path / "clip.mp4").read_bytes()).decode()))
        page.wait_for_function("document.getElementById('r').textContent !== 'pending'", timeout=20_000)
        assert page.inner_text("#r") == "loaded 64x48"
    finally:
        page.close()
