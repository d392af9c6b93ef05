"""The precision a run trains in: what ``auto`` picks on which hardware, that a run records
its precision and keeps it on --resume, and that resume is exact within each precision."""

import json
from pathlib import Path
from types import SimpleNamespace

import pytest
import torch

from tests.cyclegan_data import horse2zebra, horse_zebra_argv
from tests.exporting import TINY
from tests.training_runs import train, weights
from translate.errors import ConfigError
from translate.modeling import device as device_module
from translate.modeling.checkpoint import read_checkpoint
from translate.modeling.device import (
    autocast,
    bf16_support,
    cpu_bf16_features,
    cpu_has_native_bf16,
    cpu_model,
    describe_cpu,
    resolve_precision,
)
from translate.training.distributed import Context
from translate.training.run_setup import settle


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    return horse2zebra(tmp_path_factory.mktemp("data"))


def test_the_bf16_features_found_are_the_ones_the_kernel_lists():
    # An independent reading of the hardware: the flags Linux reports in /proc/cpuinfo.
    cpuinfo = Path("/proc/cpuinfo")
    if not cpuinfo.is_file():
        pytest.skip("no /proc/cpuinfo on this system")
    flags = set(cpuinfo.read_text().split())
    expected = [name for flag, name in (("amx_tile", "AMX"), ("avx512_bf16", "AVX512-BF16")) if flag in flags]
    assert cpu_bf16_features() == expected
    assert cpu_has_native_bf16() == bool(expected)
    header = f"native bf16 ({', '.join(expected)})" if expected else "bf16 emulated"
    assert bf16_support(torch.device("cpu")) == header


# The head of this project's AMD machine's /proc/cpuinfo, and a second processor: only the first is read.
AMD_CPUINFO = """processor\t: 0
vendor_id\t: AuthenticAMD
cpu family\t: 25
model\t\t: 17
model name\t: AMD EPYC

processor\t: 1
vendor_id\t: AuthenticAMD
cpu family\t: 26
model\t\t: 2
model name\t: Another CPU
"""


def test_a_benchmark_header_names_the_cpu_model_its_family_its_cores_and_its_bf16(tmp_path, monkeypatch):
    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text(AMD_CPUINFO)
    monkeypatch.setattr(device_module, "Path", lambda _: cpuinfo)
    monkeypatch.setattr(device_module.os, "cpu_count", lambda: 2)
    monkeypatch.setattr(device_module, "cpu_bf16_features", lambda: ["AVX512-BF16"])
    assert cpu_model() == "AMD EPYC (family 25, model 17)"  # two generations share the name: the numbers tell
    assert describe_cpu() == "AMD EPYC (family 25, model 17) CPU (2 cores, native bf16 (AVX512-BF16))"
    cpuinfo.write_text("processor\t: 0\nmodel name\t: Some ARM core\n")  # no family numbers to add
    assert cpu_model() == "Some ARM core"


def test_the_cpu_model_falls_back_to_the_platform_without_proc_cpuinfo(monkeypatch):
    monkeypatch.setattr(device_module, "Path", lambda _: Path("/nonexistent/cpuinfo"))
    monkeypatch.setattr(device_module.platform, "processor", lambda: "")
    assert cpu_model() == device_module.platform.machine()


@pytest.mark.parametrize("native", [True, False])
def test_auto_is_bf16_where_the_cpu_or_gpu_computes_it_natively_else_fp32(monkeypatch, native):
    monkeypatch.setattr(device_module, "cpu_bf16_features", lambda: ["AVX512-BF16"] if native else [])
    # PyTorch's default check also says yes where it only emulates bf16 (a T4, a V100): slower than fp32.
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda including_emulation=True: including_emulation or native)
    assert resolve_precision("auto", torch.device("cpu")) == ("bf16" if native else "fp32")
    assert resolve_precision("auto", torch.device("cuda")) == ("bf16" if native else "fp32")
    assert bf16_support(torch.device("cuda")) == ("native bf16 (CUDA)" if native else "bf16 emulated")
    assert resolve_precision("fp32", torch.device("cuda")) == "fp32"
    assert resolve_precision("bf16", torch.device("cpu")) == "bf16"  # asked for: emulated if need be


