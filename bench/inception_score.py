"""The Inception Score of the shipped digit models and of the real MNIST test digits, by the
MNIST judge: what ``translate.evaluate MODEL --n 10000`` reports as ``inception_score`` and
``real_inception_score`` (the same images, classifier and function), without the Inception
passes that FID needs, so it takes seconds rather than a quarter of an hour. For conditional
models it adds the conditional accuracy, read from the same softmax. The score's two halves,
since IS = exp(H(p(y)) - E_x H(p(y|x))) in each split, say why it moves: how evenly the
digits spread over the classes, and how unsure the judge is of each.

    python bench/inception_score.py [--models models/cdcgan-mnist models/dcgan-mnist] [--n 10000]
        [--truncation none 1.0 0.5] [--data DIR]

prints a Markdown table and saves it (and a JSON copy) as bench/results/inception-score.md.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import torch
from provenance import save_result

from translate.cli import run_cli
from translate.datasets.root import resolve_data_root
from translate.evaluation.judge import class_probabilities, load_classifier, read_as_requested
from translate.evaluation.protocols import IS_SPLITS, real_digits
from translate.evaluation.scores import inception_score, score_splits
from translate.families import load_generator
from translate.families.dcgan.family import generate, requested_labels

ROOT = Path(__file__).resolve().parent.parent
RESULTS = Path(__file__).resolve().parent / "results"
EVALUATE_BATCH = 50  # translate.evaluate's default --batch-size: the images it scores are drawn in these batches


def _truncation(text: str) -> float | None:
    return None if text == "none" else float(text)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", type=Path, nargs="+",
                        default=[ROOT / "models" / "cdcgan-mnist", ROOT / "models" / "dcgan-mnist"])
    parser.add_argument("--n", type=int, default=10_000, help="generated digits, and real test digits")
    parser.add_argument("--truncation", type=_truncation, nargs="+", default=[None],
                        help="thresholds of the truncation trick to score the models at ('none': plain codes)")
    parser.add_argument("--data", help="folder holding mnist/ (default $TRANSLATE_DATA, else ./data)")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    judge = load_classifier()
    rows = []
    real, _ = real_digits(resolve_data_root(args.data), 28, args.n)
    rows.append({"set": f"MNIST test digits (first {len(real):,})", "truncation": None,
                 **_scores(class_probabilities(judge, real), None)})
    for folder in args.models:
        generator, config = load_generator(folder)
        for truncation in args.truncation:
            images = generate(generator, config, args.n, None, 0, "cpu", EVALUATE_BATCH, truncation)
            labels = requested_labels(config, args.n)
            rows.append({"set": Path(folder).name, "truncation": truncation,
                         **_scores(class_probabilities(judge, images), labels)})
            print(rows[-1], flush=True)
    header = (f"Inception Score by the MNIST judge (translate/evaluation/mnist-classifier, 10 classes: at most 10): "
              f"exp(E KL(p(y|x) || p(y))), {IS_SPLITS} splits, mean ± std over splits; generated digits from the "
              f"codes of seed 0 (labels i % 10 for conditional models), as translate.evaluate draws them; "
              f"torch {torch.__version__}.")
    lines = [header, "", "| digits | count | truncation | IS | class spread H(p(y)) (max ln 10 = 2.3026) "
             "| judge's doubt E H(p(y\\|x)) | conditional accuracy |", "|---|---|---|---|---|---|---|"]
    for r in rows:
        accuracy = "" if r["conditional_accuracy"] is None else f"{100 * r['conditional_accuracy']:.2f}%"
        truncation = "none" if r["truncation"] is None else f"{r['truncation']:g}"
        lines.append(f"| {r['set']} | {r['images']:,} | {truncation} | {r['is_mean']:.3f} ± {r['is_std']:.3f} | "
                     f"{r['class_entropy']:.4f} | {r['judge_entropy']:.4f} | {accuracy} |")
    table = "\n".join(lines) + "\n"
    print(table)
    save_result(args.out / "inception-score.md", table, {"rows": rows, "protocol": header}, __file__, argv)


def _scores(probabilities: np.ndarray, labels: torch.Tensor | None) -> dict[str, float | int | None]:
    mean, std = inception_score(probabilities, IS_SPLITS)
    accuracy = None if labels is None else read_as_requested(probabilities, labels)
    return {"images": len(probabilities), "is_mean": mean, "is_std": std, **_entropies(probabilities),
            "conditional_accuracy": accuracy}


def _entropies(probabilities: np.ndarray) -> dict[str, float]:
    """Mean over the splits of H(p(y)) and of E_x H(p(y|x)), in nats."""
    def entropy(p: np.ndarray) -> np.ndarray:
        return -(p * np.log(np.where(p > 0, p, 1.0))).sum(axis=-1)

    parts = score_splits(probabilities, IS_SPLITS)
    return {"class_entropy": float(np.mean([entropy(part.mean(axis=0)) for part in parts])),
            "judge_entropy": float(np.mean([entropy(part).mean() for part in parts]))}


if __name__ == "__main__":
    run_cli(main)
