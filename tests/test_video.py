"""Videos through ``apply``: read and written frame by frame with OpenCV (translate.io.video),
checked against clips made here by OpenCV directly from real test horses, and against each
frame translated on its own."""

import re
import shutil
import subprocess

import cv2
import numpy as np
import pytest

from tests.test_apply import apply, run  # noqa: F401  (run: the fixture of a fresh tiny CycleGAN checkpoint)
from translate.apply import OUTPUT_MARKER
from translate.errors import DataError, StorageError
from translate.io import video as video_module
from translate.io.images import read_image
from translate.io.video import VIDEO_CODECS, VideoReader, at_constant_rate, write_video
from translate.onnx_models import onnx_model

FPS = 12.0


def frames_of(path) -> list[np.ndarray]:
    """Every frame of a video as OpenCV decodes it, in RGB."""
    with VideoReader(path) as video:
        return list(video.frames())


def make_clip(path, horse: np.ndarray, count: int = 8, size: tuple[int, int] = (64, 48)) -> list[np.ndarray]:
    """A clip panning across a real photo, written by OpenCV itself (not by the code under test);
    returns its frames as decoded."""
    width, height = size
    codec = "MJPG" if path.suffix == ".avi" else "mp4v"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*codec), FPS, size)
    for i in range(count):
        writer.write(np.ascontiguousarray(horse[10:10 + height, 6 * i:6 * i + width, ::-1]))
    writer.release()
    return frames_of(path)


@pytest.fixture
def horse(data_root) -> np.ndarray:
    return read_image(sorted((data_root / "horse2zebra" / "testA").iterdir())[0])


@pytest.fixture(params=["opencv", "ffmpeg"])
def encoder(request, monkeypatch) -> str:
    """Each way videos are written: OpenCV's (the base install), and FFmpeg's (the video extra)."""
    if request.param == "opencv":
        monkeypatch.setattr(video_module, "imageio_ffmpeg", None)
    else:
        pytest.importorskip("imageio_ffmpeg")  # dev installs the video extra, so CI runs it
    return request.param


def streams(path) -> str:
    """FFmpeg's description of a file's streams (its codecs, and whether it has sound)."""
    import imageio_ffmpeg

    probe = subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-i", str(path)], capture_output=True,
                           text=True, check=False)
    return "\n".join(line for line in probe.stderr.splitlines() if "Stream #" in line)


@pytest.mark.parametrize("extension", VIDEO_CODECS)
def test_a_video_is_written_in_its_container_and_read_back(extension, encoder, horse, tmp_path):
    frames = [np.ascontiguousarray(horse[:48, 6 * i:6 * i + 64]) for i in range(6)]
    path = tmp_path / f"clip{extension}"
    assert write_video(path, iter(frames), FPS) == 6
    with VideoReader(path) as video:
        assert (video.info.fps, video.info.width, video.info.height) == (FPS, 64, 48)
        back = list(video.frames())
    assert len(back) == 6 and all(f.shape == (48, 64, 3) for f in back)
    errors = [np.abs(a.astype(int) - b.astype(int)).mean() for a, b in zip(frames, back, strict=True)]
    assert max(errors) < 12, errors  # lossy codecs: measured 5 to 8 grey levels on real photos
    assert sorted(p.name for p in tmp_path.iterdir()) == [path.name]  # no temporary folder left


def test_odd_frames_lose_their_last_row_and_column_and_grey_frames_become_colour(encoder, horse, tmp_path):
    path = tmp_path / "odd.avi"
    write_video(path, [horse[:47, :65], horse[1:48, 1:66]], FPS)
    assert [f.shape for f in frames_of(path)] == [(46, 64, 3)] * 2
    write_video(path, [horse[:20, :30, :1]] * 3, FPS)
    grey = frames_of(path)
    assert len(grey) == 3 and grey[0].shape == (20, 30, 3)
    assert np.abs(grey[0][..., 0].astype(int) - grey[0][..., 2].astype(int)).max() <= 3  # still grey


