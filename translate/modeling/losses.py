"""Losses any family can use: adversarial terms by name, gradient penalty, cycle and identity,
and the patchwise contrastive loss of CUT.

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
    # Halved as in the reference CycleGAN (backward_D_basic); Adam divides a constant factor out of
    # its steps, so this scales the logged loss, not how fast D learns.
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
    on = generator.device if generator is not None else real.device  # a CPU generator serves a CUDA run too
    eps = torch.rand(len(real), 1, 1, 1, device=on, generator=generator, dtype=real.dtype).to(real.device)
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


NCE_TEMPERATURE = 0.07  # CUT's tau (Park et al. 2020; the reference's --nce_T)


def patch_nce(query: torch.Tensor, key: torch.Tensor, images: int,
              temperature: float = NCE_TEMPERATURE) -> torch.Tensor:
    """PatchNCE (Park et al. 2020): each query patch, a feature of the translated image, must
    pick out the key patch at its own place in the input image among the other patches of
    the same image (the reference's ``nce_includes_all_negatives_from_minibatch`` False).

    ``query`` and ``key`` are ``(images * patches, dim)`` rows, image by image, usually
    L2-normalised; no gradient flows into ``key``. Returns the mean over patches of the
    cross-entropy of ``exp(q.k+ / t) / sum_j exp(q.k_j / t)``, computed in fp32. The reference
    keeps each patch's own column among the negatives at a logit of -10 / t, whose weight
    (about 1e-62) is below what fp32 holds: it is left out here, the same loss.
    """
    if query.shape != key.shape or query.ndim != 2:
        raise ValueError(f"query and key must be (patches, dim) of one shape, got {tuple(query.shape)} and "
                         f"{tuple(key.shape)}")
    if images < 1 or len(query) % images:
        raise ValueError(f"{len(query)} patches do not split into {images} images")
    dim = query.shape[1]
    q = query.float().view(images, -1, dim)
    k = key.detach().float().view(images, -1, dim)
    # [image, query patch, key patch], positives on the diagonal; autocast would run bmm in bf16, fp32 inputs or not.
    with torch.autocast(q.device.type, enabled=False):
        logits = torch.bmm(q, k.transpose(1, 2)) / temperature
    patches = logits.shape[1]
    targets = torch.arange(patches, device=logits.device).repeat(images)
    return F.cross_entropy(logits.flatten(0, 1), targets)
