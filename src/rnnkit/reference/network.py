"""A complete recurrent network in NumPy: recurrent layers, an output layer, softmax cross-entropy.

Small enough to read in one sitting and train by plain gradient descent, so every number of a
training step (forward, loss, backward, update) can be followed by hand.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rnnkit.reference.layers import backward, forward
from rnnkit.reference.params import LayerSpec, init_params, spec_from_params

__all__ = ["Network", "softmax_cross_entropy"]

HEAD = ("weight_hy", "bias_y")


def softmax_cross_entropy(
    logits: np.ndarray, targets: np.ndarray, mask: np.ndarray | None = None
) -> tuple[float, np.ndarray]:
    """Mean cross-entropy of softmax(logits) against integer class targets::

        p = softmax(o) = exp(o) / sum_c exp(o_c)
        loss = mean over counted positions of -log p[target]
        dloss/do = (p - onehot(target)) / (number of counted positions)

    Args:
        logits: (..., C) scores, e.g. (N, C) or (L, N, C).
        targets: (...) integer classes in [0, C).
        mask: (...) bool, positions to count (e.g. the valid steps); all when None.

    Returns:
        the loss (a float) and its gradient with respect to ``logits``, shaped like ``logits``.
    """
    targets = np.asarray(targets)
    if targets.shape != logits.shape[:-1]:
        raise ValueError(
            f"targets must have shape {logits.shape[:-1]} to match logits {logits.shape}, "
            f"found {targets.shape}"
        )
    if targets.size and (targets.min() < 0 or targets.max() >= logits.shape[-1]):
        raise ValueError(
            f"targets must lie in [0, {logits.shape[-1]}), "
            f"found min {targets.min()} and max {targets.max()}"
        )
    mask = np.ones(targets.shape, dtype=bool) if mask is None else np.asarray(mask, dtype=bool)
    count = max(int(mask.sum()), 1)
    shifted = logits - logits.max(axis=-1, keepdims=True)  # same softmax, no overflow
    log_p = shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))
    picked = np.take_along_axis(log_p, targets[..., None], axis=-1)[..., 0]
    loss = -float(np.sum(picked * mask)) / count
    d_logits = np.exp(log_p) - np.eye(logits.shape[-1])[targets]  # p - onehot(target)
    return loss, d_logits * mask[..., None] / count


@dataclass
class Network:
    """Recurrent layers followed by a linear output layer, trained with softmax cross-entropy.

    With h_t the top layer's output (N, D*H_out)::

        many-to-many:  o_t = h_t W_hy^T + b_y        one prediction per step, (L, N, C)
        many-to-one:   o   = s W_hy^T + b_y          one prediction per sequence, (N, C)

    where the summary s = [h_n(forward), h_n(reverse)] of the top layer: the forward direction's
    state at each sequence's last valid step and the reverse direction's state at step 0 (never
    ``output[-1]``, which for the reverse direction has seen one step only and is zero at padding).

    Attributes:
        cell: ``"rnn"``, ``"lstm"`` or ``"gru"``.
        params: torch-named recurrent parameters plus ``weight_hy`` (C, D*H_out), ``bias_y`` (C,).
        many_to_many: one label per step instead of one per sequence.
        nonlinearity: ``"tanh"`` or ``"relu"`` for the plain RNN.
    """

    cell: str
    params: dict[str, np.ndarray]
    many_to_many: bool = False
    nonlinearity: str = "tanh"

    @classmethod
    def create(
        cls,
        cell: str,
        input_size: int,
        hidden_size: int,
        num_classes: int,
        *,
        num_layers: int = 1,
        bidirectional: bool = False,
        proj_size: int = 0,
        nonlinearity: str = "tanh",
        many_to_many: bool = False,
        seed: int | None = 0,
    ) -> Network:
        """A network with parameters drawn from U(-1/sqrt(H), 1/sqrt(H)) as torch.nn does."""
        spec = LayerSpec(
            cell, input_size, hidden_size, num_layers, bidirectional, True, proj_size, nonlinearity
        )
        rng = np.random.default_rng(seed)
        params = init_params(spec, rng)
        features = spec.num_directions * spec.output_size
        bound = 1.0 / np.sqrt(features)
        params["weight_hy"] = rng.uniform(-bound, bound, (num_classes, features))
        params["bias_y"] = rng.uniform(-bound, bound, (num_classes,))
        return cls(cell, params, many_to_many, nonlinearity)

    def _recurrent(self) -> dict[str, np.ndarray]:
        return {k: v for k, v in self.params.items() if k not in HEAD}

    def _run(self, x: np.ndarray, lengths: np.ndarray | None):
        """Forward pass; returns logits, the features they were computed from, the cache."""
        output, final, cache = forward(
            self.cell, self._recurrent(), x, lengths=lengths, nonlinearity=self.nonlinearity
        )
        if self.many_to_many:
            feats = output  # (L, N, D*H_out)
        else:
            spec = cache.spec
            h_n = final[0] if self.cell == "lstm" else final  # (K*D, N, H_out)
            top = h_n[(spec.num_layers - 1) * spec.num_directions :]  # (D, N, H_out)
            feats = np.concatenate(list(top), axis=1)  # (N, D*H_out)
        logits = feats @ self.params["weight_hy"].T + self.params["bias_y"]
        return logits, feats, cache

    def logits(self, x: np.ndarray, lengths: np.ndarray | None = None) -> np.ndarray:
        """Scores o before the softmax: (N, C) many-to-one, (L, N, C) many-to-many.

        Args:
            x: (L, N, F) input; lengths: optional (N,) valid lengths.
        """
        return self._run(x, lengths)[0]

    def loss(self, x: np.ndarray, targets: np.ndarray, lengths: np.ndarray | None = None) -> float:
        """Mean cross-entropy (forward pass only); arguments as for ``loss_and_gradients``."""
        logits, _, cache = self._run(x, lengths)
        mask = cache.mask[:, :, 0] if self.many_to_many else None  # (L, N)
        return softmax_cross_entropy(logits, targets, mask)[0]

    def loss_and_gradients(
        self, x: np.ndarray, targets: np.ndarray, lengths: np.ndarray | None = None
    ) -> tuple[float, dict[str, np.ndarray]]:
        """Mean cross-entropy and its gradient with respect to every parameter.

        Args:
            x: (L, N, F) input.
            targets: (N,) classes many-to-one; (L, N) many-to-many (padded steps ignored).
            lengths: optional (N,) valid lengths.

        Returns:
            the loss and a dict of gradients keyed and shaped like ``params``.
        """
        logits, feats, cache = self._run(x, lengths)
        mask = cache.mask[:, :, 0] if self.many_to_many else None  # (L, N)
        loss, d_logits = softmax_cross_entropy(logits, targets, mask)
        feat_axes = tuple(range(d_logits.ndim - 1))
        grads = {
            "weight_hy": np.tensordot(d_logits, feats, axes=(feat_axes, feat_axes)),  # (C, DH)
            "bias_y": d_logits.sum(axis=feat_axes),  # (C,)
        }
        d_feats = d_logits @ self.params["weight_hy"]
        spec = cache.spec
        if self.many_to_many:
            grads.update(backward(cache, d_output=d_feats))
        else:
            h_out, n_dir = spec.output_size, spec.num_directions
            d_h_n = np.zeros((spec.num_layers * n_dir, d_feats.shape[0], h_out))  # (K*D, N, H_out)
            d_top = d_feats.reshape(-1, n_dir, h_out).swapaxes(0, 1)  # (D, N, H_out)
            d_h_n[(spec.num_layers - 1) * n_dir :] = d_top
            grads.update(backward(cache, d_h_n=d_h_n))
        return loss, {k: grads[k] for k in self.params}

    def train_step(
        self,
        x: np.ndarray,
        targets: np.ndarray,
        lengths: np.ndarray | None = None,
        lr: float = 0.1,
    ) -> float:
        """One step of plain gradient descent, W <- W - lr * dloss/dW; returns the prior loss."""
        loss, grads = self.loss_and_gradients(x, targets, lengths)
        for name, g in grads.items():
            self.params[name] -= lr * g
        return loss

    def spec(self) -> LayerSpec:
        """The shape of the recurrent layers."""
        return spec_from_params(self.cell, self._recurrent(), nonlinearity=self.nonlinearity)
