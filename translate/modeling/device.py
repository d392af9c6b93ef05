"""Where and in what precision the networks run: the CPU or CUDA, fp32 or bf16 autocast.

bf16 autocast runs convolutions and matrix products in bfloat16 while losses, norms and
the optimiser's master weights stay in fp32 (autocast's own op lists decide), so no loss
scaling is needed. It pays where the hardware computes in bf16 natively: CUDA GPUs from
Ampere (compute capability 8) on, and CPUs with AMX or AVX512-BF16 (on a 2-core AVX512-BF16
CPU here a 2048² matmul ran at 897 GFLOP/s in bf16 against 214 in fp32:
bench/results/conv-precision-intel.md). Elsewhere bf16 is
emulated and slower than fp32, so ``auto`` picks fp32 there.
"""

from __future__ import annotations

import os
import platform
import sys
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from pathlib import Path

import torch

from translate.arguments import PRECISIONS
from translate.errors import ConfigError


def select_device(gpu: bool, cpu_hint: str = "") -> torch.device:
    """CUDA when asked for and present; a clear error when asked for and absent (``cpu_hint``
    adds what to run on the CPU instead)."""
    if not gpu:
        return torch.device("cpu")
    if not torch.cuda.is_available():
        raise ConfigError(f"--gpu was given but PyTorch sees no CUDA device: drop --gpu to run on the CPU{cpu_hint}")
    torch.backends.cudnn.benchmark = True
    return torch.device("cuda")


# What PyTorch calls each CPU feature that computes bf16 products in hardware, and its usual name.
BF16_FEATURES = {"_is_amx_tile_supported": "AMX", "_is_avx512_bf16_supported": "AVX512-BF16"}


def cpu_bf16_features() -> list[str]:
    """The features of this CPU that compute bf16 in hardware, as PyTorch sees them (OS support
    included), by name."""
    return [name for probe, name in BF16_FEATURES.items() if getattr(torch.cpu, probe, lambda: False)()]


def bf16_support(device: torch.device) -> str:
    """How ``device`` computes bf16, for a benchmark's header: natively (naming the CPU
    feature, or CUDA) or emulated."""
    features = (["CUDA"] if gpu_has_native_bf16() else []) if device.type == "cuda" else cpu_bf16_features()
    return f"native bf16 ({', '.join(features)})" if features else "bf16 emulated"


def cpu_model() -> str:
    """The CPU's model name, with its x86 family and model numbers where Linux's /proc/cpuinfo
    gives them (else what ``platform`` reports). This project's 2-core machines are not all the
    same CPU: a virtual machine may call two generations both just "AMD EPYC" (family 25 is
    Zen 3/4, 26 is Zen 5), and a training step took 1.5 s on one and 0.86 s on the other."""
    try:
        first = Path("/proc/cpuinfo").read_text().split("\n\n", 1)[0]
    except OSError:
        first = ""
    fields = {key.strip(): value.strip() for key, _, value in (line.partition(":") for line in first.splitlines())}
    name = fields.get("model name") or platform.processor() or platform.machine()
    if fields.get("cpu family") and fields.get("model"):
        return f"{name} (family {fields['cpu family']}, model {fields['model']})"
    return name


def describe_cpu() -> str:
    """This CPU for a benchmark's header: its model, its cores and how it computes bf16."""
    return f"{cpu_model()} CPU ({os.cpu_count()} cores, {bf16_support(torch.device('cpu'))})"


def describe_device(device: torch.device) -> str:
    """The machine a run trains on, for its records: the CPU, or the GPU's name."""
    return torch.cuda.get_device_name(device) if device.type == "cuda" else describe_cpu()


def gpu_has_native_bf16() -> bool:
    """Whether the current CUDA GPU computes bf16 in hardware (Ampere, compute capability 8, and
    later; ROCm): on older ones (T4, V100) PyTorch emulates it, slower than fp32."""
    return torch.cuda.is_bf16_supported(including_emulation=False)


def cpu_has_native_bf16() -> bool:
    """Whether this CPU computes bf16 products in hardware (AMX tiles or AVX512-BF16)."""
    return bool(cpu_bf16_features())


def resolve_precision(name: str, device: torch.device) -> str:
    """``fp32`` or ``bf16`` for a requested precision on ``device``; ``auto`` is bf16 where it is native."""
    if name not in PRECISIONS:
        raise ConfigError(f"unknown precision {name!r}: choose one of {', '.join(PRECISIONS)}")
    if name != "auto":
        return name
    if (device.type == "cuda" and gpu_has_native_bf16()) or (device.type == "cpu" and cpu_has_native_bf16()):
        return "bf16"
    return "fp32"


def autocast(precision: str, device: torch.device) -> AbstractContextManager:
    """The context the forward passes run in: bf16 autocast, or nothing for fp32."""
    if precision == "bf16":
        return torch.autocast(device.type, dtype=torch.bfloat16)
    if precision == "fp32":
        return nullcontext()
    raise ConfigError(f"precision must be resolved to fp32 or bf16 first, got {precision!r}")


@contextmanager
def strict_fp32() -> Iterator[None]:
    """fp32 that is fp32 on CUDA too, for scoring: cuDNN runs convolutions in TF32 (10-bit
    mantissas) by default, which moves FID by about 0.01 while the record would say fp32. The
    two global switches are put back afterwards (a training run may want TF32 for itself)."""
    saved = torch.backends.cudnn.allow_tf32, torch.backends.cuda.matmul.allow_tf32
    torch.backends.cudnn.allow_tf32 = torch.backends.cuda.matmul.allow_tf32 = False
    try:
        yield
    finally:
        torch.backends.cudnn.allow_tf32, torch.backends.cuda.matmul.allow_tf32 = saved


def run_precision(requested: str | None, recorded: str | None, device: torch.device, resumed: bool,
                  quiet: bool = False) -> str:
    """The precision a training run uses: the flag's; else on --resume the run's own (runs from
    before --precision trained in bf16 on CUDA, fp32 on the CPU); else ``auto``. A resume that
    the flag moves to another precision is allowed (e.g. onto a CPU without native bf16), with a
    note (``quiet``: none, as on the ranks of a distributed run but the first): exact resume
    holds only within a precision."""
    if requested is not None:
        precision = resolve_precision(requested, device)
        if resumed and recorded is not None and precision != recorded and not quiet:
            print(f"note: this run trained in {recorded} and continues in {precision} (--precision {requested}): "
                  f"from here its steps differ from the run's in {recorded}; drop --precision to keep {recorded}",
                  file=sys.stderr)
        return precision
    if recorded is not None:
        return recorded
    if resumed:
        return "bf16" if device.type == "cuda" else "fp32"
    return resolve_precision("auto", device)
