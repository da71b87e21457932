r"""Scans of the first-order linear recurrence :math:`h_t = a_t \odot h_{t-1} + b_t`.

Cells whose gates depend on the input only (MinGRU, MinLSTM, diagonal state-space layers) reduce
to this recurrence once ``a`` and ``b`` are known for every step. Two entry points:

* :func:`linear_scan` takes ``a`` and ``b`` for all steps;
* :func:`gated_scan` takes the cell's input ``x``, its input weights and a :class:`Gates` object
  that maps the projections ``k = W x + b`` to an interpolation weight ``w`` and target ``c``,
  :math:`h_t = h_{t-1} + w_t \odot (c_t - h_{t-1})` (``a = 1 - w``, ``b = w c``). It works block
  by block along time (about :data:`BLOCK_ELEMENTS` values of ``h`` at a time), so that the
  projection, the gates, the scan and all their gradients run on data that stays in cache, and it
  stores nothing of size L but ``x`` and ``h``: the backward pass recomputes each block's ``k``,
  ``w`` and ``c``, which costs less than writing them out and reading them back.

Both are :class:`torch.autograd.Function`\ s whose backward pass is the same recurrence run the
other way in time, ``dL/dh_t = dL/dout_t + a_{t+1} dL/dh_{t+1}``, followed by
``dL/db_t = dL/dh_t`` and ``dL/da_t = dL/dh_t h_{t-1}`` for all steps at once.

**How the steps are scanned.** Wide states (N*H above :data:`CHUNKED_MAX_WIDTH`) run one
vectorised operation per step: each already does enough work to hide the call's overhead, and it
touches every value once (measured on CPU: the chunked scan below, which touches them three
times, is slower there). Narrow ones use a **chunked scan**: the L steps are cut into K chunks of
C ~ sqrt(L) steps; (1) every chunk runs the recurrence from a zero state, all K chunks at once
(C operations), keeping the running product of its ``a``; (2) a sequential pass over the K chunk
boundaries gives the state entering each chunk; (3) the chunks run again from their true starting
states (C operations). About 3 sqrt(L) operations replace L.

**Numerical stability.** Nothing is divided and nothing is computed in log space: every value is
a product of at most C coefficients times a state or input, the terms of the sequential
recurrence in another order. Where a product of many ``a_t < 1`` underflows to zero, its true
value is below the floating-point resolution of the state it multiplies, so the result agrees with
the sequential loop to rounding. (The global trick ``h_t = A_t sum_s b_s / A_s`` with
``A = cumprod(a)`` divides by such products and overflows on long sequences; the log-space
``logcumsumexp`` form needs positive values and is slower.)
"""

from __future__ import annotations

import math
from typing import Protocol

import torch
from torch import Tensor
from torch.autograd.function import once_differentiable

__all__ = ["Gates", "chunk_size", "gated_scan", "input_projection", "linear_scan",
           "linear_scan_reference", "scan_gradients", "scan_steps", "time_blocks"]

SEQUENTIAL_BELOW = 32
"""Sequences shorter than this always run one operation per step."""
CHUNKED_MAX_WIDTH = 2048
"""States wider than this (elements per step) run one operation per step, narrower ones chunked."""
BLOCK_ELEMENTS = 131072
""":func:`gated_scan` works on blocks of about this many elements (steps * N * H)."""


def _steps(length: int, reverse: bool) -> range:
    return range(length - 1, -1, -1) if reverse else range(length)


def _sequential(a: Tensor, b: Tensor, h0: Tensor, reverse: bool, out: Tensor) -> None:
    """``out[t] = a[t] * h + b[t]`` step by step; ``(L, M)`` tensors, ``h0 (M,)``."""
    h = h0
    a_s, b_s, o_s = a.unbind(0), b.unbind(0), out.unbind(0)
    for t in _steps(a.shape[0], reverse):
        h = torch.addcmul(b_s[t], a_s[t], h, out=o_s[t])


