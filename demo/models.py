"""The ONNX files the demo serves: which ones, the runtime sessions opened on them, and the
commands a user runs to make a file that is missing.

One table, :data:`MODEL_FILES`, says everything a tab needs about its files, so a new tab
adds rows here instead of special cases in the page code.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from translate.errors import TranslateError
from translate.runtime import Sampler, Translator

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DOMAINS = ("horse", "zebra")
DEFAULT_SKETCH_DOMAINS = ("edges", "zebra")


@dataclass(frozen=True)
class ModelFile:
    """One file the demo serves, and how a user makes it when it is missing."""

    file: str  # its name in the --exports folder
    kind: Literal["sampler", "translator"]  # translate.runtime's class that opens it
    shipped: str  # the model folder (in the repository) the file is exported from
    direction: str | None = None  # translate.export --direction, for a two-way model
    train: tuple[str, ...] = ()  # commands that train such a model, where one is not shipped
    run: str = ""  # the run folder those commands write


PHOTO_RUN = "runs/horse2zebra"
TRAIN_PHOTOS = (f"python -m translate.train cyclegan --domains horse zebra --preset cpu --download --out {PHOTO_RUN}",)
SKETCH_RUN = "runs/edges2zebra"
TRAIN_SKETCH = (
    "python -m translate.data fetch horse2zebra --data data",
    "python -m translate.pairs edges data/horse2zebra/trainB data/edges2zebra --test data/horse2zebra/testB "
    "--domains edges zebra",
    f"python -m translate.train pix2pix --dataset edges2zebra --data data --out {SKETCH_RUN}",
)
MODEL_FILES = {
    "cdcgan": ModelFile("cdcgan-mnist.onnx", "sampler", "models/cdcgan-mnist"),
    "dcgan": ModelFile("dcgan-mnist.onnx", "sampler", "models/dcgan-mnist"),
    "AtoB": ModelFile("horse2zebra.onnx", "translator", "models/cyclegan-horse2zebra", "AtoB", TRAIN_PHOTOS,
                      PHOTO_RUN),
    "BtoA": ModelFile("zebra2horse.onnx", "translator", "models/cyclegan-horse2zebra", "BtoA", TRAIN_PHOTOS,
                      PHOTO_RUN),
    "sketch": ModelFile("edges2zebra.onnx", "translator", "models/pix2pix-edges2zebra", None, TRAIN_SKETCH,
                        SKETCH_RUN),
}
DIGIT_KEYS = ("cdcgan", "dcgan")
PHOTO_KEYS = ("AtoB", "BtoA")
SKETCH_KEYS = ("sketch",)


def how_to_make(missing: dict[str, str], root: Path = ROOT) -> str:
    """Shell commands that make the ``missing`` files (key -> the file as the page names it):
    an export from the model folder where the repository holds it, and for models that can be
    trained here, training one first. Never a command naming a folder that is not there."""
    lines = []
    for key, shown in missing.items():
        spec = MODEL_FILES[key]
        if (root / spec.shipped).is_dir() or not spec.train:
            lines.append(f"python -m translate.export {spec.shipped}{_direction(spec)} --out {shown}")
    trainable = [key for key in missing if MODEL_FILES[key].train]
    for train in dict.fromkeys(MODEL_FILES[key].train for key in trainable):  # each recipe once, in order
        first = "# or train your own first" if lines else "# train a model first"
        lines += [f"{first} (hours on a CPU):", *train]
        lines += [f"python -m translate.export {MODEL_FILES[key].run}{_direction(MODEL_FILES[key])} --out "
                  f"{missing[key]}" for key in trainable if MODEL_FILES[key].train == train]
    return "\n".join(lines)


def _direction(spec: ModelFile) -> str:
    return f" --direction {spec.direction}" if spec.direction else ""


@dataclass
class DemoModels:
    """The runtime sessions the demo found, and why the others are unavailable."""

    samplers: dict[str, Sampler] = field(default_factory=dict)
    translators: dict[str, Translator] = field(default_factory=dict)
    problems: dict[str, str] = field(default_factory=dict)  # why a model is unavailable, naming its file
    missing: dict[str, str] = field(default_factory=dict)  # the unavailable files, as the page names them

    @classmethod
    def load(cls, exports: Path, threads: int | None = None) -> DemoModels:
        """Open every model file there is; a missing or broken one becomes a message, not a crash.

        Messages show paths relative to the app (never the server's absolute paths)."""
        models = cls()
        for key, spec in MODEL_FILES.items():
            path, shown = exports / spec.file, _shown(exports / spec.file)
            try:
                if spec.kind == "sampler":
                    models.samplers[key] = Sampler(path, threads=threads)
                else:
                    models.translators[key] = Translator(path, threads=threads)
            except TranslateError as exc:
                models.problems[key] = str(exc).replace(str(path), shown) if path.exists() else f"{shown} is missing"
                models.missing[key] = shown
        return models

    def domains(self) -> tuple[str, str]:
        """(A, B) domain names of the photo models, read from the export metadata when there is one."""
        for key in PHOTO_KEYS:
            translator = self.translators.get(key)
            if translator and translator.info.source_domain and translator.info.target_domain:
                source, target = translator.info.source_domain, translator.info.target_domain
                return (source, target) if key == "AtoB" else (target, source)
        return DEFAULT_DOMAINS

    def direction_choices(self) -> list[tuple[str, str]]:
        a, b = self.domains()
        return [(f"{a} → {b}", "AtoB"), (f"{b} → {a}", "BtoA")]

    def sketch_domains(self) -> tuple[str, str]:
        """(drawing, photo) domain names of the sketch model, from its metadata when it is there."""
        translator = self.translators.get("sketch")
        if translator and translator.info.source_domain and translator.info.target_domain:
            return translator.info.source_domain, translator.info.target_domain
        return DEFAULT_SKETCH_DOMAINS

    def sketch_title(self) -> str:
        return f"Sketch → {self.sketch_domains()[1]}"


def _shown(path: Path) -> str:
    """How a page names a server file: relative to the app's folder, else by its name alone."""
    try:
        return str(path.resolve().relative_to(ROOT))
    except ValueError:
        return path.name
