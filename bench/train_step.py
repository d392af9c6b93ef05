"""Seconds per CycleGAN training iteration: this toolkit's step against a plain eager fp32
loop written the way the reference implementation (junyanz/pytorch-CycleGAN-and-pix2pix,
``models/cycle_gan_model.py``) writes it.

Both train the same networks (ResNet generator with 9 blocks and ngf 64, 70x70 PatchGAN),
with the same losses (LSGAN, cycle 10, identity 0.5), 50-image pools and Adam, at batch 1,
on in-memory inputs (data loading is not timed). The two run alternately, iteration by
iteration, so a busy machine slows both alike; the table gives medians, and under each row
the range from the fastest to the slowest iteration.

    python bench/train_step.py [--sizes 128 256] [--warmup 2] [--iters 3] [--gpu]

On the CPU it times the toolkit in fp32, in bf16 autocast, and in bf16 with torch.compile
(its best settings there; channels_last measured slower on the CPU and is used on CUDA
only), each against the plain loop; prints a Markdown table and saves it (and a JSON copy)
as bench/results/train_step-<device>[-<tag>].md.
"""

from __future__ import annotations

import argparse
import itertools
import platform
import random
import time
from collections.abc import Callable
from pathlib import Path

import torch
from provenance import save_result
from timing import Timed, alternating_timings_by_clock
from torch import nn

from translate.cli import run_cli
from translate.families.cyclegan.nets import CycleGANConfig, build_discriminator, build_generator
from translate.families.cyclegan.recipe import CycleGANRecipe
from translate.families.cyclegan.settings import CycleGANHyper
from translate.families.translation_recipe import RecipeOptions
from translate.modeling.device import bf16_support, describe_cpu, select_device
from translate.training.distributed import Context

RESULTS = Path(__file__).resolve().parent / "results"


class ReferencePool:
    """The reference ImagePool: a Python list, Python's random, torch.cat of the batch."""

    def __init__(self, size: int):
        self.size, self.images = size, []

    def query(self, images: torch.Tensor) -> torch.Tensor:
        out = []
        for image in images:
            image = image.detach().unsqueeze(0)  # the reference's image.data: no autograd nodes kept
            if len(self.images) < self.size:
                self.images.append(image)
                out.append(image)
            elif random.uniform(0, 1) > 0.5:
                slot = random.randint(0, self.size - 1)
                out.append(self.images[slot].clone())
                self.images[slot] = image
            else:
                out.append(image)
        return torch.cat(out, 0)


