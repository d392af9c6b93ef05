"""What the recipes of the translation families (CycleGAN, CUT, pix2pix) share: device
placement, precision and optional compiling; a learning rate per optimiser that is constant
for ``epochs`` and decays linearly to zero over ``epochs_decay``; and a uniform average of
the generators' weights from a chosen epoch on (``average_from_epoch``), which is then what
the run scores, samples and ships. Imported only to train."""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from translate.families.translation_settings import ScheduledHyper, average_name
from translate.modeling.device import autocast
from translate.training.data import derived_generator
from translate.training.distributed import Context
from translate.training.optim import WeightMean, linear_decay


@dataclass(frozen=True)
class RecipeOptions:
    """How a recipe runs, as opposed to what it trains (its config and hyper-parameters): one
    value every translation recipe takes, so that an option added here reaches them all."""

    seed: int = 0  # the recipe's coin flips and samplings are a pure function of (seed, step, rank)
    compile: bool = False  # torch.compile the networks' steps
    skip_nonfinite: bool = False  # see translate.training.optim.optimise
    precision: str = "fp32"  # fp32, or bf16 autocast (resolved from the run's --precision)


DEFAULT_OPTIONS = RecipeOptions()  # frozen, so one instance serves as every recipe's default


class ScheduledRecipe:
    """The shared half of a recipe; a family's recipe subclasses it, builds its networks and
    optimisers, calls :meth:`schedule` for each optimiser and :meth:`keep_average` for its
    generators, and adds its own state to :meth:`extra_state`."""

    def __init__(self, hyper: ScheduledHyper, context: Context, options: RecipeOptions):
        hyper.validate()
        self.hyper, self.context, self.seed = hyper, context, options.seed
        self.skip_nonfinite = options.skip_nonfinite
        self.device = context.device
        self.memory_format = torch.channels_last if self.device.type == "cuda" else torch.contiguous_format
        self.autocast = autocast(options.precision, self.device)
        # Static shapes: a run's batches all have one shape. A second shape in the same process (a
        # benchmark, the tests) then compiles anew instead of going symbolic, which inductor failed
        # on for these networks (torch 2.14: "cannot determine truth value of Relational").
        self.maybe_compile: Callable[[nn.Module], Any] = (
            functools.partial(torch.compile, dynamic=False) if options.compile else _identity)
        self.schedulers: dict[str, torch.optim.lr_scheduler.LambdaLR] = {}
        self.generators: dict[str, nn.Module] = {}  # by direction, as trained
        self.average: WeightMean | None = None

    def step_generator(self, step: int, *stream: int, device: torch.device | str = "cpu") -> torch.Generator:
        """Randomness of ``step`` (``stream`` tells a step's draws apart), a pure function of
        (seed, step, rank, stream): a resumed run, or another process, draws the same numbers."""
        return derived_generator("step", self.seed, step, self.context.rank, *stream, device=device)

    def penalty_mixing(self, step: int, *stream: int) -> torch.Generator | None:
        """The gradient penalty's mixing weights' generator for ``step``, on the run's device;
        None unless the loss is wgan-gp."""
        return self.step_generator(step, *stream, device=self.device) if self.hyper.loss == "wgan-gp" else None

    @staticmethod
    def step_logs(logs: dict[str, torch.Tensor]) -> dict[str, float]:
        """A step's losses as floats, read off the device in one sync rather than one per loss."""
        values = torch.stack([v.detach().float() for v in logs.values()]).tolist()
        return dict(zip(logs, values, strict=True))

    def place(self, net: nn.Module) -> nn.Module:
        """``net`` on the run's device, in its memory format."""
        return net.to(self.device, memory_format=self.memory_format)

    def schedule(self, name: str, optimizer: torch.optim.Optimizer) -> None:
        """Give ``optimizer`` the linear-decay schedule, saved and restored under ``name``."""
        self.schedulers[name] = torch.optim.lr_scheduler.LambdaLR(
            optimizer, linear_decay(self.hyper.epochs, self.hyper.epochs_decay))

    def keep_average(self, generators: dict[str, nn.Module]) -> None:
        """Train ``generators`` (by direction), and average their weights if the run asks for it.
        The average is not compiled: it only adds weights, and is used only to score, sample and save."""
        self.generators = generators
        self.average = WeightMean(generators) if self.hyper.average_from_epoch else None

    def averages(self, names: dict[str, str]) -> dict[str, nn.Module]:
        """The weight averages the run keeps, for :meth:`modules`: by the checkpoint name of
        each direction's generator in ``names``, under :func:`average_name`."""
        means = self.average.means if self.average is not None else {}
        return {average_name(names[direction]): net for direction, net in means.items()}

    def shipped_generators(self) -> dict[str, nn.Module]:
        """The generators the run scores, samples and ships, by direction: their weight average
        once it has begun, else the ones being trained."""
        return self.generators if self.average is None else self.average.current()

    def averaged(self) -> dict[str, int]:
        """How many weights the average holds (0: the trained generators ship, the average not
        begun yet), for the scores of --eval-every; nothing for a run without one."""
        return {} if self.average is None else {"generators_averaged": self.average.count}

    def update_average(self, step: int) -> None:
        """Take the weights after step index ``step`` into the average when due: every
        ``average_every``-th step from the first step of epoch ``average_from_epoch`` on."""
        if self.average is None:
            return
        epochs_done = next(iter(self.schedulers.values())).last_epoch  # one scheduler step per finished epoch
        if epochs_done + 1 >= self.hyper.average_from_epoch and (step + 1) % self.hyper.average_every == 0:
            self.average.update()

    def before_checkpoint(self) -> None:
        """Until the average has begun, it holds the trained generators' weights, so that a
        checkpoint's average is always the generators that ship."""
        if self.average is not None:
            self.average.fill_if_empty()

    def on_epoch_end(self, epoch: int) -> None:
        """Advance the learning-rate schedules by one epoch."""
        for scheduler in self.schedulers.values():
            scheduler.step()

    def extra_state(self) -> dict[str, Any]:
        """The schedules, and how many weights the average holds."""
        extra: dict[str, Any] = {"schedulers": {k: s.state_dict() for k, s in self.schedulers.items()}}
        if self.average is not None:
            extra["average_count"] = self.average.count
        return extra

    def load_extra_state(self, state: dict[str, Any]) -> None:
        """The schedules' positions, and each optimiser's rate set from its schedule as it is now:
        the optimiser's saved rate is the old schedule's, which a resume that changes --epochs or
        --epochs-decay would otherwise keep for a whole epoch (0 on extending a finished run)."""
        for name, scheduler in self.schedulers.items():
            scheduler.load_state_dict(state["schedulers"][name])
            groups = scheduler.optimizer.param_groups
            for group, base, factor in zip(groups, scheduler.base_lrs, scheduler.lr_lambdas, strict=True):
                group["lr"] = base * factor(scheduler.last_epoch)
            scheduler._last_lr = [group["lr"] for group in groups]  # what get_last_lr() reports
        if self.average is not None:
            self.average.count = int(state["average_count"])


def _identity(module: nn.Module) -> nn.Module:
    return module
