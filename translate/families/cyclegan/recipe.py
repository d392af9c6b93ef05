"""The CycleGAN step (Zhu et al., 2017): both generators against their discriminators,
with cycle-consistency and identity terms, discriminators fed from image pools, and a
learning rate that is constant for ``epochs`` and decays linearly to zero over
``epochs_decay``, and optionally a uniform average of the generators' weights from a
chosen epoch on (``average_from_epoch``), which is then what the run ships.

Naming: ``generator_AtoB`` (G) maps A to B, ``generator_BtoA`` (F) maps B to A, and
``discriminator_X`` tells real from generated images of domain X; checkpoints hold the
generators' averages as ``generator_AtoB_average`` and ``generator_BtoA_average``.

Each optimiser step runs one forward of one module (both generators together, or both
discriminators together), which is what DistributedDataParallel and torch.compile
handle best. With per-sample normalisation (instance norm, the default) a generator
maps its two inputs of a step as one batch, which is the same computation with fewer,
larger kernels (as fast or faster on the CPU too, except in fp32 at 256 px: see
bench/joint_batch.py).
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any

import torch
from torch import nn

from translate.families.cyclegan.nets import (
    DISCRIMINATOR_NAMES,
    GENERATOR_NAMES,
    CycleGANConfig,
    build_discriminator,
    build_generator,
)
from translate.families.cyclegan.settings import CycleGANHyper
from translate.families.translation_recipe import DEFAULT_OPTIONS, RecipeOptions, ScheduledRecipe
from translate.modeling.inference import translation_grid
from translate.modeling.losses import Loss, adversarial, cycle_loss, identity_loss
from translate.training.distributed import Context, gather, wrap
from translate.training.optim import (
    adam,
    critic_loss,
    optimise,
    parameters_of,
    set_requires_grad,
)
from translate.training.pool import ImagePool


class CycleGenerators(nn.Module):
    """Both generators as one module: real A and B in, every image the G loss needs out."""

    def __init__(self, a_to_b: nn.Module, b_to_a: nn.Module, identity: bool, joint: bool):
        super().__init__()
        self.a_to_b, self.b_to_a, self.identity, self.joint = a_to_b, b_to_a, identity, joint

    def forward(self, real_a: torch.Tensor, real_b: torch.Tensor) -> dict[str, torch.Tensor]:
        fake_b, fake_a = self.a_to_b(real_a), self.b_to_a(real_b)
        out = {"fake_A": fake_a, "fake_B": fake_b}
        # rec_A = F(G(a)); idt_A = F(a), which should leave an A image unchanged.
        out["rec_A"], out["idt_A"] = self._twice(self.b_to_a, fake_b, real_a)
        out["rec_B"], out["idt_B"] = self._twice(self.a_to_b, fake_a, real_b)
        return {k: v for k, v in out.items() if v is not None}

    def _twice(self, net: nn.Module, x: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
        if not self.identity:
            return net(x), None
        if self.joint:
            first, second = net(torch.cat([x, y])).chunk(2)
            return first, second
        return net(x), net(y)


class CycleDiscriminators(nn.Module):
    """Both discriminators as one module: their summed loss on real and (pooled) fake images."""

    def __init__(
        self,
        d_a: nn.Module,
        d_b: nn.Module,
        loss: Loss,
        hyper: CycleGANHyper,
        autocast: AbstractContextManager,
        joint: bool,
    ):
        super().__init__()
        self.d_a, self.d_b, self.loss, self.autocast, self.joint = d_a, d_b, loss, autocast, joint
        self.penalty, self.gp_weight = hyper.loss == "wgan-gp", hyper.gp_weight

    def forward(
        self,
        real_a: torch.Tensor,
        fake_a: torch.Tensor,
        real_b: torch.Tensor,
        fake_b: torch.Tensor,
        generator: torch.Generator | None = None,
    ) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        total, logs = real_a.new_zeros((), dtype=torch.float32), {}
        for name, critic, real, fake in (("A", self.d_a, real_a, fake_a), ("B", self.d_b, real_b, fake_b)):
            value, penalty = critic_loss(critic, real, fake, self.loss, self.autocast, self.penalty, generator,
                                         self.joint)
            logs[f"d_{name}"] = value
            total = total + value
            if penalty is not None:
                logs[f"gp_{name}"] = penalty
                total = total + self.gp_weight * penalty
        return total, logs


class CycleGANRecipe(ScheduledRecipe):
    """Owns the four networks, two optimisers with their schedules, and the two pools."""

    def __init__(
        self,
        config: CycleGANConfig,
        hyper: CycleGANHyper,
        context: Context,
        fixed: tuple[torch.Tensor, torch.Tensor],
        options: RecipeOptions = DEFAULT_OPTIONS,
    ):
        super().__init__(hyper, context, options)
        self.config = config
        device = self.device
        generators = {d: self.place(build_generator(config)) for d in GENERATOR_NAMES}
        self.discriminators = {d: self.place(build_discriminator(config)) for d in DISCRIMINATOR_NAMES}
        self.d_loss, self.g_loss = adversarial(hyper.loss)
        # Two inputs as one batch instead of two calls: the same results with instance, layer or no
        # norm; with spectral norm both halves share one power iteration (two calls would run two,
        # scoring each half with a slightly different weight); never with batch norm, whose
        # statistics would mix the halves.
        joint = config.norm != "batch"
        gens = CycleGenerators(generators["AtoB"], generators["BtoA"], hyper.lambda_identity > 0, joint)
        discs = CycleDiscriminators(self.discriminators["A"], self.discriminators["B"], self.d_loss, hyper,
                                    self.autocast, joint)
        maybe_compile = self.maybe_compile
        self.g_step, self.d_step = maybe_compile(wrap(gens, context)), maybe_compile(wrap(discs, context))
        self.judges = {d: maybe_compile(net) for d, net in self.discriminators.items()}
        self.opt_g = adam(parameters_of(generators.values()), hyper.lr, hyper.beta1, hyper.beta2, device)
        self.opt_d = adam(parameters_of(self.discriminators.values()), hyper.lr, hyper.beta1, hyper.beta2, device)
        self.schedule("generators", self.opt_g)
        self.schedule("discriminators", self.opt_d)
        self.pools = {d: ImagePool(hyper.pool_size) for d in "AB"}
        self.fixed = fixed
        self.keep_average(generators)

    def prepare(self, first_batch: Callable[[], tuple[torch.Tensor, ...]]) -> None:
        """Nothing here is sized by the data: every network is built with the recipe."""

    def modules(self) -> dict[str, nn.Module]:
        """The plain networks (never their DDP or compiled wrappers), and the generators'
        averages if the run keeps them: what checkpoints hold."""
        return {
            **{GENERATOR_NAMES[d]: net for d, net in self.generators.items()},
            **{DISCRIMINATOR_NAMES[d]: net for d, net in self.discriminators.items()},
            **self.averages(GENERATOR_NAMES),
        }

    def optimizers(self) -> dict[str, torch.optim.Optimizer]:
        return {"generators": self.opt_g, "discriminators": self.opt_d}

    def step(self, batch: tuple[torch.Tensor, ...], step: int) -> dict[str, float]:
        """One generator update (discriminators frozen), then one discriminator update on pooled fakes."""
        real_a, real_b = (t.contiguous(memory_format=self.memory_format) for t in batch)
        hyper = self.hyper
        set_requires_grad(self.discriminators.values(), False)
        with self.autocast:
            out = self.g_step(real_a, real_b)
            terms = {
                "g_A": self.g_loss(self.judges["A"](out["fake_A"]).float()),
                "g_B": self.g_loss(self.judges["B"](out["fake_B"]).float()),
            }
        terms["cycle_A"] = cycle_loss(out["rec_A"].float(), real_a)
        terms["cycle_B"] = cycle_loss(out["rec_B"].float(), real_b)
        g_total = terms["g_A"] + terms["g_B"] + hyper.lambda_cycle * (terms["cycle_A"] + terms["cycle_B"])
        if "idt_A" in out:
            terms["idt_A"] = identity_loss(out["idt_A"].float(), real_a)
            terms["idt_B"] = identity_loss(out["idt_B"].float(), real_b)
            g_total = g_total + hyper.lambda_cycle * hyper.lambda_identity * (terms["idt_A"] + terms["idt_B"])
        optimise(self.opt_g, g_total, {"g_loss": g_total, **terms}, self.skip_nonfinite, self.context)

        set_requires_grad(self.discriminators.values(), True)
        pooled = {d: self.pools[d].query(out[f"fake_{d}"], self.step_generator(step, i)) for i, d in enumerate("AB")}
        d_total, d_terms = self.d_step(real_a, pooled["A"], real_b, pooled["B"], self.penalty_mixing(step, 2))
        optimise(self.opt_d, d_total, d_terms, self.skip_nonfinite, self.context)
        self.update_average(step)

        return self.step_logs({"g_loss": g_total, **terms, **d_terms})

    def sample_grid(self) -> tuple[torch.Tensor, int]:
        """One row per fixed test pair, by the generators that ship: A, G(A), F(G(A)), B, F(B), G(F(B))."""
        a, b = (t.to(self.device).contiguous(memory_format=self.memory_format) for t in self.fixed)
        shipped = self.shipped_generators()
        return translation_grid(shipped, {"AtoB": a, "BtoA": b})

    def extra_state(self) -> dict[str, Any]:
        """Schedules and the average's count, and the pools of every rank (a collective in a distributed run)."""
        pools = {}
        for name, pool in self.pools.items():
            state = pool.state_dict()
            parts = {k: gather(v.to(self.device), self.context) for k, v in state.items()}
            pools[name] = {k: torch.stack(v).cpu() for k, v in parts.items()}
        return {**super().extra_state(), "pools": pools}

    def load_extra_state(self, state: dict[str, Any]) -> None:
        super().load_extra_state(state)
        for name, pool in self.pools.items():
            saved = state["pools"][name]
            mine = self.context.rank  # train.py resumes a run only on as many ranks as it was trained on
            pool.load_state_dict({k: v[mine] for k, v in saved.items()}, self.device)
