"""What ``python -m translate.pairs`` turns a photo into, so that a folder of photos becomes
paired data: a line drawing (edges → photo, as edges2shoes is) or its greyscale (grey →
colour). Each conversion takes and gives uint8 H x W x 3 RGB and states its parameters, which
the dataset's record keeps.

The line drawing follows the way edges2shoes was made (HED edges, then thinned, with small
fragments removed: the reference repository's ``scripts/edges/PostprocessHED.m``), with
OpenCV's Canny detector on a smoothed image in place of HED: a few passes of a bilateral
filter (which flattens texture such as grass but keeps the contours of things), a Gaussian
blur, OpenCV's colour Canny (at each pixel the gradient of the channel where it is
strongest: a grey nose against a blue sky has no edge in brightness alone) at thresholds set
by the image's own gradients (the strongest ``strong_share`` of them start lines), thinned to
one pixel with its connections kept (Guo and Hall, 1989), pieces shorter than ``min_pixels``
dropped, and drawn black on white. One Canny over the colours keeps each contour one line: a
Canny per channel gives edges a pixel apart that had to be closed into one, and the closing
joined neighbouring stripes of a zebra into a lattice of cells the photo does not have.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import cv2
import numpy as np

from translate.errors import ConfigError

BILATERAL_DIAMETER = 9  # pixels
HOLE_PIXELS = 12  # holes inside a hand-drawn stroke (a loop of a wide brush) filled before thinning
# The neighbours of a pixel, clockwise from the one above it: P2 .. P9 in the thinning papers.
_NEIGHBOURS = ((-1, 0), (-1, 1), (0, 1), (1, 1), (1, 0), (1, -1), (0, -1), (-1, -1))


@dataclass(frozen=True)
class EdgeSettings:
    """The line drawing's parameters (recorded with the dataset)."""

    bilateral_passes: int = 3  # edge-preserving smoothing first: flattens texture (grass) and keeps contours
    bilateral_colour: float = 50.0  # its range sigma, in grey levels: differences above it count as edges
    bilateral_space: float = 7.0  # its spatial sigma, in pixels (a 9-pixel neighbourhood)
    sigma: float = 1.5  # Gaussian smoothing before Canny, in pixels: larger keeps only the main contours
    strong_share: float = 0.06  # Canny's high threshold: the gradient this share of pixels exceeds
    low_ratio: float = 0.4  # Canny's low threshold, as a share of the high one
    min_pixels: int = 30  # pieces of line with fewer pixels than this are dropped
    line_width: int = 1  # pixels

    def validate(self) -> None:
        if not 0 < self.sigma <= 20:
            raise ConfigError(f"--sigma must lie in (0, 20] pixels, got {self.sigma}")
        for flag, value in (("--strong-share", self.strong_share), ("--low-ratio", self.low_ratio)):
            if not 0 < value < 1:
                raise ConfigError(f"{flag} must lie in (0, 1), got {value}")
        if not 0 <= self.min_pixels <= 10_000 or not 1 <= self.line_width <= 9 or not 0 <= self.bilateral_passes <= 10:
            raise ConfigError("--min-pixels must lie in 0..10000, --line-width in 1..9 and --bilateral-passes in 0..10")

    def record(self) -> dict[str, float | int]:
        return asdict(self)


def line_drawing(image: np.ndarray, settings: EdgeSettings) -> np.ndarray:
    """A photo's contours as black lines on white, the photo's size, RGB."""
    flat = image
    for _ in range(settings.bilateral_passes):
        flat = cv2.bilateralFilter(flat, BILATERAL_DIAMETER, settings.bilateral_colour, settings.bilateral_space)
    smooth = cv2.GaussianBlur(flat, (0, 0), settings.sigma)
    channels = [np.ascontiguousarray(smooth[:, :, c]) for c in range(3)]
    gradient = np.max([np.abs(cv2.Sobel(c, cv2.CV_32F, 1, 0)) + np.abs(cv2.Sobel(c, cv2.CV_32F, 0, 1))
                       for c in channels], axis=0)  # Canny's own L1 gradient, the strongest channel's
    high = max(1.0, float(np.quantile(gradient, 1 - settings.strong_share)))
    edges = cv2.Canny(np.ascontiguousarray(smooth), settings.low_ratio * high, high) > 0  # colour Canny
    lines = drop_small_pieces(thin(edges), settings.min_pixels)
    if settings.line_width > 1:
        kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (settings.line_width,) * 2)
        lines = cv2.dilate(lines.astype(np.uint8), kernel) > 0
    return black_on_white(lines)


