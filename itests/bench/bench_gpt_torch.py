#!/usr/bin/env python3
"""PyTorch reference for Cornerstone's GPT benchmark: the same model, optimizer and data as
the Cornerstone run, trained for a number of steps; prints one JSON line with tokens/s
(median over steps after warm-up), the final validation loss and the peak RSS.

Run by run-bench.sh with torch.set_num_threads(2) and OMP_WAIT_POLICY=PASSIVE (which
doubles PyTorch's speed on 2 cores). Debian's python3-torch.
"""
import argparse
import json
import math
import resource
import statistics
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

p = argparse.ArgumentParser()
p.add_argument("--corpus", required=True)
p.add_argument("--n_layer", type=int, default=4)
p.add_argument("--n_head", type=int, default=4)
p.add_argument("--n_embd", type=int, default=128)
p.add_argument("--block_size", type=int, default=64)
p.add_argument("--batch_size", type=int, default=32)
p.add_argument("--steps", type=int, default=50)
p.add_argument("--eval_batches", type=int, default=20)
p.add_argument("--lr", type=float, default=1e-3)
p.add_argument("--seed", type=int, default=1337)
p.add_argument("--threads", type=int, default=2)
a = p.parse_args()

torch.set_num_threads(a.threads)
torch.manual_seed(a.seed)
text = open(a.corpus, encoding="utf-8").read()
chars = sorted(set(text))
stoi = {c: i for i, c in enumerate(chars)}
data = torch.tensor([stoi[c] for c in text], dtype=torch.long)
n = int(0.9 * len(data))
train, val = data[:n], data[n:]
V = len(chars) + 1  # Cornerstone's char tokenizer adds an <unk> id


self_mask = torch.tril(torch.ones(a.block_size, a.block_size)).view(1, 1, a.block_size, a.block_size)


class Block(nn.Module):
    def __init__(s):
        super().__init__()
        C = a.n_embd
        s.ln_1, s.ln_2 = nn.LayerNorm(C), nn.LayerNorm(C)
        s.c_attn, s.c_proj = nn.Linear(C, 3 * C), nn.Linear(C, C)
        s.c_fc, s.mlp_proj = nn.Linear(C, 4 * C), nn.Linear(4 * C, C)

    def forward(s, x):
        B, T, C = x.shape
        q, k, v = s.c_attn(s.ln_1(x)).split(C, dim=2)
        q, k, v = [t.view(B, T, a.n_head, C // a.n_head).transpose(1, 2) for t in (q, k, v)]
        att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(C // a.n_head))
        att = att.masked_fill(self_mask[:, :, :T, :T] == 0, float("-inf")).softmax(dim=-1)
        y = att @ v  # torch 1.13 (Debian) has no scaled_dot_product_attention: nanoGPT's explicit path
        x = x + s.c_proj(y.transpose(1, 2).contiguous().view(B, T, C))
        return x + s.mlp_proj(F.gelu(s.c_fc(s.ln_2(x)), approximate="tanh"))


class GPT(nn.Module):
    def __init__(s):
        super().__init__()
        s.wte, s.wpe = nn.Embedding(V, a.n_embd), nn.Embedding(a.block_size, a.n_embd)
        s.h = nn.ModuleList([Block() for _ in range(a.n_layer)])
        s.ln_f = nn.LayerNorm(a.n_embd)
        s.apply(s._init)
        for name, prm in s.named_parameters():
            if name.endswith("c_proj.weight") or name.endswith("mlp_proj.weight"):
                nn.init.normal_(prm, 0.0, 0.02 / math.sqrt(2 * a.n_layer))

    @staticmethod
    def _init(m):
        if isinstance(m, (nn.Linear, nn.Embedding)):
            nn.init.normal_(m.weight, 0.0, 0.02)
        if isinstance(m, nn.Linear) and m.bias is not None:
            nn.init.zeros_(m.bias)

    def forward(s, idx, targets):
        x = s.wte(idx) + s.wpe(torch.arange(idx.shape[1]))
        for b in s.h:
            x = b(x)
        logits = F.linear(s.ln_f(x), s.wte.weight)
        return F.cross_entropy(logits.view(-1, V), targets.view(-1))


def batch(src, g):
    ix = torch.randint(len(src) - a.block_size - 1, (a.batch_size,), generator=g)
    x = torch.stack([src[i:i + a.block_size] for i in ix])
    y = torch.stack([src[i + 1:i + 1 + a.block_size] for i in ix])
    return x, y


model = GPT()
decay = [p_ for p_ in model.parameters() if p_.dim() >= 2]
no_decay = [p_ for p_ in model.parameters() if p_.dim() < 2]
opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.1}, {"params": no_decay, "weight_decay": 0.0}],
                        lr=a.lr, betas=(0.9, 0.95))
g = torch.Generator().manual_seed(a.seed)
rates = []
for step in range(1, a.steps + 1):
    t0 = time.perf_counter()
    x, y = batch(train, g)
    loss = model(x, y)
    opt.zero_grad(set_to_none=True)
    loss.backward()
    opt.step()
    dt = time.perf_counter() - t0
    if step > 3:
        rates.append(a.batch_size * a.block_size / dt)
model.eval()
gv = torch.Generator().manual_seed(0x5EED)
with torch.no_grad():
    val_loss = sum(model(*batch(val, gv)).item() for _ in range(a.eval_batches)) / a.eval_batches
    # every consecutive window of the split, as "cornerstone eval --all": the same text on both sides
    T = a.block_size
    windows = (len(val) - 1) // T
    total = 0.0
    for first in range(0, windows, a.batch_size):
        b = min(a.batch_size, windows - first)
        x = torch.stack([val[(first + i) * T:(first + i + 1) * T] for i in range(b)])
        y = torch.stack([val[(first + i) * T + 1:(first + i + 1) * T + 1] for i in range(b)])
        total += model(x, y).item() * b
    val_loss_all = total / windows
print(json.dumps({"tokens_per_sec": statistics.median(rates), "val_loss": val_loss, "val_loss_all": val_loss_all,
                  "train_loss": loss.item(),
                  "peak_rss_bytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
                  "torch": torch.__version__}))
