"""The ``translate.*`` metadata of an exported ONNX file: the one place that names the keys,
writes them (for ``translate.export``) and reads them back with checks (for
``translate.runtime`` and the demo). Torch-free.

A file states its *task*: ``sample`` (latent codes, and for conditional models labels, in;
images out) or ``translate`` (an image in, an image of the same size out). The runtime
picks its class by task, so a new family needs no runtime change. Files written before
the task key existed get it from their family.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path

from translate.errors import ModelFileError
from translate.io.pixels import NORMALISATION

PREFIX = "translate."
TASKS = ("sample", "translate")
# The keys ModelInfo reads into its fields, or writes from them; the others are its ``extra``.
READ_KEYS = frozenset({"family", "task", "channels", "channel_order", "pad_multiple", "min_size", "precision",
                       "value_range", "normalisation", "layout", "image_size", "fid", "kid", "scored", "z_dim",
                       "class_names", "direction", "source_domain", "target_domain"})
LEGACY_TASKS = {"dcgan": "sample", "cdcgan": "sample", "cyclegan": "translate"}
PRECISIONS = ("fp32", "fp16")
# Bounds on what a file may claim, so a damaged or hostile file cannot make the runtime
# allocate without limit: padding to a multiple of 30000 turned a 16 x 16 input into 2.7 GB.
MAX_PAD_MULTIPLE = 256
MAX_MIN_SIZE = 4096
MAX_Z_DIM = 65_536
MAX_CLASSES = 100_000


@dataclass(frozen=True)
class ModelInfo:
    """What an application needs to feed a file and read its output."""

    family: str
    task: str
    channels: int
    pad_multiple: int = 1
    min_size: int = 1
    precision: str = "fp32"
    z_dim: int = 0  # sample files
    class_names: list[str] = field(default_factory=list)
    image_size: int = 0  # the training image size
    direction: str = ""  # translate files: AtoB or BtoA, and the domain names
    source_domain: str = ""
    target_domain: str = ""
    fid: float | None = None  # the model's scores, where its folder recorded them for these weights
    kid: float | None = None
    scored: str = ""  # what the scores compared, e.g. "120 horse test images against 140 zebra test images"
    extra: dict[str, str] = field(default_factory=dict)  # provenance and notes: source, sha256, version, ...

    def to_metadata(self) -> dict[str, str]:
        """The file's ``translate.*`` keys (ONNX metadata values are strings)."""
        values = {
            "family": self.family,
            "task": self.task,
            "channels": str(self.channels),
            "channel_order": "grey" if self.channels == 1 else "RGB",
            "pad_multiple": str(self.pad_multiple),
            "min_size": str(self.min_size),
            "precision": self.precision,
            "value_range": "[-1, 1]",
            "normalisation": NORMALISATION,
            "layout": "NCHW",
            "image_size": str(self.image_size),
            **self.extra,
        }
        scores = {"fid": self.fid, "kid": self.kid}
        values.update({key: repr(score) for key, score in scores.items() if score is not None})
        if self.scored:
            values["scored"] = self.scored
        if self.task == "sample":
            values.update(z_dim=str(self.z_dim), class_names=json.dumps(self.class_names))
        else:
            values.update(direction=self.direction, source_domain=self.source_domain,
                          target_domain=self.target_domain)
        return {PREFIX + key: value for key, value in values.items()}


