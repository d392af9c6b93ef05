"""Writing paired data made from photos: each photo, resized to a square, beside what a
conversion of :mod:`translate.datasets.drawings` made of it (the conversion on the left as A,
the photo on the right as B), in pix2pix's side-by-side layout ``OUT/{train,test}/NAME.png``,
with ``OUT/pairs.json`` recording how (method, parameters, sources, counts, domain names).

The folder is built under a temporary name and put in place whole, so an interrupted run
leaves no half-made dataset."""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from translate import __version__
from translate.errors import DataError
from translate.io.fileio import replace_folder, write_image, write_json
from translate.io.images import read_image
from translate.progress import QUIET, Progress

RECORD = "pairs.json"  # how translate.pairs made a dataset (read back by translate.datasets.paired)

Conversion = Callable[[np.ndarray], np.ndarray]  # uint8 RGB photo -> uint8 RGB image of its size


def make_pairs(convert: Conversion, splits: dict[str, list[Path]], out: Path, size: int,
               record: dict[str, Any], progress: Progress = QUIET) -> dict[str, int]:
    """Write ``out`` from the photos of each split (``{"train": [...], "test": [...]}``); returns
    the pairs written per split. Photos that do not decode are named on stderr and left out;
    ``record`` (method, parameters, sources) goes into ``pairs.json`` with the counts. Each
    split reports to ``progress`` (edges take a fraction of a second a photo: minutes a folder)."""
    counts: dict[str, int] = {}
    skipped: list[str] = []

    def build(folder: Path) -> None:
        for split, photos in splits.items():
            (folder / split).mkdir()
            counts[split] = 0
            with progress.track(f"{split} pairs", len(photos), unit="photos") as tracker:
                for photo, name in zip(photos, pair_names(photos), strict=True):
                    try:
                        image = read_image(photo)
                    except DataError as exc:
                        tracker.note(f"skipping {exc}")
                        skipped.append(str(photo))
                    else:
                        square = cv2.resize(image, (size, size), interpolation=cv2.INTER_AREA)
                        write_image(folder / split / f"{name}.png", np.concatenate([convert(square), square], 1))
                        counts[split] += 1
                    tracker.update()
            if not counts[split]:
                raise DataError(f"none of the {len(photos)} {split} photos could be decoded: nothing was written")
        write_json(folder / RECORD, {**record, "size": size, "counts": counts, "skipped": skipped,
                                     "layout": "side by side: A (the conversion) left, B (the photo) right",
                                     "toolkit_version": __version__})

    replace_folder(out, build)
    return counts


def pair_names(photos: list[Path]) -> list[str]:
    """A file name for each photo's pair, unique within its split: the photo's path below the
    photos' common folder (``100/IMG_1.jpg`` -> ``100_IMG_1``: two camera folders both have an
    IMG_1), with its extension where two photos differ only by that (``x.jpg``, ``x.png``), and
    numbered where names still meet."""
    if not photos:
        return []
    root = Path(os.path.commonpath([photo.parent for photo in photos]))
    names = [photo.relative_to(root).with_suffix("").as_posix().replace("/", "_") for photo in photos]
    repeated = {name for name, count in Counter(names).items() if count > 1}
    names = [f"{name}_{photo.suffix.lstrip('.')}" if name in repeated else name
             for name, photo in zip(names, photos, strict=True)]
    taken: Counter[str] = Counter()  # a_b/c.jpg and a/b_c.jpg still meet: number the later ones
    unique = []
    for name in names:
        taken[name] += 1
        unique.append(name if taken[name] == 1 else f"{name}_{taken[name]}")
    return unique
