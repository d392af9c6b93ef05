"""``python -m translate.evaluate`` end to end on tiny untrained generators, and its errors."""

import json
from types import SimpleNamespace

import cv2
import numpy as np
import pytest
import torch

from translate import progress as progress_module
from translate.cli import run_cli
from translate.datasets.root import resolve_data_root
from translate.errors import ConfigError
from translate.evaluate import check_record_target, main
from translate.evaluation.inception import image_features
from translate.evaluation.judge import conditional_accuracy, load_classifier
from translate.evaluation.protocols import EvaluationRequest, TranslationScorer, score_generated_digits
from translate.evaluation.scores import fid
from translate.families import load_generator
from translate.families.dcgan.family import generate, requested_labels
from translate.families.dcgan.nets import DCGANConfig, Generator
from translate.training.checkpoint import save_checkpoint

from .cli_errors import one_line_error
from .conftest import REPO
from .cyclegan_data import horse2zebra
from .exporting import trained_run
from .memory import peak_rss_kb, reset_peak_rss


def run_folder(path, n_classes=0, image_size=28, train=None):
    """A run folder with one checkpoint of an untrained, tiny generator."""
    config = DCGANConfig(image_size=image_size, z_dim=8, n_classes=n_classes, ngf=4, ndf=4)
    family = "cdcgan" if n_classes else "dcgan"
    save_checkpoint(path, 1, family, config.to_dict(), train or {}, {"generator": Generator(config)}, {})
    return path


def test_a_batched_draw_is_the_same_as_one_draw():
    config = DCGANConfig(z_dim=8, n_classes=10, ngf=4, ndf=4)
    generator = Generator(config).eval()
    images = generate(generator, config, 23, seed=5, batch_size=10)  # evaluate's batched draw
    assert torch.equal(requested_labels(config, 23), torch.arange(23) % 10)
    torch.testing.assert_close(images, generate(generator, config, 23, seed=5, batch_size=256))


def evaluate(capsys, *argv):
    run_cli(main, [str(a) for a in argv])
    out = capsys.readouterr().out
    assert len(out.strip().splitlines()) == 1  # exactly one JSON object on stdout
    return json.loads(out)


@pytest.mark.slow
def test_unconditional_model_gets_fid_kid_and_its_protocol(tmp_path, capsys):
    model = run_folder(tmp_path / "dcgan")
    result = evaluate(capsys, model, "--n", 6, "--real-n", 6, "--cache-dir", tmp_path / "cache")
    assert result["fid"] > 0 and result["kid_mean"] > 0  # an untrained generator is far from real digits
    # Subsets of 6 out of 6 are permutations of both sets: every subset gives the same MMD.
    assert result["kid_std"] == pytest.approx(0.0, abs=1e-12)
    assert "conditional_accuracy" not in result
    protocol = result["protocol"]
    assert protocol["real_images"] == 6 and protocol["generated_images"] == 6
    assert protocol["weights"] == "inception-2015-12-05-fid.pt"
    assert protocol["feature_layer"] == "pool3, 2048-d"
    assert "bicubic" in protocol["inception_input"] and "none" in protocol["real_resize"]
    assert len(list((tmp_path / "cache").glob("mnist-test-28px-*.npy"))) == 1


@pytest.mark.slow
def test_conditional_model_at_32px_adds_accuracy_and_is_reproducible(tmp_path, capsys):
    model = run_folder(tmp_path / "cdcgan", n_classes=10, image_size=32)
    argv = [model, "--n", 12, "--real-n", 4, "--cache-dir", tmp_path / "cache", "--batch-size", 5]
    first = evaluate(capsys, *argv)
    # The judge's reading of exactly the images translate.sample draws with the same seed.
    generator, config = load_generator(model)
    images = generate(generator, config, 12, seed=0)
    labels = requested_labels(config, 12)
    assert labels.tolist() == [*range(10), 0, 1]
    expected = conditional_accuracy(load_classifier(), images, labels)
    assert first["conditional_accuracy"] == expected
    assert "32 px" in first["protocol"]["real_resize"] and "28 px" in first["protocol"]["classifier_input"]
    assert first["protocol"]["labels"] == "balanced: 2 for labels 0..1, 1 for the rest (sample i asks for label i % 10)"
    second = evaluate(capsys, *argv)  # the real features now come from the cache
    assert (second["fid"], second["kid_mean"]) == (first["fid"], first["kid_mean"])