def black_on_white(lines: np.ndarray) -> np.ndarray:
    """A mask of lines (bool) drawn black on white, RGB."""
    drawing = np.where(lines, 0, 255).astype(np.uint8)
    return np.repeat(drawing[:, :, None], 3, axis=2)


def strokes_as_lines(image: np.ndarray) -> np.ndarray:
    """A drawing made by hand (dark strokes of any width on a light ground, RGB) as the lines
    :func:`line_drawing` makes: one pixel wide, black on white. A model trained on edges pairs
    has only seen such lines; a 5-px brush stroke would be something else to it."""
    dark = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY) < 128
    return black_on_white(thin(fill_small_holes(dark, HOLE_PIXELS)))


def greyscale(image: np.ndarray) -> np.ndarray:
    """The photo in grey (ITU-R BT.601 luma, as OpenCV weighs it), in three equal channels."""
    grey = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)
    return np.repeat(grey[:, :, None], 3, axis=2)


def thin(mask: np.ndarray) -> np.ndarray:
    """``mask`` (bool) thinned to lines one pixel wide that keep its connections: Guo and
    Hall's two sub-iterations (1989, as OpenCV's contrib ``thinning`` runs them), repeated until
    nothing changes. Zhang and Suen's older rule eats a diagonal band from its ends once it is
    two pixels thick: a stroke drawn at 45 degrees vanished whole."""
    mask = np.pad(mask.astype(bool), 1)
    while True:
        changed = False
        for first in (True, False):
            p2, p3, p4, p5, p6, p7, p8, p9 = [np.roll(mask, (-dy, -dx), axis=(0, 1)) for dy, dx in _NEIGHBOURS]
            bridges = ((~p2 & (p3 | p4)).astype(np.uint8) + (~p4 & (p5 | p6)) + (~p6 & (p7 | p8))
                       + (~p8 & (p9 | p2)))  # how many pieces of the neighbourhood this pixel joins
            pairs_a = (p9 | p2).astype(np.uint8) + (p3 | p4) + (p5 | p6) + (p7 | p8)
            pairs_b = (p2 | p3).astype(np.uint8) + (p4 | p5) + (p6 | p7) + (p8 | p9)
            neighbours = np.minimum(pairs_a, pairs_b)
            side = ((p6 | p7 | ~p9) & p8) if first else ((p2 | p3 | ~p5) & p4)
            remove = mask & (bridges == 1) & (neighbours >= 2) & (neighbours <= 3) & ~side
            if remove.any():
                mask = mask & ~remove
                changed = True
        if not changed:
            return mask[1:-1, 1:-1]


def fill_small_holes(mask: np.ndarray, max_pixels: int) -> np.ndarray:
    """``mask`` with its enclosed holes of at most ``max_pixels`` pixels filled (4-connected),
    so that thinning draws one line through a wide stroke, not a chain of loops."""
    _, labels, stats, _ = cv2.connectedComponentsWithStats((~mask).astype(np.uint8), connectivity=4)
    small = stats[:, cv2.CC_STAT_AREA] <= max_pixels
    return mask | small[labels] & ~mask


def drop_small_pieces(mask: np.ndarray, min_pixels: int) -> np.ndarray:
    """``mask`` without its 8-connected pieces of fewer than ``min_pixels`` pixels."""
    _, labels, stats, _ = cv2.connectedComponentsWithStats(mask.astype(np.uint8), connectivity=8)
    keep = stats[:, cv2.CC_STAT_AREA] >= min_pixels
    keep[0] = False  # the background
    return keep[labels]


CONVERSIONS = {"edges": "line drawings of the photos' contours", "gray": "the photos in greyscale"}