def _chunked(a: Tensor, b: Tensor, h0: Tensor, reverse: bool, out: Tensor, chunk: int) -> None:
    """The chunked scan on ``(K*C, M)`` tensors (L a multiple of ``chunk``), into ``out``."""
    seq_len, width = a.shape
    count = seq_len // chunk
    a3, b3, h3 = (t.view(count, chunk, width) for t in (a, b, out))  # (K, C, M)
    steps = _steps(chunk, reverse)
    local = b3[:, steps[0]].clone()  # (K, M) each chunk's state, started from zero
    prod = a3[:, steps[0]].clone()  # (K, M) product of a since the chunk began
    for j in steps[1:]:  # 1. all chunks at once, from zero
        local = torch.addcmul(b3[:, j], a3[:, j], local)
        prod.mul_(a3[:, j])
    starts = torch.empty_like(local)  # (K, M) the true state entering each chunk
    state = h0
    for k in _steps(count, reverse):  # 2. across the chunk boundaries
        starts[k].copy_(state)
        state = torch.addcmul(local[k], prod[k], state)
    previous = starts
    for j in steps:  # 3. all chunks again, from their true starting states
        previous = torch.addcmul(b3[:, j], a3[:, j], previous, out=h3[:, j])


def scan_steps(a: Tensor, b: Tensor, h0: Tensor, reverse: bool, out: Tensor,
               chunk: int | None) -> None:
    """``out_t = a_t out_{t-1} + b_t`` into ``out``, on ``(L, M)`` tensors with ``h0 (M,)``.

    No autograd; one operation per step or the chunked scan (``chunk`` steps per chunk, None:
    :func:`chunk_size` chooses).
    """
    seq_len, width = a.shape
    if seq_len == 0:
        return
    if chunk is None:
        chunk = chunk_size(seq_len, width)
    count = seq_len // chunk
    if chunk <= 1 or count <= 1:
        _sequential(a, b, h0, reverse, out)
        return
    body = count * chunk  # whole chunks; the rest of the steps run one by one
    if reverse:  # the tail (in time) runs first
        tail = slice(body, seq_len)
        _sequential(a[tail], b[tail], h0, True, out[tail])
        start = out[body] if body < seq_len else h0
        _chunked(a[:body], b[:body], start, True, out[:body], chunk)
    else:
        _chunked(a[:body], b[:body], h0, False, out[:body], chunk)
        if body < seq_len:
            _sequential(a[body:], b[body:], out[body - 1], False, out[body:])


def scan_gradients(a: Tensor, gout: Tensor, reverse: bool, chunk: int | None, out: Tensor,
                   carry: Tensor | None = None) -> None:
    """``dL/dh_t = gout_t + a_{t+1} dL/dh_{t+1}`` (``a_{t-1}`` if reverse) into ``out``.

    The backward recurrence of :func:`scan_steps`, on ``(L, M)`` tensors, no autograd.

    ``carry``, when given, is the gradient arriving from beyond the last step processed here
    (already multiplied by its ``a``).
    """
    last = 0 if reverse else -1
    if carry is None:
        out[last].copy_(gout[last])
    else:
        torch.add(gout[last], carry.reshape(out[last].shape), out=out[last])
    if reverse:
        scan_steps(a[:-1], gout[1:], out[0], False, out[1:], chunk)
    else:
        scan_steps(a[1:], gout[:-1], out[-1], True, out[:-1], chunk)