@pytest.mark.slow
def test_scored_digits_are_the_ones_sample_draws_with_the_same_seed_and_labels(tmp_path, capsys):
    """On the shipped cDCGAN, whose digits the judge reads (an untrained generator's are all read
    as one digit, so any seed or label order would score the same)."""
    model = REPO / "models" / "cdcgan-mnist"
    argv = [model, "--n", 20, "--real-n", 20, "--cache-dir", tmp_path / "cache"]
    result = evaluate(capsys, *argv, "--seed", 3)
    generator, config = load_generator(model)
    labels = requested_labels(config, 20)
    expected = conditional_accuracy(load_classifier(), generate(generator, config, 20, seed=3), labels)
    assert result["conditional_accuracy"] == expected >= 0.9
    drawn = generate(generator, config, 20, seed=3)
    assert conditional_accuracy(load_classifier(), drawn, labels.roll(1)) < 0.5  # the judge tells the labels apart
    request = EvaluationRequest(resolve_data_root(None), n=20, real_n=20, seed=3, cache_dir=str(tmp_path / "cache"))
    assert score_generated_digits(drawn, labels, 10, request, "seed 3")["fid"] == result["fid"]
    assert evaluate(capsys, *argv, "--seed", 4)["fid"] != result["fid"]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["{tmp}/missing"], "does not exist"),
        (["{model}", "--fid-weights", "{tmp}/none.pt"], "none.pt"),
        (["{model}", "--n", "1"], "at least 2"),
        (["{model}", "--n", "50001"], "more than 50,000"),
        (["{model}", "--batch-size", "0"], "at least 1"),
        (["{model}", "--classifier", "{tmp}"], "no classifier"),
        (["{model}", "--seed", "-1"], "--seed must lie in 0.."),
        (["{model}", "--cache-dir", "{model}/checkpoints/latest/cache"], "--cache-dir {model}/checkpoints/latest/"
         "cache cannot be created: {model}/checkpoints/latest is a file, not a folder: choose another --cache-dir"),
        (["{model}", "--out", "{model}/checkpoints/latest"], "the scores are written as JSON: name a .json file"),
        (["{model}", "--out", "{tmp}/model.safetensors"], "the scores are written as JSON: name a .json file"),
        (["{model}", "--out", "{model}/best/evaluation.json"], "which belongs to the training run"),
    ],
)
@pytest.mark.slow
def test_errors_are_one_line_and_exit_2(tmp_path, capsys, argv, message):
    model = run_folder(tmp_path / "model", n_classes=10)
    with pytest.raises(SystemExit) as exit_info:
        run_cli(main, [a.format(tmp=tmp_path, model=model) for a in argv])
    assert exit_info.value.code == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith("error: ") and captured.err.count("\n") == 1
    assert message.format(tmp=tmp_path, model=model) in captured.err


def test_a_digit_model_trained_on_a_folder_is_not_scored_against_mnist(tmp_path, capsys):
    model = run_folder(tmp_path / "model", n_classes=10, train={"dataset": "folder"})
    error = one_line_error(capsys, main, str(model), "--n", "10", "--real-n", "4", "--cache-dir", str(tmp_path))
    assert "was trained on --dataset folder" in error and "--folders REAL_DIR GENERATED_DIR" in error


def test_out_replaces_an_earlier_record_but_never_another_json_file(tmp_path, capsys):
    config = tmp_path / "config.json"
    config.write_text('{"family": "dcgan"}')
    error = one_line_error(capsys, main, "--folders", str(tmp_path), str(tmp_path), "--out", str(config))
    assert error == (f"error: --out {config} exists and is not an earlier record of translate.evaluate: choose "
                     "another file, e.g. MODEL/evaluation.json")
    assert config.read_text() == '{"family": "dcgan"}'
    check_record_target(tmp_path / "new.json")
    config.write_text('{"fid": 1.0, "protocol": {}}')
    check_record_target(config)


