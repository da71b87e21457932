"""Explore a default recipe for small UCR/UEA problems (plain PyTorch, one thread).

The scratch experiment that chose rnnkit's defaults for ``rnnkit train --train FILE`` (issue 9):
each factor (budget, batch size, validation split, normalisation, patches or a strided
convolution, cell, summary) varied in turn, on the TRAIN files only, scored on the TEST files.
Its figures are in benchmarks/RESULTS.md; benchmarks/bench_small.py measures the chosen
defaults end to end through the real command.

A scratch record kept so its figures can be reproduced, not maintained code (benchmarks/ is
outside the lint configuration).

Usage: python benchmarks/explore_small.py --problems GunPoint ArrowHead --steps 1000 ...
Each run appends one line to /tmp/small_findings.md.
"""
import argparse
import math
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F_

from rnnkit.data import read_sequences

torch.set_num_threads(1)
DATA = str(__import__("pathlib").Path(__file__).resolve().parents[2] / "shared/data/ucr_uea")
OUT = "/tmp/small_findings.md"


def fill_nan(x):
    # forward fill then zero (rare in these sets)
    if np.isnan(x).any():
        x = x.copy()
        for f in range(x.shape[1]):
            col = x[:, f]
            m = np.isnan(col)
            if m.all():
                col[:] = 0
                continue
            idx = np.where(~m, np.arange(len(col)), 0)
            np.maximum.accumulate(idx, out=idx)
            col[:] = col[idx]
            col[np.isnan(col)] = np.nanmean(col)
    return x


def prepare(train, test, norm):
    tr = [fill_nan(s) for s in train.sequences]
    te = [fill_nan(s) for s in test.sequences]
    if norm == "seq":
        def z(s):
            mu = s.mean(0, keepdims=True)
            sd = s.std(0, keepdims=True)
            sd[sd < 1e-8] = 1.0
            return (s - mu) / sd
        tr, te = [z(s) for s in tr], [z(s) for s in te]
    elif norm == "feat":
        allx = np.concatenate(tr, 0)
        mu, sd = allx.mean(0), allx.std(0)
        sd[sd < 1e-8] = 1.0
        tr = [(s - mu) / sd for s in tr]
        te = [(s - mu) / sd for s in te]
    elif norm == "both":  # per-sequence z-norm plus its mean/std as extra features
        def z2(s):
            mu = s.mean(0, keepdims=True)
            sd = s.std(0, keepdims=True)
            sd[sd < 1e-8] = 1.0
            return (s - mu) / sd
        tr, te = [z2(s) for s in tr], [z2(s) for s in te]
    return tr, te


def to_tensor(seqs, k):
    """pad to common length, patch by k: (N, ceil(L/k), k*F), lengths in patches."""
    F = seqs[0].shape[1]
    Lmax = max(len(s) for s in seqs)
    P = math.ceil(Lmax / k)
    X = np.zeros((len(seqs), P * k, F), np.float32)
    lens = np.empty(len(seqs), np.int64)
    for i, s in enumerate(seqs):
        X[i, : len(s)] = s
        lens[i] = math.ceil(len(s) / k)
    X = X.reshape(len(seqs), P, k * F)
    return torch.from_numpy(X), torch.from_numpy(lens)


