"""What a CUT run is trained with, as its checkpoints record it: the two modes' defaults (the
reference's ``--CUT_mode``), the PatchNCE and monitor settings, and the run's own."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from translate.config import check_weight
from translate.errors import ConfigError
from translate.families.cut.projection import PATCHES, WIDTH
from translate.families.translation_settings import ScheduledHyper, TranslationTrainConfig
from translate.modeling.losses import NCE_TEMPERATURE


@dataclass(frozen=True)
class Mode:
    """A mode's defaults, as the reference sets them."""

    lambda_nce: float
    nce_identity: bool  # PatchNCE of G(y) against y on the target domain too
    flip_equivariance: bool  # a coin flip per step mirrors the generator's input, PatchNCE un-mirrors
    epochs: tuple[int, int]  # at the full learning rate, then of linear decay to zero


MODES = {
    "cut": Mode(lambda_nce=1.0, nce_identity=True, flip_equivariance=False, epochs=(200, 200)),
    "fastcut": Mode(lambda_nce=10.0, nce_identity=False, flip_equivariance=True, epochs=(150, 50)),
}
MONITOR_EVERY = 100  # steps between the collapse monitors (see .monitors)
MAX_PATCHES = 4096  # bounds that refuse absurd sizes in a damaged config.json
MAX_WIDTH = 4096


@dataclass
class CUTHyper(ScheduledHyper):
    """Optimisation settings; the defaults are ``--mode cut``'s."""

    mode: str = "cut"
    lambda_nce: float = 1.0
    nce_identity: bool = True
    flip_equivariance: bool = False
    nce_layers: list[str] = field(default_factory=list)  # generator stages PatchNCE reads (see nets.nce_layers)
    patches: int = PATCHES
    projection_width: int = WIDTH
    temperature: float = NCE_TEMPERATURE
    monitor_every: int = MONITOR_EVERY

    def validate(self) -> None:
        super().validate()
        if self.mode not in MODES:
            raise ConfigError(f"unknown --mode {self.mode!r}: choose one of {', '.join(MODES)}")
        check_weight("--nce-lambda", self.lambda_nce)
        if not (math.isfinite(self.temperature) and self.temperature > 0):
            raise ConfigError(f"the PatchNCE temperature must be a positive number, got {self.temperature}")
        for name, value, most in (("--nce-patches", self.patches, MAX_PATCHES),
                                  ("the projection width", self.projection_width, MAX_WIDTH)):
            if not 1 <= value <= most:
                raise ConfigError(f"{name} must lie in 1..{most}, got {value}")
        if self.monitor_every < 1:
            raise ConfigError(f"--monitor-every must be at least 1 step, got {self.monitor_every}")


@dataclass
class CUTTrainConfig(TranslationTrainConfig):
    """What a CUT checkpoint records about its training (``config.json``'s ``train``)."""

    hyper: CUTHyper
