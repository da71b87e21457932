import torch

import rnnkit.nn


def test_length_mask_is_batch_major_and_true_on_valid_steps():
    mask = rnnkit.nn.length_mask(torch.tensor([3, 1, 4]), 4)
    expected = torch.tensor([
        [True, True, True, False],
        [True, False, False, False],
        [True, True, True, True],
    ])
    assert mask.dtype == torch.bool
    assert torch.equal(mask, expected)


def test_length_mask_pads_beyond_the_longest_sequence():
    mask = rnnkit.nn.length_mask(torch.tensor([2, 1]), 5)
    assert mask.shape == (2, 5)
    assert torch.equal(mask.sum(dim=1), torch.tensor([2, 1]))
