"""What every run settles on start and on --resume, the same way for every family."""

from __future__ import annotations

import argparse
from dataclasses import dataclass

import pytest
import torch

from translate.errors import ConfigError
from translate.families.cyclegan.settings import CycleGANHyper, CycleGANTrainConfig
from translate.families.translation_settings import resume_settings
from translate.training.distributed import Context
from translate.training.run_setup import settle


@dataclass
class Recorded:
    world_size: int = 1
    precision: str | None = None


def test_a_resumed_run_keeps_its_process_count_and_precision():
    context = Context(device=torch.device("cpu"))
    recorded = Recorded(world_size=1, precision="bf16")
    settle(recorded, context, None, resumed=True)
    assert (recorded.world_size, recorded.precision) == (1, "bf16")
    fresh = Recorded()
    settle(fresh, context, "fp32", resumed=False)
    assert fresh.precision == "fp32"
    with pytest.raises(ConfigError, match="trained on 2 processes: resume it on as many"):
        settle(Recorded(world_size=2), context, None, resumed=True)


def _flags(**given) -> argparse.Namespace:
    """The flags resume_settings reads, none given unless named."""
    flags = dict(epochs=None, epochs_decay=None, compile=None, eval_every=None, eval_every_averaged=None)
    return argparse.Namespace(**{**flags, **given})


def test_resume_changes_only_the_schedule_and_the_speed_flags():
    settings = CycleGANTrainConfig(["a", "b"], 286, 1, 0, CycleGANHyper(epochs=5, epochs_decay=5), eval_every=2)
    resume_settings(settings, _flags(epochs=7, compile=True))
    hyper = settings.hyper
    assert (hyper.epochs, hyper.epochs_decay, settings.compile, settings.eval_every) == (7, 5, True, 2)
    assert settings.eval_every_averaged is None and settings.averaged_scoring() is None
    resume_settings(settings, _flags(eval_every_averaged=1))
    assert settings.averaged_scoring() is None  # no average: nothing to score more often
    hyper.average_from_epoch = 6
    assert (settings.eval_every, settings.averaged_scoring()) == (2, (6, 1))
    settings.eval_every = 0
    assert settings.averaged_scoring() is None  # --eval-every 0 turns every scoring off
    settings.eval_every = 2
    with pytest.raises(ConfigError, match="--eval-every must be 0"):
        resume_settings(settings, _flags(eval_every=-1))
    with pytest.raises(ConfigError, match="--eval-every-averaged must be 1 or more, got 0"):
        resume_settings(settings, _flags(eval_every=2, eval_every_averaged=0))
