r"""Whole-sequence kernels for the layer-normalised LSTM and GRU: one autograd node per direction.

They follow :mod:`rnnkit.nn.sequence_kernels`: the forward pass loops over the steps with no
graph, keeping what the backward pass needs; the backward pass runs the reverse-time recurrence
and then takes the recurrent weight gradient from **one** matrix product, ``dW_hh = dR^T H_prev``
with ``dR (L*N, G*H)`` the gradients of the recurrent products ``r_t = W_hh h_{t-1}``. The gains'
and shifts' gradients are summed step by step (one fused layer-norm backward call gives a step's
input and gain gradients). What is kept are small per-step tensors, not ``(L, N, *)`` buffers:
glibc's allocator recycles the former call after call, while large fresh buffers are often
returned to the system and faulted in again on every call (measured here: ~2300 page faults per
forward+backward pass of a 2-layer LayerNormLSTM, N=100, L=28, H=128, which made the kernel slower
than the step loop).

Layer normalisation of a vector :math:`a` (over all its ``G*H`` units, or over each gate's ``H``
units with ``groups = G``) is :math:`\hat a = (a - \mu) \rho` with
:math:`\rho = 1 / \sqrt{\sigma^2 + \epsilon}`, then :math:`\gamma \odot \hat a + \beta`. Its
backward pass, per group of ``K`` units, is

.. math::
    \frac{\partial L}{\partial a} = \rho \left( g - \overline{g}
    - \hat a \, \overline{g \odot \hat a} \right), \quad g = \gamma \odot
    \frac{\partial L}{\partial (\gamma \hat a + \beta)},

with :math:`\overline{\cdot}` the mean over the group (torch's ``native_layer_norm_backward``
computes it in one call), :math:`\partial L / \partial\gamma = \sum_{t,n} \hat a \odot
\partial L / \partial(\gamma \hat a + \beta)` and :math:`\partial L / \partial\beta` the same sum
without :math:`\hat a`.

Masks, ``reverse``, the on/off switch (:func:`rnnkit.nn.sequence_kernels.disabled`) and the
once-differentiable contract are those of :mod:`rnnkit.nn.sequence_kernels`.
"""

from __future__ import annotations

import torch
from torch import Tensor
from torch.autograd.function import once_differentiable

from rnnkit.nn.sequence_kernels import recurrent_weight_grad, step_order, supports

__all__ = ["layernorm_gru_sequence", "layernorm_lstm_sequence", "sequence_applies"]

_SIGMOID_BW = torch.ops.aten.sigmoid_backward.grad_input  # grad * y * (1 - y), into grad_input
_TANH_BW = torch.ops.aten.tanh_backward.grad_input  # grad * (1 - y^2), into grad_input
_LN_BW = torch.ops.aten.native_layer_norm_backward.default


def sequence_applies(x_proj: Tensor, mask: Tensor | None, *tensors: Tensor | None) -> bool:
    """Whether a whole-sequence kernel can run ``x_proj (L, N, G*H)`` with this mask and tensors.

    Not for an empty sequence, a mask that is not ``(L, N, 1)`` bool, or tensors the kernels do
    not take (:func:`rnnkit.nn.sequence_kernels.supports`).
    """
    if x_proj.dim() != 3 or x_proj.shape[0] == 0:
        return False
    if mask is not None and (mask.dtype != torch.bool or mask.shape != (*x_proj.shape[:2], 1)):
        return False
    return supports(x_proj, *tensors)


