"""A family whose architecture sets the input sizes per model (a U-Net's depth) states them in
``input_sizes(config)``; export's check inputs and ONNX metadata, and ``apply``, use them."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from translate.families.translation import CHECK_SHAPES, check_shapes
from translate.io.fileio import write_image
from translate.io.images import padded_side, read_image
from translate.modeling.checkpoint import read_checkpoint, write_model_folder

from .toy_family.family import ToyFamily
from .toy_family.nets import GENERATOR, ToyConfig, ToyGenerator


class WideToy(ToyFamily):
    """The toy, stating inputs of a multiple of 16 and at least 48 for its wider models."""

    def input_sizes(self, config: ToyConfig) -> tuple[int, int]:
        return (16, 48) if config.width > 4 else (self.size_multiple, self.min_size)


def _model(tmp_path: Path, width: int) -> Path:
    config = ToyConfig(width=width)
    write_model_folder(tmp_path, "toy", config.to_dict(), {GENERATOR: ToyGenerator(config)})
    return tmp_path


def test_padded_side_is_the_multiple_and_at_least_the_minimum():
    assert [padded_side(side, 16, 48) for side in (1, 48, 49, 75, 101)] == [48, 48, 64, 80, 112]


def test_the_export_plan_states_and_checks_the_models_own_sizes(tmp_path):
    family = WideToy()
    wide = family.export_plan(read_checkpoint(_model(tmp_path / "wide", 8)))
    assert (wide.info.pad_multiple, wide.info.min_size) == (16, 48)
    shapes = [tuple(inputs[0].shape) for inputs in wide.check_inputs]
    assert shapes == [(n, 3, padded_side(h, 16, 48), padded_side(w, 16, 48)) for n, h, w in CHECK_SHAPES]
    # A minimum that swallows every check shape (pix2pix's 256) adds a non-square one.
    assert check_shapes(256, 256) == [(1, 256, 256), (2, 256, 256), (1, 256, 256), (1, 256, 512)]
    narrow = family.export_plan(read_checkpoint(_model(tmp_path / "narrow", 4)))
    assert (narrow.info.pad_multiple, narrow.info.min_size) == (8, 8)


def test_apply_pads_to_the_sizes_the_family_states(tmp_path, monkeypatch):
    import translate.apply as apply
    import translate.checkpoint_models as checkpoint_models

    seen = []

    class Watched(WideToy):
        """The wide toy whose generator records the shape of every batch it is given."""

        def load_generator(self, checkpoint, direction=None):
            generator, config = super().load_generator(checkpoint, direction)
            generator.register_forward_pre_hook(lambda module, inputs: seen.append(tuple(inputs[0].shape)))
            return generator, config

    monkeypatch.setattr(checkpoint_models, "get_family", lambda name: Watched())
    write_image(tmp_path / "in.png", np.zeros((20, 30, 3), np.uint8))
    apply.main([str(_model(tmp_path / "model", 8)), "--input", str(tmp_path / "in.png"), "--output",
                str(tmp_path / "out"), "--precision", "fp32"])
    assert seen == [(1, 3, 48, 48)]  # 20 x 30 padded up to the stated minimum side, 48 (a multiple of 16)
    assert read_image(tmp_path / "out" / "in.png").shape == (20, 30, 3)  # and cropped back
