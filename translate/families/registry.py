"""Finding the families: every sub-package of ``translate.families``, and every package that
another distribution registers under the entry-point group ``translate.families``. Either
way the package lists its :class:`~translate.families.base.Family` objects in ``FAMILIES``,
and nothing outside it names them."""

from __future__ import annotations

import importlib
import pkgutil
from functools import cache
from importlib.metadata import entry_points
from types import ModuleType

from translate.errors import CheckpointError
from translate.families.base import Family

ENTRY_POINT_GROUP = "translate.families"  # [project.entry-points."translate.families"] NAME = "package"


@cache
def all_families() -> dict[str, Family]:
    """Every family, by name: this package's sub-packages first, then the registered ones."""
    package = importlib.import_module("translate.families")
    modules = [importlib.import_module(f"{package.__name__}.{found.name}")
               for found in pkgutil.iter_modules(package.__path__) if found.ispkg]
    modules += [point.load() for point in entry_points(group=ENTRY_POINT_GROUP)]
    found: dict[str, Family] = {}
    for module in modules:
        for family in _listed(module):
            if family.name in found:
                raise CheckpointError(f"two families are named {family.name!r} (the second in {module.__name__}): "
                                      "a family's name is what its checkpoints record, so it must be unique")
            found[family.name] = family
    return found


def _listed(module: ModuleType) -> list[Family]:
    families = getattr(module, "FAMILIES", None)
    if not isinstance(families, list) or not all(isinstance(f, Family) for f in families):
        raise TypeError(f"{module.__name__} is registered as a translate family package but its FAMILIES is not "
                        "a list of translate.families.base.Family objects")
    return families


def get_family(name: str) -> Family:
    """The family a checkpoint names, or a CheckpointError listing those this installation knows."""
    families = all_families()
    if name not in families:
        raise CheckpointError(f"unknown model family {name!r}: this version of translate knows "
                              f"{', '.join(sorted(families))}")
    return families[name]
