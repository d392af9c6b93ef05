"""Checkpoints and model folders as files: their layout, reading them back (weights from
safetensors, configs from JSON, the training state through ``torch.load(weights_only=True)``)
and writing a model folder. Reading a model is not training: ``sample``, ``apply``,
``evaluate`` and the judge read checkpoints through this module alone.

A run folder looks like::

    RUN/checkpoints/step-00001200/{model.safetensors, config.json, state.pt}
    RUN/checkpoints/latest            (name of the newest complete checkpoint)

A shipped model folder (``models/NAME``) holds a checkpoint's ``model.safetensors``
and ``config.json`` without the training state. Nothing here unpickles arbitrary objects.
"""

from __future__ import annotations

import json
import os
import pickle
import re
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import torch
from safetensors import safe_open
from safetensors.torch import save
from torch import nn

from translate import __version__
from translate.config import ConfigBase
from translate.errors import CheckpointError, ConfigError, first_line
from translate.io.fileio import check_regular, open_regular, write_together
from translate.io.run_layout import CHECKPOINTS
from translate.modeling.half_storage import to_fp16

WEIGHTS = "model.safetensors"
CONFIG = "config.json"
STATE = "state.pt"
LATEST = "latest"
CHECKPOINT_NAME = re.compile(r"step-\d{8,}")  # a checkpoint folder's name: latest may name nothing else
FORMAT_VERSION = 1
C = TypeVar("C", bound=ConfigBase)
M = TypeVar("M", bound=nn.Module)


@dataclass
class Checkpoint:
    """A checkpoint or model folder, read lazily."""

    path: Path
    family: str
    model: dict[str, Any]
    train: dict[str, Any]

    def weights(self, prefix: str) -> dict[str, torch.Tensor]:
        """State dict of one module saved under ``prefix`` (e.g. ``generator``); only its tensors are read."""
        head = prefix + "."
        with self._weights_file() as weights:
            picked = {name[len(head):]: weights.get_tensor(name)
                      for name in weights.keys() if name.startswith(head)}  # noqa: SIM118 (no __iter__)
        if not picked:
            raise CheckpointError(f"{self.path / WEIGHTS} holds no weights for {prefix!r}")
        return picked

    def shapes(self, prefix: str) -> dict[str, tuple[int, ...]]:
        """Shapes of the tensors saved under ``prefix``, from the file's header (no tensor is read)."""
        head = prefix + "."
        with self._weights_file() as weights:
            return {name[len(head):]: tuple(weights.get_slice(name).get_shape())
                    for name in weights.keys() if name.startswith(head)}  # noqa: SIM118 (no __iter__)

    def has_weights(self, prefix: str) -> bool:
        """Whether the weights file holds a module saved under ``prefix``."""
        with self._weights_file() as weights:
            names = weights.keys()  # reads the header only
        return any(name.startswith(prefix + ".") for name in names)

    def provenance(self) -> dict[str, str]:
        """What ``translate.pack`` wrote in the weights file's header: the source checkpoint, its
        sha256, and where in its run the weights come from. Empty for a run's own checkpoints."""
        with self._weights_file() as weights:
            return dict(weights.metadata() or {})

    @contextmanager
    def _weights_file(self) -> Iterator[Any]:
        """The weights file as safetensors opens it (the header read, tensors on demand); a file
        that is not a regular one, or that safetensors cannot read, is a CheckpointError naming it."""
        self._check_weights_file()
        try:
            with safe_open(self.path / WEIGHTS, "pt") as weights:
                yield weights
        except Exception as exc:  # safetensors raises its own error types for corrupt files
            raise CheckpointError(f"{self.path / WEIGHTS} is not a readable safetensors file: {exc}") from exc

    def _check_weights_file(self) -> None:
        """safetensors opens the path itself, and would wait forever on a FIFO."""
        check_regular(self.path / WEIGHTS, "replace the folder with a complete checkpoint or model folder")

    def training_state(self) -> dict[str, Any]:
        """The optimisers, RNG, position and clock a resume needs (``state.pt``, loaded weights-only)."""
        state_file = self.path / STATE
        if not state_file.is_file():
            raise CheckpointError(
                f"{self.path} has no training state ({STATE}): resume from a run's checkpoint, "
                "not from a shipped model folder"
            )
        try:
            with warnings.catch_warnings():  # e.g. about the pickle protocol: noise on a one-line error
                warnings.simplefilter("ignore")
                return torch.load(state_file, map_location="cpu", weights_only=True)
        except pickle.UnpicklingError as exc:  # weights_only met something that is not tensors or plain data
            # torch's own message suggests weights_only=False: exactly what must not be done here.
            raise CheckpointError(
                f"{state_file} holds objects other than tensors and plain data, which could run code, so it "
                "was not loaded: resume only from checkpoints that translate.train wrote"
            ) from exc
        except Exception as exc:  # a truncated or damaged file
            reason = first_line(exc)
            raise CheckpointError(f"{state_file} is not a readable training state ({reason}): "
                                  "resume from an earlier checkpoint") from exc

    def expect_family(self, *families: str) -> None:
        """Refuse a checkpoint of another family than the command reads."""
        if self.family not in families:
            raise CheckpointError(
                f"{self.path} is a {self.family} checkpoint, but a {' or '.join(families)} one is needed"
            )


