"""The CUT step (Park et al. 2020): one generator against one discriminator, least squares
by default and no image pool, with PatchNCE tying each patch of a translation to the patch
at the same place of its input, against the other patches of that image. ``--mode cut``
adds PatchNCE of G(y) against y on the target domain (the identity term); ``--mode
fastcut`` drops it, weights PatchNCE 10, and mirrors the generator's input on a coin flip
(flip equivariance). Learning rates are constant for ``epochs`` and decay linearly to zero
over ``epochs_decay``; a uniform average of the generator's weights from a chosen epoch on
is, when kept, what the run ships.

As in the reference, each step updates the discriminator first, then the generator and the
projection MLPs (one Adam: the reference's two have the same settings). The MLPs are sized
by the first batch's features, so they and that optimiser are built in :meth:`CUTRecipe.prepare`.
"""

from __future__ import annotations

import sys
from collections.abc import Callable

import torch
from torch import nn
from tqdm import tqdm

from translate.families.cut.monitors import collapse_measures, collapse_warnings
from translate.families.cut.nets import (
    DIRECTION,
    DISCRIMINATOR,
    GENERATOR,
    PROJECTION,
    CUTConfig,
    build_cut_discriminator,
    build_cut_generator,
)
from translate.families.cut.projection import PatchProjection, sample_places
from translate.families.cut.settings import CUTHyper
from translate.families.translation_recipe import DEFAULT_OPTIONS, RecipeOptions, ScheduledRecipe
from translate.modeling.inference import translation_grid
from translate.modeling.losses import adversarial, patch_nce
from translate.modeling.resnet_generator import ResnetGenerator
from translate.training.distributed import Context, wrap
from translate.training.optim import adam, critic_loss, optimise, parameters_of, set_requires_grad


class ContrastiveGenerator(nn.Module):
    """The generator and the projection MLPs as one module (one forward per update, as
    DistributedDataParallel and torch.compile want): real A (and B) in; the translation, and
    the PatchNCE terms, out."""

    def __init__(self, generator: ResnetGenerator, projection: PatchProjection, hyper: CUTHyper):
        super().__init__()
        self.generator, self.projection, self.hyper = generator, projection, hyper
        # The translating pass's features are the sources' own only where each image is normalised
        # alone: batch norm's statistics there span the sources and, in CUT mode, the targets too.
        self.keys_from_translation = not any(isinstance(m, nn.modules.batchnorm._BatchNorm)
                                             for m in generator.modules())

    def forward(self, real_a: torch.Tensor, real_b: torch.Tensor, flip: bool,
                places: torch.Generator) -> dict[str, torch.Tensor]:
        identity, n = self.hyper.nce_identity, len(real_a)
        inputs = torch.cat([real_a, real_b]) if identity else real_a
        if flip or not self.keys_from_translation:  # nce() encodes the sources, as the reference does
            outputs, seen = self.generator(inputs.flip(3) if flip else inputs), None
        else:  # the keys come from the pass that translates (the reference encodes the sources again)
            outputs, seen = self.generator.translate_and_encode(inputs, self.hyper.nce_layers)

        def keys(part: slice) -> dict[str, torch.Tensor] | None:
            return None if seen is None else {name: feature[part].detach() for name, feature in seen.items()}

        fake = outputs[:n]
        out = {"fake": fake, "nce": self.nce(real_a, fake, flip, places, keys(slice(0, n)))}
        if identity:
            out["nce_identity"] = self.nce(real_b, outputs[n:], flip, places, keys(slice(n, None)))
        return out

    def nce(self, source: torch.Tensor, translated: torch.Tensor, flip: bool, places: torch.Generator,
            keys: dict[str, torch.Tensor] | None = None) -> torch.Tensor:
        """PatchNCE of ``translated`` against ``source``, averaged over the layers. The keys (the
        source's features, unless given) take no gradient, so they are computed without one; a
        mirrored translation's features are mirrored back to meet them place for place."""
        layers = self.hyper.nce_layers
        if keys is None:
            with torch.no_grad():
                keys = self.generator.encode(source, layers)
        queries = self.generator.encode(translated, layers)
        if flip:
            queries = {name: q.flip(3) for name, q in queries.items()}
        at = sample_places(keys, self.hyper.patches, places)
        q, k = self.projection(queries, at), self.projection(keys, at)
        terms = [patch_nce(q[name], k[name], len(source), self.hyper.temperature) for name in layers]
        return torch.stack(terms).mean()


