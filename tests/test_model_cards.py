"""Every shipped model card follows the Hugging Face convention (YAML front matter with license,
tags, datasets and metrics), and its figures are the measured ones: each value in the front
matter is the model's evaluation.json (or the benchmark's saved result) rounded as printed."""

from __future__ import annotations

import json
import re
import shlex

import pytest
import yaml

from translate.io.fileio import file_sha256

from .conftest import REPO

CARDS = sorted(REPO.glob("models/*/README.md"))
MEASURED_IS = json.loads((REPO / "bench" / "results" / "inception-score.json").read_text())


def front_matter(card) -> dict:
    match = re.match(r"---\n(.*?)\n---\n", card.read_text(), re.S)
    assert match, f"{card} has no YAML front matter"
    return yaml.safe_load(match.group(1))


def measured_is(model: str) -> float:
    [row] = [r for r in MEASURED_IS["rows"] if r["set"] == model and r["truncation"] is None]
    return row["is_mean"]


@pytest.mark.parametrize("card", CARDS, ids=[card.parent.name for card in CARDS])
def test_a_model_card_has_front_matter_with_the_measured_figures(card):
    meta = front_matter(card)
    assert meta["license"] == "mit" and meta["library_name"] == "translate-gan"
    assert meta["datasets"] and meta["tags"] and meta["metrics"]
    [model] = meta["model-index"]
    assert model["name"] == card.parent.name
    evaluation = json.loads((card.parent / "evaluation.json").read_text())
    # Scored by translate.evaluate --out: these very weights (export carries the scores on by this).
    assert evaluation.get("weights_sha256") == file_sha256(card.parent / "model.safetensors")
    for result in model["results"]:
        expected = measured(card.parent.name, evaluation, result["task"]["name"])
        for metric in result["metrics"]:
            value = metric["value"]
            decimals = len(str(value).partition(".")[2])
            assert value == pytest.approx(expected[metric["type"]](), abs=0.6 * 10**-decimals), metric
    assert "## Data and license" in card.read_text()


def measured(model: str, evaluation: dict, task: str) -> dict:
    """The figures a card's result may quote, by metric type: a digit model's one set, or a
    translation model's for the direction its task names ("horse → zebra")."""
    if "fid" in evaluation:
        return {"fid": lambda: evaluation["fid"], "kid": lambda: evaluation["kid_mean"],
                "accuracy": lambda: evaluation["conditional_accuracy"], "inception_score": lambda: measured_is(model)}
    source, target = task.split(" → ")
    scores = evaluation[f"{source}_to_{target}"]
    return {"fid": lambda: scores["fid"], "kid": lambda: scores["kid_mean"]}


# Set once the data is read (MNIST has ten classes), not by the command line.
FROM_THE_DATA = {"n_classes", "classes"}


def dataset_side_names(card_text: str, args) -> list[str] | None:
    """The side names a paired run reads from its dataset folder's record when its command gives
    no --domains (a fresh checkout has no such folder): those the card's `translate.pairs` command
    wrote there, swapped by --reverse as training swaps them."""
    if "domains" not in vars(args) or args.domains is not None:  # a family without sides, or named
        return None
    found = re.search(r"^python -m translate\.pairs .*--domains (\S+) (\S+)", card_text, re.M)
    assert found, "a paired card whose training command names no --domains shows the translate.pairs command that did"
    names = list(found.groups())
    return names[::-1] if args.reverse else names


@pytest.mark.parametrize("card", CARDS, ids=[card.parent.name for card in CARDS])
def test_a_model_cards_training_command_sets_the_models_recorded_config(card):
    from translate.families import get_family
    from translate.train import _parse

    text = card.read_text()
    commands = [line for block in re.findall(r"```bash\n(.*?)```", text, re.S)
                for line in block.splitlines() if line.startswith("python -m translate.train ")
                and "--resume" not in line]  # a resume's settings are its checkpoint's ('Commands run' lists them)
    assert commands, f"{card} gives no training command"
    argv = shlex.split(commands[0])[3:]
    args = _parse(argv)
    if names := dataset_side_names(text, args):
        args = _parse([*argv, "--domains", *names])
    model, settings = get_family(args.family).new_settings(args)
    recorded = json.loads((card.parent / "config.json").read_text())
    assert recorded["family"] == args.family
    expected = type(model).from_dict(recorded["model"]).to_dict()  # the defaults of fields added since
    given = model.to_dict()
    assert {k: v for k, v in given.items() if k not in FROM_THE_DATA} == {
        k: v for k, v in expected.items() if k not in FROM_THE_DATA}
    trained = settings.to_dict()
    if trained.get("precision") is None:  # --precision auto: resolved where it trains (bf16 where native), recorded so
        trained["precision"] = recorded["train"].get("precision")
    assert {k: trained[k] for k in recorded["train"] if k not in FROM_THE_DATA} == {
        k: v for k, v in recorded["train"].items() if k not in FROM_THE_DATA}