def checkpoint_root(run_dir: Path) -> Path:
    """Where a run keeps its ``step-NNNNNNNN`` folders and ``latest``."""
    return run_dir / CHECKPOINTS


def holds_checkpoints(run_dir: Path) -> bool:
    """Whether a run folder holds a checkpoint to go on from (its ``latest``, or a whole
    ``step-*`` folder): a ``checkpoints/`` left empty by a first save that failed holds none."""
    root = checkpoint_root(run_dir)
    return (root / LATEST).is_file() or any((root / name / CONFIG).is_file() for name in _step_names(root))


def find_checkpoint(path: str | os.PathLike) -> Path:
    """Resolve a run folder, a checkpoint folder, a model folder or a file inside one."""
    given = Path(path)
    path = given.parent if given.is_file() else given
    if _is_checkpoint(path):
        return path
    latest = checkpoint_root(path) / LATEST
    if latest.is_file():
        name = _latest_name(latest)
        candidate = checkpoint_root(path) / name
        if (candidate / CONFIG).is_file():
            return candidate
    if not path.exists():
        raise CheckpointError(f"{path} does not exist: pass a run folder, a checkpoint folder or a model folder")
    if path != given:  # a file, e.g. an exported .onnx file or an image: its folder holds no checkpoint either
        hint = (" (for an ONNX export, the model folder it was exported from; translate.apply and translate.sample "
                "take the .onnx file itself)" if given.suffix.lower() == ".onnx" else "")
        raise CheckpointError(f"{given} is not a checkpoint, and {path} holds none: pass a run folder, a checkpoint "
                              f"folder or a model folder{hint}")
    raise CheckpointError(
        f"no checkpoint in {path}: expected {CONFIG} and {WEIGHTS} there, or a run folder with "
        f"checkpoints/{LATEST}{_what_is_there(path)}"
    )


def _is_checkpoint(folder: Path) -> bool:
    return (folder / CONFIG).is_file() and (folder / WEIGHTS).is_file()


def _step_names(root: Path) -> list[str]:
    """The ``step-NNNNNNNN`` folder names under a run's ``checkpoints/``, oldest first."""
    return sorted(p.name for p in root.glob("step-*") if CHECKPOINT_NAME.fullmatch(p.name))


def _what_is_there(path: Path, most: int = 6) -> str:
    """Where a folder holds no checkpoint, what it holds that the user may have meant: a run's
    checkpoints without their ``latest`` (a run stopped before its first save finished, or a
    copy without it), half a model folder (one of its two files), or model and run folders one
    level down (``models/`` for ``models/NAME``)."""
    present = [name for name in (CONFIG, WEIGHTS) if (path / name).is_file()]
    if len(present) == 1:
        missing = WEIGHTS if present == [CONFIG] else CONFIG
        return f"; it has {present[0]} but no {missing}: copy that too, or write the folder again (translate.pack)"
    if (path / LATEST).is_file() and path.name == checkpoint_root(path.parent).name:
        return f"; it is a run's checkpoints folder: pass the run, {path.parent}"
    root = checkpoint_root(path)
    steps = [name for name in _step_names(root) if _is_checkpoint(root / name)]
    if steps:
        return (f"; its checkpoints/{LATEST} is missing: pass {root / steps[-1]} (the newest), or to resume, "
                f"echo {steps[-1]} > {root / LATEST}")
    try:  # scandir knows each entry's kind without a stat per file: the folder may hold many images
        with os.scandir(path) as entries:
            children = sorted(Path(entry.path) for entry in entries if entry.is_dir())
    except OSError:  # not a folder, or not readable: the message above says enough
        return ""
    found = [str(p) for p in children if _is_checkpoint(p) or (checkpoint_root(p) / LATEST).is_file()]
    if found:
        return f"; it holds these, pass one of them: {_some(found, most)}"
    exports = sorted(p.name for p in path.glob("*.onnx"))
    if exports:
        return (f"; it holds ONNX exports ({_some(exports, most)}): translate.apply and translate.sample take such a "
                "file itself, the other commands the model folder it was exported from")
    return ""


