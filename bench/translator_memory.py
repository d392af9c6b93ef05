"""Peak memory of ONNX Runtime translating one image with the full-size CycleGAN generator.

Each size runs in a fresh process (peak RSS cannot be reset inside one), so the numbers
are the whole process's high-water mark (VmHWM: ``ru_maxrss`` would carry this parent's
peak across ``exec``): runtime, model and activations.

    python bench/translator_memory.py [--sizes 256 512 1024] [--note TEXT] [--out bench/results/translator-memory.md]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

import torch
from provenance import save_result

from translate.cli import run_cli
from translate.families.cyclegan.nets import CycleGANConfig, build_generator
from translate.modeling.device import describe_cpu
from translate.onnx_contract import ModelInfo
from translate.onnx_export import ExportPlan, write_onnx

ROOT = Path(__file__).resolve().parents[1]
PROBE = """
import sys, time
import numpy as np
from tests.memory import peak_rss_kb
from translate.runtime import Translator
translator = Translator(sys.argv[1], threads=2, max_pixels=1 << 40)
side = int(sys.argv[2])
image = np.random.default_rng(0).integers(0, 256, (side, side, 3), dtype=np.uint8)
start = time.perf_counter()
translator.translate(image)
print(peak_rss_kb() * 1024, time.perf_counter() - start)
"""


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[256, 512, 1024])
    parser.add_argument("--note", default="", help="a line to add under the table (e.g. 'machine busy')")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "translator-memory.md")
    args = parser.parse_args(argv)
    torch.manual_seed(0)
    generator = build_generator(CycleGANConfig(n_blocks=9, ngf=64)).eval()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "g.onnx"
        axes = {name: {0: "batch", 2: "height", 3: "width"} for name in ("image", "translated")}
        info = ModelInfo(family="cyclegan", task="translate", channels=3, pad_multiple=generator.size_multiple,
                         min_size=generator.min_size)
        plan = ExportPlan(
            generator, ["image"], axes, [(torch.rand(1, 3, 64, 64) * 2 - 1,)], info, output_names=["translated"]
        )
        write_onnx(plan, path, 17)
        rows = []
        for side in args.sizes:
            out = subprocess.run(
                [sys.executable, "-c", PROBE, str(path), str(side)],
                capture_output=True,
                text=True,
                check=True,
                cwd=ROOT,
            ).stdout.split()
            peak, seconds = int(out[0]), float(out[1])
            rows.append(
                {"side": side, "megapixels": side * side / 1e6, "peak_rss_mib": peak / 2**20, "seconds": seconds}
            )
    lines = [
        f"ONNX Runtime on the {describe_cpu()}, 2 threads, CycleGAN ResNet generator (9 blocks, ngf 64), one "
        "image, fp32.",
        "",
        "| input | megapixels | peak RSS (MiB) | MiB per extra megapixel (vs the first row) | seconds |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    base = rows[0]
    for row in rows:
        extra = row["megapixels"] - base["megapixels"]
        slope = (row["peak_rss_mib"] - base["peak_rss_mib"]) / extra if extra else float("nan")
        lines.append(
            f"| {row['side']}x{row['side']} | {row['megapixels']:.2f} | {row['peak_rss_mib']:.0f} | "
            f"{slope:.0f} | {row['seconds']:.2f} |"
        )
    text = "\n".join(lines) + "\n" + (f"\n{args.note}\n" if args.note else "")
    print(text)
    save_result(args.out, text, {"rows": rows}, __file__, argv)


if __name__ == "__main__":
    run_cli(main)
