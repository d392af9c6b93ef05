"""CUT's pieces without training: the layers PatchNCE reads, the patch places and projection,
the step's terms, and the collapse monitors."""

from __future__ import annotations

import pytest
import torch

from translate.errors import ConfigError
from translate.families.cut import monitors
from translate.families.cut.monitors import collapse_measures, collapse_warnings
from translate.families.cut.nets import (
    CUTConfig,
    build_cut_discriminator,
    build_cut_generator,
    check_layers,
    nce_layers,
)
from translate.families.cut.projection import PatchProjection, gather_patches, sample_places
from translate.families.cut.recipe import ContrastiveGenerator
from translate.families.cut.settings import CUTHyper
from translate.modeling.losses import patch_nce
from translate.modeling.resnet_gan import build_generator


def test_networks_start_as_the_cut_reference_starts_them_an_untrained_generator_near_grey():
    torch.manual_seed(0)
    config = CUTConfig(ngf=16, ndf=16, n_blocks=2, image_size=64)
    generator, discriminator = build_cut_generator(config), build_cut_discriminator(config)
    down1 = generator.stages()["down1"]
    convolution = next(m for m in down1.modules() if isinstance(m, torch.nn.Conv2d)).weight  # 32 x 16 x 3 x 3
    assert convolution.std().item() == pytest.approx(0.02 * (2 / (16 * 9 + 32 * 9)) ** 0.5, rel=0.1)
    with torch.no_grad():
        assert generator(torch.rand(2, 3, 64, 64) * 2 - 1).std().item() < 0.1  # near grey (0.6 at N(0, 0.02))
        assert discriminator(torch.rand(2, 3, 64, 64)).abs().max().item() < 0.1
    projection = PatchProjection({"down1": 32})
    assert projection.heads["down1"][0].weight.std().item() == pytest.approx(0.02 * (2 / (32 + 256)) ** 0.5, rel=0.1)


def test_patchnce_reads_the_input_both_downsamplings_and_the_first_and_middle_blocks():
    assert nce_layers(9) == ["input", "down1", "down2", "block1", "block5"]  # the reference's 0,4,8,12,16
    assert nce_layers(6) == ["input", "down1", "down2", "block1", "block5"]  # block 5 whatever the depth
    assert nce_layers(2) == ["input", "down1", "down2", "block1", "block2"]  # the last, with fewer
    assert nce_layers(1) == ["input", "down1", "down2", "block1"]
    check_layers(nce_layers(2), 2)
    with pytest.raises(ConfigError, match="distinct encoder stages .* got input, block5"):
        check_layers(["input", "block5"], 2)


def test_places_are_distinct_shared_by_every_image_and_read_alike_from_query_and_key():
    gen = torch.Generator().manual_seed(0)
    features = {"big": torch.zeros(2, 3, 16, 16), "small": torch.zeros(2, 5, 4, 4)}
    places = sample_places(features, 20, gen)
    assert places["big"].shape == (20,) and len(set(places["big"].tolist())) == 20
    assert sorted(places["small"].tolist()) == list(range(16))  # a map of fewer places gives all of them
    # A map whose every channel holds the flat index of its place (plus the image's number):
    # the rows gathered are the places asked for, image by image, whichever map is read.
    index = torch.arange(16 * 16, dtype=torch.float32).view(1, 1, 16, 16)
    query = (index + torch.tensor([0.0, 1000.0]).view(2, 1, 1, 1)).expand(2, 3, 16, 16)
    key = query * 2
    rows_q, rows_k = gather_patches(query, places["big"]), gather_patches(key, places["big"])
    assert rows_q.shape == (2 * 20, 3)
    assert rows_q[:20, 0].tolist() == places["big"].float().tolist()
    assert rows_q[20:, 0].tolist() == (places["big"].float() + 1000).tolist()
    assert torch.equal(rows_k, rows_q * 2)


def test_the_projection_has_one_mlp_per_layer_and_unit_length_rows():
    # 64 hidden units: with 8, one patch in 256 had every ReLU off and, the biases starting at
    # zero, a zero row (which stays zero); the test failed one run in 25.
    torch.manual_seed(0)
    projection = PatchProjection({"input": 3, "down1": 16}, width=64)
    assert [m.in_features for m in projection.heads["down1"] if isinstance(m, torch.nn.Linear)] == [16, 64]
    features = {"input": torch.randn(2, 3, 8, 8), "down1": torch.randn(2, 16, 4, 4)}
    places = sample_places(features, 5, torch.Generator().manual_seed(1))
    out = projection(features, places)
    assert out["input"].shape == (10, 64) and out["down1"].shape == (10, 64)
    assert torch.allclose(out["down1"].norm(dim=1), torch.ones(10), atol=1e-5)


