r"""Whole-sequence kernel of the minimal cells (MinGRU, MinLSTM): gates stored, backward fused.

Both cells are the linear recurrence :math:`h_t = a_t \odot h_{t-1} + (1 - a_t) \odot c_t` with
``a`` and ``c`` computed from the input alone:

* MinGRU: :math:`a = 1 - z = \sigma(-k_z)`, :math:`c = g(k_h)`;
* MinLSTM: :math:`a = f / (f + i) = \sigma(\log\sigma(k_f) - \log\sigma(k_i))`, :math:`c = g(k_h)`;

with ``k = W x + b`` and the paper's :math:`g(x) = x + 1/2` for :math:`x > 0`, :math:`\sigma(x)`
otherwise. The sequence is processed in blocks of steps (about ``scan.BLOCK_ELEMENTS`` values of
``h`` each, so a block's projection and gates stay in cache): per block one product for ``k``,
the gates in three whole-block operations (MinGRU: one sigmoid over ``[-k_z, k_h]`` and a
maximum), then one ``lerp`` per step (or the chunked scan for narrow states). The gates
``y = [a, c(, ...)]`` are kept for the backward pass (up to :data:`STORE_GATES_MAX` elements;
above it they are recomputed per block, as in :func:`rnnkit.nn.scan.gated_scan`), which derives
every gradient from them in a few whole-block operations, with no ``1 - w`` pass:

.. math::
    \begin{array}{ll}
    \partial L / \partial h_t = \bar h_t + a_{t+1} \, \partial L / \partial h_{t+1}
        & \text{(one multiply-add per step; } \bar h_t \text{ the output's gradient)} \\
    \partial L / \partial a_t = \partial L / \partial h_t \odot (h_{t-1} - c_t), \quad
    \partial L / \partial c_t = \partial L / \partial h_t \odot (1 - a_t) \\
    \partial L / \partial k_h = \partial L / \partial c \odot g'(k_h), \quad
        g' = 1 \text{ where } c > 1/2 \text{ (i.e. } k_h > 0\text{)}, \; c (1 - c) \text{ elsewhere}
    \end{array}

MinGRU: ``dL/dk_z = -dL/da a (1 - a)``. MinLSTM, with :math:`d = \log f - \log i`:
``dL/dd = dL/da a (1 - a)``, ``dL/dk_f = dL/dd sigma(-k_f)``, ``dL/dk_i = -dL/dd sigma(-k_i)``
(``sigma(-k)`` is kept too). Then per block ``dW += dK^T X`` (one product), ``db += sum dK``,
``dX = dK W``.

MinGRU's ``a = sigma(-k_z)`` comes from one sigmoid over ``[-k_z, k_h]``: its ``z`` rows of ``W``
and ``b`` are negated for the projection (and their gradients negated back). On padded steps
(``mask`` False) ``a = 1``: the state is carried and, since ``a (1 - a) = 0`` and ``1 - a = 0``
there, no gradient reaches their gates.
"""

from __future__ import annotations

from typing import ClassVar

import torch
import torch.nn.functional as F
from torch import Tensor
from torch.autograd.function import once_differentiable

from rnnkit.nn import scan
from rnnkit.nn.scan import chunk_size, input_projection, scan_gradients, scan_steps, time_blocks
from rnnkit.nn.sequence_kernels import step_order

__all__ = ["MINIMAL_GATES", "MinGRUMap", "MinLSTMMap", "minimal_sequence"]

_SIGMOID_BW = torch.ops.aten.sigmoid_backward.grad_input  # grad * y * (1 - y), into grad_input

STORE_GATES_MAX = 2 ** 25
"""The forward pass keeps the gates ``y (L, N, S*H)`` (S = 2 for MinGRU, 4 for MinLSTM) for the
backward pass when they have at most this many elements (128 MiB in float32), one tensor per
block; above it the backward pass recomputes them block by block, as
:func:`rnnkit.nn.scan.gated_scan` does, and stores nothing of size L but ``x`` and ``h``."""


