"""A stop asked for at an epoch's end, on the shared Trainer with a toy recipe (a linear layer,
4 steps an epoch, no data): the process leaves without the epoch's scoring, which takes
minutes on a CPU (past a scheduler's grace period), and the next start takes it first; a stop
during the run's very last step lets the run finish as finished."""

from __future__ import annotations

import json
import os
import signal
from pathlib import Path

import pytest
import torch
from torch import nn

from translate.families.translation_recipe import RecipeOptions, ScheduledRecipe
from translate.families.translation_settings import ScheduledHyper
from translate.modeling.checkpoint import read_checkpoint
from translate.training.distributed import Context
from translate.training.stopping import StopRequested
from translate.training.trainer import RunSpec, Trainer

STEPS_PER_EPOCH = 4


class Batches:
    steps_per_epoch = STEPS_PER_EPOCH

    def batches(self, epoch: int, start: int = 0):
        inputs = torch.randn(STEPS_PER_EPOCH, 2, 3, generator=torch.Generator().manual_seed(epoch))
        for index in range(start, STEPS_PER_EPOCH):
            yield (inputs[index],)


class Linear(ScheduledRecipe):
    """A linear layer that learns to map its inputs to 0; SIGTERM to itself during step ``term_at``."""

    def __init__(self, hyper: ScheduledHyper, term_at: int | None):
        super().__init__(hyper, Context(), RecipeOptions())
        torch.manual_seed(0)
        self.net = nn.Linear(3, 3)
        self.optimizer = torch.optim.Adam(self.net.parameters(), 1e-2)
        self.schedule("net", self.optimizer)
        self.term_at = term_at

    def prepare(self, first_batch) -> None:
        pass

    def modules(self) -> dict[str, nn.Module]:
        return {"net": self.net}

    def optimizers(self) -> dict[str, torch.optim.Optimizer]:
        return {"net": self.optimizer}

    def step(self, batch, step: int) -> dict[str, float]:
        if step == self.term_at:
            os.kill(os.getpid(), signal.SIGTERM)
        loss = (self.net(batch[0]) ** 2).mean()
        self.optimizer.zero_grad()
        loss.backward()
        self.optimizer.step()
        return {"loss": loss.item()}

    def sample_grid(self):
        return torch.zeros(1, 3, 8, 8), 1


def trainer(run: Path, scored: list[int], term_at: int | None = None) -> Trainer:
    """2 epochs at the full rate and 2 of decay, scored every 2 epochs into ``scored``."""
    spec = RunSpec(run_dir=run, family="toy", model_config={}, train_config={}, epochs=4, eval_every=2)
    recipe = Linear(ScheduledHyper(epochs=2, epochs_decay=2), term_at)
    return Trainer(spec, recipe, Batches(), None, lambda epoch: scored.append(epoch) or {"fid": 1.0})


def scorings(run: Path) -> list[int]:
    lines = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    return [line["epoch"] for line in lines if "eval" in line]


def test_a_stop_during_an_epoch_s_last_step_leaves_its_scoring_to_the_next_start(tmp_path):
    run, scored = tmp_path / "run", []
    with pytest.raises(StopRequested):
        trainer(run, scored, term_at=2 * STEPS_PER_EPOCH - 1).fit()  # the last step of epoch 2, due for scoring
    assert scored == [] and read_checkpoint(run).training_state()["step"] == 2 * STEPS_PER_EPOCH
    resumed = trainer(run, scored)
    resumed.resume(read_checkpoint(run))
    resumed.fit()
    assert scored == [2, 4] and scorings(run) == [2, 4]  # epoch 2's first, once


def test_a_stop_during_the_run_s_last_step_lets_it_finish_as_finished(tmp_path):
    run, scored = tmp_path / "run", []
    trainer(run, scored, term_at=4 * STEPS_PER_EPOCH - 1).fit()  # no StopRequested: exit code 0, not 143
    assert scored == [2, 4] and scorings(run) == [2, 4]


class Interrupted(Linear):
    """Ctrl-C pressed twice (or once under torchrun): KeyboardInterrupt inside step ``at``."""

    def __init__(self, at: int):
        super().__init__(ScheduledHyper(epochs=2, epochs_decay=2), None)
        self.at = at

    def step(self, batch, step: int) -> dict[str, float]:
        if step == self.at:
            raise KeyboardInterrupt
        return super().step(batch, step)


@pytest.mark.parametrize(("at", "advice"), [
    (1, "nothing was saved: start it again with: python -m translate.train toy --out RUN"),
    (STEPS_PER_EPOCH + 1, "continue from the run's latest checkpoint with: python -m translate.train toy --resume"),
], ids=["before-any-checkpoint", "after-epoch-1"])
def test_an_interrupt_at_once_says_how_to_go_on(tmp_path, capsys, at, advice):
    spec = RunSpec(run_dir=tmp_path / "run", family="toy", model_config={}, train_config={}, epochs=4,
                   command="python -m translate.train toy --out RUN",
                   continue_command="python -m translate.train toy --resume")
    with pytest.raises(KeyboardInterrupt):
        Trainer(spec, Interrupted(at), Batches()).fit()
    assert f"interrupted at step {at} without saving it; {advice}\n" in capsys.readouterr().err
