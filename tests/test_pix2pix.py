"""pix2pix: its networks and step, and a tiny model through every command: train (with
--eval-every, --precision, --l1-only, --download), resume exactly, sample, pack, export,
apply, evaluate and the runtime, at the sizes its depth states."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors.torch import load_file

from translate.apply import main as apply_main
from translate.cli import run_cli
from translate.errors import ConfigError
from translate.evaluate import main as evaluate_main
from translate.export import main as export_main
from translate.families import get_family
from translate.families.pix2pix.nets import Pix2PixConfig, build_discriminator, build_generator
from translate.families.pix2pix.recipe import Pix2PixRecipe
from translate.families.pix2pix.settings import Pix2PixHyper
from translate.io.fileio import write_image
from translate.io.images import read_image
from translate.modeling.checkpoint import STATE, WEIGHTS, find_checkpoint
from translate.pack import main as pack_main
from translate.pairs import main as pairs_main
from translate.runtime import Translator
from translate.sample import main as sample_main
from translate.training.distributed import Context

from .cli_errors import one_line_error
from .local_server import serving
from .training_runs import cpu_preset_run, train

TINY = ("--ngf", "4", "--ndf", "4", "--depth", "3", "--load-size", "36", "--crop-size", "32", "--workers", "0",
        "--log-every", "1")
ODD = (45, 61)  # no multiple of 8


def _config(**changes) -> Pix2PixConfig:
    return Pix2PixConfig(**{"ngf": 4, "ndf": 4, "depth": 3, "image_size": 32, "dataset": "tiny", **changes})


@pytest.fixture(scope="module")
def data(tmp_path_factory) -> Path:
    """``<root>/grey2photo``: 6 training and 3 test pairs that translate.pairs made of synthetic photos."""
    root = tmp_path_factory.mktemp("paired")
    rng = np.random.default_rng(0)
    for split, count in (("train", 6), ("test", 3)):
        (root / "photos" / split).mkdir(parents=True)
        for i in range(count):
            image = np.full((40, 40, 3), rng.integers(0, 256, 3), np.uint8)
            image[10:30, 8:28] = rng.integers(0, 256, 3)
            write_image(root / "photos" / split / f"{i}.png", image)
    pairs_main(["gray", str(root / "photos" / "train"), str(root / "grey2photo"), "--test",
                str(root / "photos" / "test"), "--size", "40", "--domains", "grey", "colour"])
    return root


def argv(data: Path, out: Path, *extra: str) -> list[str]:
    return ["pix2pix", "--dataset", "grey2photo", "--data", str(data), "--out", str(out), *TINY, *extra]


def test_the_family_states_its_sizes_from_the_depth():
    family = get_family("pix2pix")
    assert family.directions == ("AtoB",) and family.task == "translate"
    assert family.input_sizes(_config(depth=3)) == (8, 8) and family.input_sizes(_config(depth=8)) == (256, 256)
    with pytest.raises(ConfigError, match="does not fit a U-Net of depth 3: pick a multiple of 8"):
        _config(image_size=36).validate()


def test_the_discriminator_judges_input_and_output_together():
    critic = build_discriminator(_config())
    assert critic.body[0][0].in_channels == 6
    assert critic(torch.rand(2, 6, 32, 32)).shape == (2, 1, 2, 2)


def test_the_default_norm_is_what_the_references_batch_norm_computes_on_one_image(data, tmp_path):
    from translate.train import _parse

    model, _ = get_family("pix2pix").new_settings(_parse(argv(data, tmp_path / "run")))
    assert model.norm == "instance_affine"
    for net in (build_generator(model), build_discriminator(model)):
        norms = [m for m in net.modules() if isinstance(m, torch.nn.InstanceNorm2d)]
        assert norms and all(m.affine and not m.track_running_stats for m in norms)


@pytest.mark.parametrize(("l1_only", "loss"), [(False, "bce"), (True, "bce"), (False, "wgan-gp")])
def test_one_step_trains_every_network_and_logs_its_terms(l1_only, loss):
    batch = (torch.rand(1, 3, 32, 32) * 2 - 1, torch.rand(1, 3, 32, 32) * 2 - 1)
    recipe = Pix2PixRecipe(_config(), Pix2PixHyper(l1_only=l1_only, loss=loss), Context(), batch)
    before = {name: [p.detach().clone() for p in m.parameters()] for name, m in recipe.modules().items()}
    logs = recipe.step(batch, 0)
    assert set(recipe.modules()) == ({"generator_AtoB"} if l1_only else {"generator_AtoB", "discriminator"})
    expected = {"g_loss", "l1"} if l1_only else {"g_loss", "l1", "g_gan", "d_loss"}
    assert set(logs) == expected | ({"gp"} if loss == "wgan-gp" else set())
    assert all(isinstance(value, float) for value in logs.values())
    if loss == "wgan-gp":  # the penalty's mixing is a pure function of (seed, step, rank)
        again = Pix2PixRecipe(_config(), Pix2PixHyper(loss=loss), Context(), batch)
        assert recipe.penalty_mixing(3).initial_seed() == again.penalty_mixing(3).initial_seed()
        assert recipe.penalty_mixing(3).initial_seed() != recipe.penalty_mixing(4).initial_seed()
    assert logs["g_loss"] == pytest.approx(100 * logs["l1"] + logs.get("g_gan", 0), rel=1e-5)
    for name, module in recipe.modules().items():
        assert any(not torch.equal(p, q) for p, q in zip(before[name], module.parameters(), strict=True)), name
    grid, per_row = recipe.sample_grid()
    assert per_row == 3 and torch.equal(grid[0], batch[0][0]) and torch.equal(grid[2], batch[1][0])


@pytest.mark.parametrize(("precision", "depth"), [("fp32", "3"), ("bf16", "3"), ("fp32", "6")])
def test_resume_is_exact_within_a_precision(data, tmp_path, capsys, precision, depth):
    """8 steps straight, and 5 then 3 more on --resume (across an epoch's end, and at depth 6
    through the U-Net's dropout): the same weights and optimiser states."""
    straight, split = tmp_path / "straight", tmp_path / "split"
    size = ["--depth", depth, "--crop-size", str(max(32, 2 ** int(depth))), "--load-size", "72"]
    train(*argv(data, straight, "--max-steps", "8", "--precision", precision, *size))
    train(*argv(data, split, "--max-steps", "5", "--precision", precision, *size))
    assert "--no-dropout differs from the run's dropout True" in one_line_error(
        capsys, lambda args: train(*args), *argv(data, split, "--resume", "--no-dropout", *size))
    train(*argv(data, split, "--resume", "--max-steps", "8", "--dropout", *size))  # the run's own command, resumed
    first, second = (find_checkpoint(run) for run in (straight, split))
    a, b = load_file(first / WEIGHTS), load_file(second / WEIGHTS)
    assert {name.split(".")[0] for name in a} == {"generator_AtoB", "discriminator"}
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
    states = [torch.load(c / STATE, weights_only=True) for c in (first, second)]
    for name, saved in states[0]["optimizers"].items():
        for index, tensors in saved["state"].items():
            assert all(torch.equal(v, states[1]["optimizers"][name]["state"][index][k]) for k, v in tensors.items())
    config = json.loads((second / "config.json").read_text())
    assert config["train"]["precision"] == precision and config["model"]["domain_a"] == "grey"


def test_the_weight_average_resumes_exactly_and_ships(data, tmp_path):
    """--average-from-epoch, the shared schedule's: the average of steps 2, 4, 6 and 8 (across
    the end of epoch 1) comes out the same straight and resumed, and is what pack ships."""
    straight, split, model = tmp_path / "straight", tmp_path / "split", tmp_path / "model"
    average = ("--average-from-epoch", "1", "--average-every", "2")
    train(*argv(data, straight, "--max-steps", "8", *average))
    train(*argv(data, split, "--max-steps", "5", *average))
    train(*argv(data, split, "--resume", "--max-steps", "8"))
    a, b = (load_file(find_checkpoint(run) / WEIGHTS) for run in (straight, split))
    assert {name.split(".")[0] for name in a} == {"generator_AtoB", "discriminator", "generator_AtoB_average"}
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
    run_cli(pack_main, [str(split), "--out", str(model)])
    packed = load_file(model / WEIGHTS)
    assert packed and all(torch.equal(v, b[k.replace("generator_AtoB.", "generator_AtoB_average.")])
                          for k, v in packed.items())


@pytest.mark.slow
def test_a_compiled_run_trains_and_records_it(data, tmp_path):
    train(*argv(data, tmp_path / "run", "--max-steps", "2", "--compile"))
    config = json.loads((find_checkpoint(tmp_path / "run") / "config.json").read_text())
    assert config["train"]["compile"] is True


@pytest.mark.slow
def test_the_cpu_preset_sets_its_recipe_under_the_flags_given_and_the_run_keeps_it(data, tmp_path, capsys):
    """The shipped model's recipe; flags given (TINY's networks and crops, no scoring) win."""
    run = tmp_path / "run"
    checkpoint, _ = cpu_preset_run(run, argv(data, run, "--eval-every", "0"),
                                   ["pix2pix", "--out", str(run), "--data", str(data)], capsys)
    settings, model, hyper = checkpoint.train, checkpoint.model, checkpoint.train["hyper"]
    assert (hyper["epochs"], hyper["epochs_decay"], hyper["average_from_epoch"]) == (9, 9, 4)  # not 100 + 100
    assert model["upsample"] == "resize"
    assert (model["depth"], model["image_size"], settings["load_size"], settings["eval_every"]) == (3, 32, 36, 0)


def test_l1_only_trains_a_generator_alone(data, tmp_path, capsys):
    train(*argv(data, tmp_path / "run", "--max-steps", "2", "--l1-only"))
    assert "note: training on the CPU without a preset may take days: --preset cpu (128-px crops" in \
        capsys.readouterr().err
    weights = load_file(find_checkpoint(tmp_path / "run") / WEIGHTS)
    assert {name.split(".")[0] for name in weights} == {"generator_AtoB"}


def test_download_fetches_the_dataset_and_trains(data, tmp_path, monkeypatch):
    import tarfile

    site = tmp_path / "site"
    site.mkdir()
    with tarfile.open(site / "facades.tar.gz", "w:gz") as archive:
        archive.add(data / "grey2photo" / "train", "facades/train")
        archive.add(data / "grey2photo" / "test", "facades/val")
    with serving(site) as port:
        monkeypatch.setenv("TRANSLATE_PIX2PIX_URL", f"http://127.0.0.1:{port}/{{name}}.tar.gz")
        train("pix2pix", "--dataset", "facades", "--download", "--data", str(tmp_path / "data"), "--out",
              str(tmp_path / "run"), "--max-steps", "1", "--reverse", *TINY)
    model = json.loads((find_checkpoint(tmp_path / "run") / "config.json").read_text())["model"]
    assert (model["reverse"], model["domain_a"], model["domain_b"]) == (True, "B", "A")
    assert sorted(p.name for p in (tmp_path / "data" / "facades").iterdir()) == ["train", "val"]


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ((), "name the paired dataset: --dataset NAME"),
        (("--dataset", "nowhere"), "no paired dataset"),
        (("--dataset", "grey2photo", "--crop-size", "36", "--load-size", "36"), "does not fit a U-Net of depth 3"),
        (("--dataset", "grey2photo", "--l1-only", "--lambda-l1", "0"), "leaves nothing to train on"),
        (("--dataset", "grey2photo", "--depth", "9"), "depth 9 is outside 2..8"),
        (("--dataset", "grey2photo", "--norm", "batch", "--average-from-epoch", "1"), "needs a norm without"),
    ],
)
def test_bad_settings_are_one_line_errors(data, tmp_path, capsys, extra, message):
    base = [a for a in TINY if a not in ("--crop-size", "32")] if "--crop-size" in extra else list(TINY)
    err = one_line_error(capsys, lambda args: train(*args), "pix2pix", "--data", str(data), "--out",
                         str(tmp_path / "run"), *base, *extra)
    assert message in err