@pytest.mark.parametrize(("identity", "terms"), [(True, {"fake", "nce", "nce_identity"}), (False, {"fake", "nce"})])
def test_the_generator_step_gives_the_translation_and_its_patchnce_terms(identity, terms):
    torch.manual_seed(0)  # the mirrored-back check compares two losses: keep them far apart
    config = CUTConfig(ngf=4, ndf=4, n_blocks=2, image_size=16, n_layers=2)
    generator = build_generator(config)
    layers = nce_layers(2)
    hyper = CUTHyper(nce_identity=identity, nce_layers=layers, patches=16)
    channels = {name: f.shape[1] for name, f in generator.encode(torch.zeros(1, 3, 16, 16), layers).items()}
    step = ContrastiveGenerator(generator, PatchProjection(channels, 64), hyper)
    real_a, real_b = torch.rand(2, 3, 16, 16) * 2 - 1, torch.rand(2, 3, 16, 16) * 2 - 1
    out = step(real_a, real_b, flip=False, places=torch.Generator().manual_seed(0))
    assert set(out) == terms and out["fake"].shape == real_a.shape
    assert out["nce"].item() > 0 and torch.isfinite(out["nce"])
    out["nce"].backward()
    assert step.projection.heads["input"][0].weight.grad is not None

    def by_hand(queries, keys, places):  # the keys from a pass of their own, as the reference encodes them
        at = sample_places(keys, 16, places)
        q, k = step.projection(queries, at), step.projection(keys, at)
        return torch.stack([patch_nce(q[name], k[name], 2, hyper.temperature) for name in layers]).mean()

    with torch.no_grad():  # unmirrored, the keys come from the translating pass: the same loss
        places = torch.Generator().manual_seed(0)
        keys = generator.encode(real_a, layers)
        torch.testing.assert_close(out["nce"], by_hand(generator.encode(out["fake"], layers), keys, places))
        if identity:
            idt = generator.encode(generator(real_b), layers)
            torch.testing.assert_close(out["nce_identity"], by_hand(idt, generator.encode(real_b, layers), places))
    # Flip equivariance: the mirrored input is translated, and its features, mirrored back, meet
    # the unmirrored input's place for place (the reference's flip_equivariance).
    again = step(real_a, real_b, flip=True, places=torch.Generator().manual_seed(0))
    with torch.no_grad():
        torch.testing.assert_close(again["fake"], generator(real_a.flip(3)))
        queries = generator.encode(again["fake"], layers)
        back = {name: f.flip(3) for name, f in queries.items()}
        mirrored_back = by_hand(back, keys, torch.Generator().manual_seed(0))
        torch.testing.assert_close(again["nce"], mirrored_back)
        assert (again["nce"] - by_hand(queries, keys, torch.Generator().manual_seed(0))).abs() > 1e-4  # other pairs


@pytest.mark.parametrize("norm", ["instance", "instance_affine", "layer", "none", "batch"])
def test_the_keys_are_the_sources_own_features_as_a_pass_of_their_own_gives_them(norm):
    """The reference encodes each source again, without gradient, for its keys; ours come from
    the translating pass where that is the same (the loss and every gradient), and not with batch
    norm, whose statistics in that pass span the sources and the targets."""
    torch.manual_seed(0)
    generator = build_generator(CUTConfig(ngf=4, ndf=4, n_blocks=2, image_size=16, n_layers=2, norm=norm))
    layers = nce_layers(2)
    channels = {name: f.shape[1] for name, f in generator.encode(torch.zeros(2, 3, 16, 16), layers).items()}
    step = ContrastiveGenerator(generator, PatchProjection(channels, 64), CUTHyper(nce_layers=layers, patches=16))
    assert step.keys_from_translation is (norm != "batch")
    real_a, real_b = torch.rand(2, 3, 16, 16) * 2 - 1, torch.rand(2, 3, 16, 16) * 2 - 1
    params = [*generator.parameters(), *step.projection.parameters()]

    def reference() -> torch.Tensor:
        places, outputs, terms = torch.Generator().manual_seed(0), generator(torch.cat([real_a, real_b])), []
        for source, translated in ((real_a, outputs[:2]), (real_b, outputs[2:])):
            with torch.no_grad():
                keys = generator.encode(source, layers)
            at = sample_places(keys, 16, places)
            q, k = step.projection(generator.encode(translated, layers), at), step.projection(keys, at)
            terms.append(torch.stack([patch_nce(q[name], k[name], 2, 0.07) for name in layers]).mean())
        return terms[0] + terms[1]

    out = step(real_a, real_b, flip=False, places=torch.Generator().manual_seed(0))
    ours = out["nce"] + out["nce_identity"]
    expected = reference()
    torch.testing.assert_close(ours, expected)
    for got, want in zip(torch.autograd.grad(ours, params), torch.autograd.grad(expected, params), strict=True):
        torch.testing.assert_close(got, want)


