"""Score a trained model, with the protocol its family defines: MNIST generators get FID and
KID against the MNIST test split, the Inception Score by the MNIST judge beside the real
test digits' own (and for conditional models the share of digits the judge reads as the
requested label); CycleGAN gets FID and KID in both directions on the domains' test sets.
Or, with ``--folders DIR1 DIR2``, FID and KID between the images of two folders.

``python -m translate.evaluate RUN_OR_CHECKPOINT [--n 10000]`` prints one JSON object on
stdout, with the protocol it measured under. Progress goes to stderr: a bar on a terminal,
otherwise (a log file, CI) a line when each pass starts and ends and every
``--progress-every`` seconds between.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from translate.arguments import output_file
from translate.cli import run_cli
from translate.datasets.root import resolve_data_root
from translate.errors import ConfigError
from translate.evaluation.inception import DTYPES
from translate.evaluation.judge import DEFAULT_CLASSIFIER
from translate.evaluation.protocols import MAX_GENERATED, EvaluationRequest, score_folders
from translate.evaluation.record import EVALUATION_FILE
from translate.families import get_family
from translate.io.fileio import check_writable, file_sha256, read_json_if_exists, write_json
from translate.io.run_layout import refuse_run_files
from translate.modeling.checkpoint import WEIGHTS, read_checkpoint
from translate.modeling.device import select_device
from translate.progress import DEFAULT_EVERY, Progress

DESCRIPTION = (
    "Score a trained model (FID, KID and, for conditional models, accuracy), or two folders of "
    "images with --folders; prints one JSON object."
)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m translate.evaluate", description=DESCRIPTION)
    parser.add_argument("checkpoint", type=Path, nargs="?",
                        help="run folder, checkpoint folder or shipped model folder")
    parser.add_argument("--folders", type=Path, nargs=2, metavar=("DIR1", "DIR2"),
                        help="instead of a model: FID and KID between the images of two folders")
    parser.add_argument(
        "--n", type=int, default=10000, help=f"generated images to score (default 10000, at most {MAX_GENERATED})"
    )
    parser.add_argument("--real-n", type=int, help="score against only the first N test images (default all); "
                        "for a CycleGAN, each domain's first N test images are both translated and the real set")
    parser.add_argument("--data", help="folder holding the datasets and fid/ (default $TRANSLATE_DATA, else ./data)")
    parser.add_argument("--fid-weights", help="Inception TorchScript (default $TRANSLATE_FID_WEIGHTS, else in --data)")
    parser.add_argument("--classifier", help="digit models: the classifier behind the Inception Score and "
                        f"conditional accuracy (default: the one shipped in the package, {DEFAULT_CLASSIFIER.name})")
    parser.add_argument("--batch-size", type=int, default=50, help="images per generator and Inception pass")
    parser.add_argument("--seed", type=int, default=0, help="seed of the noise and of KID's subsets")
    parser.add_argument(
        "--cache-dir", help="where real-set features are kept (default $TRANSLATE_CACHE, else ~/.cache/translate)"
    )
    parser.add_argument("--progress-every", type=float, default=DEFAULT_EVERY, metavar="SECONDS",
                        help=f"off a terminal (a log file, CI): seconds between progress lines (default "
                        f"{DEFAULT_EVERY:.0f}); on a terminal a bar shows instead")
    parser.add_argument("--truncation", type=float, metavar="T",
                        help="digit models: draw the codes with the truncation trick at T, as sample --truncation")
    parser.add_argument("--precision", choices=list(DTYPES), default="fp32",
                        help="of the Inception network (default fp32). bf16 runs its batches about 3x faster on "
                        "CPUs with native bf16 but moves FID (+0.33 on the cDCGAN's 10,000 digits, +0.52 on "
                        "horse2zebra's test sets: docs/metrics.md), so compare only figures of one precision")
    parser.add_argument("--gpu", action="store_true", help="run the generator and Inception on CUDA")
    parser.add_argument("--out", type=output_file(EVALUATION_FILE),
                        help=f"also write the JSON to this file, e.g. MODEL/{EVALUATION_FILE}, whose scores "
                        "translate.export then puts in the ONNX file's metadata")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    if (args.checkpoint is None) == (args.folders is None):
        raise ConfigError("name a run, checkpoint or model folder to score, or two image folders with --folders A B")
    if not args.progress_every >= 0:
        raise ConfigError(f"--progress-every must be 0 seconds or more, got {args.progress_every}")
    if args.out:
        check_record_target(args.out)  # now, not after minutes of scoring
    if args.cache_dir:
        check_writable(Path(args.cache_dir), "--cache-dir")
    request = EvaluationRequest(
        data_root=resolve_data_root(args.data), device=select_device(args.gpu), n=args.n, real_n=args.real_n,
        fid_weights=args.fid_weights, classifier=args.classifier, batch_size=args.batch_size, seed=args.seed,
        cache_dir=args.cache_dir, progress=Progress.for_stderr(args.progress_every), truncation=args.truncation,
        precision=args.precision,
    )
    if args.folders:
        request.validate()
        result = score_folders(tuple(args.folders), request)
    else:
        checkpoint = read_checkpoint(args.checkpoint)
        scores = get_family(checkpoint.family).evaluate(checkpoint, request)  # reads (and checks) the weights
        result = {"checkpoint": str(args.checkpoint), "weights_sha256": file_sha256(checkpoint.path / WEIGHTS),
                  **scores}
    result["seconds"] = round(time.perf_counter() - start, 1)
    print(json.dumps(result), flush=True)  # first: the scores are on the screen even if --out fails
    if args.out:
        write_json(args.out, result)



def check_record_target(path: Path) -> None:
    """ConfigError unless ``path`` is somewhere the scores can go: a .json file, new or an earlier
    record of this command (never a model's config.json or a run's own files), in a writable folder."""
    example = f"e.g. MODEL/{EVALUATION_FILE}"
    if path.suffix.lower() != ".json":
        raise ConfigError(f"--out {path}: the scores are written as JSON: name a .json file, {example}")
    refuse_run_files(path, "--out")
    if path.exists():
        earlier = read_json_if_exists(path)
        if not (isinstance(earlier, dict) and {"protocol", "scores"} & earlier.keys()):  # scores, or best/'s
            raise ConfigError(f"--out {path} exists and is not an earlier record of translate.evaluate: "
                              f"choose another file, {example}")
    check_writable(path.parent, "--out")


def run() -> None:
    """The ``translate-evaluate`` console command."""
    run_cli(main)


if __name__ == "__main__":
    run()
