"""Video files in and out, frame by frame, through OpenCV's FFmpeg build (part of the base
install): what lets ``apply`` turn a clip of horses into zebras, as the CycleGAN paper's video
did. Frames stream through one at a time, so a long clip needs no more memory than one frame.

A translated video keeps its frame rate, and its container where it can be written (MP4, M4V,
MOV, MKV, AVI; WebM, MPEG, WMV, FLV, 3GP and OGV are read and come out as MP4). With the
``video`` extra (imageio-ffmpeg, an FFmpeg build) the frames are encoded as H.264, which
browsers play, and the source's sound comes along; without it OpenCV writes MPEG-4 Part 2
(``mp4v``; AVI: Motion JPEG), which desktop players play, and no sound (OpenCV carries pictures
only, and its FFmpeg has no H.264 encoder). Encoders take even sizes, so a frame of odd width
or height loses its last column or row. Frames are placed by their timestamps at the file's
frame rate (a variable-rate phone clip keeps its timing, and its sound stays in sync); with the
extra, non-square pixels keep their aspect ratio. Paths reach FFmpeg absolute, so a name with a
colon is not read as a protocol ("take:1.mp4").
"""

from __future__ import annotations

import contextlib
import math
import os
import re
import subprocess
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from translate.errors import DataError, StorageError
from translate.io.fileio import TEMP_SUFFIX, TEMP_TAG, fsync_dir, opencv_log_level, write_failure
from translate.io.images import convert_channels

try:  # the "video" extra: FFmpeg with H.264, which browsers play, and the sound kept
    import imageio_ffmpeg
except ImportError:
    imageio_ffmpeg = None

# Containers this OpenCV build writes cleanly, with the codec each gets.
VIDEO_CODECS = {".mp4": "mp4v", ".m4v": "mp4v", ".mov": "mp4v", ".mkv": "mp4v", ".avi": "MJPG"}
# Containers FFmpeg reads but this OpenCV build does not write cleanly: their translations are MP4.
READ_ONLY_VIDEO_EXTENSIONS = (".webm", ".mpg", ".mpeg", ".wmv", ".flv", ".3gp", ".ogv")
VIDEO_EXTENSIONS = (*VIDEO_CODECS, *READ_ONLY_VIDEO_EXTENSIONS)
DEFAULT_FPS = 25.0  # for a file that states no usable frame rate
TIMESTAMP_BREAK_MS = 10_000.0  # a longer gap between frames is a break in the timestamps (FFmpeg's own bound)


def is_video(path: Path) -> bool:
    """Whether ``path`` is named as a video this module reads (by extension)."""
    return path.suffix.lower() in VIDEO_EXTENSIONS


def translated_name(path: Path) -> Path:
    """The name a video's translation is written under: its own, or for a container this
    module cannot write, the same stem as .mp4."""
    return path if path.suffix.lower() in VIDEO_CODECS else path.with_suffix(".mp4")


@contextlib.contextmanager
def _quiet_opencv() -> Iterator[None]:
    """OpenCV and FFmpeg log to stderr about files they cannot open ("moov atom not found"),
    above the one-line error this toolkit gives; hush them while a video is opened."""
    os.environ.setdefault("OPENCV_FFMPEG_LOGLEVEL", "-8")  # AV_LOG_QUIET, read when FFmpeg starts
    with opencv_log_level(cv2.utils.logging.LOG_LEVEL_ERROR):
        yield


@dataclass(frozen=True)
class VideoInfo:
    """What a video file states about itself: its frame rate, its frame count (0: not stated;
    containers may state it only roughly) and its frame size."""

    fps: float
    frames: int
    width: int
    height: int
    pixel_aspect: tuple[int, int] = (1, 1)  # width:height of one pixel (1:1 but for anamorphic sources)


