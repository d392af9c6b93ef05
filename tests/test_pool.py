"""The discriminators' image history pool."""

import pytest
import torch

from translate.errors import ConfigError
from translate.training.pool import ImagePool


def _images(start: int, n: int) -> torch.Tensor:
    """Images whose every pixel is their id, so a returned image tells where it came from."""
    return torch.arange(start, start + n, dtype=torch.float32)[:, None, None, None].expand(n, 3, 4, 4).clone()


def _ids(images: torch.Tensor) -> list[int]:
    return images[:, 0, 0, 0].long().tolist()


def test_fills_up_to_its_size_returning_the_inputs():
    pool, gen = ImagePool(5), torch.Generator().manual_seed(0)
    assert _ids(pool.query(_images(0, 3), gen)) == [0, 1, 2]
    assert _ids(pool.query(_images(3, 2), gen)) == [3, 4]
    assert pool.count == 5 and _ids(pool.images) == [0, 1, 2, 3, 4]


def test_when_full_returns_a_stored_image_half_the_time_and_swaps_it_in():
    pool, gen = ImagePool(4), torch.Generator().manual_seed(1)
    pool.query(_images(0, 4), gen)
    from_pool = 0
    for step in range(400):
        new_id = 100 + step
        before = _ids(pool.images)
        [returned] = _ids(pool.query(_images(new_id, 1), gen))
        after = _ids(pool.images)
        if returned == new_id:
            assert after == before  # passed through, pool unchanged
        else:
            from_pool += 1
            slot = before.index(returned)  # an old image came out and the new one took its slot
            assert after[slot] == new_id and after[:slot] + after[slot + 1:] == before[:slot] + before[slot + 1:]
    assert 160 < from_pool < 240  # p = 0.5


def test_the_same_seed_gives_the_same_choices_and_state_round_trips():
    def run(pool: ImagePool, seed: int) -> list[int]:
        return _ids(pool.query(_images(50, 6), torch.Generator().manual_seed(seed)))

    a, b = ImagePool(3), ImagePool(3)
    run(a, 0), run(b, 0)
    restored = ImagePool(3)
    restored.load_state_dict(a.state_dict())
    assert run(a, 7) == run(b, 7) == run(restored, 7)
    assert torch.equal(a.images, restored.images) and a.count == restored.count == 3


def test_size_zero_passes_everything_through_and_negative_is_refused():
    pool = ImagePool(0)
    assert _ids(pool.query(_images(0, 2), torch.Generator())) == [0, 1]
    assert pool.state_dict()["images"].numel() == 0
    with pytest.raises(ConfigError, match="--pool-size"):
        ImagePool(-1)


def test_returned_images_are_detached():
    fake = _images(0, 2).requires_grad_(True) * 1.0
    assert not ImagePool(2).query(fake, torch.Generator()).requires_grad
