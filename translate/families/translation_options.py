"""The ``train`` flags of the translation families, declared once: the schedule, weight
average, speed and scoring every one has (:func:`add_schedule_options`), the image size and the
generator-against-PatchGAN widths they all read (:func:`add_image_options`,
:func:`add_network_options`), and the data and networks of those that train the shared ResNet
generator on two domains' folders (CycleGAN, CUT: :func:`add_translation_options`); and the
settings they make, new or on --resume."""

from __future__ import annotations

import argparse
from typing import Any, Protocol, TypeVar

from translate.datasets.domains import check_sizes
from translate.errors import ConfigError
from translate.families.translation import TranslationConfig
from translate.families.translation_settings import ScheduledHyper, TranslationTrainConfig
from translate.modeling.resnet_gan import ResnetGANConfig

C = TypeVar("C", bound=ResnetGANConfig)


class NormedConfig(TranslationConfig, Protocol):
    """A translation model's config that names its networks' norm (see :meth:`ScheduledHyper.check_norm`)."""

    norm: str


def add_translation_options(parser: argparse.ArgumentParser, optim: argparse._ArgumentGroup,
                            epochs_decay_default: str) -> None:
    """The shared flags; ``epochs_decay_default`` says in --help what --epochs-decay defaults to."""
    parser.add_argument("--download", action="store_true",
                        help="fetch the CycleGAN paper's A2B dataset (e.g. horse2zebra) into --data if missing")
    data = parser.add_argument_group("data")
    data.add_argument("--domains", nargs=2, metavar=("A", "B"),
                      help="<data>/A2B/{trainA,trainB} or <data>/A/ and <data>/B/ (e.g. horse zebra)")
    add_image_options(data, "random crop (the training image size)")
    model = parser.add_argument_group("model")
    add_network_options(model)
    model.add_argument("--n-blocks", type=int, default=9, help="residual blocks: 9 for 256 px, 6 for 128 px")
    add_schedule_options(parser, optim, epochs_decay_default, "FID and KID on the test sets")


def add_image_options(data: argparse._ArgumentGroup, crop_help: str) -> None:
    """The training images' size and channels, as every translation family reads them."""
    data.add_argument("--load-size", type=int, default=286, help="resize to this square before cropping")
    data.add_argument("--crop-size", type=int, default=256, help=crop_help)
    data.add_argument("--channels", type=int, choices=(1, 3), default=3, help="3: RGB (default); 1: grey")


def add_network_options(model: argparse._ArgumentGroup, norm_help: str | None = None,
                        norm_default: str = "instance") -> None:
    """The widths, norm and upsampling of a generator against a PatchGAN, the reference's defaults."""
    model.add_argument("--ngf", type=int, default=64)
    model.add_argument("--ndf", type=int, default=64)
    model.add_argument("--n-layers", type=int, default=3, help="PatchGAN depth (3: 70x70 patches)")
    model.add_argument("--norm", default=norm_default, help=norm_help)
    model.add_argument("--upsample", choices=("transpose", "resize"), default="transpose")


def add_schedule_options(parser: argparse.ArgumentParser, optim: argparse._ArgumentGroup,
                         epochs_decay_default: str, scored: str) -> None:
    """The flags of every translation family's schedule, weight average, speed and scoring;
    ``scored`` says in --help what --eval-every scores on what."""
    optim.add_argument("--epochs-decay", type=int,
                       help=f"epochs of linear decay to zero after --epochs (default {epochs_decay_default})")
    optim.add_argument("--average-from-epoch", type=int, default=0, metavar="EPOCH",
                       help="from this epoch on, average the generators' weights (uniformly, every "
                       "--average-every steps); the average is what the run samples, scores and ships; "
                       "0: no average (default)")
    optim.add_argument("--average-every", type=int, default=500, metavar="STEPS",
                       help="steps between the weights the average takes (default 500)")
    run = parser.add_argument_group("speed and evaluation")
    run.add_argument("--compile", action=argparse.BooleanOptionalAction,
                     help="torch.compile the networks: a minute or more of compiling, then faster steps "
                     "(on --resume the run's own)")
    run.add_argument("--eval-every", type=int, metavar="EPOCHS",
                     help=f"score {scored} every N epochs and after the last; keep the "
                     "best generators in RUN/best; 0: off (on --resume the run's own)")
    run.add_argument("--eval-every-averaged", type=int, metavar="EPOCHS",
                     help="with --eval-every on, score every N epochs instead from --average-from-epoch on, so "
                     "that the average's snapshots compete for RUN/best (default: --eval-every; on --resume "
                     "the run's own)")


def new_model(args: argparse.Namespace, config_class: type[C], **extra: Any) -> C:
    """The networks' config from the flags (``extra``: the family's own architecture fields)."""
    if not args.domains:
        raise ConfigError("name the two domains: --domains A B (e.g. --domains horse zebra)")
    domain_a, domain_b = args.domains
    model = config_class(channels=args.channels, ngf=args.ngf, ndf=args.ndf, n_blocks=args.n_blocks,
                         n_layers=args.n_layers, norm=args.norm, upsample=args.upsample, image_size=args.crop_size,
                         domain_a=domain_a, domain_b=domain_b, **extra)
    model.validate()
    check_sizes(args.load_size, args.crop_size)
    return model


def schedule(args: argparse.Namespace, epochs: tuple[int, int]) -> dict[str, Any]:
    """The shared optimisation settings (:class:`ScheduledHyper`'s fields) from the flags;
    ``epochs``: the family's default epochs at the full rate and of decay."""
    full, decay = epochs
    return {"loss": args.loss, "lr": args.lr, "beta1": args.beta1, "beta2": args.beta2,
            "epochs": args.epochs or full, "epochs_decay": decay if args.epochs_decay is None else args.epochs_decay,
            "gp_weight": args.gp_weight, "average_from_epoch": args.average_from_epoch,
            "average_every": args.average_every}


def run_fields(args: argparse.Namespace, model: TranslationConfig) -> dict[str, Any]:
    """The shared fields of a new run's :class:`TranslationTrainConfig`, besides ``hyper``."""
    return {"domains": [model.domain_a, model.domain_b], "load_size": args.load_size, "batch_size": args.batch_size,
            "seed": args.seed, "compile": bool(args.compile), "eval_every": args.eval_every,
            "eval_every_averaged": args.eval_every_averaged, "preset": getattr(args, "preset", None)}


def new_settings(args: argparse.Namespace, model: NormedConfig, hyper: ScheduledHyper,
                 settings_class: type[TranslationTrainConfig]) -> TranslationTrainConfig:
    """A new run's training settings, checked, with ``hyper`` checked against the networks."""
    hyper.validate()
    hyper.check_norm(model.norm)
    settings = settings_class(hyper=hyper, **run_fields(args, model))
    settings.validate()
    settings.check_compile()
    return settings
