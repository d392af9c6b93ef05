"""CUT's patch projection (the reference's ``PatchSampleF`` with ``--netF mlp_sample``): the
same randomly chosen places of every image in a batch, read from each feature map that
PatchNCE compares, projected by a two-layer MLP of that map's own and L2-normalised.

The query (the translation's features) and the key (the input's) must be read at the same
places, so the places are drawn once (:func:`sample_places`) and given to both."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from translate.modeling.blocks import init_xavier_weights

PATCHES = 256  # places per layer and image (the reference's --num_patches)
WIDTH = 256  # the MLPs' hidden and output width (the reference's --netF_nc)


def sample_places(features: dict[str, torch.Tensor], count: int, generator: torch.Generator) -> dict[str, torch.Tensor]:
    """``count`` distinct places of each map (all of a smaller one), as indices into its
    flattened height x width, drawn from ``generator`` (the same places for every image)."""
    places = {}
    for name, feature in features.items():
        area = feature.shape[2] * feature.shape[3]
        places[name] = torch.randperm(area, generator=generator)[:count].to(feature.device)
    return places


def gather_patches(feature: torch.Tensor, places: torch.Tensor) -> torch.Tensor:
    """The feature vectors of an (N, C, H, W) map at ``places``: (N * len(places), C) rows, image by image."""
    return feature.flatten(2)[:, :, places].transpose(1, 2).flatten(0, 1)


class PatchProjection(nn.Module):
    """One MLP (C -> width, ReLU, width -> width) per layer, sized by that layer's channels."""

    def __init__(self, channels: dict[str, int], width: int = WIDTH):
        super().__init__()
        self.heads = nn.ModuleDict({name: nn.Sequential(nn.Linear(c, width), nn.ReLU(), nn.Linear(width, width))
                                    for name, c in channels.items()})
        self.apply(init_xavier_weights)  # Xavier-normal, gain 0.02, zero biases: the reference's init_net

    def forward(self, features: dict[str, torch.Tensor], places: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        """Each layer's patches at its ``places``, projected and scaled to unit length."""
        return {name: F.normalize(head(gather_patches(features[name], places[name])), dim=1, eps=1e-7)
                for name, head in self.heads.items()}