class VideoReader:
    """An opened video: ``info``, then ``frames(channels)`` yields each as an RGB (H x W x 3)
    or grey (H x W x 1) uint8 array. Use it as a context manager, which closes the file."""

    def __init__(self, path: Path):
        self.path = path
        with _quiet_opencv():
            self._capture = cv2.VideoCapture(str(path.absolute()), cv2.CAP_FFMPEG)
        if not self._capture.isOpened():
            raise DataError(f"{path} could not be opened as a video (damaged, or a codec OpenCV's FFmpeg does not "
                            f"decode): convert it, e.g. ffmpeg -i {path.name} converted.mp4")
        fps = self._capture.get(cv2.CAP_PROP_FPS)
        self.info = VideoInfo(
            fps=fps if math.isfinite(fps) and 0 < fps <= 1000 else DEFAULT_FPS,
            frames=max(int(self._capture.get(cv2.CAP_PROP_FRAME_COUNT)), 0),
            width=int(self._capture.get(cv2.CAP_PROP_FRAME_WIDTH)),
            height=int(self._capture.get(cv2.CAP_PROP_FRAME_HEIGHT)),
            pixel_aspect=_pixel_aspect(self._capture),
        )

    def frames(self, channels: int = 3) -> Iterator[np.ndarray]:
        for _, frame in self.timed_frames(channels):
            yield frame

    def timed_frames(self, channels: int = 3) -> Iterator[tuple[float, np.ndarray]]:
        """Each frame with its time in milliseconds from the first (OpenCV's reading of its
        timestamp; one frame period after the last where a file states none or goes back)."""
        last = None
        while True:
            ok, bgr = self._capture.read()
            if not ok:
                return
            ms = self._capture.get(cv2.CAP_PROP_POS_MSEC)
            if last is not None and not (math.isfinite(ms) and ms > last):
                ms = last + 1000.0 / self.info.fps
            last = ms
            yield ms, convert_channels(bgr, channels, bgr=True)

    def close(self) -> None:
        self._capture.release()

    def __enter__(self) -> VideoReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _pixel_aspect(capture: cv2.VideoCapture) -> tuple[int, int]:
    """The sample aspect ratio the file states, 1:1 where it states none or nonsense."""
    num, den = (int(capture.get(prop)) for prop in (cv2.CAP_PROP_SAR_NUM, cv2.CAP_PROP_SAR_DEN))
    return (num, den) if num > 0 and den > 0 else (1, 1)


def at_constant_rate(timed: Iterable[tuple[float, np.ndarray]], fps: float) -> Iterator[tuple[np.ndarray, int]]:
    """Each frame with how many times it is shown at ``fps`` (0: dropped), as FFmpeg's constant
    frame rate mode places them: output frame k shows the latest frame due by k + 1/2 periods.
    A clip of constant rate shows every frame once; a variable-rate one (phones slow the rate
    in the dark) repeats frames where it was slower and drops some where it was faster, so its
    pictures keep their times, and the sound, which is copied as it was, stays in sync.

    A gap of more than TIMESTAMP_BREAK_MS between two frames (joined segments, a timestamp
    that wraps) is a break in the timestamps, not a frame held for minutes: the frame before
    it is shown for one period, and the times after it follow on."""
    period = 1000.0 / fps
    shift = None  # subtracted from each time: the first frame's, plus the breaks' gaps
    pending: tuple[float, np.ndarray] | None = None
    slot = 0  # the next output frame
    last_interval = period  # the last frame lasts as long as the one before it (a period if alone)

    def slots_before(ms: float) -> int:  # output frames k with k * period + period / 2 < ms
        return max(math.ceil(ms / period - 0.5), 0)

    for ms, frame in timed:
        shift = ms if shift is None else shift
        if pending is not None:
            interval = ms - shift - pending[0]
            if interval > TIMESTAMP_BREAK_MS:
                shift += interval - period
                interval = period
            end = slots_before(ms - shift)
            yield pending[1], max(end - slot, 0)
            slot, last_interval = max(end, slot), interval
        pending = (ms - shift, frame)
    if pending is not None:
        yield pending[1], max(slots_before(pending[0] + last_interval) - slot, 1 if slot == 0 else 0)


def carries_sound() -> bool:
    """Whether videos are written by FFmpeg (the ``video`` extra: H.264 with the sound kept)
    rather than by OpenCV (MPEG-4 Part 2 or Motion JPEG, no sound)."""
    return imageio_ffmpeg is not None


def write_video(path: Path, frames: Iterable[np.ndarray], fps: float, sound_from: Path | None = None,
                pixel_aspect: tuple[int, int] = (1, 1)) -> int:
    """Encode RGB (H x W x 3) or grey (H x W x 1) uint8 frames of one size, as they come, into
    ``path`` (its extension picks the container), and return how many were written. With the
    ``video`` extra the frames become H.264 and the sound of ``sound_from``, if it has any,
    comes along (as AAC), and ``pixel_aspect`` is stated in the file; without it, OpenCV writes
    them without sound, in square pixels.

    The file appears only when the last frame is in: it is encoded under a temporary folder
    beside ``path`` (FFmpeg picks the container by the file's extension, so a temporary file
    name will not do) and renamed into place; an error or a Ctrl-C on the way leaves nothing.
    """
    codec = VIDEO_CODECS.get(path.suffix.lower())
    if codec is None:
        raise DataError(f"cannot write a video as {path.suffix!r}: use one of {', '.join(VIDEO_CODECS)}")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(prefix=f".{path.name}.{TEMP_TAG}", suffix=TEMP_SUFFIX,
                                         dir=path.parent) as folder:
            encoded = Path(folder) / path.name
            pictures = _pictures(frames, path.name)
            if carries_sound():
                count = _encode_with_ffmpeg(encoded, pictures, fps, sound_from, pixel_aspect)
            else:
                count = _encode_with_opencv(encoded, pictures, fps, codec)
            if count == 0:
                raise DataError(f"no frames to write into {path.name}")
            _check_encoded(encoded, path, count)
            with open(encoded, "rb+") as f:
                os.fsync(f.fileno())
            os.replace(encoded, path)
        fsync_dir(path.parent)
    except OSError as exc:
        raise write_failure(path, exc) from exc
    return count


