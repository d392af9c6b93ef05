"""What every family that translates images does the same way: its domains' folders, the
grid of test images and their translations, the ONNX export plan, scoring on the test sets
and, during training, keeping the best generators. A translation family subclasses
:class:`TranslationFamily` and supplies its flags, its training run and how its generators load.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import torch
from torch import nn

from translate.config import ConfigBase
from translate.datasets.domains import DomainFolders, domain_files, domain_folders, resized_images
from translate.datasets.root import resolve_data_root
from translate.errors import ConfigError
from translate.evaluation.best import best_keeping_evaluator
from translate.evaluation.protocols import EvaluationRequest, Scorer, TranslationScorer
from translate.families.base import Family
from translate.families.translation_settings import (
    RESUMABLE_FLAGS,
    TranslationTrainConfig,
    average_name,
    resume_settings,
)
from translate.io.images import padded_side
from translate.modeling.checkpoint import Checkpoint, build_loaded, model_config, train_config
from translate.modeling.inference import translation_grid, translation_titles
from translate.onnx_contract import ModelInfo
from translate.onnx_export import ExportPlan

GRID_SIDE = 256  # translate.sample's grid cells: the reference datasets' photo size, as FID is scored at
# The export's check inputs before padding to the generator's size: a square, a non-square
# batch of 2, and an odd size (75 x 101) that only the padding makes fit.
CHECK_SHAPES = ((1, 256, 256), (2, 128, 192), (1, 75, 101))
PADDING_NOTE = ("reflect, split evenly between the sides (the edge repeated where a side is no larger than its "
                "padding); crop the output back to the input size")


def check_shapes(multiple: int, minimum: int) -> list[tuple[int, int, int]]:
    """The export's check inputs, (batch, height, width): :data:`CHECK_SHAPES` padded as
    inference pads them, and where that leaves only squares of one size (pix2pix's minimum of
    256 swallows them all) a non-square one a multiple wider, so the file's height and width are
    still checked as free to vary."""
    shapes = [(n, padded_side(h, multiple, minimum), padded_side(w, multiple, minimum)) for n, h, w in CHECK_SHAPES]
    return shapes if any(h != w for _, h, w in shapes) else [*shapes, (1, minimum, minimum + multiple)]


class TranslationConfig(Protocol):
    """What every translation family's model config records."""

    channels: int
    image_size: int  # the training crop; the generators take any size their family allows
    domain_a: str
    domain_b: str


def domain_names(config: TranslationConfig, direction: str) -> tuple[str, str]:
    """(source, target) domain of a generator: ``AtoB`` maps domain A to domain B, ``BtoA`` back."""
    return (config.domain_a, config.domain_b) if direction == "AtoB" else (config.domain_b, config.domain_a)


def weight_average(count: Any) -> str:
    """How a card names a weight average of ``count`` snapshots; "" for none (not begun)."""
    if not isinstance(count, int) or count < 1:
        return ""
    return f"the average of {count} snapshot{'' if count == 1 else 's'} of the weights"