def test_a_failed_write_leaves_nothing_and_names_the_problem(encoder, horse, tmp_path):
    def interrupted():
        yield horse[:32, :32]
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        write_video(tmp_path / "a.mp4", interrupted(), FPS)
    with pytest.raises(DataError, match=r"frame 1 of b.mp4 is 40x32, the first was 32x32: a video's frames share"):
        write_video(tmp_path / "b.mp4", [horse[:32, :32], horse[:32, :40]], FPS)
    with pytest.raises(DataError, match=r"no frames to write into c.mp4"):
        write_video(tmp_path / "c.mp4", [], FPS)
    with pytest.raises(DataError, match=r"cannot encode 1x1 frames as a video"):
        write_video(tmp_path / "d.mp4", [horse[:1, :1]], FPS)
    with pytest.raises(DataError, match=r"cannot write a video as '.webm': use one of .mp4, .m4v, .mov, .mkv, .avi$"):
        write_video(tmp_path / "e.webm", [horse[:32, :32]], FPS)
    assert list(tmp_path.iterdir()) == []


def test_a_write_the_disk_cut_short_is_an_error_not_a_broken_video(encoder, horse, tmp_path, monkeypatch):
    """Neither encoder reports a failed write (a full disk): the file is checked before it is named."""
    encode = "_encode_with_opencv" if encoder == "opencv" else "_encode_with_ffmpeg"
    real = getattr(video_module, encode)

    def cut_short(path, *args):
        count = real(path, *args)
        with open(path, "r+b") as file:
            file.truncate(2000)  # what a disk that filled up mid-file leaves
        return count

    monkeypatch.setattr(video_module, encode, cut_short)
    with pytest.raises(StorageError, match=r"could not write .*clip.mp4: the encoder stored 0 of its 8 frames"):
        write_video(tmp_path / "clip.mp4", [horse[:48, 4 * i:4 * i + 64] for i in range(8)], FPS)
    assert list(tmp_path.iterdir()) == []


def test_a_damaged_video_is_one_line_without_opencvs_noise(tmp_path, capfd):
    path = tmp_path / "broken.mp4"
    path.write_bytes(b"\x00\x00\x00\x18ftypmp42 not really a video" * 10)
    with pytest.raises(DataError, match=r"broken.mp4 could not be opened as a video .*ffmpeg -i broken.mp4"):
        VideoReader(path)
    assert capfd.readouterr().err == ""  # FFmpeg's "moov atom not found" and OpenCV's warnings are hushed