def _check_encoded(encoded: Path, path: Path, count: int) -> None:
    """StorageError unless ``encoded`` opens as a video of ``count`` frames: neither encoder
    fails on a failed write (a full disk; FFmpeg only logs it), and a file cut short has no index
    to play it by. A Matroska file whose header was written last can still state all its frames."""
    with _quiet_opencv():
        capture = cv2.VideoCapture(str(encoded.absolute()), cv2.CAP_FFMPEG)
    try:
        found = max(int(capture.get(cv2.CAP_PROP_FRAME_COUNT)), 0) if capture.isOpened() else 0  # MKV cut short: < 0
    finally:
        capture.release()
    if found < count:
        raise StorageError(f"could not write {path}: the encoder stored {found} of its {count} frames (a full "
                           "disk, or a size limit): free some space there or choose a folder on another disk")


def _pictures(frames: Iterable[np.ndarray], name: str) -> Iterator[np.ndarray]:
    """The frames as both encoders take them: RGB, all of the first one's size, cropped to even
    sides (encoders take even sizes)."""
    first = None
    for index, frame in enumerate(frames):
        if first is None:
            first = frame.shape[:2]
            height, width = first[0] - first[0] % 2, first[1] - first[1] % 2
            if min(height, width) < 2:
                raise DataError(f"cannot encode {first[1]}x{first[0]} frames as a video: frames need 2x2 pixels or "
                                "more")
        if frame.shape[:2] != first:
            raise DataError(f"frame {index} of {name} is {frame.shape[1]}x{frame.shape[0]}, the first was "
                            f"{first[1]}x{first[0]}: a video's frames share one size")
        picture = frame[:height, :width]
        if picture.ndim == 2 or picture.shape[2] == 1:
            picture = np.repeat(picture.reshape(height, width, 1), 3, axis=2)
        yield np.ascontiguousarray(picture)


def _encode_with_opencv(path: Path, pictures: Iterator[np.ndarray], fps: float, codec: str) -> int:
    writer, count = None, 0
    try:
        for picture in pictures:
            if writer is None:
                with _quiet_opencv():
                    writer = cv2.VideoWriter(str(path.absolute()), cv2.VideoWriter_fourcc(*codec), fps,
                                             (picture.shape[1], picture.shape[0]))
                if not writer.isOpened():
                    raise DataError(f"OpenCV could not start a {codec} encoder for {path.name}: write .mp4 or .avi")
            writer.write(cv2.cvtColor(picture, cv2.COLOR_RGB2BGR))
            count += 1
    finally:
        if writer is not None:
            writer.release()
    return count


def _encode_with_ffmpeg(path: Path, pictures: Iterator[np.ndarray], fps: float, sound_from: Path | None,
                        pixel_aspect: tuple[int, int]) -> int:
    sound = sound_from if sound_from is not None and _has_sound(sound_from) else None
    aspect = [] if pixel_aspect == (1, 1) else ["-vf", f"setsar={pixel_aspect[0]}/{pixel_aspect[1]}"]
    writer, count = None, 0
    try:
        for picture in pictures:
            if writer is None:
                writer = imageio_ffmpeg.write_frames(
                    str(path.absolute()), (picture.shape[1], picture.shape[0]), fps=fps, codec="libx264",
                    quality=8, macro_block_size=2, ffmpeg_log_level="error", output_params=aspect,
                    audio_path=None if sound is None else str(sound.absolute()),
                    audio_codec=None if sound is None else "aac")
                writer.send(None)  # the generator starts FFmpeg
            writer.send(picture)
            count += 1
    finally:
        if writer is not None:
            writer.close()
    return count


def _has_sound(path: Path) -> bool:
    """Whether FFmpeg finds an audio stream in ``path``."""
    probe = subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-i", str(path.absolute())],
                           capture_output=True, text=True, timeout=60, check=False)
    return re.search(r"Stream #\S+.*: Audio:", probe.stderr) is not None