def test_evaluate_takes_a_model_or_two_folders_not_both_nor_neither(tmp_path, capsys):
    expected = "error: name a run, checkpoint or model folder to score, or two image folders with --folders A B"
    assert one_line_error(capsys, main) == expected
    assert one_line_error(capsys, main, str(tmp_path), "--folders", str(tmp_path), str(tmp_path)) == expected


def test_a_translation_model_without_test_sets_is_one_line_naming_where_it_looked(tmp_path, capsys):
    run = trained_run(tmp_path, "cyclegan", steps=1)
    data = horse2zebra(tmp_path / "train-only", {"trainA": 1, "trainB": 1})
    error = one_line_error(capsys, main, str(run), "--data", str(data))
    assert error == (f"error: scoring needs test images: {data / 'horse2zebra'}/testA and "
                     f"{data / 'horse2zebra'}/testB were not found: add them (python -m translate.data fetch "
                     "horse2zebra has them for the reference datasets)")


@pytest.mark.slow
def test_each_direction_meets_its_target_domains_real_set(data_root, tmp_path):
    """Generators that change nothing score the distance between the two real test sets, each
    way: paired with its source domain's set by mistake, a translation would score about 0."""
    request = EvaluationRequest(data_root, real_n=10, cache_dir=str(tmp_path))
    scorer = TranslationScorer(("horse", "zebra"), 3, request, 4, 4)
    scores = scorer.score({"AtoB": torch.nn.Identity(), "BtoA": torch.nn.Identity()})
    horses, zebras = (image_features(scorer.extractor, scorer.real[name]) for name in ("horse", "zebra"))
    assert scores["horse_to_zebra"]["fid"] == pytest.approx(fid(horses, zebras), rel=1e-6)
    assert scores["zebra_to_horse"]["fid"] == pytest.approx(fid(zebras, horses), rel=1e-6)
    assert scores["horse_to_zebra"]["fid"] > 50


@pytest.mark.slow
def test_cyclegan_is_scored_in_both_directions_on_the_test_sets(tmp_path, capsys, data_root):
    run = trained_run(tmp_path, "cyclegan", steps=2)
    data = tmp_path / "data"  # trained_run's copy: 2 test horses, 2 test zebras
    broken = data / "horse2zebra" / "testB" / "n0_broken.jpg"  # passed over and named, not a stop
    broken.write_bytes(b"\xff\xd8 not a photo")
    weights = data_root / "fid" / "inception-2015-12-05-fid.pt"
    capsys.readouterr()  # the training run's output
    run_cli(
        main, [str(run), "--data", str(data), "--fid-weights", str(weights), "--cache-dir", str(tmp_path / "cache")]
    )
    captured = capsys.readouterr()
    result = json.loads(captured.out)
    assert f"skipping {broken}" in captured.err and result["protocol"]["skipped_files"] == [str(broken)]
    assert result["horse_to_zebra"]["real"] == "2 zebra test images"
    # 2 against 2: both sets whole, not subsets of the 1,000 KID would take
    assert "of both sets whole (2 each: " in result["protocol"]["kid"]
    for key, direction in (("horse_to_zebra", "AtoB"), ("zebra_to_horse", "BtoA")):
        scores = result[key]
        assert scores["direction"] == direction and scores["fid"] > 0 and np.isfinite(scores["kid_mean"])
        assert scores["translated"] == f"2 {key.split('_')[0]} test images"
    assert "pool3" in result["protocol"]["feature_layer"] and "against the real test set" in result["protocol"]["pairs"]
    assert "not reported" in result["protocol"]["inception_score"]  # and why: see NO_INCEPTION_SCORE
    assert "inception_score" not in result["horse_to_zebra"]
    assert len(list((tmp_path / "cache").glob("*.npy"))) == 2  # both real test sets cached