def test_every_command_takes_a_pix2pix_model(data, data_root, tmp_path, capsys):
    run, model = tmp_path / "run", tmp_path / "model"
    weights = str(data_root / "fid" / "inception-2015-12-05-fid.pt")
    train(*argv(data, run, "--epochs", "1", "--epochs-decay", "0", "--eval-every", "1", "--fid-weights", weights))
    best = json.loads((run / "best" / "evaluation.json").read_text())
    assert {"fid", "l1", "psnr", "ssim"} <= best["scores"]["grey_to_colour"].keys()
    scored = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines() if '"eval"' in line]
    assert set(scored[-1]["eval"]) == {f"grey_to_colour/{m}" for m in ("fid", "kid_mean", "l1", "psnr", "ssim")}

    run_cli(sample_main, [str(run), "--data", str(data), "--n", "2", "--out", str(tmp_path / "grid.png")])
    assert read_image(tmp_path / "grid.png").shape[1] == 3 * 256 + 4 * 2  # input, output, target per row
    run_cli(pack_main, [str(run), "--out", str(model)])
    assert {name.split(".")[0] for name in load_file(model / WEIGHTS)} == {"generator_AtoB"}
    card = (model / "README.md").read_text()  # the dataset by its name, not the domains' (grey2colour)
    assert "datasets:\n- grey2photo\n" in card and "trained on grey2photo," in card
    assert "python -m translate.apply models/model --input grey/ --output colour/ --direction AtoB" in card

    onnx = tmp_path / "pix2pix.onnx"
    capsys.readouterr()
    run_cli(export_main, [str(model), "--out", str(onnx)])
    report = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert [1, 3, 80, 104] in report["checked_shapes"]  # the 75 x 101 check input, padded to a multiple of 8
    assert f"{model} is a one-way pix2pix model: it translates grey -> colour (--direction AtoB) only" in (
        one_line_error(capsys, export_main, str(model), "--direction", "BtoA", "--out", str(tmp_path / "back.onnx")))
    translator = Translator(onnx)
    assert (translator.info.pad_multiple, translator.info.min_size, translator.info.family) == (8, 8, "pix2pix")
    assert (translator.info.source_domain, translator.info.target_domain) == ("grey", "colour")
    odd = read_image(data / "photos" / "test" / "0.png")[: ODD[0], : ODD[1]]
    write_image(tmp_path / "odd.png", odd)
    assert translator.translate(odd).shape == odd.shape
    run_cli(apply_main, [str(model), "--input", str(tmp_path / "odd.png"), "--output", str(tmp_path / "applied"),
                         "--precision", "fp32"])
    applied = read_image(tmp_path / "applied" / "odd.png")
    assert np.abs(applied.astype(int) - translator.translate(odd).astype(int)).max() <= 1

    capsys.readouterr()
    run_cli(evaluate_main, [str(model), "--data", str(data), "--fid-weights", weights, "--cache-dir",
                            str(tmp_path / "cache")])
    scores = json.loads(capsys.readouterr().out)
    entry = scores["grey_to_colour"]
    assert entry["translated"] == "3 grey test inputs" and 0 <= entry["l1"] <= 1 and -1 <= entry["ssim"] <= 1
    assert entry["psnr"] > 0 and entry["fid"] >= 0 and scores["protocol"]["pairs"].startswith(
        "each test pair of grey2photo/test: ")  # the dataset by name, not this machine's path to it


