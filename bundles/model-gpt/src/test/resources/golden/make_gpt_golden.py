#!/usr/bin/env python3
"""Writes gpt_golden.safetensors: a small GPT's weights, a batch, its loss and every
parameter gradient, computed by PyTorch, for GptGoldenTest to match.

Regenerate (Debian's python3-torch):  python3 make_gpt_golden.py
The model is nanoGPT's GPT written out here with Cornerstone's parameter names and
torch.nn.Linear's (out, in) weight layout; GELU is the tanh approximation, LayerNorm eps
1e-5, the head is tied to wte. Format: safetensors (written by hand: no extra library),
__metadata__ carries format, version and the config.
"""
import json
import math
import struct

import torch
import torch.nn.functional as F

FORMAT_VERSION = "1"
CFG = dict(n_layer=2, n_head=2, n_embd=16, block_size=8, vocab_size=13, bias=True)
B, T = 3, 7

torch.manual_seed(1234)
C, V, L, NH = CFG["n_embd"], CFG["vocab_size"], CFG["n_layer"], CFG["n_head"]


def param(*shape, std=0.3):
    return (torch.randn(*shape, dtype=torch.float64) * std).float().requires_grad_(True)


P = {"wte.weight": param(V, C), "wpe.weight": param(CFG["block_size"], C)}
for l in range(L):
    h = f"h.{l}"
    P[f"{h}.ln_1.weight"] = (1 + param(C, std=0.1)).detach().requires_grad_(True)
    P[f"{h}.ln_1.bias"] = param(C, std=0.1)
    P[f"{h}.attn.c_attn.weight"] = param(3 * C, C)
    P[f"{h}.attn.c_attn.bias"] = param(3 * C, std=0.1)
    P[f"{h}.attn.c_proj.weight"] = param(C, C)
    P[f"{h}.attn.c_proj.bias"] = param(C, std=0.1)
    P[f"{h}.ln_2.weight"] = (1 + param(C, std=0.1)).detach().requires_grad_(True)
    P[f"{h}.ln_2.bias"] = param(C, std=0.1)
    P[f"{h}.mlp.c_fc.weight"] = param(4 * C, C)
    P[f"{h}.mlp.c_fc.bias"] = param(4 * C, std=0.1)
    P[f"{h}.mlp.c_proj.weight"] = param(C, 4 * C)
    P[f"{h}.mlp.c_proj.bias"] = param(C, std=0.1)
P["ln_f.weight"] = (1 + param(C, std=0.1)).detach().requires_grad_(True)
P["ln_f.bias"] = param(C, std=0.1)

ids = torch.randint(0, V, (B, T), dtype=torch.int32)
targets = torch.randint(0, V, (B, T), dtype=torch.int32)
targets[1, 3] = -1  # an ignored position


def ln(x, w, b):
    return F.layer_norm(x, (C,), w, b, eps=1e-5)


def forward(ids):
    x = P["wte.weight"][ids.long()] + P["wpe.weight"][torch.arange(T)]
    hs = C // NH
    mask = torch.tril(torch.ones(T, T, dtype=torch.bool))
    for l in range(L):
        h = f"h.{l}"
        a = ln(x, P[f"{h}.ln_1.weight"], P[f"{h}.ln_1.bias"])
        qkv = F.linear(a, P[f"{h}.attn.c_attn.weight"], P[f"{h}.attn.c_attn.bias"])
        q, k, v = qkv.split(C, dim=2)
        q = q.view(B, T, NH, hs).transpose(1, 2)
        k = k.view(B, T, NH, hs).transpose(1, 2)
        v = v.view(B, T, NH, hs).transpose(1, 2)
        att = (q @ k.transpose(-2, -1)) / math.sqrt(hs)
        att = att.masked_fill(~mask, float("-inf")).softmax(dim=-1)
        y = (att @ v).transpose(1, 2).contiguous().view(B, T, C)
        x = x + F.linear(y, P[f"{h}.attn.c_proj.weight"], P[f"{h}.attn.c_proj.bias"])
        m = ln(x, P[f"{h}.ln_2.weight"], P[f"{h}.ln_2.bias"])
        m = F.gelu(F.linear(m, P[f"{h}.mlp.c_fc.weight"], P[f"{h}.mlp.c_fc.bias"]), approximate="tanh")
        x = x + F.linear(m, P[f"{h}.mlp.c_proj.weight"], P[f"{h}.mlp.c_proj.bias"])
    x = ln(x, P["ln_f.weight"], P["ln_f.bias"])
    return F.linear(x, P["wte.weight"])


logits = forward(ids)
loss = F.cross_entropy(logits.view(-1, V), targets.view(-1).long(), ignore_index=-1)
loss.backward()

tensors = {}
for name, p in P.items():
    tensors[name] = ("F32", p.detach())
for name, p in P.items():
    tensors["grad." + name] = ("F32", p.grad.detach())
tensors["input.ids"] = ("I32", ids)
tensors["input.targets"] = ("I32", targets)
tensors["output.loss"] = ("F32", loss.detach().reshape(1))
tensors["output.logits"] = ("F32", logits.detach())

header, blobs, offset = {}, [], 0
for name, (dtype, t) in tensors.items():
    data = t.contiguous().numpy().astype("<f4" if dtype == "F32" else "<i4").tobytes()
    header[name] = {"dtype": dtype, "shape": list(t.shape), "data_offsets": [offset, offset + len(data)]}
    blobs.append(data)
    offset += len(data)
header["__metadata__"] = {"format": "cornerstone-golden", "version": FORMAT_VERSION,
                          "config": json.dumps(CFG), "torch": torch.__version__}
h = json.dumps(header, separators=(",", ":")).encode("utf-8")
h += b" " * ((8 - len(h) % 8) % 8)
with open("gpt_golden.safetensors", "wb") as f:
    f.write(struct.pack("<Q", len(h)))
    f.write(h)
    for blob in blobs:
        f.write(blob)
print(f"loss {loss.item():.6f}, {len(P)} parameters, torch {torch.__version__}")
