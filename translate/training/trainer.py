"""The training loop every family shares: epochs of batches, progress bar, sample grids,
metrics.jsonl, TensorBoard scalars, atomic checkpoints and exact resume.

A family's recipe (``translate.families.*.recipe``) supplies the optimisation step; this module only
orchestrates, so it never needs to know which family it trains. In a distributed run
(``world_size > 1``) every rank trains on its own share of each step, and only rank 0
writes logs, grids and checkpoints.

Faults: Ctrl-C (or SIGTERM) stops at the end of a step, with a checkpoint (in a distributed
run at once, without one: the ranks would see it at different steps); a NaN or infinite loss
stops the run without saving the poisoned weights, or with ``skip_nonfinite`` the
recipe skips that step's update and the loop counts it.
"""

from __future__ import annotations

import math
import shlex
import signal
import sys
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import torch
import torch.distributed as dist
from torch import nn
from tqdm import tqdm

from translate.config import LOG_EVERY
from translate.errors import CheckpointError, DivergedError, StorageError, first_line
from translate.io.run_layout import TENSORBOARD
from translate.modeling.checkpoint import LATEST, STATE, Checkpoint, checkpoint_root, load_weights
from translate.modeling.device import describe_device
from translate.training.checkpoint import check_optimizer_state, save_checkpoint
from translate.training.clock import RunClock
from translate.training.data import RANDOM_STREAMS
from translate.training.distributed import Context, any_rank
from translate.training.optim import NonFiniteStep, load_optimizer_state
from translate.training.progress import Throughput, epoch_progress, restart_clock
from translate.training.records import RunRecords, start_record
from translate.training.stopping import GracefulStop, StopRequested

# With --skip-nonfinite, this many skipped steps in a row mean diverged weights, not bad
# batches (the data order is shuffled): the run stops rather than skip every step to come.
SKIPS_IN_A_ROW_LIMIT = 25


class Recipe(Protocol):
    """What a family supplies: its modules and optimisers, one step, and a sample grid."""

    skip_nonfinite: bool  # the step raises NonFiniteStep instead of applying a non-finite update

    def prepare(self, first_batch: Callable[[], tuple[torch.Tensor, ...]]) -> None:
        """Build what the data sizes (e.g. CUT's projection heads, sized by the first batch's
        features), with its optimiser; ``first_batch()`` gives the run's first batch, on the
        device. Called once, before modules() and optimizers() are read: see Trainer.prepare."""

    def modules(self) -> dict[str, nn.Module]:
        """Every module the checkpoint saves, by its prefix there."""

    def optimizers(self) -> dict[str, torch.optim.Optimizer]:
        """Every optimiser the checkpoint saves, by name."""

    def step(self, batch: tuple[torch.Tensor, ...], step: int) -> dict[str, float]:
        """One optimisation step on ``batch``: its losses by name, for the bar and metrics.jsonl."""

    def sample_grid(self) -> tuple[torch.Tensor, int]:
        """The grid of the run's fixed inputs: images in [-1, 1], and images per row."""

    def on_epoch_end(self, epoch: int) -> None:
        """After each epoch's last step: the learning-rate schedule (weight averages are kept every step)."""

    def before_checkpoint(self) -> None:
        """Bring derived weights up to date before the grid and the save."""

    def extra_state(self) -> dict[str, Any]:
        """What exact resume needs beyond modules and optimisers (schedules, image pools, an average's count).
        Called on every rank: it may gather across ranks."""

    def load_extra_state(self, state: dict[str, Any]) -> None:
        """Restore what :meth:`extra_state` returned."""


class BatchSource(Protocol):
    """Batches (tuples of tensors) in an order fixed by (seed, epoch), from any batch on."""

    steps_per_epoch: int

    def batches(self, epoch: int, start: int = 0) -> Iterator[tuple[torch.Tensor, ...]]:
        """Epoch ``epoch``'s batches from batch ``start`` on, the same on every resume."""