@pytest.mark.slow
def test_off_a_terminal_each_pass_says_what_it_does_and_how_far_it_is(tmp_path, capsys, monkeypatch):
    """stderr is captured here, not a terminal: progress comes as plain lines, as in a log file."""
    model = run_folder(tmp_path / "dcgan")
    argv = [str(a) for a in (model, "--n", 12, "--real-n", 8, "--batch-size", 4, "--cache-dir", tmp_path / "cache")]

    def stderr_lines(*extra: str) -> list[str]:
        run_cli(main, [*argv, *extra])
        captured = capsys.readouterr()
        assert "fid" in json.loads(captured.out)
        return captured.err.splitlines()

    lines = stderr_lines("--progress-every", "0")  # a line after every batch
    real = [line for line in lines if line.startswith("Inception features of mnist-test-28px (first time only")]
    assert [line.rsplit(": ", 1)[1].split(",")[0] for line in real] == [
        "0/8 images (0%)", "4/8 images (50%)", "8/8 images (100%)"]
    assert real[-1].endswith(", done")
    generated = [line for line in lines if line.startswith("Inception features of 12 generated images: ")]
    assert [line.rsplit(": ", 1)[1].split(" images")[0] for line in generated] == ["0/12", "4/12", "8/12", "12/12"]
    # The default: a line at the start and at the end of each pass, and every 30 s between; the
    # real set's features now come from the cache, so only the generated images' pass shows.
    # Timed by a clock the test sets: one that stands still, then one 30 s on at every reading.
    now = [0.0]
    monkeypatch.setattr(progress_module, "time", SimpleNamespace(perf_counter=lambda: now[0]))
    lines = stderr_lines()
    assert len(lines) == 2 and all(line.startswith("Inception features of 12 generated images: ") for line in lines)

    def slow_clock() -> float:
        now[0] += 30.0
        return now[0]

    monkeypatch.setattr(progress_module, "time", SimpleNamespace(perf_counter=slow_clock))
    lines = stderr_lines()
    assert [line.rsplit(": ", 1)[1].split(" images")[0] for line in lines] == ["0/12", "4/12", "8/12", "12/12"]


@pytest.mark.slow
def test_folders_of_large_photos_are_scored_in_bounded_memory(tmp_path, capsys, horse_photo):
    # 12-megapixel photos: a batch of them once took 465 MB each (float32 at full size) before
    # the resize to 299 px; each is now resized as it is read.
    photo = cv2.resize(cv2.imread(str(horse_photo)), (4000, 3000), interpolation=cv2.INTER_CUBIC)
    for folder in ("a", "b"):
        (tmp_path / folder).mkdir()
        for i in range(4):
            cv2.imwrite(str(tmp_path / folder / f"{i}.jpg"), np.roll(photo, 400 * i + 200 * (folder == "b"), axis=1))
    reset_peak_rss()
    before = peak_rss_kb()
    result = evaluate(capsys, "--folders", tmp_path / "a", tmp_path / "b")
    assert result["protocol"]["images"] == [4, 4] and result["fid"] > 0
    assert peak_rss_kb() - before < 700_000  # kB: one photo at full size, not a batch of them


def test_a_one_way_scorer_takes_only_its_target_domains_features(tmp_path, monkeypatch, data_root):
    """A one-way translator meets one real set: the other domain's features are never computed."""
    from translate.evaluation import protocols

    data = horse2zebra(tmp_path / "data", {"trainA": 1, "trainB": 1, "testA": 2, "testB": 2})
    featured = []
    monkeypatch.setattr(protocols.EvaluationRequest, "extractor", lambda self: None)
    monkeypatch.setattr(protocols, "real_features", lambda _, images, name, __: featured.append(name))
    request = protocols.EvaluationRequest(data)
    protocols.TranslationScorer(("horse", "zebra"), 3, request, 4, 8, ("AtoB",))
    assert featured == ["zebra-test"]
    with pytest.raises(ConfigError, match="directions are some of AtoB, BtoA, got sideways"):
        protocols.TranslationScorer(("horse", "zebra"), 3, request, 4, 8, ("sideways",))
    one_way = protocols.TranslationScorer(("horse", "zebra"), 3, request, 4, 8, ("AtoB",))
    with pytest.raises(ConfigError, match="built for AtoB, not BtoA"):
        one_way.score({"BtoA": torch.nn.Identity()})
