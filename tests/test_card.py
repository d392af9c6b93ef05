"""Model cards written from a model folder's own files (translate.model_card, translate.card,
and pack, which writes one): every figure is the one in config.json, metrics.jsonl or
evaluation.json; the author's prose around the figures survives a rewrite; a card written by
hand is never touched; and a card with final scores passes the checks every shipped card must."""

from __future__ import annotations

import json
import shutil

import pytest
import yaml

from tests.cli_errors import one_line_error
from tests.exporting import trained_run
from tests.test_model_cards import test_a_model_card_has_front_matter_with_the_measured_figures as shipped_checks
from translate.card import main as card_main
from translate.cli import run_cli
from translate.io.fileio import file_sha256
from translate.model_card import BEGIN, END
from translate.modeling.device import describe_cpu
from translate.pack import main as pack_main
from translate.sample import main as sample_main

from .conftest import REPO


def front_matter(card) -> dict:
    return yaml.safe_load(card.read_text().split("---\n")[1])


@pytest.fixture(scope="module")
def cyclegan_run(tmp_path_factory):
    return trained_run(tmp_path_factory.mktemp("card"), "cyclegan", steps=2)


def scored(model, fid: float, kid: float) -> None:
    """An evaluation.json for the folder's weights, in the layout translate.evaluate --out writes."""
    entry = lambda direction, real: {"direction": direction, "fid": fid, "kid_mean": kid, "kid_std": 0.001,  # noqa: E731
                                     "translated": 120, "real": real}
    record = {"horse_to_zebra": entry("AtoB", 140), "zebra_to_horse": entry("BtoA", 120),
              "protocol": {"size": "256 px", "feature_layer": "pool3, 2048-d"},
              "weights_sha256": file_sha256(model / "model.safetensors")}
    (model / "evaluation.json").write_text(json.dumps(record))


