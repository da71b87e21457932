"""The NumPy network: forward semantics, loss, and learning by plain gradient descent."""

from __future__ import annotations

import numpy as np
import pytest

import rnnkit.reference as ref


def test_softmax_cross_entropy_matches_definition():
    logits = np.array([[1.0, 2.0, 0.5], [1000.0, 0.0, -1000.0]])  # large scores stay finite
    targets = np.array([1, 2])
    loss, grad = ref.softmax_cross_entropy(logits, targets)
    # -log softmax(o)[t] = log(sum_c exp(o_c)) - o_t; row 2's sum is exp(1000) to 1e-434.
    row0 = np.log(np.exp(logits[0]).sum()) - logits[0, 1]
    assert loss == pytest.approx((row0 + 2000.0) / 2, rel=1e-12)
    p = np.array([np.exp(logits[0]) / np.exp(logits[0]).sum(), [1.0, 0.0, 0.0]])
    np.testing.assert_allclose(grad, (p - np.eye(3)[targets]) / 2, atol=1e-12)


def test_masked_positions_do_not_count():
    logits = np.random.default_rng(0).standard_normal((3, 2, 4))
    targets = np.zeros((3, 2), dtype=int)
    mask = np.array([[1, 1], [1, 0], [0, 0]], dtype=bool)
    loss, grad = ref.softmax_cross_entropy(logits, targets, mask)
    full, _ = ref.softmax_cross_entropy(logits[mask], targets[mask])
    assert loss == pytest.approx(full)
    assert np.all(grad[~mask] == 0)


def test_many_to_one_summary_uses_each_direction_correctly():
    """Bidirectional summary = forward state at the last valid step + reverse state at step 0."""
    net = ref.Network.create("gru", 2, 3, 2, bidirectional=True, seed=1)
    x = np.random.default_rng(2).standard_normal((6, 2, 2))
    lengths = np.array([6, 3])
    params = {k: v for k, v in net.params.items() if k not in ("weight_hy", "bias_y")}
    out, _, _ = ref.forward("gru", params, x, lengths=lengths)
    summary = np.stack(
        [np.concatenate([out[n_len - 1, n, :3], out[0, n, 3:]]) for n, n_len in enumerate(lengths)]
    )
    expected = summary @ net.params["weight_hy"].T + net.params["bias_y"]
    np.testing.assert_allclose(net.logits(x, lengths), expected, atol=1e-12)
    # Padding after a sequence's end must not change its prediction.
    x_noisy = x.copy()
    x_noisy[3:, 1] = 100.0
    np.testing.assert_allclose(net.logits(x_noisy, lengths)[1], expected[1], atol=1e-12)


@pytest.mark.parametrize("many_to_many", [False, True])
def test_gradient_descent_lowers_the_loss(many_to_many):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((6, 16, 2))
    lengths = rng.integers(2, 7, size=16)
    if many_to_many:
        targets = (x[:, :, 0] > 0).astype(int)  # tag each step: is its first feature positive?
    else:
        valid = np.arange(6)[:, None] < lengths  # (L, N)
        targets = ((x[:, :, 0] * valid).sum(axis=0) > 0).astype(int)  # is the valid sum positive?
    net = ref.Network.create("lstm", 2, 8, 2, many_to_many=many_to_many, seed=0)
    losses = [net.train_step(x, targets, lengths, lr=1.0) for _ in range(40)]
    assert losses[-1] < 0.6 * losses[0]
    assert net.spec().hidden_size == 8