def test_the_monitors_measure_copies_and_single_outputs():
    inputs = torch.rand(4, 3, 8, 8) * 2 - 1
    copied = collapse_measures(inputs, inputs)
    assert copied["identity_distance"].item() == 0 and copied["output_spread"].item() == pytest.approx(1)
    one_output = collapse_measures(inputs, inputs[:1].expand(4, -1, -1, -1))
    assert one_output["output_spread"].item() == 0 and one_output["identity_distance"].item() > 0.1
    # A single source test image: its identity distance, no spread to measure (and no error
    # at the first measurement, a hundred steps into the run).
    single = collapse_measures(inputs[:1], inputs[:1])
    assert set(single) == {"identity_distance"} and single["identity_distance"] == 0
    assert len(collapse_warnings({k: v.item() for k, v in single.items()}, 5000)) == 1


def test_the_monitors_warn_past_the_warm_up_only():
    collapsed = {"identity_distance": 0.01, "output_spread": 0.05}
    assert collapse_warnings(collapsed, monitors.WARM_UP_STEPS - 1) == []
    warnings = collapse_warnings(collapsed, monitors.WARM_UP_STEPS)
    assert len(warnings) == 2 and "identity collapse" in warnings[0] and "mode collapse" in warnings[1]
    assert collapse_warnings({"identity_distance": 0.3, "output_spread": 0.8}, 10**6) == []
    # docs/cut.md's figures: below 0.05 and 0.2, from step 1000 on
    assert collapse_warnings(collapsed, 999) == [] and len(collapse_warnings(collapsed, 1000)) == 2
    assert [len(collapse_warnings({"identity_distance": d, "output_spread": s}, 1000))
            for d, s in ((0.049, 0.8), (0.05, 0.8), (0.3, 0.19), (0.3, 0.2))] == [1, 0, 1, 0]  # below, not at


def test_bad_settings_name_their_flag():
    for change, message in (({"mode": "slowcut"}, "unknown --mode 'slowcut'"),
                            ({"lambda_nce": -1.0}, "--nce-lambda must be a number of 0 or more"),
                            ({"patches": 0}, "--nce-patches must lie in 1..4096"),
                            ({"monitor_every": 0}, "--monitor-every must be at least 1")):
        with pytest.raises(ConfigError, match=message):
            CUTHyper(nce_layers=["input"], **change).validate()


@pytest.mark.parametrize(("mode", "expected"), [
    (None, {"mode": "cut", "lambda_nce": 1.0, "nce_identity": True, "flip_equivariance": False, "epochs": 200,
            "epochs_decay": 200}),
    ("fastcut", {"mode": "fastcut", "lambda_nce": 10.0, "nce_identity": False, "flip_equivariance": True,
                 "epochs": 150, "epochs_decay": 50}),
])
def test_the_modes_defaults_are_the_ones_docs_cut_md_lists(mode, expected):
    from translate.families import get_family
    from translate.train import _parse

    args = _parse(["cut", "--domains", "horse", "zebra", *(["--mode", mode] if mode else [])])
    _, settings = get_family("cut").new_settings(args)
    hyper = settings.hyper
    assert {key: getattr(hyper, key) for key in expected} == expected
    assert (hyper.patches, hyper.monitor_every, hyper.loss) == (256, 100, "lsgan")


@pytest.mark.parametrize(("mode", "flips"), [("fastcut", {False, True}), ("cut", {False})])
def test_fastcut_mirrors_about_half_its_steps_and_cut_none(mode, flips):
    """docs/cut.md: FastCUT's flip-equivariance, a coin flip per step that mirrors the generator's
    input; CUT never flips."""
    from tests.cyclegan_data import TINY
    from translate.families import get_family
    from translate.families.cut.recipe import CUTRecipe
    from translate.train import _parse
    from translate.training.distributed import Context

    model, settings = get_family("cut").new_settings(_parse(["cut", "--domains", "horse", "zebra", *TINY,
                                                             "--mode", mode, "--monitor-every", "1000"]))
    batch = tuple(torch.rand(1, 3, 32, 32) * 2 - 1 for _ in range(2))
    recipe = CUTRecipe(model, settings.hyper, Context(), (batch[0], batch[1]))
    recipe.prepare(lambda: batch)
    seen, step = [], recipe.g_step

    def recording(real_a, real_b, flip, places):
        seen.append(flip)
        return step(real_a, real_b, flip, places)

    recipe.g_step = recording
    for i in range(16):
        recipe.step(batch, i)
    assert set(seen) == flips and (mode == "cut" or 3 <= sum(seen) <= 13)
