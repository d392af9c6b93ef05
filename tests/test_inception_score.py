"""The Inception Score against hand computations, why the FID network cannot give the ImageNet
one, and the score ``translate.evaluate`` reports for a shipped digit model."""

import json
import math
import warnings

import numpy as np
import pytest
import torch

from translate.cli import run_cli
from translate.errors import ConfigError
from translate.evaluate import main as evaluate_main
from translate.evaluation.judge import class_probabilities, load_classifier
from translate.evaluation.scores import inception_score
from translate.modeling.pixels import to_unit

from .conftest import REPO


def test_uniform_rows_score_one():
    assert inception_score(np.full((20, 7), 1 / 7), splits=10) == pytest.approx((1.0, 0.0))


@pytest.mark.parametrize("k", [2, 5, 10])
def test_certain_rows_spread_evenly_over_k_classes_score_k(k):
    rows = np.eye(k)[np.arange(10 * k) % k]  # every split holds each class once
    assert inception_score(rows, splits=10) == pytest.approx((k, 0.0))


def test_a_hand_computed_table():
    # p(y) = (0.5, 0.5); each row's KL = 0.9 ln(0.9 / 0.5) + 0.1 ln(0.1 / 0.5) = 0.368064...
    table = np.array([[0.9, 0.1], [0.1, 0.9]])
    kl = 0.9 * math.log(1.8) + 0.1 * math.log(0.2)
    assert inception_score(table, splits=1) == pytest.approx((math.exp(kl), 0.0))
    assert math.exp(kl) == pytest.approx(1.44494, abs=1e-5)


def test_the_splits_give_the_mean_and_the_spread():
    # Split 1: 4 uniform rows (IS 1); split 2: 4 certain rows over 2 classes (IS 2).
    table = np.vstack([np.full((4, 2), 0.5), np.eye(2)[[0, 1, 0, 1]]])
    assert inception_score(table, splits=2) == pytest.approx((1.5, 0.5))
    # Uneven parts are cut as the reference code cuts them, rows i*N//splits up to (i+1)*N//splits:
    # 9 rows give parts of 4 and 5. The second, 4 certain rows and one uniform, has p(y) = (0.5, 0.5)
    # and a mean KL of 4 ln 2 / 5, so IS 2^0.8.
    second = 2**0.8
    assert inception_score(np.vstack([table, [[0.5, 0.5]]]), splits=2) == pytest.approx(
        ((1 + second) / 2, (second - 1) / 2))


@pytest.mark.parametrize(("table", "message"), [
    (np.full((5, 3), 1 / 3), "needs at least 10 rows"),
    (np.full((20, 3), 0.5), "must be class probabilities"),
    (np.tile([[1.5, -0.5]], (20, 1)), "must be class probabilities"),
])
def test_inputs_that_are_not_enough_probabilities_are_refused(table, message):
    with pytest.raises(ConfigError, match=message):
        inception_score(table, splits=10)


def test_the_fid_network_returns_pool_features_and_has_no_class_head(data_root):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        net = torch.jit.load(str(data_root / "fid" / "inception-2015-12-05-fid.pt"), map_location="cpu").eval()
    shapes = [tuple(p.shape) for p in net.parameters()]
    assert not [s for s in shapes if len(s) == 2], "a fully connected (class) layer"
    assert 1008 not in {s[0] for s in shapes}  # the 2015 graph's 1008 logits
    with torch.inference_mode():
        assert net(torch.zeros(1, 3, 299, 299)).shape == (1, 2048)


@pytest.mark.slow
def test_the_judge_scores_real_test_digits_near_the_ceiling_of_ten(mnist_test):
    probabilities = class_probabilities(load_classifier(), to_unit(mnist_test[0][:1000, :, :, None]))
    assert probabilities.shape == (1000, 10) and np.allclose(probabilities.sum(axis=1), 1)
    mean, std = inception_score(probabilities)
    assert 9.0 < mean <= 10 and std < 0.5  # 100 test digits a split, about 10 of each class, read with confidence


@pytest.mark.slow
def test_evaluate_reports_the_inception_score_of_a_shipped_model_beside_the_real_digits(tmp_path, capsys):
    run_cli(evaluate_main, [str(REPO / "models" / "dcgan-mnist"), "--n", "20", "--real-n", "30",
                            "--cache-dir", str(tmp_path)])
    result = json.loads(capsys.readouterr().out)
    generated, real = result["inception_score"], result["real_inception_score"]
    assert (generated["splits"], generated["images"]) == (10, 20) and (real["splits"], real["images"]) == (10, 30)
    assert 1 < generated["mean"] <= 10 and 1 < real["mean"] <= 10 and generated["std"] >= 0
    assert "softmax" in result["protocol"]["inception_score"] and "mnist-classifier" in result["protocol"]["classifier"]
    assert "fid" in result and "conditional_accuracy" not in result  # the unconditional DCGAN


@pytest.mark.slow
def test_evaluate_scores_the_truncated_codes_that_sample_draws(tmp_path, capsys):
    """--truncation scores the digits `sample --truncation` draws: tightly truncated codes of the
    cDCGAN are ones its judge is certain of, so its IS rises towards the ceiling of 10. The IS is
    the classifier's, not Inception's: the FID beside it runs in bf16, the faster of the two."""
    from translate.families.dcgan.family import generate

    model = REPO / "models" / "cdcgan-mnist"
    scores = {}
    for extra in ([], ["--truncation", "0.5"]):
        run_cli(evaluate_main, [str(model), "--n", "200", "--real-n", "20", "--cache-dir", str(tmp_path),
                                 "--precision", "bf16", *extra])
        scores[bool(extra)] = json.loads(capsys.readouterr().out)
    assert "truncated at 0.5" in scores[True]["protocol"]["latent"]
    assert "truncated" not in scores[False]["protocol"]["latent"]
    assert scores[True]["inception_score"]["mean"] > scores[False]["inception_score"]["mean"]
    # The images scored are those of translate.latent's truncated codes.
    from translate.families import get_family
    from translate.modeling.checkpoint import read_checkpoint

    generator, config = get_family("cdcgan").load_generator(read_checkpoint(model))
    truncated = generate(generator, config, 200, truncation=0.5)
    judge = load_classifier()
    probabilities = class_probabilities(judge, truncated)
    assert inception_score(probabilities, 10)[0] == pytest.approx(scores[True]["inception_score"]["mean"], rel=1e-6)


def test_a_cyclegan_refuses_truncation(capsys, translator_file):
    from tests.cli_errors import one_line_error

    error = one_line_error(capsys, evaluate_main, str(translator_file[0]), "--truncation", "1")
    assert "--truncation applies to models that draw codes" in error
    error = one_line_error(capsys, evaluate_main, str(REPO / "models" / "cdcgan-mnist"), "--truncation", "-1")
    assert "truncation must be a finite number of at least 0.01" in error
