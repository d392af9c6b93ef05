"""A model's scores travel with it: ``translate.evaluate --out`` records them beside the weights
it scored, ``translate.export`` puts them in the ONNX file's metadata, and the runtime reads
them back (the demo shows them). Scores of other weights, or of other arithmetic, never travel."""

import json

import pytest

from translate.cli import run_cli
from translate.evaluate import main as evaluate_main
from translate.evaluation.record import EVALUATION_FILE, recorded_scores
from translate.families import export_model
from translate.io.fileio import file_sha256
from translate.pack import main as pack_main
from translate.runtime import Translator

from .cyclegan_data import horse2zebra, horse_zebra_argv
from .exporting import trained_run
from .training_runs import train


@pytest.fixture(scope="module")
def scored_model(tmp_path_factory, data_root):
    """(fp16-packed model folder of a tiny CycleGAN trained on real photos, its evaluate output):
    scored by the real evaluate on 2 test photos a domain, written to its evaluation.json."""
    root = tmp_path_factory.mktemp("scored")
    run = trained_run(root, "cyclegan", steps=2)
    model = root / "model"
    run_cli(pack_main, [str(run), "--out", str(model), "--fp16"])
    run_cli(evaluate_main, [str(model), "--data", str(root / "data"), "--cache-dir", str(root / "cache"),
                            "--fid-weights", str(data_root / "fid" / "inception-2015-12-05-fid.pt"),
                            "--out", str(model / EVALUATION_FILE)])
    return run, model, json.loads((model / EVALUATION_FILE).read_text())


@pytest.mark.slow
def test_an_export_carries_the_scores_evaluate_recorded_for_its_direction(scored_model, tmp_path):
    _, model, result = scored_model
    assert result["weights_sha256"] == file_sha256(model / "model.safetensors")
    for direction, key in (("AtoB", "horse_to_zebra"), ("BtoA", "zebra_to_horse")):
        out = tmp_path / f"{direction}.onnx"
        report = export_model(model, out, direction, precision="fp16-weights")  # the folder holds fp16 values
        info = Translator(out).info
        assert (info.fid, info.kid) == (result[key]["fid"], result[key]["kid_mean"]) == (report["fid"], info.kid)
        source, target = key.split("_to_")
        assert info.scored == report["scored"] == f"2 {source} test images against 2 {target} test images"


@pytest.mark.slow
def test_scores_of_other_weights_or_other_arithmetic_stay_behind(scored_model, tmp_path):
    run, model, _ = scored_model
    report = export_model(model, tmp_path / "half.onnx", "AtoB", precision="fp16")  # fp16 arithmetic
    assert Translator(tmp_path / "half.onnx").info.fid is None and report["fid"] is None
    assert f"python -m translate.evaluate {model} --out {model / EVALUATION_FILE}" in report["scored"]
    # The same folder packed again in fp32: its record names the fp16 weights it scored.
    run_cli(pack_main, [str(run), "--out", str(model), "--overwrite"])
    assert (model / EVALUATION_FILE).exists()  # pack --overwrite keeps the folder's other files
    assert export_model(model, tmp_path / "fp32.onnx", "AtoB")["fid"] is None
    assert Translator(tmp_path / "fp32.onnx").info.fid is None
    # Scores of these fp32 weights travel with their fp32 export, not into a file of their values
    # rounded to fp16 (--fp16-weights), whose outputs no scoring saw.
    record = (model / EVALUATION_FILE).read_text()
    (model / EVALUATION_FILE).write_text(json.dumps({**scored_model[2],
                                                     "weights_sha256": file_sha256(model / "model.safetensors")}))
    try:
        assert export_model(model, tmp_path / "fp32.onnx", "AtoB")["fid"] == scored_model[2]["horse_to_zebra"]["fid"]
        assert export_model(model, tmp_path / "rounded.onnx", "AtoB", precision="fp16-weights")["fid"] is None
        assert Translator(tmp_path / "rounded.onnx").info.fid is None
    finally:  # the module's other tests read the record evaluate wrote
        (model / EVALUATION_FILE).write_text(record)
    # Packed again as it was scored: the same bytes (safetensors' header order is made
    # reproducible), so the record holds for it again.
    run_cli(pack_main, [str(run), "--out", str(model), "--overwrite", "--fp16"])
    assert file_sha256(model / "model.safetensors") == scored_model[2]["weights_sha256"]
    assert export_model(model, tmp_path / "again.onnx", "AtoB", precision="fp16-weights")["fid"] is not None