def test_pack_writes_a_card_whose_figures_are_the_folders_own(cyclegan_run, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    run_cli(pack_main, [str(cyclegan_run), "--out", "models/tiny-h2z"])
    assert json.loads(capsys.readouterr().out)["card"] == "wrote models/tiny-h2z/README.md"
    card = tmp_path / "models" / "tiny-h2z" / "README.md"
    text = card.read_text()
    config = json.loads((card.parent / "config.json").read_text())
    last = [json.loads(line) for line in (card.parent / "metrics.jsonl").read_text().splitlines()][-1]
    assert front_matter(card) == {"license": "mit", "library_name": "translate-gan", "pipeline_tag": "image-to-image",
                                  "tags": ["gan", "cyclegan", "onnx"], "datasets": ["horse2zebra"]}
    assert "# cyclegan: horse ↔ zebra\n" in text
    assert ("python -m translate.apply models/tiny-h2z --input zebra/ --output horse/ --direction BtoA   "
            "# zebra -> horse\n") in text
    hyper = config["train"]["hyper"]
    assert f"| ngf | {config['model']['ngf']} |" in text and f"| lambda_cycle | {hyper['lambda_cycle']:.4g} |" in text
    assert f"| steps | {last['step']} |" in text and f"| machine | {describe_cpu()} |" in text
    assert (f"| training time | {last['cpu_hours']:.2f} CPU-hours of the training process, "
            f"{last['train_hours']:.2f} wall-clock hours (pauses included) |") in text
    assert "| stored as | fp32 |" in text
    assert ("Not scored yet: `python -m translate.evaluate models/tiny-h2z --out models/tiny-h2z/evaluation.json`, "
            "then `python -m translate.card models/tiny-h2z`.") in text
    assert text.index(BEGIN) < text.index("## Use") < text.index("## Data and license") < text.index(END)
    assert "samples.png" not in text  # no picture yet
    # The command the run was started with, as metrics.jsonl recorded it.
    [start] = [r["start"] for r in map(json.loads, (cyclegan_run / "metrics.jsonl").read_text().splitlines())
               if "start" in r]
    assert start["command"].startswith("python -m translate.train cyclegan --domains horse zebra")
    assert f"## Commands run (`metrics.jsonl`)\n\n```bash\n# from the start, {start['time']}" in text
    assert f"\n{start['command']}\n```" in text
    run_cli(sample_main, [str(card.parent), "--n", "1", "--data", str(cyclegan_run.parent / "data"), "--out",
                          str(card.parent / "samples.png")])
    run_cli(card_main, [str(card.parent)])
    shown = "![Test images and their translations, drawn by python -m translate.sample](samples.png)\n"
    assert card.read_text().index(shown) < card.read_text().index("## Use")
    # Photos ship as JPEG (a quarter of the bytes): of two pictures, the card shows the one drawn last.
    run_cli(sample_main, [str(card.parent), "--n", "1", "--data", str(cyclegan_run.parent / "data"), "--out",
                          str(card.parent / "samples.jpg")])
    assert (card.parent / "samples.jpg").read_bytes()[:3] == b"\xff\xd8\xff"  # a JPEG, as the name says
    run_cli(card_main, [str(card.parent)])
    text = card.read_text()
    assert shown.replace("samples.png", "samples.jpg") in text and "samples.png" not in text


def test_the_final_scores_go_in_and_the_authors_prose_stays(cyclegan_run, tmp_path, capsys):
    model = tmp_path / "tiny-h2z"
    run_cli(pack_main, [str(cyclegan_run), "--out", str(model)])
    card = model / "README.md"
    title, rest = card.read_text().split(BEGIN)
    card.write_text(f"{title}Why this recipe: prose of the author.\n\n{BEGIN}{rest}\n## Notes\n\nMore prose.\n")
    with (model / "metrics.jsonl").open("a") as metrics:  # a scoring taken during training, as the trainer records it
        metrics.write(json.dumps({"epoch": 2, "step": 8, "train_hours": 0.5, "eval": {
            "horse_to_zebra/fid": 201.25, "horse_to_zebra/kid_mean": 0.1234, "generators_averaged": 3}}) + "\n")
    scored(model, fid=97.934, kid=0.04216)
    capsys.readouterr()
    run_cli(card_main, [str(model)])
    assert capsys.readouterr().out == f"rewrote the front matter and the figures in {card}\n"
    text = card.read_text()
    assert "Why this recipe: prose of the author.\n" in text and text.endswith("## Notes\n\nMore prose.\n")
    assert text.count(BEGIN) == text.count(END) == 1 and text.count("---\nlicense: mit") == 1
    assert "| 2 | 8 | 0.5 | 201.2 | 0.1234 | 3 |" in text  # epoch, step, hours, the scores as recorded
    assert "| horse → zebra | 97.93 | 0.04216 | 0.001 |" in text
    [result, _] = front_matter(card)["model-index"][0]["results"]
    assert result["task"]["name"] == "horse → zebra"
    assert result["metrics"] == [{"type": "fid", "name": "FID", "value": 97.93},
                                 {"type": "kid", "name": "KID", "value": 0.0422}]
    shipped_checks(card)  # what every shipped card must pass: the front matter's figures are evaluation.json's

    # What the author adds to the front matter stays; scores of other weights do not.
    card.write_text(card.read_text().replace("tags:\n", "thumbnail: samples.png\ntags:\n- zebra\n", 1))
    run_cli(pack_main, [str(cyclegan_run), "--out", str(model), "--overwrite", "--fp16"])  # other weights now
    text = card.read_text()
    assert "`evaluation.json` scored other weights than this folder's" in text and "model-index" not in text
    assert "Why this recipe: prose of the author.\n" in text
    meta = front_matter(card)
    assert meta["thumbnail"] == "samples.png" and meta["tags"] == ["gan", "cyclegan", "onnx", "zebra"]
    assert "metrics" not in meta

    # A record that does not parse is called damaged, not a record of other weights.
    (model / "evaluation.json").write_text('{"weights_sha256": "ab')
    run_cli(card_main, [str(model)])
    assert "`evaluation.json` is damaged (not a JSON object), so it was not read" in card.read_text()


def test_a_card_written_by_hand_is_left_alone(cyclegan_run, tmp_path, capsys):
    model = tmp_path / "tiny-h2z"
    run_cli(pack_main, [str(cyclegan_run), "--out", str(model)])
    (model / "README.md").write_text("# My zebras\n\nWritten by hand.\n")
    capsys.readouterr()
    run_cli(pack_main, [str(cyclegan_run), "--out", str(model), "--overwrite"])
    assert json.loads(capsys.readouterr().out)["card"].startswith(f"kept {model / 'README.md'}: it has no block")
    assert (model / "README.md").read_text() == "# My zebras\n\nWritten by hand.\n"
    error = one_line_error(capsys, card_main, str(model))
    assert error.startswith(f"error: {model / 'README.md'} has no single block of figures to rewrite: put the line")
    (model / "README.md").write_bytes("\ufeff# Saved as UTF-16\n".encode("utf-16"))  # as some editors save
    assert one_line_error(capsys, card_main, str(model)).startswith(
        f"error: {model / 'README.md'} is not UTF-8 text (invalid start byte at byte 0): save it as UTF-8 text")
    (model / "README.md").unlink()
    (model / "README.md").mkdir()
    assert one_line_error(capsys, card_main, str(model)).startswith(
        f"error: {model / 'README.md'} is a folder, not a regular file, so it was not read: save it as UTF-8")
    (model / "README.md").rmdir()
    assert one_line_error(capsys, card_main, str(tmp_path)).startswith(f"error: no checkpoint in {tmp_path}")
    assert one_line_error(capsys, card_main, str(cyclegan_run)) == (
        f"error: {cyclegan_run} is a training run or checkpoint, not a model folder: write one with python -m "
        f"translate.pack {cyclegan_run} --out models/NAME (it writes the card too)")
    assert one_line_error(capsys, card_main, str(model / "config.json")) == (
        f"error: {model / 'config.json'} is a file: pass the model folder that holds it, {model}")
    (model / "model.safetensors").write_bytes(b"junk")
    assert "model.safetensors is not a readable safetensors file" in one_line_error(capsys, card_main, str(model))


def test_a_digit_models_card_draws_and_carries_its_scores(tmp_path):
    shipped = REPO / "models" / "cdcgan-mnist"
    model = tmp_path / "cdcgan-mnist"
    model.mkdir()
    for name in ("model.safetensors", "config.json", "metrics.jsonl", "evaluation.json"):  # its card left behind
        shutil.copy(shipped / name, model)
    run_cli(card_main, [str(model)])
    card = model / "README.md"
    text = card.read_text()
    assert "# cdcgan on mnist\n" in text
    assert "python -m translate.sample models/cdcgan-mnist --n 64 --seed 0 --out grid.png" in text
    evaluation = json.loads((shipped / "evaluation.json").read_text())
    assert f"| model | {evaluation['fid']:.4g} | {evaluation['kid_mean']:.4g} |" in text
    meta = front_matter(card)
    assert meta["pipeline_tag"] == "unconditional-image-generation" and meta["metrics"] == ["fid", "kid", "accuracy"]
    shipped_checks(card)


@pytest.mark.slow
def test_a_card_of_a_runs_best_generators_states_their_own_training(tmp_path, data_root, capsys):
    """The best generators are often not the last: their card gives the step and hours at which
    they were kept, says how they were chosen and how far the run went on, and has the run's
    settings, also for a best/ kept before best/ recorded them."""
    from tests.cyclegan_data import horse2zebra, horse_zebra_argv
    from translate.modeling.checkpoint import read_checkpoint
    from translate.train import main as train_main

    run = tmp_path / "run"
    # 4 steps an epoch: scored (and kept as best/) at epoch 1, then 2 steps more.
    run_cli(train_main, horse_zebra_argv(horse2zebra(tmp_path / "data"), "--out", str(run), "--epochs", "1",
                                         "--epochs-decay", "1", "--eval-every", "1", "--max-steps", "6",
                                         "--fid-weights", str(data_root / "fid" / "inception-2015-12-05-fid.pt")))
    records = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    [scoring] = [r for r in records if "eval" in r]
    kept, end = next(r for r in records if r["step"] == 4 and "images_per_s" in r), records[-1]
    assert scoring["step"] == 4 and end["step"] == 6
    settings = read_checkpoint(run).train
    assert settings["eval_every"] == 1 and read_checkpoint(run / "best").train == settings  # best/ records them
    for kept_before_the_fix in (False, True):
        if kept_before_the_fix:
            config = json.loads((run / "best" / "config.json").read_text())
            (run / "best" / "config.json").write_text(json.dumps({**config, "train": {}}))
        model = tmp_path / f"model-{kept_before_the_fix}"
        capsys.readouterr()
        run_cli(pack_main, [str(run / "best"), "--out", str(model)])
        packed = json.loads(capsys.readouterr().out)
        assert (packed["source_epoch"], packed["source_step"]) == ("1", "4")
        assert read_checkpoint(model).train == settings
        text = (model / "README.md").read_text()
        assert "| epochs | 1 |\n| steps | 4 |\n" in text
        assert (f"| training time | {kept['cpu_hours']:.2f} CPU-hours of the training process, "
                f"{kept['train_hours']:.2f} wall-clock hours (pauses included) |") in text
        assert ("| these weights | the weights kept for the best horse → zebra FID scored during training "
                "(epoch 1), on the test sets of the scores below: chosen as the lowest of several noisy readings, "
                "that FID reads a little low |") in text
        assert packed["source_chosen_by"] == "AtoB"  # the direction whose FID kept them
        assert (f"| the run went on to | step 6: 1.50 (1 complete) epochs; {end['cpu_hours']:.2f} CPU-hours of "
                f"the training process, {end['train_hours']:.2f} wall-clock hours (pauses included) |") in text
        assert "| **1** (these weights) | 4 |" in text and "| eval_every | 1 |" in text
    # Packed again (as fp16, say), a model folder keeps where its weights come from.
    run_cli(pack_main, [str(tmp_path / "model-True"), "--out", str(tmp_path / "again"), "--fp16"])
    again = json.loads(capsys.readouterr().out)
    assert again["source_step"] == "4" and again["source_chosen_by"] == "AtoB"
    assert "| steps | 4 |\n" in (tmp_path / "again" / "README.md").read_text()
    assert "| stored as | fp16 (half the download; the networks compute in fp32) |" in (
        tmp_path / "again" / "README.md").read_text()
    # Kept from a weight average (--average-from-epoch), the card says how many snapshots it held.
    averaged = [{**r, "eval": {**r["eval"], "generators_averaged": 2}} if "eval" in r else r for r in records]
    (run / "metrics.jsonl").write_text("".join(json.dumps(r) + "\n" for r in averaged))
    run_cli(pack_main, [str(run / "best"), "--out", str(tmp_path / "averaged")])
    assert json.loads(capsys.readouterr().out)["source_choice"] == (
        "the average of 2 snapshots of the weights kept for the best horse → zebra FID scored during training "
        "(epoch 1), on the test sets of the scores below: chosen as the lowest of several noisy readings, that FID "
        "reads a little low")
    # A checkpoint's own step, from its training state.
    run_cli(pack_main, [str(run), "--out", str(tmp_path / "last")])
    assert json.loads(capsys.readouterr().out)["source_choice"] == "the checkpoint of step 6"
    text = (tmp_path / "last" / "README.md").read_text()
    assert "| epochs | 1.50 (1 complete) |\n| steps | 6 |\n" in text and "the run went on to" not in text
    # A checkpoint of a run whose weight average has begun ships the average, and says so.
    averaging = tmp_path / "averaging"
    run_cli(train_main, horse_zebra_argv(tmp_path / "data", "--out", str(averaging), "--average-from-epoch", "1",
                                         "--average-every", "1", "--eval-every", "0", "--max-steps", "2"))
    capsys.readouterr()
    run_cli(pack_main, [str(averaging), "--out", str(tmp_path / "last-averaged")])
    assert json.loads(capsys.readouterr().out)["source_choice"] == (
        "the average of 2 snapshots of the weights in the checkpoint of step 2")


def test_a_front_matter_yaml_cannot_read_is_refused_not_replaced(cyclegan_run, tmp_path, capsys):
    model = tmp_path / "tiny-h2z"
    run_cli(pack_main, [str(cyclegan_run), "--out", str(model)])
    card = model / "README.md"
    broken = card.read_text().replace("tags:\n", "thumbnail: [samples.png\ntags:\n", 1)  # an unclosed list
    broken = broken.replace(END, "a stale figure\n" + END)
    card.write_text(broken)
    error = one_line_error(capsys, card_main, str(model))
    assert error.startswith(f"error: {card}'s front matter is not YAML (line ") and "fix it" in error
    assert card.read_text() == broken  # the author's keys are not dropped
    capsys.readouterr()
    run_cli(pack_main, [str(cyclegan_run), "--out", str(model), "--overwrite", "--fp16"])  # other weights
    done = json.loads(capsys.readouterr().out)["card"]
    assert done.startswith(f"rewrote the figures (kept the front matter as it was: {card}'s front matter is not "
                           "YAML (line ") and done.endswith(f"then python -m translate.card) in {card}")
    text = card.read_text()
    assert text.startswith(broken.split(BEGIN)[0])  # the author's front matter and prose, as they were
    assert "a stale figure" not in text and text.count(BEGIN) == 1  # the figures were written again
    (model / "README.md").write_bytes("# Saved as UTF-16\n".encode("utf-16"))
    capsys.readouterr()
    run_cli(pack_main, [str(cyclegan_run), "--out", str(model), "--overwrite"])  # the weights went in: no error
    assert json.loads(capsys.readouterr().out)["card"].startswith(f"kept {card}: {card} is not UTF-8 text")


def test_a_digit_model_trained_with_ema_says_its_card_holds_the_average(tmp_path, capsys):
    run = trained_run(tmp_path, "dcgan", steps=2, extra=("--ema", "0.9"))
    capsys.readouterr()
    run_cli(pack_main, [str(run), "--out", str(tmp_path / "model")])
    assert json.loads(capsys.readouterr().out)["source_choice"] == (
        "the exponential moving average (--ema) of the generator's weights in the checkpoint of step 2")
    assert "| these weights | the exponential moving average (--ema) of the generator's weights in the checkpoint " \
           "of step 2 |" in (tmp_path / "model" / "README.md").read_text()
