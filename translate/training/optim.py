"""Pieces every GAN recipe shares: its optimiser, learning-rate decay and guarded update,
freezing a critic, the critic's loss and weight averages (exponential, and uniform over
chosen steps)."""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable
from contextlib import AbstractContextManager
from typing import Any

import torch
from torch import nn

from translate.modeling.losses import Loss, gradient_penalty
from translate.training.distributed import Context, any_rank


def adam(
    params: Iterable[nn.Parameter], lr: float, beta1: float, beta2: float, device: torch.device
) -> torch.optim.Adam:
    """Adam, fused into one kernel per step on CUDA."""
    return torch.optim.Adam(list(params), lr, (beta1, beta2), fused=device.type == "cuda")


def load_optimizer_state(optimizer: torch.optim.Optimizer, state: dict[str, Any]) -> None:
    """``optimizer.load_state_dict(state)``, keeping the optimiser's own ``fused`` setting: it
    belongs to the device (fused on CUDA, see :func:`adam`), and a run resumed on another device
    would otherwise take the one it was saved with. Another number of parameter groups is a
    ValueError, as in load_state_dict."""
    if len(state["param_groups"]) != len(optimizer.param_groups):
        raise ValueError(f"the saved optimiser has {len(state['param_groups'])} parameter groups, this one "
                         f"{len(optimizer.param_groups)}")
    groups = [{**saved, "fused": current.get("fused")}
              for saved, current in zip(state["param_groups"], optimizer.param_groups, strict=True)]
    optimizer.load_state_dict({**state, "param_groups": groups})


def linear_decay(epochs: int, epochs_decay: int) -> Callable[[int], float]:
    """Learning-rate factor after ``done`` finished epochs: 1 for the first ``epochs``,
    then falling by 1/(epochs_decay + 1) per epoch (the reference's ``linear`` policy)."""

    def factor(done: int) -> float:
        return 1.0 - max(0, done + 1 - epochs) / (epochs_decay + 1)

    return factor


def parameters_of(nets: Iterable[nn.Module]) -> list[nn.Parameter]:
    """The parameters of several networks, for one optimiser."""
    return [p for net in nets for p in net.parameters()]


def set_requires_grad(nets: Iterable[nn.Module], flag: bool) -> None:
    """Freeze (or unfreeze) networks: a critic's weights take no gradient from the generator's loss."""
    for net in nets:
        net.requires_grad_(flag)


class NonFiniteStep(Exception):  # noqa: N818 (a signal to the trainer, not an error)
    """A loss or gradient of a step was NaN or infinite and its update was not applied (nor
    any later one of the step); raised only when the recipe was asked to skip such steps."""

    def __init__(self, names: list[str]):
        super().__init__(", ".join(names))
        self.names = names


def optimise(
    optimizer: torch.optim.Optimizer,
    loss: torch.Tensor,
    terms: dict[str, torch.Tensor],
    check: bool = False,
    context: Context | None = None,
) -> None:
    """zero_grad, backward and step, the update every recipe makes.

    With ``check`` the update happens only when every loss term and then every gradient
    is finite; otherwise the gradients are dropped and NonFiniteStep names the terms. The
    check of the terms runs before ``backward`` and agrees across ranks, so a distributed
    run skips together (gradients agree already: DDP averages them). It costs two device
    syncs per update, hence opt-in (``--skip-nonfinite``).
    """
    if check:
        finite = torch.stack([torch.isfinite(value.detach()).all() for value in terms.values()]).tolist()
        bad = [name for name, ok in zip(terms, finite, strict=True) if not ok]
        if any_rank(bool(bad), context):
            raise NonFiniteStep(bad or ["a loss on another process"])
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    if check:
        grads = [p.grad for group in optimizer.param_groups for p in group["params"] if p.grad is not None]
        if grads and not torch.stack([torch.isfinite(g).all() for g in grads]).all().item():
            optimizer.zero_grad(set_to_none=True)
            raise NonFiniteStep([f"the gradients of {' + '.join(terms)}"])
    optimizer.step()


