"""Command line: ``python -m translate.card MODEL``: write a model folder's card (``README.md``)
from the folder's own files, or rewrite the figures of the card it has, leaving the prose
around them (:mod:`translate.model_card`). Run it again after ``translate.evaluate MODEL --out
MODEL/evaluation.json`` to put the final scores in."""

from __future__ import annotations

import argparse
from pathlib import Path

from translate.cli import run_cli
from translate.model_card import refresh_card

DESCRIPTION = ("Write a model folder's card (README.md) from its config, training record and evaluation, or "
               "rewrite the figures in the card it has.")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m translate.card", description=DESCRIPTION)
    parser.add_argument("model", type=Path, help="a model folder, as python -m translate.pack writes it")
    args = parser.parse_args(argv)
    print(refresh_card(args.model))


def run() -> None:
    """The ``translate-card`` console command."""
    run_cli(main)


if __name__ == "__main__":
    run()
