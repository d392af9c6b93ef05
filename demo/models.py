"""The ONNX files the demo serves: which ones, the runtime sessions opened on them, and the
commands a user runs to make a file that is missing.

One table, :data:`MODEL_FILES`, says everything a tab needs about its files, so a new tab
adds rows here instead of special cases in the page code.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from translate.errors import ModelFileError, TranslateError
from translate.runtime import Sampler, Translator

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DOMAINS = ("horse", "zebra")
DEFAULT_SKETCH_DOMAINS = ("edges", "zebra")


@dataclass(frozen=True)
class TrainingRecipe:
    """How a user trains a model the repository does not ship, shared by the files it makes."""

    commands: tuple[str, ...]  # what trains it, in order
    time: str  # how long that takes, as measured on this project's CPUs
    run: str  # the run folder the commands write, which translate.export reads


@dataclass(frozen=True)
class ModelFile:
    """One file the demo serves, and how a user makes it when it is missing."""

    file: str  # its name in the --exports folder
    kind: Literal["sampler", "translator"]  # translate.runtime's class that opens it
    shipped: str  # the model folder (in the repository) the file is exported from
    direction: str | None = None  # translate.export --direction, for a two-way model
    recipe: TrainingRecipe | None = None  # how to train such a model, where one is not shipped
    serves: str = ""  # a photo translator: the photo tab's direction (AtoB, BtoA) it translates
    name: str = ""  # how the page names the model among the others of its direction
    optional: bool = False  # one more model for its direction: when it is absent, nothing is missing


PHOTO_RUN = "runs/horse2zebra"
# The preset's 80,040 steps and 44 scorings on the project's 2-core CPUs (the README has each).
PHOTO_RECIPE = TrainingRecipe(
    (f"python -m translate.train cyclegan --domains horse zebra --preset cpu --download --out {PHOTO_RUN}",),
    "15.5 to 40 hours on a 2-core CPU", PHOTO_RUN)
SKETCH_RUN = "runs/edges2zebra"
# The preset's 18 epochs of 1,334 pairs at 0.147 CPU-hours each and 18 scorings of about 80 s, on
# one core of the 2-core AMD EPYC of family 25 (session 44): about 3.1 hours.
SKETCH_RECIPE = TrainingRecipe(
    ("python -m translate.data fetch horse2zebra fid --data data",  # the preset scores every epoch
     "python -m translate.pairs edges data/horse2zebra/trainB data/edges2zebra --test data/horse2zebra/testB "
     "--domains edges zebra",
     f"python -m translate.train pix2pix --dataset edges2zebra --data data --preset cpu --out {SKETCH_RUN}"),
    "about 3 hours on one core of a 2-core CPU", SKETCH_RUN)
MODEL_FILES = {
    "cdcgan": ModelFile("cdcgan-mnist.onnx", "sampler", "models/cdcgan-mnist"),
    "dcgan": ModelFile("dcgan-mnist.onnx", "sampler", "models/dcgan-mnist"),
    "AtoB": ModelFile("horse2zebra.onnx", "translator", "models/cyclegan-horse2zebra", "AtoB", PHOTO_RECIPE,
                      serves="AtoB", name="CycleGAN"),
    "BtoA": ModelFile("zebra2horse.onnx", "translator", "models/cyclegan-horse2zebra", "BtoA", PHOTO_RECIPE,
                      serves="BtoA", name="CycleGAN"),
    "cut-AtoB": ModelFile("cut-horse2zebra.onnx", "translator", "models/cut-horse2zebra", serves="AtoB", name="CUT",
                          optional=True),
    "cut-BtoA": ModelFile("cut-zebra2horse.onnx", "translator", "models/cut-zebra2horse", serves="BtoA", name="CUT",
                          optional=True),
    "sketch": ModelFile("edges2zebra.onnx", "translator", "models/pix2pix-edges2zebra", None, SKETCH_RECIPE,
                        name="pix2pix"),
}
DIGIT_KEYS = ("cdcgan", "dcgan")
PHOTO_KEYS = ("AtoB", "BtoA")  # the photo tab's directions, and the keys of the models it needs
SKETCH_KEYS = ("sketch",)


EXPORTS_UNSET = "set EXPORTS to the folder given to the demo as --exports"  # each command stops on it, pasted too


def _command_path(path: Path) -> str:
    """A server file as the page's commands write it: relative to the app's folder, where they
    run, else in ``$EXPORTS`` (``--exports`` named a folder elsewhere, whose path the page does
    not show: the file's name alone would be written where the server never reads it)."""
    relative = _in_project(path)
    return shlex.quote(relative) if relative is not None else f'"${{EXPORTS:?{EXPORTS_UNSET}}}/{path.name}"'


def how_to_make(missing: dict[str, str], root: Path = ROOT) -> str:
    """Shell commands that make the ``missing`` files (key -> the file as the commands write it):
    an export from the model folder where the repository holds it, and for models that can be
    trained here, training one first. Never a command naming a folder that is not there."""
    lines = []
    for key, shown in missing.items():
        spec = MODEL_FILES[key]
        if (root / spec.shipped).is_dir() or spec.recipe is None:
            lines.append(f"python -m translate.export {spec.shipped}{_direction(spec)} --out {shown}")
    by_recipe: dict[TrainingRecipe, list[str]] = {}  # each recipe once, in order, with the files it makes
    for key in missing:
        if (recipe := MODEL_FILES[key].recipe) is not None:
            by_recipe.setdefault(recipe, []).append(key)
    for recipe, keys in by_recipe.items():
        first = "# or train your own first" if lines else "# train a model first"
        lines += [f"{first} ({recipe.time}):", *recipe.commands]
        lines += [f"python -m translate.export {recipe.run}{_direction(MODEL_FILES[key])} --out {missing[key]}"
                  for key in keys]
    return "\n".join(lines)


def _check_direction(spec: ModelFile, translator: Translator, path: Path) -> None:
    """A two-way model's file must have been exported in the direction the page serves it in."""
    info = translator.info
    if spec.direction and info.direction and info.direction != spec.direction:
        raise ModelFileError(f"{path} translates {info.source_domain} → {info.target_domain} (exported with "
                             f"--direction {info.direction}), but the page serves it as {spec.direction}: export "
                             f"it again with --direction {spec.direction}")


def _direction(spec: ModelFile) -> str:
    return f" --direction {spec.direction}" if spec.direction else ""


@dataclass
class DemoModels:
    """The runtime sessions the demo found, and why the others are unavailable."""

    samplers: dict[str, Sampler] = field(default_factory=dict)
    translators: dict[str, Translator] = field(default_factory=dict)
    problems: dict[str, str] = field(default_factory=dict)  # why a model is unavailable, naming its file
    missing: dict[str, str] = field(default_factory=dict)  # the unavailable files, as the commands write them

    @classmethod
    def load(cls, exports: Path, threads: int | None = None) -> DemoModels:
        """Open every model file there is; a missing or broken one becomes a message, not a crash.

        Messages show paths relative to the app (never the server's absolute paths)."""
        models = cls()
        for key, spec in MODEL_FILES.items():
            path, shown = exports / spec.file, _shown(exports / spec.file)
            if spec.optional and not path.exists():
                continue
            try:
                if spec.kind == "sampler":
                    models.samplers[key] = Sampler(path, threads=threads)
                else:
                    translator = Translator(path, threads=threads)
                    _check_direction(spec, translator, path)
                    models.translators[key] = translator
            except TranslateError as exc:
                models.problems[key] = str(exc).replace(str(path), shown) if path.exists() else f"{shown} is missing"
                if not spec.optional:
                    models.missing[key] = _command_path(path)
        models._drop_other_domains(exports)
        return models

    def _drop_other_domains(self, exports: Path) -> None:
        """A photo translator of other domains than the page's (its first file's) is refused, so
        a choice labelled horse → zebra never runs a model of something else."""
        a, b = self.domains()
        for key, spec in MODEL_FILES.items():
            info = self.translators[key].info if spec.serves and key in self.translators else None
            if info is None or not info.source_domain:
                continue
            expected = (a, b) if spec.serves == "AtoB" else (b, a)
            if (info.source_domain, info.target_domain) != expected:
                del self.translators[key]
                shown = _shown(exports / spec.file)
                self.problems[key] = (f"{shown} translates {info.source_domain} → {info.target_domain}, but the page "
                                      f"serves it as {expected[0]} → {expected[1]}: export it from a {a} ↔ {b} model")
                if not spec.optional:
                    self.missing[key] = _command_path(exports / spec.file)

    def photo_models(self, direction: str) -> list[str]:
        """The keys of the translators loaded for a photo direction, lowest FID first, unscored last."""
        keys = [key for key, spec in MODEL_FILES.items() if spec.serves == direction and key in self.translators]
        return sorted(keys, key=lambda key: _fid_order(self.translators[key].info.fid))

    def default_model(self, direction: str) -> str | None:
        """The model a photo direction uses unless one is chosen: its lowest FID (None: no model)."""
        return next(iter(self.photo_models(direction)), None)

    def model_label(self, key: str) -> str:
        """A model as the page lists it: its name and FID, e.g. "CycleGAN · FID 97.6"."""
        fid = self.translators[key].info.fid
        return f"{MODEL_FILES[key].name} · {'not scored' if fid is None else f'FID {fid:.1f}'}"

    def model_choices(self, direction: str) -> list[tuple[str, str]]:
        return [(self.model_label(key), key) for key in self.photo_models(direction)]

    def scored_text(self, direction: str) -> str:
        """What the FIDs of a direction's models compared, from their files (lower is better)."""
        keys = self.photo_models(direction)
        if not keys:
            return "no model file for this direction yet"
        scored = dict.fromkeys(self.translators[key].info.scored for key in keys)
        protocols = "; ".join(text for text in scored if text)
        return f"FID (lower is better) of {protocols}" if protocols else "FID: none of these files records one"

    def domains(self) -> tuple[str, str]:
        """(A, B) domain names of the photo models, read from the export metadata when there is one."""
        for key, spec in MODEL_FILES.items():
            translator = self.translators.get(key)
            if spec.serves and translator and translator.info.source_domain and translator.info.target_domain:
                source, target = translator.info.source_domain, translator.info.target_domain
                return (source, target) if spec.serves == "AtoB" else (target, source)
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


def _fid_order(fid: float | None) -> tuple[bool, float]:
    return fid is None, fid or 0.0


def _in_project(path: Path) -> str | None:
    """``path`` relative to the app's folder, or None outside it."""
    try:
        return str(path.resolve().relative_to(ROOT))
    except ValueError:
        return None


def _shown(path: Path) -> str:
    """How a page names a server file: relative to the app's folder, else by its name alone."""
    return _in_project(path) or path.name