def _some(names: list[str], most: int) -> str:
    return ", ".join(names[:most]) + (f" and {len(names) - most} more" if len(names) > most else "")


def _latest_name(latest: Path) -> str:
    """The checkpoint folder ``latest`` names; one line saying how to repair it when it names
    anything else (``../../other-run/...``, an absolute path) or holds no name at all (an
    image written over it)."""
    with open_regular(latest, "write the name of one of the run's step-NNNNNNNN folders into it") as file:
        text = file.read(256)
    try:
        name = text.decode().strip()
    except UnicodeDecodeError:
        name = None
    if name is not None and CHECKPOINT_NAME.fullmatch(name):
        return name
    steps = _step_names(latest.parent)
    found = f"names {name[:80]!r}, which is not a checkpoint of this run" if name is not None else (
        "is damaged (it holds no checkpoint name)")
    repair = f"e.g. echo {steps[-1]} > {latest} (the newest)" if steps else "none is left: start the run again"
    raise CheckpointError(f"{latest} {found}: point it at one of its step-NNNNNNNN folders, {repair}")


def read_checkpoint(path: str | os.PathLike) -> Checkpoint:
    """A run, checkpoint or model folder's config, checked to be translate's; its weights are
    read only when asked for (:meth:`Checkpoint.weights`)."""
    folder = find_checkpoint(path)
    try:
        with open_regular(folder / CONFIG) as file:
            meta = json.loads(file.read())
    except ValueError as exc:
        raise CheckpointError(f"{folder / CONFIG} is not valid JSON ({exc}): copy the folder again, or write it "
                              "again with python -m translate.pack") from exc
    except OSError as exc:
        raise CheckpointError(f"cannot read {folder / CONFIG} ({exc.strerror or exc}): check that it is a file you "
                              "may read") from exc
    except RecursionError:
        raise CheckpointError(f"{folder / CONFIG} is nested too deeply to be a translate config: replace it with "
                              "the config.json that translate wrote") from None
    if not isinstance(meta, dict) or not {"family", "model"} <= set(meta) or not isinstance(meta["family"], str):
        raise CheckpointError(f"{folder / CONFIG} lacks the 'family' (a name) and 'model' keys of a translate "
                              "checkpoint")
    if not isinstance(meta["model"], dict) or not isinstance(meta.get("train", {}), dict):
        raise CheckpointError(f"{folder / CONFIG} holds 'model' or 'train' that is not a mapping of settings: replace "
                              "it with the config.json that translate wrote")
    return Checkpoint(folder, meta["family"], meta["model"], meta.get("train", {}))


def _check_shapes(module: nn.Module, checkpoint: Checkpoint, prefix: str) -> None:
    """One line naming the file and the first tensor saved under ``prefix`` that does not fit
    ``module``, if any (read from the file's header: no weights are loaded)."""
    expected = {name: tuple(tensor.shape) for name, tensor in module.state_dict().items()}
    saved = checkpoint.shapes(prefix)
    where = f"the weights in {checkpoint.path / WEIGHTS} do not fit the architecture in its {CONFIG}"
    for name, shape in expected.items():
        if name not in saved:
            raise CheckpointError(f"{where}: {prefix}.{name} is missing")
        if saved[name] != shape:
            raise CheckpointError(f"{where}: {prefix}.{name} has shape {saved[name]}, the architecture needs {shape}")
    extra = sorted(set(saved) - set(expected))
    if extra:
        raise CheckpointError(f"{where}: {prefix}.{extra[0]} is not part of the architecture")


