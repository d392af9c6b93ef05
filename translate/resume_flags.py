"""``train --resume`` continues a run with the settings its checkpoint recorded. A flag that
would change one of them (``--ngf 16``, ``--lr 1e-3`` on a run trained otherwise) used to be
dropped without a word, so a user could believe they had lowered the learning rate. Here such
a flag is an error naming it and the run's value; the same value again (a run's first command
rerun with ``--resume``) passes.
"""

from __future__ import annotations

import argparse
import math
from pathlib import Path
from typing import Any

from translate.errors import ConfigError
from translate.modeling.checkpoint import Checkpoint


def given_flags(parser: argparse.ArgumentParser, argv: list[str] | None) -> dict[str, Any]:
    """The flags ``argv`` names, by dest, with their values: ``parser`` (built for this call
    alone, since its defaults are removed) parses without defaults."""
    for sub in [parser, *_subcommands(parser).values()]:
        sub._defaults.clear()  # set_defaults, e.g. a preset's values
        for action in sub._actions:
            if action.dest != "help":
                action.default = argparse.SUPPRESS
    return vars(parser.parse_args(argv))


def flag_names(parser: argparse.ArgumentParser, family: str) -> dict[str, list[str]]:
    """dest -> the flag's option strings in ``family``'s subcommand (``--dropout``, ``--no-dropout``)."""
    return {action.dest: action.option_strings for action in _subcommands(parser)[family]._actions
            if action.option_strings}


def check_resume_flags(given: dict[str, Any], names: dict[str, list[str]], resumable: frozenset[str],
                       recorded_names: dict[str, str], checkpoint: Checkpoint, run: Path) -> None:
    """A ConfigError if a flag in ``given``, other than the ``resumable`` ones, asks for another
    value than the run recorded (the field named as the flag, or as ``recorded_names`` says), or
    sets what the run does not record."""
    records = [record for record in (checkpoint.model, checkpoint.train, checkpoint.train.get("hyper"))
               if isinstance(record, dict)]
    conflicts = []
    for dest, value in given.items():
        if dest in resumable:
            continue
        field = recorded_names.get(dest, dest)
        found = [record[field] for record in records if field in record]
        flag = _typed(names.get(dest, [dest]), value)
        if not found:
            conflicts.append(f"{flag} is fixed when a run starts")
        elif not _same(value, found[0]):
            conflicts.append(f"{flag} differs from the run's {field + ' ' if isinstance(value, bool) else ''}"
                             f"{_shown(found[0])}")
    if conflicts:
        raise ConfigError(f"--resume continues {run} with the settings it recorded, and {'; '.join(conflicts)}: "
                          f"leave {'it' if len(conflicts) == 1 else 'them'} out, or start a new run in another --out")


def _typed(options: list[str], value: Any) -> str:
    """The flag as the user typed it: ``--no-dropout``, ``--antialias``, ``--ngf 16``."""
    if isinstance(value, bool):
        negative = [o for o in options if o.startswith("--no-")]
        return negative[0] if negative and not value else min(options, key=lambda o: o.startswith("--no-"))
    return f"{max(options, key=len)} {_shown(value)}"


def _subcommands(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    return {name: sub for action in parser._actions if isinstance(action, argparse._SubParsersAction)
            for name, sub in action.choices.items()}


def _same(given: Any, recorded: Any) -> bool:
    numbers = (int, float)
    if isinstance(given, numbers) and isinstance(recorded, numbers) and not isinstance(given, bool):
        return math.isclose(given, recorded, rel_tol=1e-9)
    if isinstance(given, list | tuple) and isinstance(recorded, list | tuple):
        return list(given) == list(recorded)
    return given == recorded


def _shown(value: Any) -> str:
    if value is None:
        return "(none)"
    return " ".join(map(str, value)) if isinstance(value, list | tuple) else str(value)
