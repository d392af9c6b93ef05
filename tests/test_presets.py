"""Every family's named recipes (``--preset``) set flags its training parser has, to values
those flags accept: argparse's set_defaults takes any name silently, so a misspelled key
would be a recipe value that never applies. A family without presets refuses ``--preset`` by name."""

import argparse

import pytest

from translate.families import all_families
from translate.train import build_parser, main


def _family_parser(name: str) -> argparse.ArgumentParser:
    subparsers = next(action for action in build_parser()._actions
                      if isinstance(action, argparse._SubParsersAction))
    return subparsers.choices[name]


@pytest.mark.parametrize("family", sorted(name for name, family in all_families().items() if family.presets))
def test_every_preset_value_is_a_flag_of_its_family_that_takes_it(family):
    actions = {action.dest: action for action in _family_parser(family)._actions}
    for preset, values in all_families()[family].presets.items():
        assert set(values) <= set(actions), f"{family} --preset {preset}: no such flags {set(values) - set(actions)}"
        for key, value in values.items():
            action = actions[key]
            assert action.choices is None or value in action.choices, (family, preset, key, value)
            assert action.type is None or action.type(str(value)) == value, (family, preset, key, value)  # as typed


@pytest.mark.parametrize("family", sorted(name for name, family in all_families().items() if not family.presets))
def test_a_preset_for_a_family_without_any_is_refused_naming_those_with_one(family, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main([family, "--preset", "cpu"])
    error = capsys.readouterr().err
    having = sorted(name for name, other in all_families().items() if other.presets)
    assert exit_info.value.code == 2 and "unrecognized arguments" not in error
    assert f"{family} has no --preset" in error and f"presets are {', '.join(having)}" in error
