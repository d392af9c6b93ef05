"""What ONNX Runtime's memory arena keeps after a large image, with the arena given back after
each run (the runtime's way) and kept (ONNX Runtime's default), and what giving it back costs
in time on small images.

Each mode runs in a fresh process, the two alternating, ``--rounds`` times: the process
translates one small image (warm-up), one ``--large`` image, then ``--repeats`` small ones, and
reports its resident memory (VmRSS) after each phase and the median time of the small ones.

    python bench/translator_arena.py MODEL.onnx [--small 256] [--large 1536] [--rounds 3] [--note TEXT]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
from pathlib import Path

from provenance import save_result

from translate.cli import run_cli
from translate.modeling.device import describe_cpu

ROOT = Path(__file__).resolve().parents[1]
MODES = {"arena given back": "shrink", "arena kept (ONNX Runtime's default)": "keep"}
PROBE = """
import json, sys, time
import numpy as np
import onnxruntime as ort
import translate.runtime as runtime

def rss_mib():
    for line in open("/proc/self/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024

if sys.argv[2] == "keep":
    runtime._shrinking_arenas = lambda session: ort.RunOptions()
translator = runtime.Translator(sys.argv[1], threads=2, max_pixels=1 << 40)
small, large, repeats = (int(v) for v in sys.argv[3:6])
rng = np.random.default_rng(0)
image = lambda side: rng.integers(0, 256, (side, side, 3), dtype=np.uint8)
translator.translate(image(small))
after_warmup = rss_mib()
translator.translate(image(large))
after_large = rss_mib()
times = []
for _ in range(repeats):
    start = time.perf_counter()
    translator.translate(image(small))
    times.append(time.perf_counter() - start)
print(json.dumps({"warmup": after_warmup, "large": after_large, "small": rss_mib(), "seconds": times}))
"""


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("model", help="a translation model's ONNX file")
    parser.add_argument("--small", type=int, default=256)
    parser.add_argument("--large", type=int, default=1536)
    parser.add_argument("--repeats", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--note", default="", help="a line to add under the table (e.g. 'machine busy')")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "translator-arena.md")
    args = parser.parse_args(argv)
    results: dict[str, list[dict]] = {name: [] for name in MODES}
    for _ in range(args.rounds):
        for name, mode in MODES.items():
            out = subprocess.run([sys.executable, "-c", PROBE, args.model, mode, str(args.small), str(args.large),
                                  str(args.repeats)], capture_output=True, text=True, check=True, cwd=ROOT)
            results[name].append(json.loads(out.stdout.strip().splitlines()[-1]))
    lines = [f"ONNX Runtime (CPU, 2 threads) translating with {Path(args.model).name} on {describe_cpu()}: resident "
             f"memory (median of {args.rounds} processes per mode, the modes alternating) after a {args.small}-px "
             f"warm-up, after one {args.large}-px image, and after {args.repeats} more {args.small}-px images; "
             f"the median time of those.", "",
             f"| arena | after warm-up (MiB) | after {args.large} px (MiB) | after {args.small} px again (MiB) "
             f"| {args.small} px (s) |", "| --- | ---: | ---: | ---: | ---: |"]
    for name, runs in results.items():
        median = {key: statistics.median(run[key] for run in runs) for key in ("warmup", "large", "small")}
        seconds = statistics.median(t for run in runs for t in run["seconds"])
        lines.append(f"| {name} | {median['warmup']:.0f} | {median['large']:.0f} | {median['small']:.0f} "
                     f"| {seconds:.3f} |")
    if args.note:
        lines += ["", args.note]
    table = "\n".join(lines) + "\n"
    print(table)
    save_result(args.out, table, {"results": results}, __file__, argv)


if __name__ == "__main__":
    run_cli(main)
