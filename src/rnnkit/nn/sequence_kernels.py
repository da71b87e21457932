"""Whole-sequence kernels for the classic cells: one autograd node per layer and direction.

The generic driver records every step's small operations in the autograd graph, so its backward
pass replays hundreds of tiny nodes. The functions here compute one direction of an LSTM, GRU or
Elman RNN over the whole sequence as a single :class:`torch.autograd.Function`:

* **forward** loops over the steps with no graph, writing the activations that the backward pass
  needs into preallocated ``(L, N, *)`` buffers (``addmm`` and in-place activations with ``out=``);
* **backward** runs the reverse-time recurrence for ``dL/dh`` (and ``dL/dc``), writes the gradient
  of every step's pre-activations into one ``(L, N, G*H)`` buffer, and then gets the recurrent
  weight gradient from **one** matrix product over all steps, ``dW_hh = dG^T H_prev`` with
  ``dG (L*N, G*H)`` and ``H_prev (L*N, H)`` (likewise ``db_hh`` by one sum and ``dW_hr`` by one
  product). The pre-activation gradient is returned as the gradient of ``x_proj``, so autograd
  turns it into the input weights' gradients with one more matrix product in ``project_input``.

Masks follow the driver's contract: on a padded step the state is carried unchanged and the output
is zero, and no gradient reaches the padded step's computation. ``reverse`` runs from the last step
to the first. The kernels are once differentiable (a second backward raises an error); call
:func:`set_enabled` with False, or use :func:`disabled`, to run the differentiable step loop
instead, e.g. for double backward.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import torch
from torch import Tensor
from torch.autograd.function import once_differentiable

__all__ = ["disabled", "gru_sequence", "is_enabled", "lstm_sequence", "recurrent_weight_grad",
           "rnn_sequence", "set_enabled", "step_order", "supports"]

_ENABLED = True
_SIGMOID_BW = torch.ops.aten.sigmoid_backward.grad_input  # grad * y * (1 - y), into grad_input
_TANH_BW = torch.ops.aten.tanh_backward.grad_input  # grad * (1 - y^2), into grad_input
_RELU_BW = torch.ops.aten.threshold_backward.grad_input  # grad * (y > 0), into grad_input


def set_enabled(enabled: bool) -> None:
    """Turn the whole-sequence kernels on or off globally (on by default)."""
    global _ENABLED
    _ENABLED = bool(enabled)


def is_enabled() -> bool:
    return _ENABLED


@contextlib.contextmanager
def disabled() -> Iterator[None]:
    """Within this block the cells run the generic (differentiable) step loop."""
    previous = _ENABLED
    set_enabled(False)
    try:
        yield
    finally:
        set_enabled(previous)


def supports(*tensors: Tensor | None) -> bool:
    """Whether the kernels can run on these tensors (else the caller falls back to the loop).

    They need plain strided float32/float64 tensors of one dtype on one device, and no autocast,
    forward-mode AD or functorch transform around them.
    """
    if not _ENABLED:
        return False
    present = [t for t in tensors if t is not None]
    first = present[0]
    if first.dtype not in (torch.float32, torch.float64):
        return False
    for t in present:
        if type(t) not in (Tensor, torch.nn.Parameter) or t.layout != torch.strided:
            return False
        if t.dtype != first.dtype or t.device != first.device:
            return False
    if first.device.type == "meta" or torch.is_autocast_enabled(first.device.type):
        return False
    if torch.autograd.forward_ad._current_level >= 0:
        return False
    return not torch._C._are_functorch_transforms_active()


def step_order(length: int, reverse: bool) -> range:
    """The steps in the order one direction computes them: ``L-1 .. 0`` if ``reverse``."""
    return range(length - 1, -1, -1) if reverse else range(length)


def _previous_states(states: Tensor, initial: Tensor, reverse: bool):
    """``(first step, earlier-in-time states aligned with the later steps)`` for ``dW = dG^T H``.

    Forward: step t reads state t-1, so steps ``1..L-1`` pair with ``states[:-1]`` and step 0
    with ``initial``. Reverse: steps ``0..L-2`` pair with ``states[1:]``, step L-1 with initial.
    """
    if reverse:
        return states.shape[0] - 1, slice(0, -1), states[1:]
    return 0, slice(1, None), states[:-1]


def recurrent_weight_grad(d: Tensor, states: Tensor, initial: Tensor, reverse: bool) -> Tensor:
    """``sum_t d_t^T h_{t-1}`` over all steps: one matrix product plus the initial step's.

    ``d (L, N, G*H)`` the gradients of the recurrent products, ``states (L, N, S)`` the state
    after each step, ``initial (N, S)``; returns ``(G*H, S)``.
    """
    first, rest, prev = _previous_states(states, initial, reverse)
    grad = d[first].t() @ initial  # (G*H, S)
    if d.shape[0] > 1:
        grad.addmm_(d[rest].reshape(-1, d.shape[-1]).t(), prev.reshape(-1, prev.shape[-1]))
    return grad


class _LSTMSequence(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x_proj, h0, c0, weight_hh, weight_hr, mask, reverse):
        seq_len, batch, four_h = x_proj.shape
        hid = four_h // 4
        proj = weight_hr is not None
        gates = torch.empty_like(x_proj)  # (L, N, 4H) activated i, f, g, o
        cs = x_proj.new_empty(seq_len, batch, hid)  # cell state after each step
        tcs = x_proj.new_empty(seq_len, batch, hid)  # tanh of the computed cell state
        hs = x_proj.new_empty(seq_len, batch, h0.shape[1])  # hidden state after each step
        hp = x_proj.new_empty(seq_len, batch, hid) if proj else hs  # before the projection
        w_t = weight_hh.t()  # (H_out, 4H)
        wr_t = weight_hr.t() if proj else None  # (H, P)
        xp_s, g_s = x_proj.unbind(0), gates.unbind(0)
        if_s, gg_s, go_s = (gates[..., k * hid:(k + n) * hid].unbind(0)
                            for k, n in ((0, 2), (2, 1), (3, 1)))
        i_s, f_s = gates[..., :hid].unbind(0), gates[..., hid:2 * hid].unbind(0)
        c_s, tc_s, h_s, hp_s = cs.unbind(0), tcs.unbind(0), hs.unbind(0), hp.unbind(0)
        m_s = mask.unbind(0) if mask is not None else None
        h, c = h0, c0
        for t in step_order(seq_len, reverse):
            torch.addmm(xp_s[t], h, w_t, out=g_s[t])
            if_s[t].sigmoid_()
            gg_s[t].tanh_()
            go_s[t].sigmoid_()
            c_t = c_s[t]
            torch.mul(f_s[t], c, out=c_t)
            c_t.addcmul_(i_s[t], gg_s[t])  # c = f * c_prev + i * g
            torch.tanh(c_t, out=tc_s[t])
            torch.mul(go_s[t], tc_s[t], out=hp_s[t])  # o * tanh(c)
            if proj:
                torch.mm(hp_s[t], wr_t, out=h_s[t])
            if m_s is not None:
                torch.where(m_s[t], c_t, c, out=c_t)
                torch.where(m_s[t], h_s[t], h, out=h_s[t])
            h, c = h_s[t], c_t
        ctx.reverse = reverse
        ctx.save_for_backward(h0, c0, weight_hh, weight_hr, mask, gates, cs, tcs, hs, hp)
        output = hs if mask is None else hs.masked_fill(~mask, 0.0)
        return output, h.clone(), c.clone()

    @staticmethod
    @once_differentiable
    def backward(ctx, grad_out, grad_hn, grad_cn):
        h0, c0, weight_hh, weight_hr, mask, gates, cs, tcs, hs, hp = ctx.saved_tensors
        reverse, proj = ctx.reverse, weight_hr is not None
        seq_len, batch, four_h = gates.shape
        hid = four_h // 4
        d_gates = torch.empty_like(gates)  # (L, N, 4H) gradient of the pre-activations
        d_hs = torch.empty_like(hs) if proj else None  # (L, N, P) gradient of projected h
        if mask is not None:
            grad_out = grad_out.masked_fill(~mask, 0.0)
            m_s = mask.to(gates.dtype).unbind(0)
        g_s = gates.unbind(0)
        i_s, f_s, gg_s, go_s = (gates[..., k * hid:(k + 1) * hid].unbind(0) for k in range(4))
        dif_s = d_gates[..., :2 * hid].unbind(0)
        dg_s, do_s = d_gates[..., 2 * hid:3 * hid].unbind(0), d_gates[..., 3 * hid:].unbind(0)
        dG_s, c_s, tc_s, gout_s = d_gates.unbind(0), cs.unbind(0), tcs.unbind(0), grad_out.unbind(0)
        dhs_s = d_hs.unbind(0) if proj else None
        tmp = gates.new_empty(batch, hid)
        tmp2 = gates.new_empty(batch, 2 * hid)
        dct = gates.new_empty(batch, hid)
        order = list(step_order(seq_len, not reverse))  # backward runs against the forward order
        dh = grad_hn + gout_s[order[0]]  # dL/dh_t (state) at the last computed step
        dc = grad_cn
        for k, t in enumerate(order):
            last = k == seq_len - 1
            c_prev = c0 if last else c_s[order[k + 1]]
            if mask is not None:
                dh_keep = dh * m_s[t]  # reaches this step's computation
                dh_pass = dh - dh_keep  # carried straight to the previous state
                dc_keep = dc * m_s[t]
                dc_pass = dc - dc_keep
                dh, dc = dh_keep, dc_keep
            if proj:
                dhs_s[t].copy_(dh)
                dh = dh @ weight_hr  # (N, H)
            o, tc = go_s[t], tc_s[t]
            torch.mul(dh, o, out=tmp)
            _TANH_BW(tmp, tc, grad_input=dct)
            dct.add_(dc)  # dL/dc_t
            torch.mul(dh, tc, out=tmp)
            _SIGMOID_BW(tmp, o, grad_input=do_s[t])
            torch.mul(dct, gg_s[t], out=tmp2[:, :hid])
            torch.mul(dct, c_prev, out=tmp2[:, hid:])
            _SIGMOID_BW(tmp2, g_s[t][:, :2 * hid], grad_input=dif_s[t])
            torch.mul(dct, i_s[t], out=tmp)
            _TANH_BW(tmp, gg_s[t], grad_input=dg_s[t])
            if mask is not None:
                dc = torch.addcmul(dc_pass, dct, f_s[t])
                dh = torch.addmm(dh_pass, dG_s[t], weight_hh)
                if not last:
                    dh.add_(gout_s[order[k + 1]])
            else:
                dc = dct * f_s[t]
                if last:
                    dh = dG_s[t] @ weight_hh
                else:
                    dh = torch.addmm(gout_s[order[k + 1]], dG_s[t], weight_hh)
        need = ctx.needs_input_grad
        d_whh = recurrent_weight_grad(d_gates, hs, h0, reverse) if need[3] else None
        d_whr = None
        if proj and need[4]:
            d_whr = d_hs.reshape(-1, d_hs.shape[-1]).t() @ hp.reshape(-1, hid)  # (P, H)
        return d_gates, dh, dc, d_whh, d_whr, None, None


class _GRUSequence(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x_proj, h0, weight_hh, bias_hh, mask, reverse):
        seq_len, batch, three_h = x_proj.shape
        hid = three_h // 3
        hidden = torch.empty_like(x_proj)  # (L, N, 3H) W_hh h + b_hh
        rz = x_proj.new_empty(seq_len, batch, 2 * hid)  # activated r, z
        ns = x_proj.new_empty(seq_len, batch, hid)  # candidate n
        hs = x_proj.new_empty(seq_len, batch, hid)  # state after each step
        w_t = weight_hh.t()
        hid_s, rz_s, n_s, h_s = hidden.unbind(0), rz.unbind(0), ns.unbind(0), hs.unbind(0)
        xrz_s, xn_s = x_proj[..., :2 * hid].unbind(0), x_proj[..., 2 * hid:].unbind(0)
        hrz_s, hn_s = hidden[..., :2 * hid].unbind(0), hidden[..., 2 * hid:].unbind(0)
        r_s, z_s = rz[..., :hid].unbind(0), rz[..., hid:].unbind(0)
        m_s = mask.unbind(0) if mask is not None else None
        h = h0
        for t in step_order(seq_len, reverse):
            if bias_hh is None:
                torch.mm(h, w_t, out=hid_s[t])
            else:
                torch.addmm(bias_hh, h, w_t, out=hid_s[t])
            torch.add(xrz_s[t], hrz_s[t], out=rz_s[t]).sigmoid_()
            torch.addcmul(xn_s[t], r_s[t], hn_s[t], out=n_s[t]).tanh_()
            torch.lerp(n_s[t], h, z_s[t], out=h_s[t])  # n + z * (h - n)
            if m_s is not None:
                torch.where(m_s[t], h_s[t], h, out=h_s[t])
            h = h_s[t]
        ctx.reverse = reverse
        ctx.save_for_backward(h0, weight_hh, bias_hh, mask, hidden, rz, ns, hs)
        output = hs if mask is None else hs.masked_fill(~mask, 0.0)
        return output, h.clone()

    @staticmethod
    @once_differentiable
    def backward(ctx, grad_out, grad_hn):
        h0, weight_hh, bias_hh, mask, hidden, rz, ns, hs = ctx.saved_tensors
        reverse = ctx.reverse
        seq_len, batch, three_h = hidden.shape
        hid = three_h // 3
        d_x = torch.empty_like(hidden)  # (L, N, 3H) gradient of x_proj
        d_hidden = torch.empty_like(hidden)  # (L, N, 3H) gradient of W_hh h + b_hh
        if mask is not None:
            grad_out = grad_out.masked_fill(~mask, 0.0)
            m_s = mask.to(hidden.dtype).unbind(0)
        dxn_s = d_x[..., 2 * hid:].unbind(0)
        dh_s, dhrz_s, dhn_s = (d_hidden.unbind(0), d_hidden[..., :2 * hid].unbind(0),
                               d_hidden[..., 2 * hid:].unbind(0))
        rz_s, r_s, z_s = rz.unbind(0), rz[..., :hid].unbind(0), rz[..., hid:].unbind(0)
        n_s, hn_s, h_s, gout_s = ns.unbind(0), hidden[..., 2 * hid:].unbind(0), hs.unbind(0), \
            grad_out.unbind(0)
        tmp = hidden.new_empty(batch, 2 * hid)
        diff = hidden.new_empty(batch, hid)
        order = list(step_order(seq_len, not reverse))
        dh = grad_hn + gout_s[order[0]]
        for k, t in enumerate(order):
            last = k == seq_len - 1
            h_prev = h0 if last else h_s[order[k + 1]]
            if mask is not None:
                dh_keep = dh * m_s[t]
                dh_pass = dh - dh_keep
                dh = dh_keep
            z, n = z_s[t], n_s[t]
            dh_z = dh * z  # straight to h_prev
            _TANH_BW(dh - dh_z, n, grad_input=dxn_s[t])  # dL/d(pre-activation of n)
            torch.mul(dxn_s[t], hn_s[t], out=tmp[:, :hid])  # dL/dr
            torch.sub(h_prev, n, out=diff)
            torch.mul(dh, diff, out=tmp[:, hid:])  # dL/dz
            _SIGMOID_BW(tmp, rz_s[t], grad_input=dhrz_s[t])
            torch.mul(dxn_s[t], r_s[t], out=dhn_s[t])
            if mask is not None:
                dh_z.add_(dh_pass)
            if not last:
                dh_z.add_(gout_s[order[k + 1]])
            dh = torch.addmm(dh_z, dh_s[t], weight_hh)
        d_x[..., :2 * hid].copy_(d_hidden[..., :2 * hid])
        need = ctx.needs_input_grad
        d_whh = recurrent_weight_grad(d_hidden, hs, h0, reverse) if need[2] else None
        d_bhh = d_hidden.sum((0, 1)) if bias_hh is not None and need[3] else None
        return d_x, dh, d_whh, d_bhh, None, None


class _RNNSequence(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x_proj, h0, weight_hh, relu, mask, reverse):
        acts = torch.empty_like(x_proj)  # (L, N, H) computed activations
        hs = acts if mask is None else torch.empty_like(x_proj)  # states
        w_t = weight_hh.t()
        xp_s, a_s, h_s = x_proj.unbind(0), acts.unbind(0), hs.unbind(0)
        m_s = mask.unbind(0) if mask is not None else None
        h = h0
        for t in step_order(x_proj.shape[0], reverse):
            a = torch.addmm(xp_s[t], h, w_t, out=a_s[t])
            if relu:
                a.relu_()
            else:
                a.tanh_()
            if m_s is not None:
                torch.where(m_s[t], a, h, out=h_s[t])
            h = h_s[t]
        ctx.reverse, ctx.relu = reverse, relu
        ctx.save_for_backward(h0, weight_hh, mask, acts, hs)
        output = hs if mask is None else hs.masked_fill(~mask, 0.0)
        return output, h.clone()

    @staticmethod
    @once_differentiable
    def backward(ctx, grad_out, grad_hn):
        h0, weight_hh, mask, acts, hs = ctx.saved_tensors
        reverse, relu = ctx.reverse, ctx.relu
        d_pre = torch.empty_like(acts)
        if mask is not None:
            grad_out = grad_out.masked_fill(~mask, 0.0)
            m_s = mask.to(acts.dtype).unbind(0)
        d_s, a_s, gout_s = d_pre.unbind(0), acts.unbind(0), grad_out.unbind(0)
        seq_len = acts.shape[0]
        order = list(step_order(seq_len, not reverse))
        dh = grad_hn + gout_s[order[0]]
        for k, t in enumerate(order):
            last = k == seq_len - 1
            dh_pass = None
            if mask is not None:
                dh_keep = dh * m_s[t]
                dh_pass, dh = dh - dh_keep, dh_keep
            if relu:
                _RELU_BW(dh, a_s[t], 0, grad_input=d_s[t])
            else:
                _TANH_BW(dh, a_s[t], grad_input=d_s[t])
            base = dh_pass
            if not last:
                g = gout_s[order[k + 1]]
                base = g if base is None else base.add_(g)
            dh = d_s[t] @ weight_hh if base is None else torch.addmm(base, d_s[t], weight_hh)
        d_w = recurrent_weight_grad(d_pre, hs, h0, reverse) if ctx.needs_input_grad[2] else None
        return d_pre, dh, d_w, None, None, None


def lstm_sequence(
    x_proj: Tensor,
    h0: Tensor,
    c0: Tensor,
    weight_hh: Tensor,
    weight_hr: Tensor | None = None,
    mask: Tensor | None = None,
    reverse: bool = False,
) -> tuple[Tensor, Tensor, Tensor]:
    """One LSTM direction over a whole sequence (gate order i, f, g, o).

    Args:
        x_proj: ``(L, N, 4H)``, ``x W_ih^T + b_ih + b_hh`` for every step.
        h0, c0: ``(N, H_out)``, ``(N, H)`` initial states.
        weight_hh: ``(4H, H_out)``; weight_hr: ``(P, H)`` projection or None.
        mask: ``(L, N, 1)`` bool, True on valid steps, or None.
        reverse: run from the last step to the first.

    Returns:
        ``output (L, N, H_out)`` (zero on padded steps), ``h_n (N, H_out)``, ``c_n (N, H)``.
    """
    return _LSTMSequence.apply(x_proj, h0, c0, weight_hh, weight_hr, mask, reverse)


def gru_sequence(
    x_proj: Tensor,
    h0: Tensor,
    weight_hh: Tensor,
    bias_hh: Tensor | None = None,
    mask: Tensor | None = None,
    reverse: bool = False,
) -> tuple[Tensor, Tensor]:
    """One GRU direction over a whole sequence (gate order r, z, n; ``b_hn`` inside r's product).

    Args:
        x_proj: ``(L, N, 3H)``, ``x W_ih^T + b_ih`` for every step.
        h0: ``(N, H)``; weight_hh: ``(3H, H)``; bias_hh: ``(3H,)`` or None.
        mask, reverse: as in :func:`lstm_sequence`.

    Returns:
        ``output (L, N, H)`` (zero on padded steps) and ``h_n (N, H)``.
    """
    return _GRUSequence.apply(x_proj, h0, weight_hh, bias_hh, mask, reverse)


def rnn_sequence(
    x_proj: Tensor,
    h0: Tensor,
    weight_hh: Tensor,
    nonlinearity: str = "tanh",
    mask: Tensor | None = None,
    reverse: bool = False,
) -> tuple[Tensor, Tensor]:
    """One Elman RNN direction: ``h_t = act(x_proj_t + h_{t-1} W_hh^T)``, act tanh or relu.

    Returns ``output (L, N, H)`` (zero on padded steps) and ``h_n (N, H)``.
    """
    if nonlinearity not in ("tanh", "relu"):
        raise ValueError(f"nonlinearity must be 'tanh' or 'relu', got {nonlinearity!r}")
    return _RNNSequence.apply(x_proj, h0, weight_hh, nonlinearity == "relu", mask, reverse)