class PlainCycleGAN:
    """The reference training step, eager and fp32: four separate generator passes, each
    discriminator loss on its own, requires_grad toggling, MSE against target tensors."""

    def __init__(self, config: CycleGANConfig, device: torch.device, lambda_cycle: float = 10.0,
                 lambda_idt: float = 0.5):
        self.g_a, self.g_b = build_generator(config).to(device), build_generator(config).to(device)
        self.d_a, self.d_b = build_discriminator(config).to(device), build_discriminator(config).to(device)
        g_params = itertools.chain(self.g_a.parameters(), self.g_b.parameters())
        d_params = itertools.chain(self.d_a.parameters(), self.d_b.parameters())
        self.opt_g = torch.optim.Adam(g_params, 2e-4, (0.5, 0.999))
        self.opt_d = torch.optim.Adam(d_params, 2e-4, (0.5, 0.999))
        self.pool_a, self.pool_b = ReferencePool(50), ReferencePool(50)
        self.mse, self.l1 = nn.MSELoss(), nn.L1Loss()
        self.real_label, self.fake_label = torch.tensor(1.0, device=device), torch.tensor(0.0, device=device)
        self.lambda_cycle, self.lambda_idt = lambda_cycle, lambda_idt

    def gan_loss(self, prediction: torch.Tensor, real: bool) -> torch.Tensor:
        target = (self.real_label if real else self.fake_label).expand_as(prediction)
        return self.mse(prediction, target)

    def backward_d(self, net: nn.Module, real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
        loss = (self.gan_loss(net(real), True) + self.gan_loss(net(fake.detach()), False)) * 0.5
        loss.backward()
        return loss

    def step(self, real_a: torch.Tensor, real_b: torch.Tensor) -> None:
        fake_b = self.g_a(real_a)
        rec_a = self.g_b(fake_b)
        fake_a = self.g_b(real_b)
        rec_b = self.g_a(fake_a)
        for net in (self.d_a, self.d_b):
            net.requires_grad_(False)
        self.opt_g.zero_grad()
        lam = self.lambda_cycle
        loss_idt_a = self.l1(self.g_a(real_b), real_b) * lam * self.lambda_idt
        loss_idt_b = self.l1(self.g_b(real_a), real_a) * lam * self.lambda_idt
        loss_g = (
            self.gan_loss(self.d_a(fake_b), True)
            + self.gan_loss(self.d_b(fake_a), True)
            + self.l1(rec_a, real_a) * lam
            + self.l1(rec_b, real_b) * lam
            + loss_idt_a
            + loss_idt_b
        )
        loss_g.backward()
        self.opt_g.step()
        for net in (self.d_a, self.d_b):
            net.requires_grad_(True)
        self.opt_d.zero_grad()
        self.backward_d(self.d_a, real_b, self.pool_b.query(fake_b))
        self.backward_d(self.d_b, real_a, self.pool_a.query(fake_a))
        self.opt_d.step()


# The toolkit's settings measured against the plain loop: (label, precision, compile).
VARIANTS = {
    "cpu": [("toolkit fp32", "fp32", False), ("toolkit bf16", "bf16", False), ("toolkit bf16 + compile", "bf16", True)],
    "cuda": [("toolkit bf16", "bf16", False), ("toolkit bf16 + compile", "bf16", True)],
}


def measure(size: int, device: torch.device, warmup: int, iters: int) -> dict[str, Timed]:
    """Seconds per iteration (median and range) of the plain loop and each toolkit variant at one image size.

    The loops run in turn, iteration by iteration, so a busy machine slows them alike.
    """
    config = CycleGANConfig(image_size=size)
    torch.manual_seed(0)
    batch = tuple(torch.rand(1, 3, size, size, device=device) * 2 - 1 for _ in range(2))
    fixed = (batch[0].cpu(), batch[1].cpu())
    loops: dict[str, Callable[[int], object]] = {}
    plain = PlainCycleGAN(config, device)
    loops["plain"] = lambda i: plain.step(*batch)
    for label, precision, compile in VARIANTS[device.type]:
        recipe = CycleGANRecipe(config, CycleGANHyper(), Context(device=device), fixed,
                                RecipeOptions(compile=compile, precision=precision))
        loops[label] = lambda i, r=recipe: r.step(batch, i)
    return alternating_timings_by_clock(loops, warmup, iters, device, {"wall": time.perf_counter})["wall"]


def _table(rows: list[tuple[int, dict[str, Timed]]], header: str) -> str:
    """Median s/it with its speed-up over the plain loop, and under it the fastest to slowest iteration."""
    variants = [name for name in rows[0][1] if name != "plain"]
    lines = [header, "", "| size | plain loop s/it | " + " | ".join(f"{v} s/it (speed-up)" for v in variants) + " |",
             "|---|---|" + "---|" * len(variants)]
    for size, timed in rows:
        plain = timed["plain"]
        cells = [f"{timed[v].median:.3f} ({plain.median / timed[v].median:.2f}x)" for v in variants]
        lines.append(f"| {size}x{size} | {plain.median:.3f} | " + " | ".join(cells) + " |")
        lines.append(f"| (range) | {plain.range()} | " + " | ".join(timed[v].range() for v in variants) + " |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[128, 256])
    parser.add_argument("--warmup", type=int, default=2, help="untimed iterations per size (compiling happens here)")
    parser.add_argument("--iters", type=int, default=3, help="timed iterations per size")
    parser.add_argument("--gpu", action="store_true", help="CUDA instead of the CPU")
    parser.add_argument("--note", default="", help="a line to add under the table (e.g. 'machine busy')")
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--tag", default="", help="added to the result files' name, e.g. the machine: "
                        "train_step-cpu-amd-epyc.md")
    args = parser.parse_args(argv)
    device = select_device(args.gpu)
    rows = []
    for size in args.sizes:
        result = measure(size, device, args.warmup, args.iters)
        rows.append((size, result))
        print(f"{size} px: " + ", ".join(f"{k} {v.median:.3f} s/it" for k, v in result.items()), flush=True)
    name = (f"{torch.cuda.get_device_name(device)}, {bf16_support(device)}" if device.type == "cuda"
            else describe_cpu())
    header = (
        f"CycleGAN training step, batch 1, ngf 64, 9 blocks (the reference architecture); {name}, "
        f"torch {torch.__version__}, {torch.get_num_threads()} threads, {platform.machine()}; plain loop: the "
        f"reference's step, eager fp32; toolkit: CycleGANRecipe.step (bf16 is autocast; compile is torch.compile); "
        f"median of {args.iters} timed iterations after {args.warmup} warm-up, the loops taking turns; "
        f"(range): the fastest to the slowest of them."
    )
    table = _table(rows, header) + (f"\n{args.note}\n" if args.note else "")
    print(table)
    stem = f"train_step-{device.type}" + (f"-{args.tag}" if args.tag else "")
    save_result(args.out / f"{stem}.md", table,
                {"device": name, "warmup": args.warmup, "iters": args.iters, "note": args.note,
                 "rows": [{"size": size, **{k: t.median for k, t in timed.items()}} for size, timed in rows],
                 "ranges": [{"size": size, **{k: [t.low, t.high] for k, t in timed.items()}} for size, timed in rows]},
                __file__, argv)


if __name__ == "__main__":
    run_cli(main)
