r"""Whole-sequence kernels for the layer-normalised LSTM and GRU: one autograd node per direction.

They follow :mod:`rnnkit.nn.sequence_kernels`: the forward pass loops over the steps with no
graph, writing what the backward pass needs into ``(L, N, *)`` buffers; the backward pass runs the
reverse-time recurrence and then takes the recurrent weight gradient from **one** matrix product,
``dW_hh = dR^T H_prev`` with ``dR (L*N, G*H)`` the gradients of the recurrent products
``r_t = W_hh h_{t-1}``, and the gains' and shifts' gradients from one reduction each.

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


_LN_OUT = torch.ops.aten.native_layer_norm.out


def _norm_step(rec: Tensor, groups: int, gain: Tensor, shift: Tensor | None, eps: float,
               out: Tensor, hat: Tensor | None, mean: Tensor, rstd: Tensor) -> None:
    """``out = gain * LN(rec) + shift`` for one step, ``rec (N, G*H)``, into ``out (N, G*H)``.

    Writes the statistics into ``mean, rstd (N, groups, 1)``; with ``groups > 1`` also the
    normalised ``hat (N, G*H)`` (the gain's gradient needs it then).
    """
    batch, width = rec.shape
    if groups == 1:
        _LN_OUT(rec, [width], gain, shift, eps, out0=out, out1=mean.view(batch, 1),
                out2=rstd.view(batch, 1))
        return
    shape = (batch, groups, width // groups)
    _LN_OUT(rec.view(shape), [width // groups], None, None, eps, out0=hat.view(shape), out1=mean,
            out2=rstd)
    if shift is None:
        torch.mul(hat, gain, out=out)
    else:
        torch.addcmul(shift, hat, gain, out=out)


def _norm_step_backward(grad: Tensor, rec: Tensor, gain: Tensor, mean: Tensor,
                        rstd: Tensor) -> Tensor:
    """``dL/drec (N, G*H)`` from ``grad = dL/dout`` of :func:`_norm_step`."""
    batch, width = rec.shape
    groups = mean.shape[1]
    if groups == 1:
        return _LN_BW(grad, rec, [width], mean.view(batch, 1), rstd.view(batch, 1), gain, None,
                      [True, False, False])[0]
    shape = (batch, groups, width // groups)
    d_rec = _LN_BW((grad * gain).view(shape), rec.view(shape), [width // groups], mean, rstd,
                   None, None, [True, False, False])[0]
    return d_rec.view(batch, width)


def _norm_param_grads(grad: Tensor, rec: Tensor, hats: Tensor | None, gain: Tensor,
                      shift: Tensor | None, mean: Tensor, rstd: Tensor, need_gain: bool,
                      need_shift: bool) -> tuple[Tensor | None, Tensor | None]:
    """Gain's and shift's gradients from ``grad = dL/dout (L, N, G*H)`` over all steps."""
    if hats is None:  # one group: one fused reduction for both
        seq_len, batch, width = rec.shape
        flat = (seq_len * batch, 1)
        _, d_gain, d_shift = _LN_BW(grad, rec, [width], mean.view(flat), rstd.view(flat), gain,
                                    shift, [False, need_gain, need_shift])
        return d_gain, d_shift
    d_gain = (grad * hats).sum((0, 1)) if need_gain else None
    return d_gain, grad.sum((0, 1)) if need_shift else None


def _workspace(like: Tensor, seq_len: int, batch: int, **widths: int) -> dict[str, Tensor]:
    """Contiguous ``(L, N, width)`` buffers carved from **one** allocation.

    One large block per call is what glibc's allocator keeps and hands out again on the next call;
    several freed together can exceed its trim threshold, go back to the system and have their
    pages faulted in afresh on every call (measured: ~3000 page faults per forward pass).
    """
    flat = like.new_empty(seq_len * batch * sum(widths.values()))
    buffers, start = {}, 0
    for name, width in widths.items():
        size = seq_len * batch * width
        buffers[name] = flat[start:start + size].view(seq_len, batch, width)
        start += size
    return buffers


class _LayerNormLSTMSequence(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x_proj, h0, c0, weight_hh, gain_hh, gain_c, shift_c, groups, eps, mask,
                reverse):
        seq_len, batch, four_h = x_proj.shape
        hid = four_h // 4
        hs = x_proj.new_empty(seq_len, batch, hid)  # hidden state after each step (the output)
        buf = _workspace(x_proj, seq_len, batch, gates=four_h, rec=four_h,
                         hats=four_h if groups > 1 else 0, cs=hid, tcs=hid, mean_r=groups,
                         rstd_r=groups, mean_c=1, rstd_c=1)
        gates, rec, cs, tcs = buf["gates"], buf["rec"], buf["cs"], buf["tcs"]  # activated i, f,
        # g, o; W_hh h_{t-1}; cell state after each step; tanh(LN_c(c))
        hats = buf["hats"] if groups > 1 else None  # LN(W_hh h_{t-1}) before the gain
        mean_r, rstd_r = (buf[k].unsqueeze(-1) for k in ("mean_r", "rstd_r"))  # (L, N, G, 1)
        mean_c, rstd_c = buf["mean_c"], buf["rstd_c"]  # (L, N, 1)
        normed = x_proj.new_empty(batch, four_h)  # gain_hh * LN(W_hh h_{t-1})
        w_t = weight_hh.t()
        xp_s, g_s, r_s = x_proj.unbind(0), gates.unbind(0), rec.unbind(0)
        hat_s = hats.unbind(0) if hats is not None else [None] * seq_len
        if_s, gg_s, go_s = (gates[..., k * hid:(k + n) * hid].unbind(0)
                            for k, n in ((0, 2), (2, 1), (3, 1)))
        i_s, f_s = gates[..., :hid].unbind(0), gates[..., hid:2 * hid].unbind(0)
        c_s, tc_s, h_s = cs.unbind(0), tcs.unbind(0), hs.unbind(0)
        m_s = mask.unbind(0) if mask is not None else None
        h, c = h0, c0
        for t in step_order(seq_len, reverse):
            torch.mm(h, w_t, out=r_s[t])
            _norm_step(r_s[t], groups, gain_hh, None, eps, normed, hat_s[t], mean_r[t], rstd_r[t])
            torch.add(xp_s[t], normed, out=g_s[t])  # pre-activations
            if_s[t].sigmoid_()
            gg_s[t].tanh_()
            go_s[t].sigmoid_()
            c_t = c_s[t]
            torch.mul(f_s[t], c, out=c_t)
            c_t.addcmul_(i_s[t], gg_s[t])  # c = f * c_prev + i * g
            _LN_OUT(c_t, [hid], gain_c, shift_c, eps, out0=tc_s[t], out1=mean_c[t],
                    out2=rstd_c[t])
            tc_s[t].tanh_()
            torch.mul(go_s[t], tc_s[t], out=h_s[t])  # h = o * tanh(LN_c(c))
            if m_s is not None:
                torch.where(m_s[t], c_t, c, out=c_t)
                torch.where(m_s[t], h_s[t], h, out=h_s[t])
            h, c = h_s[t], c_t
        ctx.reverse = reverse
        ctx.save_for_backward(h0, c0, weight_hh, gain_hh, gain_c, shift_c, mask, gates, rec, hats,
                              cs, tcs, hs, mean_r, rstd_r, mean_c, rstd_c)
        output = hs if mask is None else hs.masked_fill(~mask, 0.0)
        return output, h.clone(), c.clone()

    @staticmethod
    @once_differentiable
    def backward(ctx, grad_out, grad_hn, grad_cn):
        (h0, c0, weight_hh, gain_hh, gain_c, shift_c, mask, gates, rec, hats, cs, tcs, hs,
         mean_r, rstd_r, mean_c, rstd_c) = ctx.saved_tensors
        seq_len, batch, four_h = gates.shape
        hid = four_h // 4
        buf = _workspace(gates, seq_len, batch, d_gates=four_h, d_rec=four_h, d_cnorm=hid)
        d_gates = buf["d_gates"]  # dL/d(pre-activations) = dL/dx_proj
        d_recs = buf["d_rec"]  # dL/d(W_hh h_{t-1})
        d_cnorm = buf["d_cnorm"]  # dL/d LN_c(c)
        if mask is not None:
            grad_out = grad_out.masked_fill(~mask, 0.0)
            m_s = mask.to(gates.dtype).unbind(0)
        g_s = gates.unbind(0)
        i_s, f_s, gg_s, go_s = (gates[..., k * hid:(k + 1) * hid].unbind(0) for k in range(4))
        dif_s = d_gates[..., :2 * hid].unbind(0)
        dg_s, do_s = d_gates[..., 2 * hid:3 * hid].unbind(0), d_gates[..., 3 * hid:].unbind(0)
        dG_s, c_s, tc_s, gout_s = d_gates.unbind(0), cs.unbind(0), tcs.unbind(0), grad_out.unbind(0)
        dcn_s, r_s = d_cnorm.unbind(0), rec.unbind(0)
        tmp = gates.new_empty(batch, hid)
        tmp2 = gates.new_empty(batch, 2 * hid)
        order = list(step_order(seq_len, not ctx.reverse))  # against the forward order
        dh = grad_hn + gout_s[order[0]]
        dc = grad_cn
        for k, t in enumerate(order):
            last = k == seq_len - 1
            c_prev = c0 if last else c_s[order[k + 1]]
            if mask is not None:
                dh_keep, dc_keep = dh * m_s[t], dc * m_s[t]
                dh_pass, dc_pass = dh - dh_keep, dc - dc_keep
                dh, dc = dh_keep, dc_keep
            o, tc = go_s[t], tc_s[t]
            torch.mul(dh, o, out=tmp)
            _TANH_BW(tmp, tc, grad_input=dcn_s[t])
            dct = _LN_BW(dcn_s[t], c_s[t], [hid], mean_c[t], rstd_c[t], gain_c, None,
                         [True, False, False])[0]
            dct.add_(dc)  # dL/dc_t
            torch.mul(dh, tc, out=tmp)
            _SIGMOID_BW(tmp, o, grad_input=do_s[t])
            torch.mul(dct, gg_s[t], out=tmp2[:, :hid])
            torch.mul(dct, c_prev, out=tmp2[:, hid:])
            _SIGMOID_BW(tmp2, g_s[t][:, :2 * hid], grad_input=dif_s[t])
            torch.mul(dct, i_s[t], out=tmp)
            _TANH_BW(tmp, gg_s[t], grad_input=dg_s[t])
            d_rec = _norm_step_backward(dG_s[t], r_s[t], gain_hh, mean_r[t], rstd_r[t])
            d_recs[t].copy_(d_rec)
            dc = dct * f_s[t] if mask is None else torch.addcmul(dc_pass, dct, f_s[t])
            base = dh_pass if mask is not None else None
            if not last:
                g = gout_s[order[k + 1]]
                base = g if base is None else base.add_(g)
            dh = d_rec @ weight_hh if base is None else torch.addmm(base, d_rec, weight_hh)
        need = ctx.needs_input_grad
        d_whh = None
        if need[3]:
            d_whh = recurrent_weight_grad(d_recs, hs, h0, ctx.reverse)
        d_gain_hh, _ = _norm_param_grads(d_gates, rec, hats, gain_hh, None, mean_r, rstd_r,
                                         need[4], False)
        _, d_gain_c, d_shift_c = _LN_BW(d_cnorm, cs, [hid], mean_c, rstd_c, gain_c, shift_c,
                                        [False, need[5], shift_c is not None and need[6]])
        return (d_gates, dh, dc, d_whh, d_gain_hh, d_gain_c, d_shift_c, None, None, None, None)


class _LayerNormGRUSequence(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x_proj, h0, weight_hh, gain, shift, groups, eps, mask, reverse):
        seq_len, batch, three_h = x_proj.shape
        hid = three_h // 3
        hs = x_proj.new_empty(seq_len, batch, hid)  # state after each step (the output)
        buf = _workspace(x_proj, seq_len, batch, rec=three_h, hats=three_h if groups > 1 else 0,
                         hidden=three_h, rz=2 * hid, ns=hid, mean_r=groups, rstd_r=groups)
        rec, hidden = buf["rec"], buf["hidden"]  # W_hh h_{t-1}; u = gain * LN(rec) + shift
        rz, ns = buf["rz"], buf["ns"]  # activated r, z; candidate n
        hats = buf["hats"] if groups > 1 else None  # LN(W_hh h_{t-1}) before the gain
        mean_r, rstd_r = (buf[k].unsqueeze(-1) for k in ("mean_r", "rstd_r"))  # (L, N, G, 1)
        w_t = weight_hh.t()
        r_s, hid_s, rz_s, n_s, h_s = (rec.unbind(0), hidden.unbind(0), rz.unbind(0), ns.unbind(0),
                                      hs.unbind(0))
        hat_s = hats.unbind(0) if hats is not None else [None] * seq_len
        xrz_s, xn_s = x_proj[..., :2 * hid].unbind(0), x_proj[..., 2 * hid:].unbind(0)
        hrz_s, hn_s = hidden[..., :2 * hid].unbind(0), hidden[..., 2 * hid:].unbind(0)
        rr_s, z_s = rz[..., :hid].unbind(0), rz[..., hid:].unbind(0)
        m_s = mask.unbind(0) if mask is not None else None
        h = h0
        for t in step_order(seq_len, reverse):
            torch.mm(h, w_t, out=r_s[t])
            _norm_step(r_s[t], groups, gain, shift, eps, hid_s[t], hat_s[t], mean_r[t], rstd_r[t])
            torch.add(xrz_s[t], hrz_s[t], out=rz_s[t]).sigmoid_()
            torch.addcmul(xn_s[t], rr_s[t], hn_s[t], out=n_s[t]).tanh_()
            torch.lerp(n_s[t], h, z_s[t], out=h_s[t])  # n + z * (h - n)
            if m_s is not None:
                torch.where(m_s[t], h_s[t], h, out=h_s[t])
            h = h_s[t]
        ctx.reverse = reverse
        ctx.save_for_backward(h0, weight_hh, gain, shift, mask, rec, hats, hidden, rz, ns, hs,
                              mean_r, rstd_r)
        output = hs if mask is None else hs.masked_fill(~mask, 0.0)
        return output, h.clone()

    @staticmethod
    @once_differentiable
    def backward(ctx, grad_out, grad_hn):
        (h0, weight_hh, gain, shift, mask, rec, hats, hidden, rz, ns, hs, mean_r,
         rstd_r) = ctx.saved_tensors
        seq_len, batch, three_h = hidden.shape
        hid = three_h // 3
        buf = _workspace(hidden, seq_len, batch, d_x=three_h, d_hidden=three_h, d_rec=three_h)
        d_x, d_hidden, d_recs = buf["d_x"], buf["d_hidden"], buf["d_rec"]  # dL/dx_proj, dL/du,
        # dL/d(W_hh h_{t-1}), each (L, N, 3H)
        if mask is not None:
            grad_out = grad_out.masked_fill(~mask, 0.0)
            m_s = mask.to(hidden.dtype).unbind(0)
        dxn_s = d_x[..., 2 * hid:].unbind(0)
        dh_s, dhrz_s, dhn_s = (d_hidden.unbind(0), d_hidden[..., :2 * hid].unbind(0),
                               d_hidden[..., 2 * hid:].unbind(0))
        rz_s, rr_s, z_s = rz.unbind(0), rz[..., :hid].unbind(0), rz[..., hid:].unbind(0)
        n_s, hn_s, h_s = ns.unbind(0), hidden[..., 2 * hid:].unbind(0), hs.unbind(0)
        gout_s, r_s = grad_out.unbind(0), rec.unbind(0)
        tmp = hidden.new_empty(batch, 2 * hid)
        diff = hidden.new_empty(batch, hid)
        order = list(step_order(seq_len, not ctx.reverse))  # against the forward order
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
            torch.mul(dxn_s[t], rr_s[t], out=dhn_s[t])
            d_rec = _norm_step_backward(dh_s[t], r_s[t], gain, mean_r[t], rstd_r[t])
            d_recs[t].copy_(d_rec)
            if mask is not None:
                dh_z.add_(dh_pass)
            if not last:
                dh_z.add_(gout_s[order[k + 1]])
            dh = torch.addmm(dh_z, d_rec, weight_hh)
        d_x[..., :2 * hid].copy_(d_hidden[..., :2 * hid])
        need = ctx.needs_input_grad
        d_whh = None
        if need[2]:
            d_whh = recurrent_weight_grad(d_recs, hs, h0, ctx.reverse)
        d_gain, d_shift = _norm_param_grads(d_hidden, rec, hats, gain, shift, mean_r, rstd_r,
                                            need[3], shift is not None and need[4])
        return d_x, dh, d_whh, d_gain, d_shift, None, None, None, None


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