class _LinearScan(torch.autograd.Function):
    @staticmethod
    def forward(ctx, a, b, h0, reverse, chunk):
        seq_len, width = a.shape[0], math.prod(a.shape[1:])
        out = b.new_empty(seq_len, width)
        scan_steps(a.reshape(seq_len, width), b.reshape(seq_len, width), h0.reshape(width), reverse,
              out, chunk)
        out = out.view(b.shape)
        ctx.reverse, ctx.chunk = reverse, chunk
        ctx.save_for_backward(a, h0, out)
        return out

    @staticmethod
    @once_differentiable
    def backward(ctx, grad_out):
        a, h0, out = ctx.saved_tensors
        reverse = ctx.reverse
        seq_len, width = out.shape[0], math.prod(out.shape[1:])
        a2, h02, out2 = a.reshape(seq_len, width), h0.reshape(width), out.view(seq_len, width)
        grad_h = out2.new_empty(seq_len, width)  # dL/dh_t, all contributions
        scan_gradients(a2, grad_out.reshape(seq_len, width), reverse, ctx.chunk, grad_h)
        first, rest, prev = (seq_len - 1, slice(0, -1), out2[1:]) if reverse else (
            0, slice(1, None), out2[:-1])
        grad_a = grad_h0 = None
        if ctx.needs_input_grad[0]:  # dL/da_t = dL/dh_t * h_{t-1}
            grad_a = torch.empty_like(grad_h)
            torch.mul(grad_h[rest], prev, out=grad_a[rest])
            torch.mul(grad_h[first], h02, out=grad_a[first])
            grad_a = grad_a.view(a.shape)
        if ctx.needs_input_grad[2]:
            grad_h0 = (grad_h[first] * a2[first]).view(h0.shape)
        return grad_a, grad_h.view(a.shape), grad_h0, None, None


def _check(a: Tensor, b: Tensor, h0: Tensor | None, chunk: int | None, name: str) -> Tensor:
    if a.shape != b.shape or a.dim() < 1 or a.shape[0] == 0:
        raise ValueError(
            f"{name}: expected two tensors of one shape (L, ...) with L >= 1, found "
            f"{tuple(a.shape)} and {tuple(b.shape)}"
        )
    if h0 is None:
        h0 = b.new_zeros(b.shape[1:])
    elif h0.shape != b.shape[1:]:
        raise ValueError(f"{name}: expected h0 of shape {tuple(b.shape[1:])}, found "
                         f"{tuple(h0.shape)}")
    if chunk is not None and (isinstance(chunk, bool) or not isinstance(chunk, int) or chunk < 1):
        raise ValueError(f"{name}: chunk must be a positive int or None, got {chunk!r}")
    if not (a.dtype == b.dtype == h0.dtype and a.is_floating_point()):
        raise ValueError(
            f"{name}: expected floating-point tensors of one dtype, found {a.dtype}, {b.dtype}, "
            f"{h0.dtype}"
        )
    return h0


def linear_scan(
    a: Tensor,
    b: Tensor,
    h0: Tensor | None = None,
    reverse: bool = False,
    chunk: int | None = None,
) -> Tensor:
    r"""All states of :math:`h_t = a_t \odot h_{t-1} + b_t` along dim 0, differentiably.

    Args:
        a: ``(L, *)`` coefficients.
        b: ``(L, *)`` inputs, same shape as ``a``.
        h0: ``(*)`` state before the first step; zeros if None.
        reverse: run from the last step to the first, :math:`h_t = a_t h_{t+1} + b_t`.
        chunk: steps per chunk (1: one operation per step); None chooses from the shape.

    Returns:
        ``h (L, *)``; ``h[-1]`` (``h[0]`` if reverse) is the final state. Once differentiable.
    """
    h0 = _check(a, b, h0, chunk, "linear_scan")
    return _LinearScan.apply(a, b, h0, reverse, chunk)


class Gates(Protocol):
    """How :func:`gated_scan` turns projections ``k (B, N, G*H)`` into ``w, c (B, N, H)``.

    ``forward`` must act on every step independently (a block of steps gives the blocks of the
    whole sequence's results). ``backward`` writes ``dL/dk`` into ``out`` given ``dL/dw`` and
    ``dL/dc``; ``w`` and ``c`` are what ``forward`` returned for ``k``.
    """

    def forward(self, k: Tensor) -> tuple[Tensor, Tensor]: ...

    def backward(
        self, k: Tensor, w: Tensor, c: Tensor, grad_w: Tensor, grad_c: Tensor, out: Tensor
    ) -> None: ...


