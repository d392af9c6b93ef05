"""Command line: train the MNIST classifier that judges conditional generators
(:mod:`translate.evaluation.judge`).

``python -m translate.classifier --data DIR --out DIR`` trains on the MNIST train split,
measures test accuracy, and writes ``model.safetensors``, ``config.json`` and a
``README.md`` model card, each replaced atomically; a folder that holds files is replaced only
with ``--overwrite``. The one shipped inside the package
(``translate/evaluation/mnist-classifier``) was made this way.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import sys
import time
from pathlib import Path

from translate.cli import run_cli  # first: without torch, it names the extra to install

# isort: split
import torch
import torch.nn.functional as F

from translate.arguments import positive_int
from translate.config import check_seed
from translate.datasets.mnist import load_mnist
from translate.datasets.root import resolve_data_root
from translate.errors import ConfigError
from translate.evaluation.judge import DEFAULT_CLASSIFIER, FAMILY, Classifier, ClassifierConfig, accuracy
from translate.io.fileio import atomic_write
from translate.modeling.checkpoint import write_model_folder
from translate.modeling.device import cpu_model
from translate.modeling.pixels import to_unit

DESCRIPTION = "Train the MNIST classifier that judges conditional generators."


def random_shift(images: torch.Tensor, max_shift: int, generator: torch.Generator) -> torch.Tensor:
    """Shift each image by its own whole-pixel offset in [-max_shift, max_shift], filling with black (-1).

    Digits in generated images are not always centred as MNIST's are; this keeps the
    judge from relying on the exact centring.
    """
    n, _, h, w = images.shape
    padded = F.pad(images, (max_shift,) * 4, value=-1.0).permute(0, 2, 3, 1)
    dy, dx = torch.randint(0, 2 * max_shift + 1, (2, n), generator=generator)
    rows = (dy[:, None] + torch.arange(h))[:, :, None]
    cols = (dx[:, None] + torch.arange(w))[:, None, :]
    return padded[torch.arange(n)[:, None, None], rows, cols].permute(0, 3, 1, 2).contiguous()


def train(
    images: torch.Tensor,
    labels: torch.Tensor,
    config: ClassifierConfig,
    epochs: int,
    seed: int,
    batch_size: int = 128,
    lr: float = 3e-3,
) -> Classifier:
    """AdamW with a one-cycle schedule and random shifts of up to 2 px."""
    torch.manual_seed(seed)
    generator = torch.Generator().manual_seed(seed)
    model = Classifier(config)
    steps_per_epoch = (len(images) + batch_size - 1) // batch_size
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=5e-4)
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimizer, lr, total_steps=epochs * steps_per_epoch)
    model.train()
    for epoch in range(epochs):
        order = torch.randperm(len(images), generator=generator)
        total = 0.0
        for i in range(0, len(images), batch_size):
            idx = order[i : i + batch_size]
            loss = F.cross_entropy(model(random_shift(images[idx], 2, generator)), labels[idx])
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            schedule.step()
            total += loss.item() * len(idx)
        print(f"epoch {epoch + 1}/{epochs}: train loss {total / len(images):.4f}", file=sys.stderr)
    return model.eval()


def save_classifier(model: Classifier, out: Path, card: str, metadata: dict[str, str]) -> None:
    """Write a model folder (as for every shipped model) and its card; each file appears whole or not at all."""
    write_model_folder(out, FAMILY, model.config.to_dict(), {FAMILY: model}, metadata=metadata)
    atomic_write(out / "README.md", lambda tmp: tmp.write_text(card))


def check_out(out: Path, overwrite: bool) -> None:
    """Refuse, before minutes of training, an --out that would replace a classifier (by default
    the judge that every conditional-accuracy figure is measured with) unless asked to."""
    if out.exists() and not out.is_dir():
        raise ConfigError(f"--out {out} is a file: choose a new folder")
    if out.is_dir() and any(out.iterdir()) and not overwrite:
        raise ConfigError(f"--out {out} already holds files (the default is the package's judge): add --overwrite "
                          "to replace them, or choose a new folder")


def _hardware() -> str:
    return f"{cpu_model()}, {os.cpu_count()} cores, {torch.get_num_threads()} torch threads (CPU only)"


def _model_card(command: str, config: ClassifierConfig, params: int, wall: float, cpu: float, test_acc: float,
                sizes: tuple[int, int]) -> str:
    """The judge's card; ``sizes``: the (train, test) images it saw (a copy of MNIST may be cut)."""
    return f"""# MNIST classifier

The judge behind `conditional_accuracy` in `python -m translate.evaluate`: the share of
generated digits that this network reads as the label the generator was asked for.

- Input: N x 1 x 28 x 28 float images in [-1, 1] (MNIST's uint8 scaled by 1/127.5 - 1).
- Output: logits for the digits 0-9.
- Architecture: `translate.evaluation.judge.Classifier`, config in `config.json`
  (`{json.dumps(config.to_dict())}`), {params:,} parameters.
- Training: MNIST train split ({sizes[0]:,} images), AdamW with a one-cycle learning rate,
  random shifts of up to 2 px.
- **Test accuracy: {100 * test_acc:.2f}%** on the MNIST test split ({sizes[1]:,} images).
- Training time: {wall / 60:.1f} min wall clock ({cpu / 60:.1f} min of CPU time) on {_hardware()},
  torch {torch.__version__}.

Reproduce with:

```
{command}
```
"""


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m translate.classifier", description=DESCRIPTION)
    parser.add_argument("--data", help="folder holding mnist/MNIST/raw (default $TRANSLATE_DATA, else ./data)")
    parser.add_argument("--out", default=str(DEFAULT_CLASSIFIER), help="output folder (default: the package's judge)")
    parser.add_argument("--overwrite", action="store_true", help="replace the classifier already in --out")
    parser.add_argument("--epochs", type=positive_int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=positive_int, default=2, help="CPU threads for torch")
    args = parser.parse_args(argv)
    check_seed(args.seed)
    check_out(Path(args.out), args.overwrite)
    torch.set_num_threads(args.threads)
    command = "python -m translate.classifier " + shlex.join(sys.argv[1:] if argv is None else argv)
    root = resolve_data_root(args.data)
    train_images, train_labels = load_mnist(root, "train")
    test_images, test_labels = load_mnist(root, "test")
    config = ClassifierConfig()
    wall, cpu = time.perf_counter(), time.process_time()
    model = train(to_unit(train_images[..., None]), train_labels, config, args.epochs, args.seed)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    test_acc = accuracy(model, to_unit(test_images[..., None]), test_labels)
    params = sum(p.numel() for p in model.parameters())
    card = _model_card(command, config, params, wall, cpu, test_acc, (len(train_images), len(test_images)))
    save_classifier(model, Path(args.out), card, {"test_accuracy": f"{test_acc:.4f}", "command": command})
    print(json.dumps({"out": args.out, "test_accuracy": test_acc, "train_seconds": round(wall, 1)}))


if __name__ == "__main__":
    run_cli(main)
