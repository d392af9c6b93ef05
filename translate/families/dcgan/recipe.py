"""The DCGAN / cDCGAN step: a discriminator update on every batch, a generator update
every ``n_critic`` batches, with any adversarial loss and an optional gradient penalty."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
from torch import nn

from translate.families.dcgan.nets import EMA_NAME, DCGANConfig, Discriminator, Generator
from translate.families.dcgan.settings import GANHyper
from translate.modeling.device import autocast
from translate.modeling.losses import adversarial
from translate.training.data import derived_generator
from translate.training.optim import adam, averaged_copy, critic_loss, estimate_batch_norm, optimise, update_average

# Batch-norm statistics of the weight average: estimated on 100 x 256 generated images.
AVERAGE_BN_BATCHES = 100
AVERAGE_BN_BATCH_SIZE = 256


class GANRecipe:
    """Owns G, D and their optimisers; ``step`` trains on one real batch."""

    def __init__(
        self,
        config: DCGANConfig,
        hyper: GANHyper,
        device: torch.device,
        precision: str = "fp32",
        seed: int = 0,
        skip_nonfinite: bool = False,
    ):
        self.config, self.hyper, self.device = config, hyper, device
        self.skip_nonfinite = skip_nonfinite  # see translate.training.optim.optimise
        self.d_loss, self.g_loss = adversarial(hyper.loss)
        self.generator = Generator(config).to(device)
        self.discriminator = Discriminator(config).to(device)
        # What sampling, export and evaluation use: the average when there is one.
        self.generator_ema = averaged_copy(self.generator) if hyper.ema else None
        self.opt_g = adam(self.generator.parameters(), hyper.lr, hyper.beta1, hyper.beta2, device)
        self.opt_d = adam(self.discriminator.parameters(), hyper.lr, hyper.beta1, hyper.beta2, device)
        self.autocast = autocast(precision, device)
        # Its own RNG for noise and penalty mixing, saved in checkpoints for exact resume; on the
        # CPU whatever the device, so that a run resumes on another (a CUDA generator's state is another kind).
        self.rng = derived_generator("noise", seed)  # not the grid's codes, nor the global RNG's draws
        self.fixed_z, self.fixed_labels = self._fixed_inputs(seed)

    def prepare(self, first_batch: Callable[[], tuple[torch.Tensor, ...]]) -> None:
        """Nothing here is sized by the data: every network is built with the recipe."""

    def modules(self) -> dict[str, nn.Module]:
        modules = {"generator": self.generator, "discriminator": self.discriminator}
        if self.generator_ema is not None:
            modules[EMA_NAME] = self.generator_ema
        return modules

    def optimizers(self) -> dict[str, torch.optim.Optimizer]:
        return {"generator": self.opt_g, "discriminator": self.opt_d}

    def _labels(self, labels: torch.Tensor) -> torch.Tensor | None:
        return labels if self.config.n_classes else None

    def step(self, batch: tuple[torch.Tensor, ...], step: int) -> dict[str, float]:
        """One discriminator update, plus a generator update on every n_critic-th step."""
        real, labels = batch
        cond = self._labels(labels)
        z = torch.randn(len(real), self.config.z_dim, generator=self.rng).to(self.device)
        with self.autocast:
            fake = self.generator(z, cond)
        wgan = self.hyper.loss == "wgan-gp"
        d_loss, penalty = critic_loss(
            self.discriminator, real, fake, self.d_loss, self.autocast, wgan, self.rng, **_kw(cond)
        )
        terms = {"d_loss": d_loss} if penalty is None else {"d_loss": d_loss, "gp": penalty}
        total = d_loss if penalty is None else d_loss + self.hyper.gp_weight * penalty
        optimise(self.opt_d, total, terms, self.skip_nonfinite)
        logs = {name: value.item() for name, value in terms.items()}
        if step % self.hyper.n_critic == 0:
            with self.autocast:
                g_loss = self.g_loss(self.discriminator(fake, cond).float())
            optimise(self.opt_g, g_loss, {"g_loss": g_loss}, self.skip_nonfinite)
            if self.generator_ema is not None:
                update_average(self.generator_ema, self.generator, self.hyper.ema)
            logs["g_loss"] = g_loss.item()
        return logs

    def before_checkpoint(self) -> None:
        """The average's batch-norm statistics, estimated for its own weights (see
        translate.training.optim.update_average) before the grid and the checkpoint use it."""
        if self.generator_ema is not None:
            estimate_batch_norm(self.generator_ema, self._noise_inputs, AVERAGE_BN_BATCHES)

    def _noise_inputs(self, rng: torch.Generator) -> tuple[torch.Tensor, torch.Tensor | None]:
        """A batch of generator inputs: noise, and for cDCGAN labels drawn uniformly."""
        z = torch.randn(AVERAGE_BN_BATCH_SIZE, self.config.z_dim, device=self.device, generator=rng)
        if not self.config.n_classes:
            return z, None
        return z, torch.randint(self.config.n_classes, (AVERAGE_BN_BATCH_SIZE,), device=self.device, generator=rng)

    @torch.no_grad()
    def sample_grid(self) -> tuple[torch.Tensor, int]:
        """Images from the fixed inputs by the generator that ships (the average if any),
        in eval mode (batch norm uses running statistics)."""
        generator = self.generator if self.generator_ema is None else self.generator_ema
        was_training = generator.training
        generator.eval()
        try:
            z, labels = self.fixed_z.to(self.device), self._labels(self.fixed_labels.to(self.device))
            return generator(z, labels).float(), 10 if self.config.n_classes else 8
        finally:
            generator.train(was_training)

    def on_epoch_end(self, epoch: int) -> None:
        """Nothing to schedule: DCGAN trains at a constant learning rate."""

    def _fixed_inputs(self, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
        """Grid inputs: 64 codes, or for cDCGAN one row per class with shared codes per column."""
        gen = derived_generator("grid", seed)
        n_classes = self.config.n_classes
        if n_classes:
            columns = 10
            z = torch.randn(columns, self.config.z_dim, generator=gen).repeat(n_classes, 1)
            labels = torch.arange(n_classes).repeat_interleave(columns)
        else:
            z = torch.randn(64, self.config.z_dim, generator=gen)
            labels = torch.zeros(64, dtype=torch.long)
        return z, labels

    def extra_state(self) -> dict[str, Any]:
        return {"rng": self.rng.get_state()}

    def load_extra_state(self, state: dict[str, Any]) -> None:
        self.rng.set_state(state["rng"])


def _kw(cond: torch.Tensor | None) -> dict[str, torch.Tensor]:
    return {"labels": cond} if cond is not None else {}