def test_apply_translates_a_video_frame_by_frame(translator_file, horse, tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(video_module, "imageio_ffmpeg", None)  # OpenCV's encoder: the one to compare with below
    _, onnx_file = translator_file
    folder = tmp_path / "in"
    (folder / "clips").mkdir(parents=True)
    clip = make_clip(folder / "clips" / "walk.mp4", horse)
    cv2.imwrite(str(folder / "still.png"), horse[:40, :40, ::-1])
    (folder / "clips" / "broken.avi").write_bytes(b"RIFF not a video")
    apply(str(onnx_file), "--input", str(folder), "--output", str(tmp_path / "out"))
    captured = capsys.readouterr()
    written = sorted(str(p.relative_to(tmp_path / "out")) for p in (tmp_path / "out").rglob("*") if p.is_file())
    assert written == [OUTPUT_MARKER, "clips/walk.mp4", "still.png"]
    assert ("translated 1 image(s) and 1 video(s) (8 frames, without sound: pip install imageio-ffmpeg keeps it, "
            "as H.264) horse -> zebra") in captured.out
    assert "skipped 1 file(s)" in captured.out and "broken.avi could not be opened as a video" in captured.err
    assert re.search(r"translating walk.mp4: 8/8 frames \(100%\), \d+ s, done\n", captured.err)
    assert re.search(r"translating: 3/3 files \(100%\), \d+ s, done\n", captured.err)

    with VideoReader(tmp_path / "out" / "clips" / "walk.mp4") as video:
        assert (video.info.fps, video.info.width, video.info.height) == (FPS, 64, 48)
        out = list(video.frames())
    # The reference: each decoded frame translated on its own, encoded by OpenCV directly as mp4v.
    model = onnx_model(onnx_file, None, False, None, 2048 * 2048)
    reference = tmp_path / "reference.mp4"
    writer = cv2.VideoWriter(str(reference), cv2.VideoWriter_fourcc(*"mp4v"), FPS, (64, 48))
    for frame in clip:
        writer.write(np.ascontiguousarray(model.translate(frame)[..., ::-1]))
    writer.release()
    expected = frames_of(reference)
    assert len(out) == len(expected) == 8
    assert all(np.array_equal(a, b) for a, b in zip(out, expected, strict=True))
    change = np.mean([np.abs(a.astype(int) - b.astype(int)).mean() for a, b in zip(out, clip, strict=True)])
    assert change > 20  # the frames were translated, not copied


def test_a_webm_video_is_read_and_comes_out_as_mp4(run, horse, tmp_path, capsys):  # noqa: F811
    folder = tmp_path / "in"
    folder.mkdir()
    writer = cv2.VideoWriter(str(folder / "walk.webm"), cv2.VideoWriter_fourcc(*"VP80"), FPS, (64, 48))
    for i in range(4):
        writer.write(np.ascontiguousarray(horse[:48, 6 * i:6 * i + 64, ::-1]))
    writer.release()
    apply(str(run[0]), "--input", str(folder), "--output", str(tmp_path / "out"))
    assert [f.shape for f in frames_of(tmp_path / "out" / "walk.mp4")] == [(48, 64, 3)] * 4
    make_clip(folder / "walk.mp4", horse, count=2)  # now two inputs would both be walk.mp4
    capsys.readouterr()
    with pytest.raises(SystemExit):
        apply(str(run[0]), "--input", str(folder), "--output", str(tmp_path / "out2"))
    assert capsys.readouterr().err.strip().splitlines()[-1] == (
        f"error: {folder / 'walk.mp4'} and {folder / 'walk.webm'} would both be written as "
        f"{tmp_path / 'out2' / 'walk.mp4'} (a video FFmpeg reads but OpenCV does not write comes out as .mp4): "
        "rename one of them")


def test_max_side_scales_a_videos_frames(run, horse, tmp_path, capsys):  # noqa: F811
    make_clip(tmp_path / "walk.avi", horse, count=3)
    apply(str(run[0]), "--input", str(tmp_path / "walk.avi"), "--output", str(tmp_path / "out"), "--max-side", "32")
    assert [f.shape for f in frames_of(tmp_path / "out" / "walk.avi")] == [(24, 32, 3)] * 3
    assert "translated 1 video(s) (3 frames, " in capsys.readouterr().out


def test_apply_skips_a_video_of_frames_above_the_pixel_limit(run, horse, tmp_path, capsys):  # noqa: F811
    make_clip(tmp_path / "big.avi", horse, count=2)
    with pytest.raises(SystemExit):
        apply(str(run[0]), "--input", str(tmp_path / "big.avi"), "--output", str(tmp_path / "out"),
              "--max-pixels", "1000")
    err = capsys.readouterr().err
    assert "big.avi (its frames): 64x48 (3,072 pixels), above the limit of 1,000 pixels: scale it down first" in err
    assert err.strip().splitlines()[-1] == ("error: none of the 1 input files could be translated (each is named "
                                            "above, with why): nothing was written")
    assert not (tmp_path / "out").exists()  # nothing written: not even the folder and its marker


def test_with_the_video_extra_a_video_is_h264_and_keeps_its_sound(translator_file, horse, tmp_path, capsys):
    imageio_ffmpeg = pytest.importorskip("imageio_ffmpeg")
    _, onnx_file = translator_file
    folder = tmp_path / "in"
    folder.mkdir()
    clip = make_clip(tmp_path / "silent.mp4", horse)
    shutil.copy(tmp_path / "silent.mp4", folder / "silent.mp4")
    subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-i", str(tmp_path / "silent.mp4"), "-f", "lavfi",
                    "-i", "sine=frequency=440", "-shortest", "-c:v", "copy", "-c:a", "aac", str(folder / "sound.mp4")],
                   check=True)
    assert "Audio: aac" in streams(folder / "sound.mp4")
    apply(str(onnx_file), "--input", str(folder), "--output", str(tmp_path / "out"))
    assert "translated 2 video(s) (16 frames, H.264, with their sound if any)" in capsys.readouterr().out
    with_sound, without = streams(tmp_path / "out" / "sound.mp4"), streams(tmp_path / "out" / "silent.mp4")
    assert "Video: h264" in with_sound and "Audio: aac" in with_sound
    assert "Video: h264" in without and "Audio" not in without
    # The reference: each decoded frame translated on its own, encoded by imageio-ffmpeg directly.
    model = onnx_model(onnx_file, None, False, None, 2048 * 2048)
    writer = imageio_ffmpeg.write_frames(str(tmp_path / "reference.mp4"), (64, 48), fps=FPS, codec="libx264",
                                         quality=8, macro_block_size=2, ffmpeg_log_level="error")
    writer.send(None)
    for frame in clip:
        writer.send(np.ascontiguousarray(model.translate(frame)))
    writer.close()
    out, expected = frames_of(tmp_path / "out" / "sound.mp4"), frames_of(tmp_path / "reference.mp4")
    assert len(out) == len(expected) == 8
    assert all(np.array_equal(a, b) for a, b in zip(out, expected, strict=True))


