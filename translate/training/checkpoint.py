"""A run's checkpoints, written atomically (see :mod:`translate.modeling.checkpoint` for
their layout and how they are read), and the check of an optimiser state loaded on resume.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import warnings
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import save
from torch import nn

from translate.errors import CheckpointError
from translate.io.fileio import atomic_write, fsync_dir, temporary_name, write_failure
from translate.modeling.checkpoint import CONFIG, LATEST, STATE, WEIGHTS, checkpoint_meta, checkpoint_root, flat_state


def save_checkpoint(
    run_dir: Path,
    step: int,
    family: str,
    model_config: dict[str, Any],
    train_config: dict[str, Any],
    modules: dict[str, nn.Module],
    state: dict[str, Any],
    keep: int = 3,
) -> Path:
    """Write checkpoint ``step`` into ``run_dir`` atomically and keep the newest ``keep``.

    The folder is assembled under a temporary name and renamed into place, then the
    ``latest`` pointer is replaced. Folders leave their final name by a rename before
    they are deleted, so a kill at any moment leaves only complete ``step-*`` folders,
    ``latest`` naming one of them, and temporary leftovers (see
    :func:`~translate.io.fileio.remove_temporaries`). A failed write (a full disk) raises
    StorageError and leaves the previous checkpoint as it was.
    """
    root = checkpoint_root(run_dir)
    name = f"step-{step:08d}"
    final = root / name
    try:
        root.mkdir(parents=True, exist_ok=True)
        tmp = temporary_name(root, name)
        tmp.mkdir()
        try:
            # Serialised in memory and written by Python, whose failures are OSErrors with their
            # cause: safetensors and torch.save would report a full disk as their own errors.
            (tmp / WEIGHTS).write_bytes(save(flat_state(modules)))
            meta = checkpoint_meta(family, model_config, train_config)
            (tmp / CONFIG).write_text(json.dumps(meta, indent=2, sort_keys=True) + "\n")
            state_bytes = io.BytesIO()
            torch.save(state, state_bytes)
            (tmp / STATE).write_bytes(state_bytes.getbuffer())
            for file in tmp.iterdir():
                with open(file, "rb") as f:
                    os.fsync(f.fileno())
            replaced = _move_aside(final) if final.exists() else None  # the same step saved again
            os.rename(tmp, final)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        fsync_dir(root)
    except OSError as exc:
        raise write_failure(final, exc) from exc
    atomic_write(root / LATEST, lambda p: p.write_text(name + "\n"))
    if replaced is not None:
        shutil.rmtree(replaced, ignore_errors=True)
    for folder in sorted(p for p in root.glob("step-*") if p.is_dir())[:-keep]:
        _remove_old(folder)
    return final


def _remove_old(folder: Path) -> None:
    """Delete an old checkpoint. One that cannot be deleted is no reason to stop the run, but
    left in silence, such folders would fill the disk of a long run: say so, naming what is
    left (under its temporary name, once it was moved aside)."""
    left = folder
    try:
        left = _move_aside(folder)
        shutil.rmtree(left)
    except OSError as exc:
        warnings.warn(f"could not delete the old checkpoint {folder.name} ({exc.strerror or exc}): the run goes "
                      f"on; delete {left} by hand, as each one left takes disk space", stacklevel=3)


def _move_aside(folder: Path) -> Path:
    """Rename ``folder`` to a temporary name (atomic), where deleting it cannot be seen half done."""
    aside = temporary_name(folder.parent, folder.name)
    os.rename(folder, aside)
    return aside


def check_optimizer_state(optimizer: torch.optim.Optimizer, name: str) -> None:
    """torch loads an optimiser state of other shapes and fails only at the next step: check now."""
    for group in optimizer.param_groups:
        for param in group["params"]:
            for key, value in optimizer.state.get(param, {}).items():
                if torch.is_tensor(value) and value.dim() and value.shape != param.shape:
                    raise CheckpointError(f"the {name} optimiser's {key} has shape {tuple(value.shape)} where its "
                                          f"parameter has {tuple(param.shape)}")
