"""CUT and FastCUT (Park et al. 2020, contrastive unpaired translation): one-way translation
between two image domains, learnt with a patchwise contrastive loss instead of a cycle."""

from translate.families.cut.family import FAMILIES

__all__ = ["FAMILIES"]
