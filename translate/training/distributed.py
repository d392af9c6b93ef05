"""Data-parallel training through PyTorch's own DDP, as launched by ``torchrun``.

``torchrun --nproc_per_node N -m translate.train ...`` sets RANK, WORLD_SIZE and
LOCAL_RANK; without them everything here is a no-op for a single process.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch
import torch.distributed as dist
from torch import nn
from torch.nn.parallel import DistributedDataParallel

from translate.errors import ConfigError


@dataclass(frozen=True)
class Context:
    """This process's place in the run."""

    rank: int = 0
    world_size: int = 1
    device: torch.device = torch.device("cpu")

    @property
    def distributed(self) -> bool:
        return self.world_size > 1


def setup(device: torch.device) -> Context:
    """Join the process group torchrun describes (NCCL on CUDA, gloo on the CPU), if any.

    On CUDA each process takes the GPU of its LOCAL_RANK.
    """
    world_size = int(os.environ.get("WORLD_SIZE", "1"))
    if world_size == 1:
        return Context(device=device)
    rank, local_rank = int(os.environ["RANK"]), int(os.environ.get("LOCAL_RANK", "0"))
    if device.type == "cuda":
        if local_rank >= torch.cuda.device_count():
            raise ConfigError(
                f"local rank {local_rank} has no GPU ({torch.cuda.device_count()} visible): "
                "lower --nproc_per_node to the number of GPUs"
            )
        torch.cuda.set_device(local_rank)
        device = torch.device("cuda", local_rank)
    if not dist.is_initialized():
        on_cuda = device.type == "cuda"
        dist.init_process_group("nccl" if on_cuda else "gloo", device_id=device if on_cuda else None)
    return Context(rank, world_size, device)


def shutdown(context: Context) -> None:
    """Leave the process group at the end of a torchrun run (nothing in one process)."""
    if context.distributed and dist.is_initialized():
        dist.destroy_process_group()


def wrap(module: nn.Module, context: Context) -> nn.Module:
    """``module`` in DistributedDataParallel when the run has several processes.

    Keep a reference to the plain module: its weights are what a checkpoint saves.
    """
    if not context.distributed:
        return module
    device_ids = [context.device.index] if context.device.type == "cuda" else None
    return DistributedDataParallel(module, device_ids=device_ids, gradient_as_bucket_view=True)


def gather(tensor: torch.Tensor, context: Context) -> list[torch.Tensor]:
    """Every rank's copy of a same-shaped tensor, in rank order (a collective: all ranks call it)."""
    if not context.distributed:
        return [tensor]
    parts = [torch.empty_like(tensor) for _ in range(context.world_size)]
    dist.all_gather(parts, tensor.contiguous())
    return parts


def any_rank(flag: bool, context: Context | None) -> bool:
    """Whether ``flag`` is true on any rank (a collective in a distributed run: all ranks call it)."""
    if context is None or not context.distributed:
        return flag
    value = torch.tensor([float(flag)], device=context.device)
    dist.all_reduce(value, op=dist.ReduceOp.MAX)
    return bool(value.item())