def _candidate(k: Tensor, sigmoid_k: Tensor) -> None:
    """``g(k) = max(k + 1/2, sigmoid(k))`` into ``sigmoid_k``, which holds ``sigmoid(k)``."""
    torch.maximum(sigmoid_k, k + 0.5, out=sigmoid_k)


def _candidate_backward(grad: Tensor, c: Tensor, out: Tensor) -> None:
    """``out = grad * g'(k)`` from ``c = g(k)``: 1 where ``c > 1/2``, ``c (1 - c)`` elsewhere."""
    _SIGMOID_BW(grad, c, grad_input=out)
    torch.where(c > 0.5, grad, out, out=out)


class MinGRUMap:
    """MinGRU's gates: ``k = [k_z, k_h] (2H)`` -> stored ``y = [a, c] (2H)``."""

    stored: ClassVar[int] = 2  # y units per hidden unit

    @staticmethod
    def signs(hid: int, like: Tensor) -> Tensor:
        """``(2H, 1)``: -1 on the rows of ``W``/``b`` that the projection negates (``k_z``)."""
        signs = like.new_ones(2 * hid, 1)
        signs[:hid] = -1.0
        return signs

    @staticmethod
    def forward(k: Tensor, y: Tensor) -> None:  # k = [-k_z, k_h]
        hid = y.shape[-1] // 2
        torch.sigmoid(k, out=y)  # a = sigmoid(-k_z) = 1 - z, and sigmoid(k_h)
        _candidate(k[..., hid:], y[..., hid:])

    @staticmethod
    def backward(y: Tensor, grad_a: Tensor, grad_c: Tensor, dk: Tensor) -> None:
        hid = y.shape[-1] // 2
        _SIGMOID_BW(grad_a, y[..., :hid], grad_input=dk[..., :hid])  # d/d(-k_z)
        _candidate_backward(grad_c, y[..., hid:], dk[..., hid:])


class MinLSTMMap:
    """MinLSTM's gates: ``k = [k_f, k_i, k_h] (3H)`` -> stored ``y = [a, c, sigma(-k_f),
    sigma(-k_i)] (4H)``."""

    stored: ClassVar[int] = 4

    @staticmethod
    def signs(hid: int, like: Tensor) -> None:
        return None

    @staticmethod
    def forward(k: Tensor, y: Tensor) -> None:
        hid = y.shape[-1] // 4
        logs = F.logsigmoid(k[..., :2 * hid])  # log f, log i: finite where f and i underflow
        torch.sub(logs[..., :hid], logs[..., hid:], out=y[..., :hid]).sigmoid_()  # a
        torch.sigmoid(k[..., 2 * hid:], out=y[..., hid:2 * hid])
        _candidate(k[..., 2 * hid:], y[..., hid:2 * hid])
        torch.neg(k[..., :2 * hid], out=y[..., 2 * hid:]).sigmoid_()  # d logsigmoid(k) / dk

    @staticmethod
    def backward(y: Tensor, grad_a: Tensor, grad_c: Tensor, dk: Tensor) -> None:
        hid = y.shape[-1] // 4
        grad_d = torch.ops.aten.sigmoid_backward(grad_a, y[..., :hid])  # d/d(log f - log i)
        torch.mul(grad_d, y[..., 2 * hid:3 * hid], out=dk[..., :hid])
        torch.mul(grad_d, y[..., 3 * hid:], out=dk[..., hid:2 * hid]).neg_()
        _candidate_backward(grad_c, y[..., hid:2 * hid], dk[..., 2 * hid:])


MINIMAL_GATES = {"mingru": MinGRUMap, "minlstm": MinLSTMMap}
"""The gate maps :func:`minimal_sequence` takes, by cell name."""


def _signed(weight: Tensor, bias: Tensor | None, signs: Tensor | None):
    if signs is None:
        return weight, bias
    return weight * signs, None if bias is None else bias * signs[:, 0]


