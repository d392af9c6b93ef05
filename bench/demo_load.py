"""Load on the browser demo: concurrent gradio_client clients against one server on localhost.

Every client sends ``--requests`` requests in turn, alternating a 20-digit cDCGAN grid and
a horse -> zebra translation of a 256x256 test photo. The translator is the full-size
9-block CycleGAN generator with random weights (its cost does not depend on the weights),
exported through ``translate.export`` like a trained one. The baseline, in the same run, is
one client alone. The table gives latency percentiles, throughput, failed requests and the
server's peak resident memory (VmHWM), for the demo's default queue (2 at once).

    python bench/demo_load.py [--clients 8] [--requests 6] [--out bench/results/demo-load.md]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import torch
from gradio_client import Client, handle_file
from provenance import save_result

from translate.cli import run_cli
from translate.datasets.root import resolve_data_root
from translate.families.cyclegan.nets import GENERATOR_NAMES, CycleGANConfig, build_generator
from translate.modeling.checkpoint import write_model_folder
from translate.modeling.device import describe_cpu

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # demo/ is a folder of the repository, not an installed package
from demo.process import assemble_exports, memory_mib, served_demo  # noqa: E402

PHOTO = "horse2zebra/testA/n02381460_1010.jpg"


def random_cyclegan(folder: Path) -> Path:
    """A model folder holding a full-size CycleGAN with random weights (horse, zebra)."""
    torch.manual_seed(0)
    config = CycleGANConfig(domain_a="horse", domain_b="zebra")
    generators = {name: build_generator(config) for name in GENERATOR_NAMES.values()}
    write_model_folder(folder, "cyclegan", config.to_dict(), generators)
    return folder


def client_session(url: str, requests: int, photo: Path, index: int) -> list[tuple[str, float, str | None]]:
    """(kind, seconds, error or None) for each request of one client."""
    client = Client(url, verbose=False)
    results = []
    for i in range(requests):
        kind = "digits" if (i + index) % 2 == 0 else "translate"
        start = time.perf_counter()
        try:
            if kind == "digits":
                client.predict("cdcgan", str(i % 10), 20, i, i + 1, 0.0, api_name="/generate_digits")
            else:
                client.predict(handle_file(str(photo)), "AtoB", False, api_name="/translate_photo")
            error = None
        except Exception as exc:  # any failure is a result to count, not a reason to stop
            error = f"{type(exc).__name__}: {exc}"
        results.append((kind, time.perf_counter() - start, error))
    return results


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def run_load(url: str, pid: int, clients: int, requests: int, photo: Path) -> dict[str, object]:
    # The server's high-water mark only rises: start it again at its resident size, so that each
    # phase's peak is its own and not the phases' before it (writing 5 to clear_refs resets it).
    Path(f"/proc/{pid}/clear_refs").write_text("5")
    start = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        sessions = list(pool.map(lambda i: client_session(url, requests, photo, i), range(clients)))
    wall = time.perf_counter() - start
    results = [r for session in sessions for r in session]
    row: dict[str, object] = {"clients": clients, "requests": len(results), "wall_s": wall,
                              "throughput_per_s": len(results) / wall, "peak_rss_mib": memory_mib(pid, "VmHWM")}
    row["failed"] = [error for _, _, error in results if error]
    for kind in ("digits", "translate"):
        times = [seconds for k, seconds, error in results if k == kind and not error]
        row[kind] = {"n": len(times), "p50": statistics.median(times), "p90": percentile(times, 0.9),
                     "p99": percentile(times, 0.99), "max": max(times)}
    return row


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--requests", type=int, default=6, help="per client")
    parser.add_argument("--data", help="data folder with horse2zebra (default: TRANSLATE_DATA or ./data)")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "demo-load.md")
    parser.add_argument("--note", default="", help="what else the machine was doing, for the table's caption")
    args = parser.parse_args(argv)
    photo = resolve_data_root(args.data) / PHOTO
    with tempfile.TemporaryDirectory() as tmp:
        exports = assemble_exports(Path(tmp) / "exports", random_cyclegan(Path(tmp) / "cyclegan"))
        with served_demo(exports, Path(tmp) / "server") as (url, process):
            client_session(url, 2, photo, 0)  # warm-up: first session runs, first upload
            rows = [run_load(url, process.pid, n, args.requests, photo) for n in (1, args.clients)]
    write_table(rows, args.out, args.note, argv)


def write_table(rows: list[dict], out: Path, note: str, argv: list[str] | None) -> None:
    base, last = rows[0], rows[-1]
    per_client = last["requests"] // last["clients"]
    lines = [
        "# Demo under load",
        "",
        f"`python bench/demo_load.py --clients {last['clients']} --requests {per_client}`"
        f" on the {describe_cpu()}; the server runs the"
        " demo's defaults (concurrency 2, queue 32). Latencies are seconds per request as a client sees"
        " them, queueing included." + (f" {note}" if note else ""),
        "",
        "| clients | requests | failed | digits p50 / p90 / p99 | translate p50 / p90 / p99 | req/s | "
        "server peak RSS (MiB) |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for row in rows:
        d, t = row["digits"], row["translate"]
        lines.append(
            f"| {row['clients']} | {row['requests']} | {len(row['failed'])} "
            f"| {d['p50']:.2f} / {d['p90']:.2f} / {d['p99']:.2f} | {t['p50']:.2f} / {t['p90']:.2f} / {t['p99']:.2f} "
            f"| {row['throughput_per_s']:.2f} | {row['peak_rss_mib']:.0f} |"
        )
    lines += [
        "",
        f"With {last['clients']} clients the median translation takes "
        f"{last['translate']['p50'] / base['translate']['p50']:.2f}x as long as for one client alone, and "
        f"throughput is {last['throughput_per_s'] / base['throughput_per_s']:.2f}x; the server's peak memory "
        f"is {last['peak_rss_mib'] / base['peak_rss_mib']:.2f}x the one-client peak.",
    ]
    print("\n".join(lines))
    save_result(out, "\n".join(lines), {"rows": rows}, __file__, argv)


if __name__ == "__main__":
    run_cli(main)
