"""bench/fp16_storage.py on a tiny CycleGAN trained on real photos: both storages packed and
scored by the real evaluate, and the table compares exactly those scores."""

import importlib.util
import json
import sys

import pytest

from .conftest import REPO
from .exporting import trained_run

spec = importlib.util.spec_from_file_location("fp16_storage", REPO / "bench" / "fp16_storage.py")
fp16_storage = importlib.util.module_from_spec(spec)
sys.path.insert(0, str(REPO / "bench"))  # the script imports its sibling helpers, as when run
try:
    spec.loader.exec_module(fp16_storage)
finally:
    sys.path.remove(str(REPO / "bench"))


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


def test_a_paired_models_l1_psnr_and_ssim_are_compared_too():
    """pix2pix's evaluate result carries its scores against the targets; the table shows them
    for both storages beside FID and KID."""
    paired = {"direction": "AtoB", "fid": 120.0, "kid_mean": 0.05, "kid_std": 0.01, "l1": 0.21, "psnr": 14.5,
              "ssim": 0.31, "translated": "140 edges test inputs", "real": "their 140 zebra targets"}
    result = {"edges_to_zebra": paired, "protocol": {"fid": "Frechet distance"}}
    assert fp16_storage.score_sets(result) == {"edges_to_zebra": {"fid": 120.0, "kid": 0.05, "l1": 0.21,
                                                                  "psnr": 14.5, "ssim": 0.31}}
    row = {"scored": "edges_to_zebra", "fid_fp32": 120.0, "fid_fp16": 120.2, "fid_change": 0.2, "kid_fp32": 0.05,
           "kid_fp16": 0.05, "l1_fp32": 0.21, "l1_fp16": 0.2101, "psnr_fp32": 14.5, "psnr_fp16": 14.49,
           "ssim_fp32": 0.31, "ssim_fp16": 0.3102}
    text = fp16_storage.table({"source": "runs/x/best", "rows": [row], "bytes": {"fp32": 2**21, "fp16": 2**20},
                               "within_limit": True})
    header, rule, line = text.splitlines()[:3]
    assert header == ("| scored | FID fp32 | FID fp16 | change | KID fp32 | KID fp16 | L1 fp32 | L1 fp16 | "
                      "PSNR fp32 | PSNR fp16 | SSIM fp32 | SSIM fp16 |")
    assert rule.count("---") == 12
    assert line == ("| edges_to_zebra | 120.000 | 120.200 | +0.200 | 0.05000 | 0.05000 | 0.2100 | 0.2101 | "
                    "14.5000 | 14.4900 | 0.3100 | 0.3102 |")