def _norm_step(rec: Tensor, groups: int, gain: Tensor, shift: Tensor | None, eps: float):
    """``(gain * LN(rec) + shift, LN(rec) or None, mean, rstd)`` for one step, ``rec (N, G*H)``.

    ``LN(rec)`` itself is returned only with ``groups > 1`` (the gain's gradient needs it then);
    ``mean, rstd`` are ``(N, 1)``, or ``(N, groups, 1)``.
    """
    batch, width = rec.shape
    if groups == 1:
        out, mean, rstd = torch.native_layer_norm(rec, [width], gain, shift, eps)
        return out, None, mean, rstd
    shape = (batch, groups, width // groups)
    hat, mean, rstd = torch.native_layer_norm(rec.view(shape), [width // groups], None, None, eps)
    hat = hat.view(batch, width)
    out = hat * gain if shift is None else torch.addcmul(shift, hat, gain)
    return out, hat, mean, rstd


def _norm_step_backward(grad: Tensor, rec: Tensor, hat: Tensor | None, gain: Tensor,
                        mean: Tensor, rstd: Tensor, d_gain: Tensor | None) -> Tensor:
    """``dL/drec (N, G*H)`` from ``grad = dL/dout`` of :func:`_norm_step`; adds this step's
    gradient of the gain into ``d_gain`` when given."""
    batch, width = rec.shape
    if hat is None:  # one group: the input's and the gain's gradients in one call
        d_rec, d_gain_t, _ = _LN_BW(grad, rec, [width], mean, rstd, gain, None,
                                    [True, d_gain is not None, False])
    else:
        shape = (batch, mean.shape[1], width // mean.shape[1])
        d_rec = _LN_BW((grad * gain).view(shape), rec.view(shape), [shape[-1]], mean, rstd,
                       None, None, [True, False, False])[0].view(batch, width)
        d_gain_t = (grad * hat).sum(0) if d_gain is not None else None
    if d_gain is not None:
        d_gain.add_(d_gain_t)
    return d_rec


def _saved_steps(steps: dict[str, list], names: tuple[str, ...], skipped: tuple[str, ...]):
    """The per-step tensors to save, name after name (L each), leaving out ``skipped``."""
    return [t for name in names if name not in skipped for t in steps[name]]


def _unpack(saved: tuple[Tensor, ...], first: int, seq_len: int, names: tuple[str, ...],
            skipped: tuple[str, ...]) -> dict[str, list]:
    """Inverse of :func:`_saved_steps` on ``saved[first:]``: one list of L tensors per name (all
    None for a skipped name)."""
    lists, start = {}, first
    for name in names:
        if name in skipped:
            lists[name] = [None] * seq_len
        else:
            lists[name] = list(saved[start:start + seq_len])
            start += seq_len
    return lists


class _LayerNormLSTMSequence(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x_proj, h0, c0, weight_hh, gain_hh, gain_c, shift_c, groups, eps, mask,
                reverse):
        seq_len = x_proj.shape[0]
        hid = x_proj.shape[2] // 4
        w_t = weight_hh.t()
        xp_s = x_proj.unbind(0)
        m_s = mask.unbind(0) if mask is not None else None
        step = {k: [None] * seq_len for k in ("gates", "rec", "hat", "mean", "rstd", "c", "tc",
                                               "mean_c", "rstd_c", "h")}
        h, c = h0, c0
        for t in step_order(seq_len, reverse):  # new small tensors every step: the allocator
            rec = torch.mm(h, w_t)  # recycles them; large buffers would be faulted in afresh
            gates, hat, mean, rstd = _norm_step(rec, groups, gain_hh, None, eps)
            gates.add_(xp_s[t])  # pre-activations (N, 4H)
            gates[:, :2 * hid].sigmoid_()
            gates[:, 2 * hid:3 * hid].tanh_()
            gates[:, 3 * hid:].sigmoid_()
            i, f, g, o = gates.chunk(4, 1)
            c_new = torch.mul(f, c).addcmul_(i, g)  # c = f * c_prev + i * g
            c_norm, mean_c, rstd_c = torch.native_layer_norm(c_new, [hid], gain_c, shift_c, eps)
            tc = c_norm.tanh_()
            h_new = o * tc  # h = o * tanh(LN_c(c))
            if m_s is not None:
                c_new = torch.where(m_s[t], c_new, c)
                h_new = torch.where(m_s[t], h_new, h)
            h, c = h_new, c_new
            for key, value in (("gates", gates), ("rec", rec), ("hat", hat), ("mean", mean),
                               ("rstd", rstd), ("c", c), ("tc", tc), ("mean_c", mean_c),
                               ("rstd_c", rstd_c), ("h", h)):
                step[key][t] = value
        hs = torch.stack(step.pop("h"))  # (L, N, H)
        ctx.reverse, ctx.skipped = reverse, () if groups > 1 else ("hat",)
        ctx.save_for_backward(h0, c0, weight_hh, gain_hh, gain_c, shift_c, mask, hs,
                              *_saved_steps(step, _LSTM_SAVED, ctx.skipped))
        output = hs if mask is None else hs.masked_fill(~mask, 0.0)
        return output, h.clone(), c.clone()

    @staticmethod
    @once_differentiable
    def backward(ctx, grad_out, grad_hn, grad_cn):
        saved = ctx.saved_tensors
        h0, c0, weight_hh, gain_hh, gain_c, shift_c, mask, hs = saved[:8]
        seq_len, batch, hid = hs.shape
        s = _unpack(saved, 8, seq_len, _LSTM_SAVED, ctx.skipped)
        need = ctx.needs_input_grad
        d_gates = hs.new_empty(seq_len, batch, 4 * hid)  # dL/d(pre-activations) = dL/dx_proj
        d_recs = [None] * seq_len  # dL/d(W_hh h_{t-1})
        d_gain_hh = torch.zeros_like(gain_hh) if need[4] else None
        d_gain_c = torch.zeros_like(gain_c) if need[5] else None
        d_shift_c = torch.zeros_like(shift_c) if shift_c is not None and need[6] else None
        if mask is not None:
            grad_out = grad_out.masked_fill(~mask, 0.0)
            m_s = mask.to(hs.dtype).unbind(0)
        gout_s, dG_s = grad_out.unbind(0), d_gates.unbind(0)
        order = list(step_order(seq_len, not ctx.reverse))  # against the forward order
        dh = grad_hn + gout_s[order[0]]
        dc = grad_cn
        for k, t in enumerate(order):
            last = k == seq_len - 1
            c_prev = c0 if last else s["c"][order[k + 1]]
            if mask is not None:
                dh_keep, dc_keep = dh * m_s[t], dc * m_s[t]
                dh_pass, dc_pass = dh - dh_keep, dc - dc_keep
                dh, dc = dh_keep, dc_keep
            gates, tc, dG = s["gates"][t], s["tc"][t], dG_s[t]
            i, f, g, o = gates.chunk(4, 1)
            d_cnorm = torch.ops.aten.tanh_backward(dh * o, tc)
            dct, d_gain_ct, d_shift_ct = _LN_BW(
                d_cnorm, s["c"][t], [hid], s["mean_c"][t], s["rstd_c"][t], gain_c, shift_c,
                [True, d_gain_c is not None, d_shift_c is not None])
            if d_gain_c is not None:
                d_gain_c.add_(d_gain_ct)
            if d_shift_c is not None:
                d_shift_c.add_(d_shift_ct)
            dct.add_(dc)  # dL/dc_t
            _SIGMOID_BW(dh * tc, o, grad_input=dG[:, 3 * hid:])
            _SIGMOID_BW(torch.cat([dct * g, dct * c_prev], 1), gates[:, :2 * hid],
                        grad_input=dG[:, :2 * hid])
            _TANH_BW(dct * i, g, grad_input=dG[:, 2 * hid:3 * hid])
            d_rec = d_recs[t] = _norm_step_backward(dG, s["rec"][t], s["hat"][t], gain_hh,
                                                    s["mean"][t], s["rstd"][t], d_gain_hh)
            dc = dct * f if mask is None else torch.addcmul(dc_pass, dct, f)
            base = dh_pass if mask is not None else None
            if not last:
                g_next = gout_s[order[k + 1]]
                base = g_next if base is None else base.add_(g_next)
            dh = d_rec @ weight_hh if base is None else torch.addmm(base, d_rec, weight_hh)
        d_whh = None
        if need[3]:
            d_whh = recurrent_weight_grad(torch.stack(d_recs), hs, h0, ctx.reverse)
        return (d_gates, dh, dc, d_whh, d_gain_hh, d_gain_c, d_shift_c, None, None, None, None)


_LSTM_SAVED = ("gates", "rec", "hat", "mean", "rstd", "c", "tc", "mean_c", "rstd_c")


class _LayerNormGRUSequence(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x_proj, h0, weight_hh, gain, shift, groups, eps, mask, reverse):
        seq_len = x_proj.shape[0]
        hid = x_proj.shape[2] // 3
        w_t = weight_hh.t()
        xrz_s, xn_s = x_proj[..., :2 * hid].unbind(0), x_proj[..., 2 * hid:].unbind(0)
        m_s = mask.unbind(0) if mask is not None else None
        step = {k: [None] * seq_len for k in ("rec", "hat", "mean", "rstd", "hidden", "rz", "n",
                                               "h")}
        h = h0
        for t in step_order(seq_len, reverse):  # new small tensors every step (see the LSTM)
            rec = torch.mm(h, w_t)
            hidden, hat, mean, rstd = _norm_step(rec, groups, gain, shift, eps)  # u (N, 3H)
            rz = torch.add(xrz_s[t], hidden[:, :2 * hid]).sigmoid_()
            n = torch.addcmul(xn_s[t], rz[:, :hid], hidden[:, 2 * hid:]).tanh_()
            h_new = torch.lerp(n, h, rz[:, hid:])  # n + z * (h - n)
            if m_s is not None:
                h_new = torch.where(m_s[t], h_new, h)
            h = h_new
            for key, value in (("rec", rec), ("hat", hat), ("mean", mean), ("rstd", rstd),
                               ("hidden", hidden), ("rz", rz), ("n", n), ("h", h)):
                step[key][t] = value
        hs = torch.stack(step.pop("h"))  # (L, N, H)
        ctx.reverse, ctx.skipped = reverse, () if groups > 1 else ("hat",)
        ctx.save_for_backward(h0, weight_hh, gain, shift, mask, hs,
                              *_saved_steps(step, _GRU_SAVED, ctx.skipped))
        output = hs if mask is None else hs.masked_fill(~mask, 0.0)
        return output, h.clone()

    @staticmethod
    @once_differentiable
    def backward(ctx, grad_out, grad_hn):
        saved = ctx.saved_tensors
        h0, weight_hh, gain, shift, mask, hs = saved[:6]
        seq_len, batch, hid = hs.shape
        s = _unpack(saved, 6, seq_len, _GRU_SAVED, ctx.skipped)
        need = ctx.needs_input_grad
        d_x = hs.new_empty(seq_len, batch, 3 * hid)  # dL/dx_proj
        d_recs = [None] * seq_len  # dL/d(W_hh h_{t-1})
        d_gain = torch.zeros_like(gain) if need[3] else None
        d_shift = torch.zeros_like(shift) if shift is not None and need[4] else None
        if mask is not None:
            grad_out = grad_out.masked_fill(~mask, 0.0)
            m_s = mask.to(hs.dtype).unbind(0)
        gout_s, h_s, dx_s = grad_out.unbind(0), hs.unbind(0), d_x.unbind(0)
        order = list(step_order(seq_len, not ctx.reverse))  # against the forward order
        dh = grad_hn + gout_s[order[0]]
        for k, t in enumerate(order):
            last = k == seq_len - 1
            h_prev = h0 if last else h_s[order[k + 1]]
            if mask is not None:
                dh_keep = dh * m_s[t]
                dh_pass = dh - dh_keep
                dh = dh_keep
            rz, n, hidden = s["rz"][t], s["n"][t], s["hidden"][t]
            z = rz[:, hid:]
            dh_z = dh * z  # straight to h_prev
            d_xn = dx_s[t][:, 2 * hid:]
            _TANH_BW(dh - dh_z, n, grad_input=d_xn)  # dL/d(pre-activation of n)
            d_hidden = torch.empty_like(hidden)  # dL/du
            d_rz = torch.cat([d_xn * hidden[:, 2 * hid:], dh * (h_prev - n)], 1)  # dL/dr, dL/dz
            _SIGMOID_BW(d_rz, rz, grad_input=d_hidden[:, :2 * hid])
            torch.mul(d_xn, rz[:, :hid], out=d_hidden[:, 2 * hid:])
            dx_s[t][:, :2 * hid].copy_(d_hidden[:, :2 * hid])
            if d_shift is not None:
                d_shift.add_(d_hidden.sum(0))
            d_rec = d_recs[t] = _norm_step_backward(d_hidden, s["rec"][t], s["hat"][t], gain,
                                                    s["mean"][t], s["rstd"][t], d_gain)
            if mask is not None:
                dh_z.add_(dh_pass)
            if not last:
                dh_z.add_(gout_s[order[k + 1]])
            dh = torch.addmm(dh_z, d_rec, weight_hh)
        d_whh = None
        if need[2]:
            d_whh = recurrent_weight_grad(torch.stack(d_recs), hs, h0, ctx.reverse)
        return d_x, dh, d_whh, d_gain, d_shift, None, None, None, None


_GRU_SAVED = ("rec", "hat", "mean", "rstd", "hidden", "rz", "n")


def _check_groups(width: int, groups: int, eps: float) -> None:
    if groups < 1 or width % groups:
        raise ValueError(f"groups must divide the {width} gate units, got {groups!r}")
    if eps <= 0:
        raise ValueError(f"eps must be positive, got {eps!r}")


def layernorm_lstm_sequence(
    x_proj: Tensor,
    h0: Tensor,
    c0: Tensor,
    weight_hh: Tensor,
    gain_hh: Tensor,
    gain_c: Tensor,
    shift_c: Tensor | None,
    groups: int = 1,
    eps: float = 1e-5,
    mask: Tensor | None = None,
    reverse: bool = False,
) -> tuple[Tensor, Tensor, Tensor]:
    r"""One layer-normalised LSTM direction over a whole sequence (gate order i, f, g, o).

    .. math::
        (i, f, g, o) = x_{proj,t} + \gamma_{hh} \odot \widehat{W_{hh} h_{t-1}},
        \quad c_t = \sigma(f) c_{t-1} + \sigma(i) \tanh(g),
        \quad h_t = \sigma(o) \tanh(\gamma_c \hat c_t + \beta_c)

    Args:
        x_proj: ``(L, N, 4H)``, ``LN_ih(W_ih x) + b_ih + b_hh + beta_hh`` for every step (the
            recurrent normalisation's shift is a constant, so it is added there).
        h0, c0: ``(N, H)`` initial states.
        weight_hh: ``(4H, H)``.
        gain_hh: ``(4H)`` gain of the recurrent normalisation.
        gain_c, shift_c: ``(H)`` gain and shift (or None) of the cell state's normalisation.
        groups: 1 normalises all 4H units together, 4 each gate's H units.
        eps: added to the variance.
        mask: ``(L, N, 1)`` bool, True on valid steps, or None.
        reverse: run from the last step to the first.

    Returns:
        ``output (L, N, H)`` (zero on padded steps), ``h_n (N, H)``, ``c_n (N, H)``.
    """
    _check_groups(x_proj.shape[-1], groups, eps)
    return _LayerNormLSTMSequence.apply(x_proj, h0, c0, weight_hh, gain_hh, gain_c, shift_c,
                                        groups, eps, mask, reverse)


def layernorm_gru_sequence(
    x_proj: Tensor,
    h0: Tensor,
    weight_hh: Tensor,
    gain: Tensor,
    shift: Tensor | None,
    groups: int = 1,
    eps: float = 1e-5,
    mask: Tensor | None = None,
    reverse: bool = False,
) -> tuple[Tensor, Tensor]:
    r"""One layer-normalised GRU direction over a whole sequence (gate order r, z, n).

    .. math::
        u_t = \gamma \odot \widehat{W_{hh} h_{t-1}} + \beta, \quad
        r, z = \sigma(a_{r,z} + u_{r,z}), \quad n = \tanh(a_n + r \odot u_n), \quad
        h_t = (1 - z) n + z h_{t-1}

    Args:
        x_proj: ``(L, N, 3H)``, ``a = LN_ih(W_ih x) + b_ih`` for every step.
        h0: ``(N, H)``; weight_hh: ``(3H, H)``.
        gain, shift: ``(3H)``, the recurrent normalisation's gain and its shift plus ``b_hh``
            (or None).
        groups, eps, mask, reverse: as in :func:`layernorm_lstm_sequence` (groups 1 or 3).

    Returns:
        ``output (L, N, H)`` (zero on padded steps) and ``h_n (N, H)``.
    """
    _check_groups(x_proj.shape[-1], groups, eps)
    return _LayerNormGRUSequence.apply(x_proj, h0, weight_hh, gain, shift, groups, eps, mask,
                                       reverse)