def load_weights(module: nn.Module, checkpoint: Checkpoint, prefix: str) -> None:
    """Load the tensors saved under ``prefix`` into ``module``; a mismatch is one line naming
    the file and the first tensor that does not fit."""
    _check_shapes(module, checkpoint, prefix)
    module.load_state_dict(checkpoint.weights(prefix))


def build_loaded(factory: Callable[[], M], checkpoint: Checkpoint, prefix: str) -> M:
    """``factory()`` with the weights saved under ``prefix``, built only once the saved shapes
    (read from the file's header) fit the architecture, which is first laid out on the meta
    device, where it takes no memory: a config and weights that disagree cost nothing."""
    with torch.device("meta"):
        skeleton = factory()
    _check_shapes(skeleton, checkpoint, prefix)
    module = factory()
    module.load_state_dict(checkpoint.weights(prefix))
    return module


def model_config(checkpoint: Checkpoint, config_class: type[C]) -> C:
    """The checkpoint's architecture, as ``config_class``; errors name its config file."""
    try:
        return config_class.from_dict(checkpoint.model, str(checkpoint.path / CONFIG))
    except ConfigError as exc:
        raise CheckpointError(str(exc)) from None


def train_config(checkpoint: Checkpoint, config_class: type[C]) -> C:
    """The checkpoint's training settings, as ``config_class``; errors name its config file."""
    try:
        return config_class.from_dict(checkpoint.train, f"{checkpoint.path / CONFIG} (train)")
    except ConfigError as exc:
        raise CheckpointError(f"{exc}: resume from a checkpoint that translate.train wrote") from None


def write_model_folder(
    dest: Path,
    family: str,
    model_config: dict[str, Any],
    modules: dict[str, nn.Module],
    train_config: dict[str, Any] | None = None,
    metadata: dict[str, str] | None = None,
    fp16: bool = False,
    extra_files: dict[str, bytes] | None = None,
) -> None:
    """A shipped model folder: weights and config as in a checkpoint, without training state.

    The files (and ``extra_files``, e.g. the run's record) are replaced together
    (:func:`~translate.io.fileio.write_together`); ``metadata`` goes into the safetensors header.
    ``fp16`` stores the fp32 weights in fp16 (:mod:`translate.modeling.half_storage`); loading
    widens them.
    """
    tensors = flat_state(modules)
    if fp16:
        tensors = {name: to_fp16(name, tensor) for name, tensor in tensors.items()}
    weights = reproducible_safetensors(tensors, metadata)
    config = json.dumps(checkpoint_meta(family, model_config, train_config or {}), indent=2, sort_keys=True) + "\n"
    writers = {WEIGHTS: lambda tmp: tmp.write_bytes(weights), CONFIG: lambda tmp: tmp.write_text(config)}
    for name, data in (extra_files or {}).items():
        writers[name] = lambda tmp, data=data: tmp.write_bytes(data)
    write_together(dest, writers)


def reproducible_safetensors(tensors: dict[str, torch.Tensor], metadata: dict[str, str] | None = None) -> bytes:
    """A safetensors file of ``tensors`` whose bytes depend only on what it holds. The library
    writes the header from a hash map, in an order that changes from one call to the next, so
    the same weights packed twice made different files (and sha256s, which name the weights a
    model's scores belong to); here the header's keys are sorted."""
    blob = save(tensors, metadata=metadata)
    size = int.from_bytes(blob[:8], "little")
    header = json.dumps(json.loads(blob[8 : 8 + size]), sort_keys=True, separators=(",", ":")).encode()
    header += b" " * (-len(header) % 8)  # the tensors' data stays 8-byte aligned, as the format asks
    return len(header).to_bytes(8, "little") + header + blob[8 + size :]


def flat_state(modules: dict[str, nn.Module]) -> dict[str, torch.Tensor]:
    """One flat tensor dict, keys prefixed by module name (safetensors has no nesting)."""
    return {
        f"{prefix}.{key}": value.detach().cpu().contiguous()
        for prefix, module in modules.items()
        for key, value in module.state_dict().items()
    }


def checkpoint_meta(family: str, model_config: dict[str, Any], train_config: dict[str, Any]) -> dict[str, Any]:
    """A checkpoint's ``config.json``: the family that reads it back, the format and the
    version that wrote it, and the two configs."""
    return {
        "family": family,
        "format": FORMAT_VERSION,
        "toolkit_version": __version__,
        "model": model_config,
        "train": train_config,
    }