class TranslationFamily(Family):
    """A family of generators that map images of one domain to another, one per direction
    (``AtoB``, and ``BtoA`` if it maps back too)."""

    task = "translate"
    grid_count = 4  # rows of test images
    data_parallel = True
    resumable_flags = RESUMABLE_FLAGS
    recorded_names = {"crop_size": "image_size"}  # the training crop is the model's image size
    config_class: type[ConfigBase]  # the model config, a TranslationConfig
    train_config_class: type[TranslationTrainConfig]  # what config.json's "train" records
    generator_names: dict[str, str]  # each direction's generator, by its checkpoint prefix
    build_generator: Callable[[Any], nn.Module]  # a generator of the model config (a staticmethod)

    def model_config(self, checkpoint: Checkpoint) -> Any:
        """The checkpoint's architecture, as this family's config class."""
        return model_config(checkpoint, self.config_class)

    def resumed_settings(self, checkpoint: Checkpoint, args: argparse.Namespace) -> tuple[Any, Any]:
        """The architecture and training settings ``checkpoint`` recorded, with what the flags may
        change on --resume (:func:`~translate.families.translation_settings.resume_settings`)."""
        settings = train_config(checkpoint, self.train_config_class)
        resume_settings(settings, args)
        return self.model_config(checkpoint), settings

    def shipped_weights(self, checkpoint: Checkpoint, state: dict[str, Any]) -> str:
        """The average of the generators' weights, once ``--average-from-epoch`` has begun it."""
        recipe = state.get("recipe") if isinstance(state.get("recipe"), dict) else {}
        return weight_average(recipe.get("average_count"))

    def load_generator(self, checkpoint: Checkpoint, direction: str | None = None) -> tuple[nn.Module, Any]:
        """The generator a run ships in ``direction`` (the first by default) in eval mode, with
        the model config: its weight average (:func:`average_name`, as the recipes of
        ``--average-from-epoch`` save it) where the run kept one, else the trained generator."""
        direction = self.check_direction(direction, checkpoint)
        config = self.model_config(checkpoint)
        trained = self.generator_prefix(direction)
        average = average_name(trained)
        prefix = average if checkpoint.has_weights(average) else trained
        return build_loaded(lambda: self.build_generator(config), checkpoint, prefix).eval(), config

    def generator_prefix(self, direction: str | None) -> str:
        """The checkpoint prefix of the generator of ``direction`` (the first by default)."""
        return self.generator_names[direction or self.directions[0]]

    def check_direction(self, direction: str | None, checkpoint: Checkpoint) -> str | None:
        """As :meth:`Family.check_direction`; asked for the way back, a one-way model (CUT,
        pix2pix) says which way it translates, by its domains' names."""
        if direction is not None and direction not in self.directions and len(self.directions) == 1:
            source, target = domain_names(self.model_config(checkpoint), self.directions[0])
            raise ConfigError(f"{checkpoint.path} is a one-way {self.name} model: it translates {source} -> {target} "
                              f"(--direction {self.directions[0]}) only, so there is no {direction!r}; for "
                              f"{target} -> {source}, train a second model that way round")
        return super().check_direction(direction, checkpoint)

    def generators(self, checkpoint: Checkpoint, device: torch.device) -> tuple[dict[str, nn.Module], Any]:
        """Every direction's generator (in eval mode, on ``device``) and the model config."""
        loaded = {direction: self.load_generator(checkpoint, direction) for direction in self.directions}
        config = loaded[self.directions[0]][1]
        return {direction: net.to(device) for direction, (net, _) in loaded.items()}, config

    def domain_folders(self, data: str | None, domains: list[str], download: bool = False,
                       training: bool = False) -> DomainFolders:
        """The domains' folders under the data root ``data`` (fetched first with ``download``);
        how they were found is noted when it is not the obvious way. ``training``: the error
        for missing data names training's flags (``--domains``, ``--download``)."""
        folders = domain_folders(resolve_data_root(data), *domains, download=download, training=training)
        if folders.note:
            print(f"note: {folders.note}", file=sys.stderr)
        return folders

    def scorer(self, config: TranslationConfig, request: EvaluationRequest) -> Scorer:
        """The test-set scorer of this family's generators, at the input sizes they take."""
        return TranslationScorer((config.domain_a, config.domain_b), config.channels, request,
                                 *self.input_sizes(config), self.directions)

    def best_keeping_evaluator(self, config: TranslationConfig, shipped: Callable[[], dict[str, nn.Module]],
                               request: EvaluationRequest, best_dir: Path,
                               notes: Callable[[], dict[str, int]] = dict,
                               train_config: dict[str, Any] | None = None) -> Callable[[int], dict[str, float]]:
        """``--eval-every``: a trainer's evaluator that scores the generators a run ships and keeps
        the best, with the run's ``train_config``, as a model folder of this family in ``best_dir``
        (see :mod:`translate.evaluation.best`)."""
        try:
            scorer = self.scorer(config, request)
        except ConfigError as exc:  # no FID network: say how to train without the scores too
            raise ConfigError(f"{exc}; or pass --eval-every 0 to train without FID scores") from None
        prefixes = {direction: self.generator_prefix(direction) for direction in self.directions}
        return best_keeping_evaluator(scorer, shipped, best_dir, self.name, config.to_dict(), prefixes, notes,
                                      train_config)

    def export_plan(self, checkpoint: Checkpoint, direction: str | None = None) -> ExportPlan:
        direction = self.check_direction(direction, checkpoint)
        generator, config = self.load_generator(checkpoint, direction)
        source, target = domain_names(config, direction)
        multiple, minimum = self.input_sizes(config)
        gen = torch.Generator().manual_seed(1234)
        check_inputs = [(torch.rand(n, config.channels, h, w, generator=gen) * 2 - 1,)
                        for n, h, w in check_shapes(multiple, minimum)]
        info = ModelInfo(
            family=self.name, task=self.task, channels=config.channels, pad_multiple=multiple,
            min_size=minimum, image_size=config.image_size, direction=direction, source_domain=source,
            target_domain=target, extra={"padding": PADDING_NOTE},
        )
        return ExportPlan(
            module=generator,
            input_names=["image"],
            output_names=["translated"],
            dynamic_axes={name: {0: "batch", 2: "height", 3: "width"} for name in ("image", "translated")},
            check_inputs=check_inputs,
            info=info,
        )

    def sample(self, checkpoint: Checkpoint, n: int, label: int | None, seed: int, device: torch.device,
               data: str | None = None, truncation: float | None = None) -> tuple[torch.Tensor, int, list[str]]:
        """``n`` rows of test images (:meth:`grid_images`) beside their translations (and round
        trips back, for a model of both directions, or the targets, for paired data), with the
        columns' titles."""
        for flag, value, models in (("--label", label, "conditional digit models"),
                                    ("--truncation", truncation, "models that draw from latent codes")):
            if value is not None:
                raise ConfigError(f"{flag} applies to {models}; {checkpoint.path} is a {self.name} "
                                  "model (its grid shows test images and their translations)")
        config = self.model_config(checkpoint)
        inputs, targets = self.grid_images(config, n, seed, device, data)
        cells, columns = translation_grid(self.generators(checkpoint, device)[0], inputs, targets)
        names = {direction: domain_names(config, direction) for direction in inputs}
        return cells, columns, translation_titles(names, set(targets or ()))

    def grid_images(self, config: Any, n: int, seed: int, device: torch.device,
                    data: str | None) -> tuple[dict[str, torch.Tensor], dict[str, torch.Tensor]]:
        """The grid's ``n`` test images per direction (chosen by ``seed``) at GRID_SIDE px, and
        their targets where the data pairs them: none here, for unpaired domains (each source
        domain's test images; the training images where a domain has no test set)."""
        folders = self.domain_folders(data, [config.domain_a, config.domain_b])
        sources = {"AtoB": (folders.test_a, folders.train_a), "BtoA": (folders.test_b, folders.train_b)}
        rng = np.random.default_rng(seed)
        inputs = {}
        for direction in self.directions:
            test, train = sources[direction]
            files = domain_files(test or train)
            if n > len(files):
                raise ConfigError(f"--n {n} asks for more rows than the {len(files)} images of {test or train}: "
                                  f"pass --n {len(files)} or fewer")
            chosen = [files[i] for i in rng.permutation(len(files))]  # unreadable ones are passed over
            inputs[direction] = resized_images(chosen, n, GRID_SIDE, config.channels, test or train).to(device)
        return inputs, {}

    def evaluate(self, checkpoint: Checkpoint, request: EvaluationRequest) -> dict[str, Any]:
        request.validate()
        if request.truncation is not None:
            raise ConfigError(f"--truncation applies to models that draw codes; a {self.name} model translates "
                              "images and draws none: leave it out")
        generators, config = self.generators(checkpoint, request.device)
        return self.scorer(config, request).score(generators)