def test_each_process_draws_its_own_dropout_masks_and_the_step_alone_decides_them():
    from translate.families.pix2pix.nets import Pix2PixConfig
    from translate.families.pix2pix.recipe import Pix2PixRecipe
    from translate.families.pix2pix.settings import Pix2PixHyper
    from translate.training.distributed import Context

    config = Pix2PixConfig(ngf=4, ndf=4, depth=6, image_size=64, dataset="pairs")  # dropout on level 4 of 6
    batch = tuple(torch.rand(1, 3, 64, 64) * 2 - 1 for _ in range(2))

    def generator_after_a_step(rank: int, global_seed: int, step: int = 7) -> dict[str, torch.Tensor]:
        torch.manual_seed(0)  # the same initial weights for every process, as a run's start gives them
        recipe = Pix2PixRecipe(config, Pix2PixHyper(l1_only=True), Context(rank=rank), batch)
        torch.manual_seed(global_seed)  # whatever state the global generator is in before the step
        recipe.step(batch, step)
        return recipe.generator.state_dict()

    def same(a: dict[str, torch.Tensor], b: dict[str, torch.Tensor]) -> bool:
        return all(torch.equal(a[k], v) for k, v in b.items())

    first = generator_after_a_step(0, 1)
    assert same(first, generator_after_a_step(0, 2))  # the global state before the step changes nothing
    assert not same(first, generator_after_a_step(1, 1))  # another process: other masks
    assert not same(first, generator_after_a_step(0, 1, step=8))  # another step: other masks