def test_an_unknown_precision_names_the_choices():
    with pytest.raises(ConfigError, match="unknown precision 'fp16': choose one of auto, fp32, bf16"):
        resolve_precision("fp16", torch.device("cpu"))


@pytest.mark.parametrize(("precision", "dtype"), [("bf16", torch.bfloat16), ("fp32", torch.float32)])
def test_the_autocast_context_runs_convolutions_in_the_precision(precision, dtype):
    conv = torch.nn.Conv2d(3, 4, 3)
    with autocast(precision, torch.device("cpu")):
        assert conv(torch.rand(1, 3, 8, 8)).dtype == dtype


@pytest.mark.parametrize("precision", ["fp32", "bf16"])
@pytest.mark.slow
def test_resume_is_exact_within_a_precision_and_keeps_the_runs_precision(tmp_path, data, precision):
    common = horse_zebra_argv(data, "--epochs", "1", "--epochs-decay", "1")
    straight, resumed = tmp_path / "straight", tmp_path / "resumed"
    train(*common, "--out", str(straight), "--max-steps", "6", "--precision", precision)
    train(*common, "--out", str(resumed), "--max-steps", "3", "--precision", precision)
    train(*common, "--out", str(resumed), "--max-steps", "6", "--resume")  # no flag: the run's own precision
    for run in (straight, resumed):
        assert read_checkpoint(run).train["precision"] == precision
    a, b = weights(straight), weights(resumed)
    assert a.keys() == b.keys()
    assert all(torch.equal(a[k], b[k]) for k in a), "resumed weights differ from the straight run"


def test_a_resume_moved_to_another_precision_says_so_and_records_it(tmp_path, capsys):
    run = tmp_path / "run"
    train("dcgan", *TINY, "--out", str(run), "--max-steps", "1", "--precision", "bf16")
    capsys.readouterr()
    train("dcgan", *TINY, "--out", str(run), "--max-steps", "2", "--resume", "--precision", "bf16")
    assert "continues in" not in capsys.readouterr().err  # the same precision: nothing to say
    train("dcgan", *TINY, "--out", str(run), "--max-steps", "3", "--resume", "--precision", "fp32")
    assert ("note: this run trained in bf16 and continues in fp32 (--precision fp32): from here its steps differ "
            "from the run's in bf16; drop --precision to keep bf16") in capsys.readouterr().err
    assert read_checkpoint(run).train["precision"] == "fp32"


def test_the_first_steps_losses_in_bf16_are_fp32s_to_a_few_parts_in_a_thousand(tmp_path, data):
    # Same seed, same data, same weights: one step's losses differ only by bf16's rounding
    # (8 significant bits, 0.4% an operation; the two precisions measured at most 0.94% apart
    # here). Identical losses would mean bf16 did nothing.
    records = {}
    for precision in ("fp32", "bf16"):
        run = tmp_path / precision
        train(*horse_zebra_argv(data, "--out", str(run), "--max-steps", "1", "--precision", precision))
        records[precision] = json.loads((run / "metrics.jsonl").read_text().splitlines()[-1])
    names = ("g_loss", "g_A", "g_B", "cycle_A", "cycle_B", "idt_A", "idt_B", "d_A", "d_B")
    gaps = {name: abs(records["bf16"][name] / records["fp32"][name] - 1) for name in names}
    assert max(gaps.values()) < 0.05, gaps
    assert max(gaps.values()) > 0, "bf16 gave fp32's losses exactly"


@pytest.mark.parametrize("rank", [0, 1])
def test_only_the_first_rank_notes_a_resume_moved_to_another_precision(capsys, rank):
    settings = SimpleNamespace(world_size=2, precision="bf16")  # a train config's two fields
    settle(settings, Context(rank=rank, world_size=2), "fp32", resumed=True)
    assert settings.precision == "fp32"
    assert ("note: this run trained in bf16 and continues in fp32" in capsys.readouterr().err) == (rank == 0)
