"""A toy translation family, written as a new family would be: one package that lists its
families in ``FAMILIES``. tests/test_new_family.py installs a copy of it as a plugin (an
entry point in the group ``translate.families``) and runs every command on it; nothing
outside this package names it."""

from .family import FAMILIES

__all__ = ["FAMILIES"]
