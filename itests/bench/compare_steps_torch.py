#!/usr/bin/env python3
"""Replays a Cornerstone training run in PyTorch, step by step: loads the initial weights and the
batches that GptStepDump (bundles/model-gpt, test scope) wrote, trains the same model as
bench_gpt_torch.py on exactly those batches, and prints both losses per step and the largest
difference of the final weights. Debian's python3-torch.

  python3 compare_steps_torch.py DUMP.safetensors [--threads 2]
"""
import argparse
import json
import math
import struct

import torch
import torch.nn as nn
import torch.nn.functional as F

p = argparse.ArgumentParser()
p.add_argument("dump")
p.add_argument("--threads", type=int, default=2)
p.add_argument("--n_layer", type=int, default=4)
p.add_argument("--n_head", type=int, default=4)
p.add_argument("--lr", type=float, default=1e-3)
p.add_argument("--print_every", type=int, default=1)
a = p.parse_args()
torch.set_num_threads(a.threads)


def read_safetensors(path):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        body = f.read()
    out = {}
    for k, v in header.items():
        if k == "__metadata__":
            continue
        b, e = v["data_offsets"]
        dt = {"F32": torch.float32, "I32": torch.int32}[v["dtype"]]
        out[k] = torch.frombuffer(bytearray(body[b:e]), dtype=dt).reshape(v["shape"]).clone()
    return out


d = read_safetensors(a.dump)
init = {k[5:]: v for k, v in d.items() if k.startswith("init.")}
V, C = init["wte.weight"].shape
T = init["wpe.weight"].shape[0]
mask = torch.tril(torch.ones(T, T)).view(1, 1, T, T)


class Block(nn.Module):
    def __init__(s):
        super().__init__()
        s.ln_1, s.ln_2 = nn.LayerNorm(C), nn.LayerNorm(C)
        s.attn = nn.Module()
        s.attn.c_attn, s.attn.c_proj = nn.Linear(C, 3 * C), nn.Linear(C, C)
        s.mlp = nn.Module()
        s.mlp.c_fc, s.mlp.c_proj = nn.Linear(C, 4 * C), nn.Linear(4 * C, C)

    def forward(s, x):
        B, T_, _ = x.shape
        q, k, v = s.attn.c_attn(s.ln_1(x)).split(C, dim=2)
        q, k, v = [t.view(B, T_, a.n_head, C // a.n_head).transpose(1, 2) for t in (q, k, v)]
        att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(C // a.n_head))
        att = att.masked_fill(mask[:, :, :T_, :T_] == 0, float("-inf")).softmax(dim=-1)
        x = x + s.attn.c_proj((att @ v).transpose(1, 2).contiguous().view(B, T_, C))
        return x + s.mlp.c_proj(F.gelu(s.mlp.c_fc(s.ln_2(x)), approximate="tanh"))


class GPT(nn.Module):
    def __init__(s):
        super().__init__()
        s.wte, s.wpe = nn.Embedding(V, C), nn.Embedding(T, C)
        s.h = nn.ModuleList([Block() for _ in range(a.n_layer)])
        s.ln_f = nn.LayerNorm(C)

    def forward(s, idx, targets):
        x = s.wte(idx) + s.wpe(torch.arange(idx.shape[1]))
        for b in s.h:
            x = b(x)
        return F.cross_entropy(F.linear(s.ln_f(x), s.wte.weight).view(-1, V), targets.reshape(-1))


model = GPT()
missing = set(dict(model.named_parameters())) ^ set(init)
assert not missing, f"names differ: {missing}"
with torch.no_grad():
    for name, prm in model.named_parameters():
        prm.copy_(init[name])
decay = [q for q in model.parameters() if q.dim() >= 2]
no_decay = [q for q in model.parameters() if q.dim() < 2]
opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.1}, {"params": no_decay, "weight_decay": 0.0}],
                        lr=a.lr, betas=(0.9, 0.95))
xs, ys, cs_loss = d["batch.x"].long(), d["batch.y"].long(), d["loss"]
worst = 0.0
for i in range(xs.shape[0]):
    loss = model(xs[i], ys[i])
    opt.zero_grad(set_to_none=True)
    loss.backward()
    opt.step()
    diff = loss.item() - cs_loss[i].item()
    worst = max(worst, abs(diff))
    if i % a.print_every == 0 or i == xs.shape[0] - 1:
        print(f"step {i + 1:5d}  pytorch {loss.item():.5f}  cornerstone {cs_loss[i].item():.5f}  diff {diff:+.5f}")
print(f"largest |loss difference| {worst:.5f}")
for name, prm in model.named_parameters():
    f = d.get("final." + name)
    if f is not None:
        err = (prm.detach() - f).abs().max().item()
        print(f"final {name:28s} max |diff| {err:.2e}  (|w| max {f.abs().max().item():.3f})")