@pytest.mark.slow
def test_the_best_generators_a_run_kept_export_with_the_scores_that_made_them_best(tmp_path, data_root):
    """RUN/best's record named no weights, so translate.export RUN/best carried no FID and the
    demo listed a user's own best model as 'not scored'."""
    run = tmp_path / "run"
    train(*horse_zebra_argv(horse2zebra(tmp_path / "data"), "--out", str(run), "--epochs", "1", "--epochs-decay",
                            "0", "--eval-every", "1", "--fid-weights", str(data_root / "fid" /
                                                                              "inception-2015-12-05-fid.pt")))
    best = json.loads((run / "best" / EVALUATION_FILE).read_text())
    assert best["weights_sha256"] == file_sha256(run / "best" / "model.safetensors")
    for direction, key in (("AtoB", "horse_to_zebra"), ("BtoA", "zebra_to_horse")):
        out = tmp_path / f"{direction}.onnx"
        report = export_model(run / "best", out, direction)
        info = Translator(out).info
        assert (info.fid, info.kid) == (best["scores"][key]["fid"], best["scores"][key]["kid_mean"])
        source, target = key.split("_to_")
        # Kept for the horse -> zebra FID among the run's scorings on these sets: each label says so.
        chosen = ("weights kept as the lowest of a run's scorings on these sets" if direction == "AtoB" else
                  "weights kept for the other direction's lowest FID of a run's scorings on the test sets")
        assert report["fid"] == info.fid and info.scored == (
            f"2 {source} test images against 2 {target} test images ({chosen})")


def test_a_sampler_record_gives_its_one_fid_and_what_it_compared(tmp_path):
    record = {"weights_sha256": "abc", "fid": 9.5, "kid_mean": -0.0001,
              "protocol": {"generated_images": 10000, "real_images": 10000, "real_set": "MNIST test split"}}
    (tmp_path / EVALUATION_FILE).write_text(json.dumps(record))
    assert recorded_scores(tmp_path, "abc", "") == {
        "fid": 9.5, "kid": -0.0001, "scored": "10000 generated images against 10000 of the MNIST test split"}
    assert recorded_scores(tmp_path, "other weights", "") == {}
    # Scores off the standard protocol say so, so that a file's FID is not read as a plain one.
    record["protocol"] |= {"latent": "z ~ N(0, I) of dimension 100: ..., truncated at 0.5 (components beyond it "
                           "drawn again)", "inception_precision": "bf16"}
    (tmp_path / EVALUATION_FILE).write_text(json.dumps(record))
    assert recorded_scores(tmp_path, "abc", "")["scored"] == (
        "10000 generated images against 10000 of the MNIST test split (codes truncated at 0.5; Inception in bf16)")


@pytest.mark.parametrize("record", [
    "not json", "[1, 2]", '{"weights_sha256": "abc", "fid": "9.5", "kid_mean": 0.1}',
    '{"weights_sha256": "abc", "fid": NaN, "kid_mean": 0.1}', '{"weights_sha256": "abc", "fid": true, "kid_mean": 0}',
    '{"weights_sha256": "abc", "fid": 9.5}', '{"weights_sha256": "abc", "a_to_b": {"direction": "BtoA", "fid": 1}}',
])
def test_a_record_without_usable_scores_gives_none(tmp_path, record):
    (tmp_path / EVALUATION_FILE).write_text(record)
    assert recorded_scores(tmp_path, "abc", "AtoB") == {}