@pytest.mark.parametrize(
    ("times", "fps", "shown"),
    [
        ([round(i * 1000 / 30, 1) for i in range(6)], 30.0, [1] * 6),  # constant rate, OpenCV's rounded times
        ([0, 100, 200, 500, 600], 10.0, [1, 1, 3, 1, 1]),  # slower in the middle: that frame is held
        ([0, 30, 60, 100], 10.0, [0, 1, 0, 0]),  # faster than the rate: one frame per period, the latest due
        ([0], 25.0, [1]),
        ([0, 1000, 59000], 25.0, [25, 1, 1]),  # a 58 s gap is a break in the timestamps: one period, not 58 s
        ([0, 40, 94843751, 94843791], 25.0, [1, 1, 1, 1]),  # a timestamp that wraps
    ],
)
def test_frames_are_placed_at_a_constant_rate_by_their_times(times, fps, shown):
    frames = [np.full((2, 2, 3), i, np.uint8) for i in range(len(times))]
    placed = list(at_constant_rate(zip(times, frames, strict=True), fps))
    assert [count for _, count in placed] == shown
    assert all(frame is original for (frame, _), original in zip(placed, frames, strict=True))


def test_a_variable_rate_anamorphic_clip_keeps_its_timing_and_aspect_under_a_name_with_a_colon(
        translator_file, tmp_path, capsys, monkeypatch):
    """A phone's variable frame rate (here 1 s at 20 fps, then 1 s at 4 fps) written at one
    rate frame by frame would end early and leave the sound behind; a camcorder's 4:3 pixels
    would play squashed; and FFmpeg reads "take:1" as a protocol unless the path is absolute."""
    imageio_ffmpeg = pytest.importorskip("imageio_ffmpeg")
    _, onnx_file = translator_file
    monkeypatch.chdir(tmp_path)
    sources = []
    for rate in (20, 4):
        sources += ["-f", "lavfi", "-i", f"testsrc=size=48x48:rate={rate}:duration=1"]
    subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", *sources, "-filter_complex",
                    "[0][1]concat=n=2:v=1,setsar=4/3[v]", "-map", "[v]", "-fps_mode", "vfr", "-c:v", "libx264",
                    str(tmp_path / "take:1.mp4")], check=True)
    with VideoReader(tmp_path / "take:1.mp4") as video:
        assert video.info.pixel_aspect == (4, 3)
        fps = video.info.fps
        times = [ms for ms, _ in video.timed_frames()]
    assert len(times) == 24 and times[20] == pytest.approx(1000, abs=1)
    apply(str(onnx_file), "--input", "take:1.mp4", "--output", "out:1")
    capsys.readouterr()
    described = streams(tmp_path / "out:1" / "take:1.mp4")
    assert "SAR 4:3" in described
    with VideoReader(tmp_path / "out:1" / "take:1.mp4") as video:
        out_times = [ms for ms, _ in video.timed_frames()]
    # Two seconds of pictures at the file's stated rate, as the source had (and its sound would have).
    assert len(out_times) == round(2 * fps)
    assert out_times[-1] + 1000 / fps == pytest.approx(2000, abs=1000 / fps)
