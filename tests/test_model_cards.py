"""Every shipped model card follows the Hugging Face convention (YAML front matter with license,
tags, datasets and metrics), and its figures are the measured ones: each value in the front
matter is the model's evaluation.json (or the benchmark's saved result) rounded as printed."""

from __future__ import annotations

import json
import re

import pytest
import yaml

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
    expected = {"fid": evaluation["fid"], "kid": evaluation["kid_mean"],
                "accuracy": evaluation.get("conditional_accuracy"), "inception_score": measured_is(card.parent.name)}
    for metric in model["results"][0]["metrics"]:
        value = metric["value"]
        decimals = len(str(value).partition(".")[2])
        assert value == pytest.approx(expected[metric["type"]], abs=0.6 * 10**-decimals), metric
    assert "## Data and license" in card.read_text()
