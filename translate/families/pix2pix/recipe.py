"""The pix2pix step (Isola et al., 2017), in the reference's order: the conditional
discriminator learns to tell (input, target) from (input, G(input)), then the generator
learns to fool it while staying within L1 of the target (weighted ``lambda_l1``, 100). The
learning rate is constant for ``epochs`` and decays linearly to zero over ``epochs_decay``
(:class:`~translate.families.translation_recipe.ScheduledRecipe`, as every translation
family's); a uniform average of the generator's weights from a chosen epoch on is, when
kept, what the run ships. With ``l1_only`` there is no discriminator: the generator learns
the L1 term alone.

Naming: ``generator_AtoB`` maps the input side to the output side (``generator_AtoB_average``:
its average); ``discriminator`` scores the two stacked as channels. The reference halves
the discriminator loss; ours is the loss as ``--loss`` defines it (halved for ``lsgan``, as
in the reference CycleGAN, whole for the others), and Adam's updates do not change with a
constant factor on the loss.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import nn

from translate.families.pix2pix.nets import (
    DISCRIMINATOR,
    GENERATOR,
    Pix2PixConfig,
    build_discriminator,
    build_generator,
)
from translate.families.pix2pix.settings import Pix2PixHyper
from translate.families.translation_recipe import DEFAULT_OPTIONS, RecipeOptions, ScheduledRecipe
from translate.modeling.inference import translation_grid
from translate.modeling.losses import adversarial
from translate.training.distributed import Context, wrap
from translate.training.optim import adam, critic_loss, optimise


class Pix2PixRecipe(ScheduledRecipe):
    """Owns the generator, the discriminator (unless ``l1_only``), their optimisers and schedules."""

    def __init__(self, config: Pix2PixConfig, hyper: Pix2PixHyper, context: Context,
                 fixed: tuple[torch.Tensor, torch.Tensor], options: RecipeOptions = DEFAULT_OPTIONS):
        super().__init__(hyper, context, options)
        self.config, self.fixed = config, fixed
        device = self.device
        self.generator = self.place(build_generator(config))
        self.g_step = self.maybe_compile(wrap(self.generator, context))
        self.opt_g = adam(self.generator.parameters(), hyper.lr, hyper.beta1, hyper.beta2, device)
        self.schedule("generator", self.opt_g)
        self.discriminator: nn.Module | None = None
        self.opt_d: torch.optim.Optimizer | None = None
        if not hyper.l1_only:
            self.discriminator = self.place(build_discriminator(config))
            self.d_train = self.maybe_compile(wrap(self.discriminator, context))
            self.judge = self.maybe_compile(self.discriminator)  # the generator's step: frozen, no DDP needed
            self.opt_d = adam(self.discriminator.parameters(), hyper.lr, hyper.beta1, hyper.beta2, device)
            self.schedule("discriminator", self.opt_d)
            self.d_loss, self.g_loss = adversarial(hyper.loss)
        self.keep_average({"AtoB": self.generator})

    def prepare(self, first_batch: Callable[[], tuple[torch.Tensor, ...]]) -> None:
        """Nothing here is sized by the data: both networks are built with the recipe."""

    def modules(self) -> dict[str, nn.Module]:
        """The plain networks (never their DDP or compiled wrappers), and the generator's average
        if the run keeps one: what checkpoints hold."""
        modules = {GENERATOR: self.generator}
        if self.discriminator is not None:
            modules[DISCRIMINATOR] = self.discriminator
        return {**modules, **self.averages({"AtoB": GENERATOR})}

    def optimizers(self) -> dict[str, torch.optim.Optimizer]:
        if self.opt_d is None:
            return {"generator": self.opt_g}
        return {"generator": self.opt_g, "discriminator": self.opt_d}

    def step(self, batch: tuple[torch.Tensor, ...], step: int) -> dict[str, float]:
        """One discriminator update on (input, target) against (input, G(input)), then one
        generator update on the GAN and L1 terms (the L1 term alone with ``l1_only``)."""
        real_a, real_b = (t.contiguous(memory_format=self.memory_format) for t in batch)
        hyper = self.hyper
        # The U-Net's dropout draws from torch's global generator: seed it from (seed, step, rank),
        # as every other draw of a step, so that each process of a torchrun run draws its own
        # masks and a resumed run draws a straight run's.
        torch.manual_seed(int(torch.randint(2**62, (), generator=self.step_generator(step, 1))))
        with self.autocast:
            fake_b = self.g_step(real_a)
        logs: dict[str, torch.Tensor] = {}
        terms = {"l1": F.l1_loss(fake_b.float(), real_b)}
        g_total = hyper.lambda_l1 * terms["l1"]
        if self.discriminator is not None:
            self.discriminator.requires_grad_(True)
            mixing = self.penalty_mixing(step)
            d_value, penalty = critic_loss(self.d_train, torch.cat([real_a, real_b], 1),
                                           torch.cat([real_a, fake_b], 1), self.d_loss, self.autocast,
                                           mixing is not None, mixing, joint=self.config.norm != "batch")
            logs["d_loss"] = d_value
            d_total = d_value
            if penalty is not None:
                logs["gp"] = penalty
                d_total = d_total + hyper.gp_weight * penalty
            optimise(self.opt_d, d_total, dict(logs), self.skip_nonfinite, self.context)
            self.discriminator.requires_grad_(False)
            with self.autocast:
                terms["g_gan"] = self.g_loss(self.judge(torch.cat([real_a, fake_b], 1)).float())
            g_total = g_total + terms["g_gan"]
        optimise(self.opt_g, g_total, {"g_loss": g_total, **terms}, self.skip_nonfinite, self.context)
        self.update_average(step)
        return self.step_logs({"g_loss": g_total, **terms, **logs})

    def sample_grid(self) -> tuple[torch.Tensor, int]:
        """One row per fixed test pair, by the generator that ships: input, G(input), target."""
        inputs, targets = (t.to(self.device).contiguous(memory_format=self.memory_format) for t in self.fixed)
        return translation_grid(self.shipped_generators(), {"AtoB": inputs}, {"AtoB": targets})
