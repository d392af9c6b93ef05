"""bench/fp16_storage.py on a tiny CycleGAN trained on real photos: both storages packed and
scored by the real evaluate, and the table compares exactly those scores."""

import importlib.util
import json

import pytest

from .conftest import REPO
from .exporting import trained_run

spec = importlib.util.spec_from_file_location("fp16_storage", REPO / "bench" / "fp16_storage.py")
fp16_storage = importlib.util.module_from_spec(spec)
spec.loader.exec_module(fp16_storage)


@pytest.mark.slow
def test_both_storages_are_scored_and_compared(tmp_path, data_root, capsys):
    run = trained_run(tmp_path, "cyclegan", steps=2)
    work, results = tmp_path / "work", tmp_path / "results"
    fp16_storage.main([str(run), "--tag", "tiny", "--work", str(work), "--results", str(results),
                       "--data", str(tmp_path / "data"), "--cache-dir", str(tmp_path / "cache"),
                       "--fid-weights", str(data_root / "fid" / "inception-2015-12-05-fid.pt")])
    measured = json.loads((results / "fp16-storage-tiny.json").read_text())
    for storage in ("fp32", "fp16"):
        scored = json.loads((work / storage / "evaluation.json").read_text())
        for row in measured["rows"]:
            assert row[f"fid_{storage}"] == scored[row["scored"]]["fid"]
            assert row[f"kid_{storage}"] == scored[row["scored"]]["kid_mean"]
    assert [row["scored"] for row in measured["rows"]] == ["horse_to_zebra", "zebra_to_horse"]
    for row in measured["rows"]:
        assert row["fid_change"] == pytest.approx(row["fid_fp16"] - row["fid_fp32"])
    assert measured["within_limit"] == all(abs(row["fid_change"]) < 0.5 for row in measured["rows"])
    assert 0.45 < measured["bytes"]["fp16"] / measured["bytes"]["fp32"] < 0.55
    text = (results / "fp16-storage-tiny.md").read_text()
    assert text.startswith("| scored | FID fp32 | FID fp16 | change |") and "| horse_to_zebra |" in text
    assert text in capsys.readouterr().out


@pytest.mark.parametrize("out", [["--out", "table.md"], ["--out=table.md"]])
def test_out_is_refused_before_anything_is_packed(tmp_path, capsys, out):
    """``--out`` would pass through to evaluate and send its scores elsewhere: a usage error, at once."""
    with pytest.raises(SystemExit) as stopped:
        fp16_storage.main([str(tmp_path / "run"), "--work", str(tmp_path / "work"), *out])
    assert stopped.value.code == 2 and not (tmp_path / "work").exists()
    assert "--out is not an option here: the packed folders go to --work, the table to --results" in (
        capsys.readouterr().err)