def read_model_info(metadata: dict[str, str], path: Path) -> ModelInfo:
    """Parse and bound a file's metadata; anything missing, malformed or out of bounds is a
    ModelFileError naming the file."""
    values = {key[len(PREFIX):]: value for key, value in metadata.items() if key.startswith(PREFIX)}
    if "family" not in values:
        raise ModelFileError(f"{path} has no translate metadata: export it with python -m translate.export")
    family = values["family"]
    try:
        task = values.get("task") or LEGACY_TASKS[family]
        info = ModelInfo(
            family=family,
            task=task,
            channels=int(values["channels"]),
            pad_multiple=int(values.get("pad_multiple", "1")),
            min_size=int(values.get("min_size", "1")),
            precision=values.get("precision", "fp32"),
            z_dim=int(values["z_dim"]) if task == "sample" else 0,
            class_names=json.loads(values.get("class_names", "[]")),
            image_size=int(values.get("image_size", "0")),
            direction=values.get("direction", ""),
            source_domain=values.get("source_domain", ""),
            target_domain=values.get("target_domain", ""),
            fid=float(values["fid"]) if "fid" in values else None,
            kid=float(values["kid"]) if "kid" in values else None,
            scored=values.get("scored", ""),
            extra={key: value for key, value in values.items() if key not in READ_KEYS},
        )
    except (KeyError, ValueError) as exc:
        raise ModelFileError(f"{path} has incomplete translate metadata ({type(exc).__name__}: {exc}): "
                             "re-export it") from exc
    except RecursionError:  # class_names nested thousands deep
        raise ModelFileError(f"{path} has translate metadata nested too deeply to read: re-export it") from None
    _check_bounds(info, path)
    _check_conventions(values, info, path)
    return info


def _check_conventions(values: dict[str, str], info: ModelInfo, path: Path) -> None:
    """The pixel conventions the runtime applies are fixed ([-1, 1], NCHW, RGB or grey): a
    file that states others would be fed wrongly and give wrong images without an error."""
    expected = {"value_range": "[-1, 1]", "layout": "NCHW", "channel_order": "grey" if info.channels == 1 else "RGB"}
    # Exports before 3a9c591 wrote "RGB" for grey models too; the runtime always read them right.
    legacy = {("channel_order", "RGB")} if info.channels == 1 else set()
    wrong = [f"{key} {values[key]!r} (expected {want!r})" for key, want in expected.items()
             if key in values and values[key] != want and (key, values[key]) not in legacy]
    if wrong:
        raise ModelFileError(f"{path} states pixel conventions this runtime does not apply ({'; '.join(wrong)}): "
                             "re-export it with python -m translate.export")


def _check_bounds(info: ModelInfo, path: Path) -> None:
    problems = []
    if info.task not in TASKS:
        problems.append(f"task {info.task!r} is not one of {', '.join(TASKS)}")
    if info.channels not in (1, 3):
        problems.append(f"channels {info.channels} is not 1 or 3")
    if not 1 <= info.pad_multiple <= MAX_PAD_MULTIPLE:
        problems.append(f"pad_multiple {info.pad_multiple} is outside 1..{MAX_PAD_MULTIPLE}")
    if not 1 <= info.min_size <= MAX_MIN_SIZE:
        problems.append(f"min_size {info.min_size} is outside 1..{MAX_MIN_SIZE}")
    elif info.pad_multiple >= 1 and info.min_size % info.pad_multiple:  # padding to it would miss the multiple
        problems.append(f"min_size {info.min_size} is not a multiple of pad_multiple {info.pad_multiple}")
    if info.precision not in PRECISIONS:
        problems.append(f"precision {info.precision!r} is not one of {', '.join(PRECISIONS)}")
    if info.task == "sample" and not 1 <= info.z_dim <= MAX_Z_DIM:
        problems.append(f"z_dim {info.z_dim} is outside 1..{MAX_Z_DIM}")
    if info.fid is not None and not 0 <= info.fid < math.inf:
        problems.append(f"fid {info.fid} is not a finite number of at least 0")
    if info.kid is not None and not math.isfinite(info.kid):  # an unbiased KID may be just below 0
        problems.append(f"kid {info.kid} is not a finite number")
    names = info.class_names
    if not isinstance(names, list) or len(names) > MAX_CLASSES or not all(isinstance(n, str) for n in names):
        problems.append(f"class_names must be a list of at most {MAX_CLASSES} strings")
    if problems:
        raise ModelFileError(f"{path} has unusable translate metadata ({'; '.join(problems)}): re-export it")
