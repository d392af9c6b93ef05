"""The toy's training run and its step. The step needs a projection head sized by the
generator's features of the first batch, built in ``prepare`` with an optimiser of its own,
as CUT's patch projections are: exact resume must restore both."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import torch
import torch.nn.functional as F
from torch import nn

from translate.datasets.domains import domain_files, fixed_images
from translate.datasets.root import resolve_data_root
from translate.evaluation.protocols import EvaluationRequest
from translate.families.base import RunOptions
from translate.modeling.checkpoint import Checkpoint
from translate.modeling.inference import translation_grid
from translate.training.domains import UnpairedImages, UnpairedSource
from translate.training.optim import adam, optimise
from translate.training.trainer import Trainer

from .nets import GENERATOR, ToyConfig, ToyGenerator

if TYPE_CHECKING:
    from .family import ToyFamily, ToyTrainConfig

HEAD = "head"  # checkpoint prefix of the projection head


class ToyRecipe:
    """The generator from the start; the head from the first batch."""

    skip_nonfinite = False

    def __init__(self, config: ToyConfig, settings: ToyTrainConfig, fixed: torch.Tensor):
        self.settings, self.fixed = settings, fixed
        self.generator = ToyGenerator(config)
        self.optimisers = {"generator": adam(self.generator.parameters(), settings.lr, settings.beta1,
                                             settings.beta2, torch.device("cpu"))}
        self.head: nn.Module | None = None

    def prepare(self, first_batch: Callable[[], tuple[torch.Tensor, ...]]) -> None:
        real_a, _ = first_batch()
        width = self.generator.down(real_a).shape[1]  # what the head projects: the data decides
        self.head = nn.Linear(width, 3)
        self.optimisers[HEAD] = adam(self.head.parameters(), self.settings.lr, self.settings.beta1,
                                     self.settings.beta2, torch.device("cpu"))

    def modules(self) -> dict[str, nn.Module]:
        return {GENERATOR: self.generator, HEAD: self.head}

    def optimizers(self) -> dict[str, torch.optim.Optimizer]:
        return self.optimisers

    def step(self, batch: tuple[torch.Tensor, ...], step: int) -> dict[str, float]:
        real_a, real_b = batch
        projected = self.head(self.generator.down(real_a).mean((2, 3)))
        loss = F.l1_loss(self.generator(real_a), real_b) + projected.pow(2).mean()
        for optimiser in self.optimisers.values():
            optimiser.zero_grad(set_to_none=True)
        optimise(self.optimisers["generator"], loss, {"loss": loss})
        self.optimisers[HEAD].step()
        return {"loss": loss.item()}

    def sample_grid(self) -> tuple[torch.Tensor, int]:
        return translation_grid({"AtoB": self.generator}, {"AtoB": self.fixed})

    def on_epoch_end(self, epoch: int) -> None:
        """A constant learning rate."""

    def before_checkpoint(self) -> None:
        """No derived weights."""

    def extra_state(self) -> dict[str, Any]:
        return {}

    def load_extra_state(self, state: dict[str, Any]) -> None:
        """Nothing beyond the modules and optimisers."""


def train_run(family: ToyFamily, model: ToyConfig, settings: ToyTrainConfig, run: RunOptions,
              checkpoint: Checkpoint | None = None) -> Trainer:
    folders = family.domain_folders(run.data, settings.domains, run.download, training=True)
    dataset = UnpairedImages(domain_files(folders.train_a), domain_files(folders.train_b), settings.load_size,
                             model.image_size, settings.seed)
    torch.manual_seed(settings.seed)
    recipe = ToyRecipe(model, settings, fixed_images(folders.test_a or folders.train_a, 2, model.image_size))
    spec = run.run_spec(family.name, model.to_dict(), settings.to_dict(), settings.epochs, settings.eval_every)
    evaluator = None
    if settings.eval_every:
        request = EvaluationRequest(resolve_data_root(run.data), fid_weights=run.fid_weights)
        evaluator = family.best_keeping_evaluator(model, lambda: {"AtoB": recipe.generator}, request,
                                                  run.out / "best")
    trainer = Trainer(spec, recipe, UnpairedSource(dataset, settings.batch_size, settings.seed, run.workers),
                      evaluator=evaluator)
    if checkpoint is not None:
        trainer.resume(checkpoint)
    trainer.fit()
    return trainer