@dataclass
class RunSpec:
    """Where and how long to train, and what to record with each checkpoint."""

    run_dir: Path
    family: str
    model_config: dict[str, Any]
    train_config: dict[str, Any]
    epochs: int
    max_steps: int | None = None
    max_hours: float | None = None  # stop once the run has trained this long (RunClock), resumes included
    max_cpu_hours: float | None = None  # stop once the run's training has used this much CPU time, resumes included
    save_every_steps: int | None = None
    log_every: int = LOG_EVERY
    eval_every: int | None = None  # epochs between calls of the trainer's evaluator (and after the last)
    eval_every_from: tuple[int, int] | None = None  # (epoch E, N): from epoch E on, every N epochs instead
    command: str = ""  # this start's command line: metrics.jsonl records it, for the model card
    continue_command: str = ""  # the command that continues the run as this start ran it (its stop messages)


# Scores the live networks during training: returns scalars by name (e.g. "horse_to_zebra/fid").
Evaluator = Callable[[int], dict[str, float]]


class Trainer:
    """The loop every family trains with: it steps the recipe over the source's batches, and
    owns what a run must get right once rather than per family: exact resume, checkpoints,
    the clock and limits, graceful stops, non-finite losses, records and scoring."""

    def __init__(
        self,
        spec: RunSpec,
        recipe: Recipe,
        source: BatchSource,
        context: Context | None = None,
        evaluator: Evaluator | None = None,
    ):
        self.spec, self.recipe, self.source, self.evaluator = spec, recipe, source, evaluator
        self.context = context or Context()
        self.step = 0
        self.epoch = 0
        self.skipped = 0  # steps skipped for a non-finite loss or gradient, over the whole run
        self.skipped_in_a_row = 0
        self.clock = RunClock()
        self.machine = describe_device(self.context.device)  # what the hours were measured on
        self.is_main = self.context.rank == 0
        self.last_checkpoint: Path | None = None  # the newest checkpoint this run can go on from
        self.stop = GracefulStop(enabled=not self.context.distributed)
        self.records = RunRecords(spec.run_dir, self.is_main)
        self.prepared = False  # whether the recipe has had its first batch (see prepare)

    def prepare(self) -> None:
        """Give the recipe its data-dependent first step, once: before the first step of a new
        run, and on resume before the checkpoint's weights and optimiser states load, so that
        modules the recipe builds from the data (and their optimisers) exist to take them. The
        batch is the run's first (batch 0 of epoch 0, this rank's share), the one a new run's
        first step trains on; a resumed run draws it again, then restores the RNG it saved."""
        if not self.prepared:
            self.recipe.prepare(self._first_batch)
            self.prepared = True

    def _first_batch(self) -> tuple[torch.Tensor, ...]:
        batch = next(b for b in self.source.batches(0) if len(b[0]))  # a batch of undecodable files is empty
        return tuple(t.to(self.context.device) for t in batch)

    # -- checkpoints -------------------------------------------------------------------
    def save(self) -> Path | None:
        """Checkpoint on rank 0 (the path; None on other ranks), all ranks waiting for it.

        Weights that are not finite are refused: a diverged run keeps its last good checkpoint.
        """
        self._check_weights()
        state = {
            "step": self.step,
            "epoch": self.epoch,
            "steps_per_epoch": self.source.steps_per_epoch,  # where in its epoch a resume goes on
            "skipped_steps": self.skipped,
            "skipped_in_a_row": self.skipped_in_a_row,  # so that a resume keeps counting towards the limit
            "random_streams": RANDOM_STREAMS,
            **self.clock.state(),
            "optimizers": {k: o.state_dict() for k, o in self.recipe.optimizers().items()},
            "torch_rng": torch.get_rng_state(),
            # What a recipe may draw from torch's global generators besides its own streams (pix2pix's
            # dropout reseeds them every step; a new family's might not).
            **({"cuda_rng": torch.cuda.get_rng_state(self.context.device)}
               if self.context.device.type == "cuda" else {}),
            "recipe": self.recipe.extra_state(),
        }
        path, failure = None, None
        if self.is_main:
            try:
                path = save_checkpoint(
                    self.spec.run_dir,
                    self.step,
                    self.spec.family,
                    self.spec.model_config,
                    self.spec.train_config,
                    self.recipe.modules(),
                    state,
                )
            except StorageError as exc:
                failure = exc
        # Every rank waits for the write here, and all stop together if it failed (none trains on alone).
        if any_rank(failure is not None, self.context):
            reason = failure or f"rank 0 could not write the checkpoint of step {self.step} (its error says why)"
            raise StorageError(f"{reason}; then continue from the last checkpoint with: {self._continue()}") \
                from failure
        self.last_checkpoint = path
        return path

    def _check_weights(self) -> None:
        modules = self.recipe.modules()
        finite = torch.stack([
            torch.stack([torch.isfinite(t).all() for t in module.state_dict().values()]).all()
            for module in modules.values()
        ]).tolist()
        bad = [name for name, ok in zip(modules, finite, strict=True) if not ok]
        if bad:
            raise DivergedError(f"the weights of {', '.join(bad)} are not finite at step {self.step}: "
                                f"nothing was saved; {self._way_back()}")

    def _way_back(self) -> str:
        """How to go on after a divergence, for the error message."""
        if self.recipe.skip_nonfinite:
            return "start again with a lower --lr"
        if self.last_checkpoint is None:
            return "start again with a lower --lr, or with --skip-nonfinite to skip such steps"
        return (f"the last good checkpoint is {self.last_checkpoint}: continue it with: {self._continue()} "
                "--skip-nonfinite to skip such steps, or start again with a lower --lr")

    def _barrier(self) -> None:
        if self.context.distributed:
            dist.barrier()

    def resume(self, checkpoint: Checkpoint) -> None:
        """Restore weights, optimisers, RNG and position from a checkpoint of this run."""
        checkpoint.expect_family(self.spec.family)
        state = checkpoint.training_state()
        self.prepare()
        for name, module in self.recipe.modules().items():
            load_weights(module, checkpoint, name)
        try:
            for name, optimizer in self.recipe.optimizers().items():
                load_optimizer_state(optimizer, state["optimizers"][name])
                check_optimizer_state(optimizer, name)
            torch.set_rng_state(state["torch_rng"])
            if "cuda_rng" in state and self.context.device.type == "cuda":
                torch.cuda.set_rng_state(state["cuda_rng"], self.context.device)
            self.recipe.load_extra_state(state["recipe"])
            step, epoch, skipped = int(state["step"]), int(state["epoch"]), int(state.get("skipped_steps", 0))
            self.clock.load(state, step)
        except (KeyError, TypeError, ValueError, RuntimeError, CheckpointError) as exc:
            reason = first_line(exc)
            raise CheckpointError(f"{checkpoint.path / STATE} does not fit this run ({type(exc).__name__}: "
                                  f"{reason[:200]}): resume from a checkpoint that this run wrote") from None
        if min(step, epoch, skipped) < 0:
            raise CheckpointError(f"{checkpoint.path / STATE} holds an impossible position (step {step}, epoch "
                                  f"{epoch}): resume from a checkpoint that this run wrote")
        trained = state.get("steps_per_epoch")  # checkpoints from before it was saved go on as they did
        if trained is not None and int(trained) != self.source.steps_per_epoch:
            raise CheckpointError(f"{checkpoint.path} trained {int(trained)} steps an epoch, and its data now gives "
                                  f"{self.source.steps_per_epoch}: its place in the epoch would be wrong; resume it "
                                  "on the data it trained on (check --data), or start a new run")
        self.step, self.epoch, self.skipped = step, epoch, skipped
        self.skipped_in_a_row = int(state.get("skipped_in_a_row", 0))
        if state.get("random_streams", 1) != RANDOM_STREAMS and self.is_main:
            print(f"note: {checkpoint.path} was written by an earlier toolkit, whose random streams may differ "
                  "from this one's: from here on the data order, augmentations and pools draw other numbers than "
                  "a straight run would have, so the rest of this epoch may show some images twice and others not "
                  "at all; the run goes on, and resumes exactly from the checkpoints it writes now", file=sys.stderr)
        self.last_checkpoint = checkpoint.path

    # -- records -----------------------------------------------------------------------
    def write_grid(self, name: str) -> None:
        """The recipe's grid of its fixed inputs as ``samples/NAME.png`` (rank 0)."""
        if self.is_main:
            self.records.grid(name, *self.recipe.sample_grid())

    # -- the loop ----------------------------------------------------------------------
    def done(self) -> bool:
        """Whether the run is at its end: all epochs trained, or a step, hours or CPU-hours limit reached."""
        return self.epoch >= self.spec.epochs or self._at_a_limit()

    def _at_a_limit(self) -> bool:
        """Whether --max-steps, --max-hours or --max-cpu-hours ends the run here (on every rank alike)."""
        spec = self.spec
        timed = spec.max_hours is not None or spec.max_cpu_hours is not None  # else no collective at every step
        over_time = timed and any_rank((spec.max_hours is not None and self.clock.hours() >= spec.max_hours)
                                       or (spec.max_cpu_hours is not None
                                           and self.clock.cpu_hours() >= spec.max_cpu_hours), self.context)
        return (spec.max_steps is not None and self.step >= spec.max_steps) or over_time

    def _limit_note(self) -> str:
        """Which end the run stands at, and how to go on past it."""
        spec = self.spec
        if self.epoch >= spec.epochs:
            return f"all {spec.epochs} epochs are done (a longer schedule continues it)"
        if spec.max_steps is not None and self.step >= spec.max_steps:
            return f"--max-steps {spec.max_steps} is reached (a higher one continues it)"
        return "its --max-hours or --max-cpu-hours is spent (a higher one continues it)"

    def fit(self) -> None:
        """Train to the end or a limit (after :meth:`resume`, from the checkpoint's step); a stop
        asked for by a signal saves and raises StopRequested."""
        self.prepare()
        self.records.open(self.step)
        if self.is_main:
            begun = (f"resuming from {self.last_checkpoint} ({self.position()})" if self.last_checkpoint
                     else "starting")
            logdir = shlex.quote(str(self.spec.run_dir / TENSORBOARD))
            print(f"{self.spec.family} run in {self.spec.run_dir}: {begun}; records in metrics.jsonl, samples/ and "
                  f"tensorboard/ there (tensorboard --logdir {logdir})", file=sys.stderr)
        if self.spec.command and self.is_main:  # a line of its own, before any step: no kill can lose it
            self.records.metrics({"step": self.step, "start": start_record(self.spec.command, self.step,
                                                                           self.context.world_size)})
        try:
            with self.stop:
                if self._scoring_owed():
                    print(f"note: taking the scores of epoch {self.epoch} first: the run stopped before it recorded "
                          "them", file=sys.stderr)
                    self._evaluate()
                if self.done() and self.is_main:  # a resume of a run already at its end or a limit
                    print(f"note: nothing to train at step {self.step}: {self._limit_note()}", file=sys.stderr)
                while not self.done() and not self.stop.requested:
                    self._run_epoch()
        except KeyboardInterrupt:  # a second Ctrl-C, or any in a distributed run
            if self.is_main:  # the latest checkpoint, which a save the interrupt cut short may not have named yet
                saved = (checkpoint_root(self.spec.run_dir) / LATEST).is_file()  # what --resume goes on from
                how = (f"continue from the run's latest checkpoint with: {self._continue()}" if saved
                       else f"nothing was saved: start it again with: {self.spec.command or 'its command'}")
                print(f"interrupted at step {self.step} without saving it; {how}", file=sys.stderr)
            raise
        finally:
            self.records.close()
        if self.stop.requested and not self.done():  # a finished run ends as finished, whatever came last
            signum = self.stop.signum
            how = "interrupted" if signum == signal.SIGINT else f"stopped by {signal.Signals(signum).name}"
            if self.is_main:
                print(f"{how} at step {self.step}: saved {self.last_checkpoint}; continue with: {self._continue()}",
                      file=sys.stderr)
            raise StopRequested(self.stop.signum)

    def _continue(self) -> str:
        return self.spec.continue_command or shlex.join(
            ["python", "-m", "translate.train", self.spec.family, "--out", str(self.spec.run_dir), "--resume"])

    def _step(self, batch: tuple[torch.Tensor, ...]) -> dict[str, float] | None:
        """One optimisation step: its losses, or None when it was skipped (--skip-nonfinite).

        A skipped step also leaves the buffers as they were: a batch-norm layer that saw
        a NaN batch would otherwise keep NaN running statistics.
        """
        modules = self.recipe.modules().values() if self.recipe.skip_nonfinite else ()
        saved = [(buffer, buffer.clone()) for module in modules for buffer in module.buffers()]
        try:
            logs = self.recipe.step(batch, self.step)
        except NonFiniteStep as exc:
            for buffer, value in saved:
                buffer.copy_(value)
            self.skipped += 1
            self.skipped_in_a_row += 1
            if self.is_main:
                tqdm.write(f"step {self.step + 1}: skipped, {exc} not finite", file=sys.stderr)
            if self.skipped_in_a_row == SKIPS_IN_A_ROW_LIMIT:
                raise DivergedError(f"the last {SKIPS_IN_A_ROW_LIMIT} steps up to step {self.step + 1} were all "
                                    f"skipped: the weights have diverged; {self._way_back()}") from exc
            return None
        self.skipped_in_a_row = 0
        bad = [f"{key} = {value}" for key, value in logs.items() if not math.isfinite(value)]
        if any_rank(bool(bad), self.context):  # every rank stops at the same step, none waits for the others
            raise DivergedError(f"{', '.join(bad or ['a loss on another process'])} at step {self.step + 1}: the run "
                                f"stopped without saving these weights; {self._way_back()}")
        return logs

    def _run_epoch(self) -> None:
        spec, spe = self.spec, self.source.steps_per_epoch
        start = self.step - self.epoch * spe
        sums: dict[str, float] = defaultdict(float)
        counts: dict[str, int] = defaultdict(int)
        skipped_before, first_step = self.skipped, self.step + 1
        speed = Throughput()
        logs: dict[str, float] = {}
        self.clock.start()
        label = f"epoch {self.epoch + 1}/{spec.epochs}"
        with epoch_progress(spe, start, label, disable=not self.is_main) as bar:
            for batch in self.source.batches(self.epoch, start):
                images = 0
                if len(batch[0]):  # empty when every file of the batch failed to decode
                    step_logs = self._step(tuple(t.to(self.context.device, non_blocking=True) for t in batch))
                    for key, value in (step_logs or {}).items():
                        sums[key] += value
                        counts[key] += 1
                    logs = step_logs or logs
                    images = len(batch[0]) * self.context.world_size
                self.step += 1
                self.clock.lap()  # the count the limits, the metrics and this step's checkpoint share
                bar.update(1)
                if speed.add(images):  # the first step of a start also paid for start-up: time from here
                    restart_clock(bar)
                skipped = {"skipped": self.skipped} if self.skipped else {}
                # refresh=False: the bar redraws at its own interval, not at every step.
                bar.set_postfix({**{k: f"{v:.3f}" for k, v in logs.items()}, **speed.postfix(), **skipped},
                                refresh=False)
                if self.step % spec.log_every == 0:
                    self.records.scalars("loss", logs, self.step)
                    if speed.rate():  # none yet at a start's first step, which pays for the start-up
                        self.records.scalars("speed", {"images_per_s": speed.rate()}, self.step)
                if self.stop.requested or self._at_a_limit():
                    break
                # Not at the epoch's last step: the end-of-epoch checkpoint below is that step's one.
                # Each step is saved at most once, so a save never replaces the folder `latest` names.
                periodic = spec.save_every_steps and self.step % spec.save_every_steps == 0
                if periodic and self.step < (self.epoch + 1) * spe:
                    self.recipe.before_checkpoint()
                    self.save()
        finished = self.step >= (self.epoch + 1) * spe
        if finished:
            self.recipe.on_epoch_end(self.epoch)
            self.epoch += 1
        self.recipe.before_checkpoint()
        self.write_grid(f"epoch-{self.epoch:03d}" if finished else f"step-{self.step:08d}")
        self.clock.lap()  # the grid's time too, in the record and the checkpoint below
        record = {
            "epoch": self.epoch,
            "step": self.step,
            "epoch_complete": finished,
            "images_per_s": round(speed.rate(), 3),
            "skipped_steps": self.skipped - skipped_before,
            "means_from_step": first_step,  # the losses are means over the steps of this start alone
            **self.clock.record(),
            "machine": self.machine,
            **{k: sums[k] / counts[k] for k in sums},
        }
        self.records.metrics(record)
        if finished:  # a stop's means cover part of an epoch: metrics.jsonl has them, marked incomplete
            self.records.scalars("epoch", {key: record[key] for key in sums}, self.step)
        if self.is_main:
            means = ", ".join(f"{key} {record[key]:.3f}" for key in sums)
            means = f" (means of steps {first_step}-{self.step}: {means})" if means else ""
            skips = f", {record['skipped_steps']} skipped" if record["skipped_steps"] else ""
            rate = "".join(f", {value} {unit}" for unit, value in speed.postfix().items())
            tqdm.write(f"{label}: {'done' if finished else 'stopped'} at step {self.step}{means}{skips}{rate}, "
                       f"{record['train_hours']:.2f} training hours, {record['cpu_hours']:.2f} CPU-hours",
                       file=sys.stderr)
        self.save()
        self.clock.stop()  # the scoring is not training time
        # A stop asked for during the epoch's last step leaves at once (the scoring takes minutes, past
        # a scheduler's grace period): the next start takes it (see _scoring_owed). The last epoch's
        # is taken here all the same, since the run ends with it.
        if finished and self._evaluation_due() and (not self.stop.requested or self.done()):
            self._evaluate()

    def position(self) -> str:
        """Where the run stands, numbered as the progress bar numbers epochs: the epoch its last
        step belonged to, and whether that epoch is complete."""
        spe = self.source.steps_per_epoch
        if self.step and self.step == self.epoch * spe:
            return f"step {self.step}, epoch {self.epoch}/{self.spec.epochs} complete"
        return f"step {self.step}, in epoch {self.epoch + 1}/{self.spec.epochs}"

    def _evaluation_due(self) -> bool:
        every, later = self.spec.eval_every, self.spec.eval_every_from
        if later is not None and self.epoch >= later[0]:
            every = later[1]
        # From the schedule alone, the same on every rank: only rank 0 holds the evaluator, and
        # the others must meet it at the scoring's barrier.
        return bool(every) and (self.epoch % every == 0 or self.epoch == self.spec.epochs)

    def _scoring_owed(self) -> bool:
        """Whether a resumed run owes the scoring after the epoch its checkpoint ends: that
        checkpoint is written before the scoring, so a kill during the scoring would otherwise
        lose it for good (after the last epoch, the final model's). Scores in metrics.jsonl
        are not taken again."""
        at_epoch_end = self.step > 0 and self.step == self.epoch * self.source.steps_per_epoch
        owed = self.is_main and at_epoch_end and self._evaluation_due() and not self.records.scored(self.epoch)
        return any_rank(owed, self.context)  # only rank 0 reads metrics.jsonl

    def _evaluate(self) -> None:
        """Score the networks (rank 0; the others wait) into metrics.jsonl and TensorBoard."""
        if self.is_main and self.evaluator is not None:
            began = time.perf_counter()
            scores = self.evaluator(self.epoch)
            seconds = round(time.perf_counter() - began, 1)
            tqdm.write(f"epoch {self.epoch}: " + ", ".join(f"{k} {v:.4g}" for k, v in scores.items())
                       + f" ({seconds} s)", file=sys.stderr)
            self.records.metrics({"epoch": self.epoch, "step": self.step, **self.clock.record(), "eval": scores,
                                  "eval_seconds": seconds})
            self.records.scalars("eval", scores, self.step)
        self._barrier()