def time_blocks(seq_len: int, size: int, reverse: bool) -> list[slice]:
    """Slices of ``size`` steps covering ``0..L-1``, in the order a direction visits them."""
    blocks = [slice(s, min(s + size, seq_len)) for s in range(0, seq_len, size)]
    return blocks[::-1] if reverse else blocks


class _GatedScan(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, h0, weight, bias, gates, mask, reverse):
        seq_len, batch, hid = x.shape[0], x.shape[1], h0.shape[-1]
        size = max(1, BLOCK_ELEMENTS // (batch * hid))
        scale = None if mask is None else mask.to(x.dtype)  # (L, N, 1), 0 on padded steps
        out = x.new_empty(seq_len, batch, hid)
        state = h0
        for blk in time_blocks(seq_len, size, reverse):
            rows = blk.stop - blk.start
            k = input_projection(x[blk], weight, bias)  # (B, N, G*H), only ever one block of it
            w, c = _block_gates(gates, k, None if scale is None else scale[blk])
            if rows > 1 and chunk_size(rows, batch * hid) > 1:
                a, b = 1 - w, w * c
                scan_steps(a.view(rows, -1), b.view(rows, -1), state.reshape(-1), reverse,
                      out[blk].view(rows, -1), None)
            else:  # one lerp per step: h = h + w (c - h)
                w_s, c_s, o_s = w.unbind(0), c.unbind(0), out[blk].unbind(0)
                for t in _steps(rows, reverse):
                    state = torch.lerp(state, c_s[t], w_s[t], out=o_s[t])
            state = out[blk.start] if reverse else out[blk.stop - 1]
        ctx.gates, ctx.reverse, ctx.size = gates, reverse, size
        ctx.save_for_backward(x, h0, weight, bias, scale, out)
        return out

    @staticmethod
    @once_differentiable
    def backward(ctx, grad_out):
        x, h0, weight, bias, scale, out = ctx.saved_tensors
        gates, reverse = ctx.gates, ctx.reverse
        need_x, _, need_w, need_b = ctx.needs_input_grad[:4]
        seq_len, batch, features = x.shape
        grad_x = x.new_empty(x.shape) if need_x else None
        grad_w = torch.zeros_like(weight) if need_w else None
        grad_b = torch.zeros_like(bias) if need_b and bias is not None else None
        grad_k = x.new_empty(ctx.size, batch, weight.shape[0])  # one block's dL/dk
        carry = None  # a dL/dh from the step just beyond the block, for the block's last step
        for blk in time_blocks(seq_len, ctx.size, not reverse):
            rows = blk.stop - blk.start
            m = None if scale is None else scale[blk]
            k = input_projection(x[blk], weight, bias)  # recomputed: cheaper than storing
            w, c = _block_gates(gates, k, m)
            a = 1 - w
            grad_h = torch.empty_like(a)
            scan_gradients(a.view(rows, -1), grad_out[blk].reshape(rows, -1), reverse, None,
                         grad_h.view(rows, -1), carry)
            first = rows - 1 if reverse else 0  # the block's step that the next block follows
            carry = a[first] * grad_h[first]
            # dL/dw = g (c - h_prev), h_prev = h_{t-1} (h_{t+1} if reverse)
            grad_gate = torch.empty_like(a)
            before = blk.stop if reverse else blk.start - 1
            outside = h0 if before < 0 or before >= seq_len else out[before]
            if reverse:
                torch.sub(c[:-1], out[blk.start + 1:blk.stop], out=grad_gate[:-1])
                torch.sub(c[-1], outside, out=grad_gate[-1])
            else:
                torch.sub(c[1:], out[blk.start:blk.stop - 1], out=grad_gate[1:])
                torch.sub(c[0], outside, out=grad_gate[0])
            grad_gate.mul_(grad_h)
            if m is not None:
                grad_gate.mul_(m)
            grad_c = grad_h.mul_(w)  # dL/dc = g w
            dk = grad_k[:rows]
            gates.backward(k, w, c, grad_gate, grad_c, dk)
            dk2 = dk.view(rows * batch, -1)  # (B*N, G*H)
            if grad_w is not None:
                grad_w.addmm_(dk2.t(), x[blk].reshape(rows * batch, features))
            if grad_b is not None:
                grad_b.add_(dk2.sum(0))
            if grad_x is not None:
                torch.mm(dk2, weight, out=grad_x[blk].view(rows * batch, features))
        return grad_x, carry, grad_w, grad_b, None, None, None


def input_projection(x: Tensor, weight: Tensor, bias: Tensor | None) -> Tensor:
    """``x W^T + b`` for ``x (B, N, H_in)`` (a block of steps, or all) -> ``(B, N, G*H)``."""
    rows, batch, features = x.shape
    flat = x.reshape(rows * batch, features)
    if bias is None:
        k = flat @ weight.t()
    elif features == 1:  # an outer product: one broadcast multiply-add beats a GEMM
        k = torch.addcmul(bias, flat, weight.t())
    else:
        k = torch.addmm(bias, flat, weight.t())
    return k.view(rows, batch, -1)


def chunk_size(seq_len: int, width: int) -> int:
    """Steps per chunk for :func:`scan_steps` (1: one operation per step)."""
    if width <= CHUNKED_MAX_WIDTH and seq_len >= SEQUENTIAL_BELOW:
        return max(2, round(math.sqrt(seq_len)))
    return 1


def _block_gates(gates: Gates, k: Tensor, weight: Tensor | None) -> tuple[Tensor, Tensor]:
    """``w, c`` for a block of steps, ``w = 0`` on padded steps (``weight`` 0)."""
    w, c = gates.forward(k)
    if weight is not None:
        w = w * weight
    return w, c


def gated_scan(
    x: Tensor,
    h0: Tensor,
    gates: Gates,
    weight: Tensor,
    bias: Tensor | None = None,
    mask: Tensor | None = None,
    reverse: bool = False,
) -> Tensor:
    r"""All states of :math:`h_t = h_{t-1} + w_t \odot (c_t - h_{t-1})`, ``(w, c) = gates(k)``,
    ``k_t = W x_t + b``.

    The projection, the gates, the scan and all their gradients run block by block along time,
    so ``k``, ``w`` and ``c`` never exist for the whole sequence; the backward pass recomputes
    them per block and accumulates ``dW`` and ``db`` with one matrix product and one sum per block.

    Args:
        x: ``(L, N, H_in)`` input.
        h0: ``(N, H)`` state before the first step.
        gates: maps a block of ``k (B, N, G*H)`` to ``w, c (B, N, H)`` and back (see
            :class:`Gates`).
        weight: ``(G*H, H_in)``; bias: ``(G*H,)`` or None.
        mask: ``(L, N, 1)`` bool, True on valid steps; padded steps get ``w = 0``, so they carry
            the state (their output is the carried state; zero it if needed).
        reverse: run from the last step to the first.

    Returns:
        ``h (L, N, H)``. Once differentiable (with respect to ``x``, ``h0``, ``weight``, ``bias``).
    """
    if x.dim() != 3 or x.shape[0] == 0 or h0.dim() != 2 or h0.shape[0] != x.shape[1]:
        raise ValueError(
            f"gated_scan: expected x (L, N, H_in) with L >= 1 and h0 (N, H), found "
            f"{tuple(x.shape)} and {tuple(h0.shape)}"
        )
    if weight.dim() != 2 or weight.shape[1] != x.shape[2]:
        raise ValueError(
            f"gated_scan: expected weight (G*H, {x.shape[2]}), found {tuple(weight.shape)}"
        )
    return _GatedScan.apply(x, h0, weight, bias, gates, mask, reverse)


def linear_scan_reference(
    a: Tensor, b: Tensor, h0: Tensor | None = None, reverse: bool = False
) -> Tensor:
    """The same recurrence as a plain autograd loop (the specification; slow)."""
    h = b.new_zeros(b.shape[1:]) if h0 is None else h0
    out = [h] * a.shape[0]
    for t in _steps(a.shape[0], reverse):
        h = a[t] * h + b[t]
        out[t] = h
    return torch.stack(out)