class CUTRecipe(ScheduledRecipe):
    """Owns the generator, the discriminator, the projection MLPs (from the first batch),
    two optimisers with their schedules, and the collapse monitors' fixed batch."""

    def __init__(
        self,
        config: CUTConfig,
        hyper: CUTHyper,
        context: Context,
        fixed: tuple[torch.Tensor, torch.Tensor],
        options: RecipeOptions = DEFAULT_OPTIONS,
    ):
        super().__init__(hyper, context, options)
        self.config = config
        self.fixed = fixed[0]  # source images: the grid's rows, and the monitors' batch
        self.generator = self.place(build_cut_generator(config))
        self.discriminator = self.place(build_cut_discriminator(config))
        self.d_loss, self.g_loss = adversarial(hyper.loss)
        self.judge = self.maybe_compile(self.discriminator)
        self.d_step = self.maybe_compile(wrap(self.discriminator, context))
        self.opt_d = adam(self.discriminator.parameters(), hyper.lr, hyper.beta1, hyper.beta2, self.device)
        self.schedule("discriminator", self.opt_d)
        # Built by prepare(), from the first batch.
        self.projection: PatchProjection | None = None
        self.opt_g: torch.optim.Optimizer | None = None
        self.g_step: Callable[..., dict[str, torch.Tensor]] | None = None
        self.keep_average({DIRECTION: self.generator})

    def prepare(self, first_batch: Callable[[], tuple[torch.Tensor, ...]]) -> None:
        """Size the projection MLPs by the channels of the first batch's features, and build
        the generator's optimiser over the generator and them, with its schedule."""
        real_a = first_batch()[0][:1]
        with torch.no_grad():
            features = self.generator.encode(real_a, self.hyper.nce_layers)
        channels = {name: feature.shape[1] for name, feature in features.items()}
        self.projection = PatchProjection(channels, self.hyper.projection_width).to(self.device)
        params = parameters_of((self.generator, self.projection))
        self.opt_g = adam(params, self.hyper.lr, self.hyper.beta1, self.hyper.beta2, self.device)
        self.schedule("generator", self.opt_g)
        contrastive = ContrastiveGenerator(self.generator, self.projection, self.hyper)
        self.g_step = self.maybe_compile(wrap(contrastive, self.context))

    def modules(self) -> dict[str, nn.Module]:
        """The plain networks, and the generator's average if the run keeps one: what checkpoints hold."""
        return {GENERATOR: self.generator, DISCRIMINATOR: self.discriminator, PROJECTION: self.projection,
                **self.averages({DIRECTION: GENERATOR})}

    def optimizers(self) -> dict[str, torch.optim.Optimizer]:
        return {"generator": self.opt_g, "discriminator": self.opt_d}

    def step(self, batch: tuple[torch.Tensor, ...], step: int) -> dict[str, float]:
        """Translate, update the discriminator on that translation, then the generator and MLPs."""
        real_a, real_b = (t.contiguous(memory_format=self.memory_format) for t in batch)
        hyper = self.hyper
        # The coin flip and the patches' places are a pure function of (seed, step, rank): see step_generator.
        flip = hyper.flip_equivariance and bool(torch.rand((), generator=self.step_generator(step, 0)) < 0.5)
        with self.autocast:
            out = self.g_step(real_a, real_b, flip, self.step_generator(step, 1))

        set_requires_grad([self.discriminator], True)
        mixing = self.penalty_mixing(step, 2)
        d_loss, gp = critic_loss(self.d_step, real_b, out["fake"], self.d_loss, self.autocast, mixing is not None,
                                 mixing, self.config.norm != "batch")
        d_terms = {"d_B": d_loss, **({"gp_B": gp} if gp is not None else {})}
        d_total = d_loss + hyper.gp_weight * gp if gp is not None else d_loss
        optimise(self.opt_d, d_total, d_terms, self.skip_nonfinite, self.context)

        set_requires_grad([self.discriminator], False)
        with self.autocast:
            terms = {"g_B": self.g_loss(self.judge(out["fake"]).float()), "nce": out["nce"]}
        nce = out["nce"]
        if "nce_identity" in out:
            terms["nce_identity"] = out["nce_identity"]
            nce = (nce + out["nce_identity"]) / 2
        g_total = terms["g_B"] + hyper.lambda_nce * nce
        optimise(self.opt_g, g_total, {"g_loss": g_total, **terms}, self.skip_nonfinite, self.context)
        self.update_average(step)

        logs = {"g_loss": g_total, **terms, **d_terms}
        if (step + 1) % hyper.monitor_every == 0:
            logs.update(self._monitor(step + 1))
        return self.step_logs(logs)

    def _monitor(self, step: int) -> dict[str, torch.Tensor]:
        """The collapse measures of the trained generator on the fixed batch; their warnings on rank 0."""
        inputs = self.fixed.to(self.device)
        with torch.no_grad(), self.autocast:
            outputs = self.generator(inputs)
        measures = collapse_measures(inputs, outputs)
        if self.context.rank == 0:
            for warning in collapse_warnings({k: v.item() for k, v in measures.items()}, step):
                tqdm.write(warning, file=sys.stderr)  # on a line of its own under a progress bar
        return measures

    def sample_grid(self) -> tuple[torch.Tensor, int]:
        """One row per fixed source image, by the generator that ships: x, G(x)."""
        fixed = self.fixed.to(self.device).contiguous(memory_format=self.memory_format)
        return translation_grid(self.shipped_generators(), {DIRECTION: fixed})