def critic_loss(
    critic: Callable[..., torch.Tensor],
    real: torch.Tensor,
    fake: torch.Tensor,
    loss: Loss,
    autocast: AbstractContextManager,
    penalty: bool = False,
    generator: torch.Generator | None = None,
    joint: bool = False,
    **critic_kwargs: torch.Tensor,
) -> tuple[torch.Tensor, torch.Tensor | None]:
    """(adversarial loss, gradient penalty or None) of a discriminator on real and fake images.

    The loss is taken in fp32 on the critic's (possibly bf16) scores; the penalty is
    computed outside autocast, as its second-order gradients are sensitive to rounding,
    and is for the caller to weight and add. ``joint`` scores real and fake in one batch:
    the same as two calls for critics with instance, layer or no norm; with spectral norm the
    two halves share one power iteration; wrong with batch norm, which would mix them.
    """
    fake = fake.detach()
    with autocast:
        if joint:
            scores_real, scores_fake = critic(torch.cat([real, fake]), **critic_kwargs).float().chunk(2)
        else:
            scores_real, scores_fake = critic(real, **critic_kwargs).float(), critic(fake, **critic_kwargs).float()
        value = loss(scores_real, scores_fake)
    if not penalty:
        return value, None
    return value, gradient_penalty(critic, real.float(), fake.float(), generator, **critic_kwargs)


def averaged_copy(model: nn.Module) -> nn.Module:
    """A frozen copy of ``model`` to hold its exponential moving average (see :func:`update_average`)."""
    average = copy.deepcopy(model).eval()
    average.requires_grad_(False)
    return average


@torch.no_grad()
def update_average(average: nn.Module, model: nn.Module, decay: float) -> None:
    """average <- decay * average + (1 - decay) * model, for parameters only.

    Sampling from an average of the generator's recent weights smooths the step-to-step
    oscillation of GAN training (Yazici et al. 2019, "The unusual effectiveness of averaging
    in GAN training"). Batch-norm statistics are left alone: the live model's do not fit the
    averaged weights (copying them made a cDCGAN's FID worse than no average at all), so
    :func:`estimate_batch_norm` recomputes them before the average is used.
    """
    for avg, live in zip(average.parameters(), model.parameters(), strict=True):
        avg.lerp_(live.detach(), 1.0 - decay)


class WeightMean:
    """The uniform mean of networks' weights at the steps it is updated at: stochastic weight
    averaging (Izmailov et al. 2018), which for GANs smooths the oscillation that the
    learning-rate decay alone leaves (Yazici et al. 2019).

    Parameters only, as :func:`update_average`: use it for networks whose buffers do not
    depend on the weights (instance, layer or no norm).
    """

    def __init__(self, nets: dict[str, nn.Module]):
        self.nets = nets
        self.means = {name: averaged_copy(net) for name, net in nets.items()}
        self.count = 0  # weights averaged so far

    def update(self) -> None:
        """Fold the networks' current weights into the mean (the first update copies them)."""
        for name, net in self.nets.items():
            update_average(self.means[name], net, decay=self.count / (self.count + 1))
        self.count += 1

    @torch.no_grad()
    def fill_if_empty(self) -> None:
        """Before the first update, make the means hold the networks' weights, so that a
        checkpoint's mean is never the weights the run started from."""
        if not self.count:
            for name, net in self.nets.items():
                self.means[name].load_state_dict(net.state_dict())

    def current(self) -> dict[str, nn.Module]:
        """The means once there is one, the networks until then: what the run ships."""
        return self.means if self.count else self.nets


@torch.no_grad()
def estimate_batch_norm(
    model: nn.Module, draw_inputs: Callable[[torch.Generator], tuple[torch.Tensor | None, ...]], batches: int
) -> None:
    """Recompute ``model``'s batch-norm running statistics from scratch, as the plain mean
    over ``batches`` forward passes in training mode ("standing statistics", Brock et al.
    2019). The inputs come from ``draw_inputs`` with a generator of its own, seeded the same
    each time (on the model's device), so the statistics depend only on the weights and the
    training RNG is untouched.
    """
    norms = [m for m in model.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    momenta = [m.momentum for m in norms]
    for norm in norms:
        norm.reset_running_stats()
        norm.momentum = None  # cumulative average
    rng = torch.Generator(device=next(model.parameters()).device).manual_seed(0)
    model.train()
    try:
        for _ in range(batches):
            model(*draw_inputs(rng))
    finally:
        for norm, momentum in zip(norms, momenta, strict=True):
            norm.momentum = momentum
        model.eval()