class _MinimalSequence(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, h0, weight, bias, cell, mask, reverse):
        gates = MINIMAL_GATES[cell]
        seq_len, batch, _ = x.shape
        hid = h0.shape[-1]
        signs = gates.signs(hid, weight)
        w_signed, b_signed = _signed(weight, bias, signs)
        size = max(1, scan.BLOCK_ELEMENTS // (batch * hid))  # steps per block
        store = seq_len * batch * gates.stored * hid <= STORE_GATES_MAX  # else recompute them
        blocks = time_blocks(seq_len, size, reverse)
        # the gates of each block, kept (one tensor per block: the allocator recycles blocks of
        # this size call after call, where one (L, N, S*H) buffer would be faulted in afresh)
        kept = []
        scratch = None if store else x.new_empty(min(size, seq_len), batch, gates.stored * hid)
        out = x.new_empty(seq_len, batch, hid)
        state = h0
        for blk in blocks:
            rows = blk.stop - blk.start
            y_blk = x.new_empty(rows, batch, gates.stored * hid) if store else scratch[:rows]
            kept.append(y_blk)
            a, c = _block_gates(gates, x[blk], w_signed, b_signed, mask, blk, y_blk, hid)
            if rows > 1 and chunk_size(rows, batch * hid) > 1:  # narrow: h = a h + (1 - a) c
                b = torch.addcmul(c, a, c, value=-1.0)
                scan_steps(a.reshape(rows, -1), b.view(rows, -1), state.reshape(-1), reverse,
                           out[blk].view(rows, -1), None)
            else:  # one lerp per step: h = c + a (h - c)
                a_s, c_s, o_s = a.unbind(0), c.unbind(0), out[blk].unbind(0)
                for t in step_order(rows, reverse):
                    state = torch.lerp(c_s[t], state, a_s[t], out=o_s[t])
            state = out[blk.start] if reverse else out[blk.stop - 1]
        ctx.cell, ctx.reverse, ctx.size, ctx.store = cell, reverse, size, store
        ctx.save_for_backward(x, h0, w_signed, b_signed, signs, mask, out, *(kept if store else ()))
        return out

    @staticmethod
    @once_differentiable
    def backward(ctx, grad_out):
        x, h0, w_signed, b_signed, signs, mask, out, *kept = ctx.saved_tensors
        gates, reverse, size = MINIMAL_GATES[ctx.cell], ctx.reverse, ctx.size
        need_x, _, need_w, need_b = ctx.needs_input_grad[:4]
        seq_len, batch, features = x.shape
        hid = h0.shape[-1]
        grad_x = x.new_empty(x.shape) if need_x else None
        grad_w = torch.zeros_like(w_signed) if need_w else None
        grad_b = x.new_zeros(w_signed.shape[0]) if need_b and b_signed is not None else None
        rows_max = min(size, seq_len)
        grad_h = x.new_empty(rows_max, batch, hid)  # dL/dh_t, then dL/dc_t
        grad_a = torch.empty_like(grad_h)  # dL/da_t
        grad_k = x.new_empty(rows_max * batch, w_signed.shape[0])  # dL/dk, (B*N, G*H)
        if not ctx.store:  # one block's gates, recomputed block by block
            scratch = x.new_empty(rows_max, batch, gates.stored * hid)
        carry = None  # dL/dh from the step just beyond the block, times its a
        for index, blk in enumerate(time_blocks(seq_len, size, not reverse)):
            rows = blk.stop - blk.start
            if ctx.store:  # the forward pass visited the blocks in the other order
                y_blk = kept[len(kept) - 1 - index]
                a, c = y_blk[..., :hid], y_blk[..., hid:2 * hid]
            else:  # recomputed: the projection and the gates of one block
                y_blk = scratch[:rows]
                a, c = _block_gates(gates, x[blk], w_signed, b_signed, mask, blk, y_blk, hid)
            g, ga = grad_h[:rows], grad_a[:rows]
            scan_gradients(a.reshape(rows, -1), grad_out[blk].reshape(rows, -1), reverse, None,
                           g.view(rows, -1), carry)
            first = rows - 1 if reverse else 0  # the block's step that reads the state before it
            carry = a[first] * g[first]
            before = blk.stop if reverse else blk.start - 1  # h_prev of that step
            outside = h0 if before < 0 or before >= seq_len else out[before]
            if reverse:  # dL/da = dL/dh (h_prev - c), h_prev = h_{t+1}
                torch.sub(out[blk.start + 1:blk.stop], c[:-1], out=ga[:-1])
            else:
                torch.sub(out[blk.start:blk.stop - 1], c[1:], out=ga[1:])
            torch.sub(outside, c[first], out=ga[first])
            ga.mul_(g)
            g.addcmul_(g, a, value=-1.0)  # dL/dc = dL/dh (1 - a)
            dk = grad_k[:rows * batch]
            gates.backward(y_blk, ga, g, dk.view(rows, batch, -1))
            x_blk = x[blk].reshape(rows * batch, features)
            if grad_w is not None:
                grad_w.addmm_(dk.t(), x_blk)
            if grad_b is not None:
                grad_b.add_(dk.sum(0))
            if grad_x is not None:
                torch.mm(dk, w_signed, out=grad_x[blk].view(rows * batch, features))
        if signs is not None:  # back from the negated rows to the parameters'
            grad_w = None if grad_w is None else grad_w.mul_(signs)
            grad_b = None if grad_b is None else grad_b.mul_(signs[:, 0])
        return grad_x, carry, grad_w, grad_b, None, None, None


def _block_gates(gates, x, weight, bias, mask, blk, y, hid):
    """One block's gates into ``y``; returns ``a, c`` (``a = 1`` on padded steps)."""
    gates.forward(input_projection(x, weight, bias), y)  # (B, N, G*H) -> y
    a, c = y[..., :hid], y[..., hid:2 * hid]
    if mask is not None:
        a.masked_fill_(~mask[blk], 1.0)  # padded steps carry the state
    return a, c


def minimal_sequence(
    x: Tensor,
    h0: Tensor,
    cell: str,
    weight: Tensor,
    bias: Tensor | None = None,
    mask: Tensor | None = None,
    reverse: bool = False,
) -> Tensor:
    r"""All states of a MinGRU or MinLSTM direction, :math:`h_t = a_t h_{t-1} + (1 - a_t) c_t`.

    Args:
        x: ``(L, N, H_in)`` input.
        h0: ``(N, H)`` state before the first step.
        cell: ``"mingru"`` or ``"minlstm"`` (:data:`MINIMAL_GATES`).
        weight: ``(G*H, H_in)`` (G = 2 or 3); bias: ``(G*H,)`` or None.
        mask: ``(L, N, 1)`` bool, True on valid steps; padded steps carry the state (their
            output is the carried state; zero it if needed).
        reverse: run from the last step to the first.

    Returns:
        ``h (L, N, H)``. Once differentiable with respect to ``x``, ``h0``, ``weight``, ``bias``.
    """
    if cell not in MINIMAL_GATES:
        raise ValueError(f"cell must be one of {sorted(MINIMAL_GATES)}, got {cell!r}")
    if x.dim() != 3 or x.shape[0] == 0 or h0.dim() != 2 or h0.shape[0] != x.shape[1]:
        raise ValueError(
            f"minimal_sequence: expected x (L, N, H_in) with L >= 1 and h0 (N, H), found "
            f"{tuple(x.shape)} and {tuple(h0.shape)}"
        )
    rows = {"mingru": 2, "minlstm": 3}[cell] * h0.shape[1]
    if weight.shape != (rows, x.shape[2]):
        raise ValueError(
            f"minimal_sequence: expected weight ({rows}, {x.shape[2]}), found {tuple(weight.shape)}"
        )
    return _MinimalSequence.apply(x, h0, weight, bias, cell, mask, reverse)