class Net(nn.Module):
    def __init__(self, fin, out, a):
        super().__init__()
        self.a = a
        if a.front == "conv":
            self.front = nn.Sequential(nn.Conv1d(fin, a.hidden, a.conv_k, stride=a.conv_s,
                                                 padding=a.conv_k // 2), nn.GELU())
            rin = a.hidden
        elif a.front == "linear":
            self.front = nn.Sequential(nn.Linear(fin, a.hidden), nn.GELU())
            rin = a.hidden
        else:
            self.front = None
            rin = fin
        if a.lib == "rnnkit":
            import rnnkit.nn as rnn
            mod = rnn
        else:
            mod = nn
        cls = {"gru": mod.GRU, "lstm": mod.LSTM}[a.cell]
        self.rnn = cls(rin, a.hidden, num_layers=a.layers, batch_first=True,
                       bidirectional=a.bidir, dropout=a.rnn_dropout if a.layers > 1 else 0.0)
        d = a.hidden * (2 if a.bidir else 1)
        sdim = d * (2 if a.pool == "meanmax" else 1) + (d if a.pool == "lastmean" else 0)
        self.drop = nn.Dropout(a.dropout)
        self.head = nn.Linear(sdim, out)

    def forward(self, x, lens):
        if self.front is not None:
            if self.a.front == "conv":
                x = self.front(x.transpose(1, 2)).transpose(1, 2)
                lens = torch.clamp((lens + 2 * (self.a.conv_k // 2) - self.a.conv_k) // self.a.conv_s + 1, 1, x.shape[1])
            else:
                x = self.front(x)
        y, _ = self.rnn(x)  # (B, T, d)
        T = y.shape[1]
        mask = (torch.arange(T)[None, :] < lens[:, None]).unsqueeze(-1).float()
        H = self.a.hidden
        p = self.a.pool
        def last():
            idx = (lens - 1).clamp(min=0)
            fwd = y[torch.arange(len(y)), idx, :H]
            if self.a.bidir:
                return torch.cat([fwd, y[:, 0, H:]], -1)
            return fwd
        mean = lambda: (y * mask).sum(1) / mask.sum(1)
        mx = lambda: (y.masked_fill(mask == 0, -1e9)).max(1).values
        if p == "last":
            s = last()
        elif p == "mean":
            s = mean()
        elif p == "max":
            s = mx()
        elif p == "meanmax":
            s = torch.cat([mean(), mx()], -1)
        elif p == "lastmean":
            s = torch.cat([last(), mean()], -1)
        return self.head(self.drop(s))


def run(problem, a):
    torch.manual_seed(a.seed)
    np.random.seed(a.seed)
    train = read_sequences(f"{DATA}/{problem}/{problem}_TRAIN.ts")
    test = read_sequences(f"{DATA}/{problem}/{problem}_TEST.ts", class_names=train.class_names) \
        if train.task == "classification" else read_sequences(f"{DATA}/{problem}/{problem}_TEST.ts", task="regression")
    reg = train.task == "regression"
    tr, te = prepare(train, test, a.norm)
    L = max(len(s) for s in tr)
    F = tr[0].shape[1]
    k = a.patch if a.patch > 0 else max(1, math.ceil(L / a.target_len))
    if a.front == "conv":  # strided conv front-end on the raw steps instead of patching
        a.conv_s, a.conv_k, k = k, 2 * k + 1, 1
    Xtr, ltr = to_tensor(tr, k)
    Xte, lte = to_tensor(te, k)
    if reg:
        ymu, ysd = float(train.targets.mean()), float(train.targets.std()) or 1.0
        ytr = torch.tensor((train.targets - ymu) / ysd, dtype=torch.float32)
        C = 1
    else:
        ytr = torch.from_numpy(train.targets)
        C = len(train.class_names)
    N = len(ytr)
    # validation split
    rng = np.random.default_rng(a.seed)
    perm = rng.permutation(N)
    nval = int(round(a.val * N)) if a.val > 0 else 0
    vidx, tidx = perm[:nval], perm[nval:]
    Nt = len(tidx)
    B = a.bs if a.bs > 0 else int(min(max(Nt // 4, 8), 64))
    B = min(B, Nt)
    steps = a.steps if a.steps > 0 else int(min(max(a.epochs * math.ceil(Nt / B), a.min_steps), a.max_steps))
    model = Net(k * F, C, a)
    opt = torch.optim.AdamW(model.parameters(), lr=a.lr, weight_decay=a.wd)
    if a.sched == "onecycle":
        sch = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=a.lr, total_steps=steps, pct_start=a.pct)
    elif a.sched == "cosine":
        w = max(1, int(0.05 * steps))
        sch = torch.optim.lr_scheduler.LambdaLR(
            opt, lambda s: (s + 1) / w if s < w else 0.5 * (1 + math.cos(math.pi * (s - w) / max(1, steps - w))))
    else:
        sch = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: 1.0)

    def evaluate(X, l, bs=256):
        model.eval()
        outs = []
        with torch.no_grad():
            for i in range(0, len(X), bs):
                outs.append(model(X[i:i + bs], l[i:i + bs]))
        model.train()
        return torch.cat(outs)

    def lossf(o, y):
        return F_.mse_loss(o.squeeze(-1), y) if reg else F_.cross_entropy(o, y, label_smoothing=a.ls)

    best = (float("inf"), None)
    t0 = time.time()
    order = []
    step = 0
    model.train()
    while step < steps:
        if len(order) < B:
            order = list(rng.permutation(tidx)) + order  # reshuffle each epoch
        bi = np.array(order[:B]); order = order[B:]
        xb, lb, yb = Xtr[bi], ltr[bi], ytr[bi]
        if a.aug_scale > 0:
            xb = xb * (1 + a.aug_scale * torch.randn(len(bi), 1, 1))
        loss = lossf(model(xb, lb), yb)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), a.clip)
        opt.step(); sch.step(); step += 1
        if nval and (step % a.val_every == 0 or step == steps):
            ov = evaluate(Xtr[vidx], ltr[vidx])
            vl = lossf(ov, ytr[vidx]).item()
            if not reg:
                vl = -(ov.argmax(-1) == ytr[vidx]).float().mean().item() + 1e-3 * vl
            if vl <= best[0]:
                best = (vl, {kk: v.clone() for kk, v in model.state_dict().items()})
    ttrain = time.time() - t0
    if nval and best[1] is not None:
        model.load_state_dict(best[1])
    o = evaluate(Xte, lte)
    if reg:
        pred = o.squeeze(-1).numpy() * ysd + ymu
        yt = test.targets
        rmse = float(np.sqrt(((pred - yt) ** 2).mean())); mae = float(np.abs(pred - yt).mean())
        rmse0 = float(np.sqrt(((ymu - yt) ** 2).mean())); mae0 = float(np.abs(ymu - yt).mean())
        res = f"RMSE {rmse:.4f} MAE {mae:.4f} (mean-pred RMSE {rmse0:.4f} MAE {mae0:.4f})"
    else:
        acc = (o.argmax(-1).numpy() == test.targets).mean() * 100
        tracc = (evaluate(Xtr, ltr).argmax(-1) == ytr).float().mean().item() * 100
        res = f"acc {acc:.1f}% (train {tracc:.0f}%)"
    cfg = (f"{a.tag} steps={steps} B={B} k={k} T={Xtr.shape[1]} lr={a.lr} wd={a.wd} {a.sched} "
           f"norm={a.norm} {a.front}{(a.conv_k, a.conv_s) if a.front == 'conv' else ''} {a.cell}{a.hidden}x{a.layers}{' bi' if a.bidir else ''} "
           f"pool={a.pool} drop={a.dropout} val={a.val} ls={a.ls} seed={a.seed} {a.lib}")
    line = f"| {problem} | {cfg} | {res} | {ttrain:.1f}s |"
    print(line, flush=True)
    with open(OUT, "a") as f:
        f.write(line + "\n")


if __name__ == "__main__":
    p = argparse.ArgumentParser()
    p.add_argument("--problems", nargs="+", default=["GunPoint", "ArrowHead", "OSULeaf", "ACSF1"])
    p.add_argument("--tag", default="")
    p.add_argument("--steps", type=int, default=1000)
    p.add_argument("--epochs", type=int, default=0)
    p.add_argument("--min_steps", type=int, default=500)
    p.add_argument("--max_steps", type=int, default=2000)
    p.add_argument("--bs", type=int, default=0)
    p.add_argument("--lr", type=float, default=2e-3)
    p.add_argument("--wd", type=float, default=1e-2)
    p.add_argument("--sched", default="onecycle")
    p.add_argument("--pct", type=float, default=0.1)
    p.add_argument("--clip", type=float, default=1.0)
    p.add_argument("--norm", default="seq")
    p.add_argument("--patch", type=int, default=0, help="0 = auto ceil(L/target_len)")
    p.add_argument("--target_len", type=int, default=64)
    p.add_argument("--front", default="none")
    p.add_argument("--conv_k", type=int, default=8)
    p.add_argument("--conv_s", type=int, default=4)
    p.add_argument("--cell", default="gru")
    p.add_argument("--hidden", type=int, default=64)
    p.add_argument("--layers", type=int, default=1)
    p.add_argument("--bidir", action="store_true")
    p.add_argument("--rnn_dropout", type=float, default=0.0)
    p.add_argument("--pool", default="meanmax")
    p.add_argument("--dropout", type=float, default=0.2)
    p.add_argument("--val", type=float, default=0.0)
    p.add_argument("--val_every", type=int, default=50)
    p.add_argument("--ls", type=float, default=0.0)
    p.add_argument("--aug_scale", type=float, default=0.0)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--lib", default="torch")
    a = p.parse_args()
    for pr in a.problems:
        run(pr, a)
