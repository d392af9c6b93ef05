"""Losses any family can use: adversarial terms by name, gradient penalty, cycle and identity.

Discriminator outputs are raw logits / critic scores; every function returns a scalar mean.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F

from translate.errors import ConfigError

Loss = Callable[..., torch.Tensor]


def _bce_d(real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
    # softplus(-x) = -log(sigmoid(x)), softplus(x) = -log(1 - sigmoid(x)); stable with logits.
    return F.softplus(-real).mean() + F.softplus(fake).mean()


def _bce_g(fake: torch.Tensor) -> torch.Tensor:
    """Non-saturating generator loss: maximise log D(G(z))."""
    return F.softplus(-fake).mean()


def _lsgan_d(real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
    # Halved as in the reference CycleGAN so D learns at half G's rate.
    return 0.5 * ((real - 1).pow(2).mean() + fake.pow(2).mean())


def _lsgan_g(fake: torch.Tensor) -> torch.Tensor:
    return (fake - 1).pow(2).mean()


def _wasserstein_d(real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
    return fake.mean() - real.mean()


def _hinge_d(real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
    return F.relu(1 - real).mean() + F.relu(1 + fake).mean()


def _critic_g(fake: torch.Tensor) -> torch.Tensor:
    return -fake.mean()


ADVERSARIAL: dict[str, tuple[Loss, Loss]] = {
    "bce": (_bce_d, _bce_g),
    "lsgan": (_lsgan_d, _lsgan_g),
    "wgan-gp": (_wasserstein_d, _critic_g),
    "hinge": (_hinge_d, _critic_g),
}
LOSS_NAMES = tuple(ADVERSARIAL)


def adversarial(name: str) -> tuple[Loss, Loss]:
    """(discriminator_loss(real, fake), generator_loss(fake)) for a loss name."""
    if name not in ADVERSARIAL:
        raise ConfigError(f"unknown loss {name!r}: choose one of {', '.join(LOSS_NAMES)}")
    return ADVERSARIAL[name]


def gradient_penalty(
    critic: Callable[..., torch.Tensor],
    real: torch.Tensor,
    fake: torch.Tensor,
    generator: torch.Generator | None = None,
    **critic_kwargs: torch.Tensor,
) -> torch.Tensor:
    """WGAN-GP penalty E[(||grad critic(x_hat)||_2 - 1)^2] on random interpolates (Gulrajani et al.).

    Multiply by lambda (10 in the paper) and add to the critic loss; the graph is kept
    so the penalty trains the critic.
    """
    eps = torch.rand(len(real), 1, 1, 1, device=real.device, generator=generator, dtype=real.dtype)
    mixed = (eps * real.detach() + (1 - eps) * fake.detach()).requires_grad_(True)
    scores = critic(mixed, **critic_kwargs)
    (grads,) = torch.autograd.grad(scores.sum(), mixed, create_graph=True)
    return (grads.flatten(1).norm(2, dim=1) - 1).pow(2).mean()


def cycle_loss(reconstructed: torch.Tensor, original: torch.Tensor) -> torch.Tensor:
    """L1 between F(G(x)) and x (CycleGAN's cycle-consistency term, before lambda)."""
    return F.l1_loss(reconstructed, original)


def identity_loss(mapped: torch.Tensor, original: torch.Tensor) -> torch.Tensor:
    """L1 between G(y) and y for y already in G's target domain."""
    return F.l1_loss(mapped, original)
