"""Writes the fixture of core/scratch's TestOneStepMatchesTorch: one
training step of LeNet-5 (and of its 1998 form) in torch, from weights and
a batch that both sides compute from the same integer formula, so the
fixture holds only torch's results.

For each architecture it writes <arch>_step.json (the loss, and the IR
name and shape of every tensor in the order of the data) and
<arch>_step.f32 (every tensor after the step, float32 little-endian, in
the IR's layouts: HWIO kernels, [In, Out] dense kernels whose In runs over
the flattened input in HWC order).

The formula: tensors in sorted name order, one running index i over all
their elements in the IR layout; u = ((i+1)*2654435761 mod 2^32) / 2^32;
w = (2u - 1) / sqrt(fan_in), in float64, rounded to float32. Picture n of
the batch (32 of them), pixel (h, w): byte ((n*1024 + h*32 + w + 7) *
2246822519 mod 2^32) >> 24, divided by 255 in float32; label n mod 10.
Torch's CrossEntropyLoss (mean) and Adam (lr 1e-3, betas 0.9 and 0.999,
eps 1e-8) take one step.

Run it with Debian's python3-torch 1.13:

    /usr/bin/python3 core/scratch/testdata/torch_step.py
"""

import json
import math
import os
import struct
import sys

import numpy as np
import torch
from torch import nn

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "..", "models", "testdata"))
from torchvision_layers import LeNet5, LeNet5_1998  # noqa: E402

BATCH = 32


def ir_layout(name, t, flat_hwc):
    """A torch parameter in the IR's layout, and the IR shape."""
    a = t.detach().numpy().astype(np.float32)
    if a.ndim == 4:  # OIHW -> HWIO
        return a.transpose(2, 3, 1, 0), list(a.transpose(2, 3, 1, 0).shape)
    if a.ndim == 2:  # [Out, In] -> [In, Out]
        out_f, in_f = a.shape
        if name in flat_hwc:  # In runs over (C, H, W) in torch, (H, W, C) in the IR
            c, h, w = flat_hwc[name]
            a = a.reshape(out_f, c, h, w).transpose(0, 2, 3, 1).reshape(out_f, in_f)
        return a.T, [in_f, out_f]
    return a, list(a.shape)


def from_ir(name, v, shape, flat_hwc):
    """The inverse of ir_layout, for values v in the IR layout."""
    a = np.asarray(v, dtype=np.float32).reshape(shape)
    if len(shape) == 4:
        return a.transpose(3, 2, 0, 1)
    if len(shape) == 2:
        a = a.T
        if name in flat_hwc:
            c, h, w = flat_hwc[name]
            out_f = a.shape[0]
            a = a.reshape(out_f, h, w, c).transpose(0, 3, 1, 2).reshape(out_f, -1)
        return a
    return a


def main():
    for arch, make in (("lenet5", LeNet5), ("lenet5_1998", LeNet5_1998)):
        model = make()
        first_fc = "fc1" if arch == "lenet5" else "c5"
        flat = {first_fc + ".weight": (16, 5, 5)}
        params = dict(model.named_parameters())
        names = sorted(params)
        shapes, fan = {}, {}
        for n in names:
            _, shapes[n] = ir_layout(n, params[n], flat)
            layer = n.rsplit(".", 1)[0]
            kw = params[layer + ".weight"]
            fan[n] = int(np.prod(kw.shape[1:]))
        i = 0
        with torch.no_grad():
            for n in names:
                size = int(np.prod(shapes[n]))
                idx = np.arange(i + 1, i + 1 + size, dtype=np.uint64)
                u = ((idx * np.uint64(2654435761)) % np.uint64(1 << 32)).astype(np.float64) / float(1 << 32)
                w = ((2 * u - 1) / math.sqrt(fan[n])).astype(np.float32)
                params[n].copy_(torch.from_numpy(np.ascontiguousarray(from_ir(n, w, shapes[n], flat))))
                i += size
        k = np.arange(BATCH * 1024, dtype=np.uint64)
        pix = (((k + np.uint64(7)) * np.uint64(2246822519)) % np.uint64(1 << 32)) >> np.uint64(24)
        x = torch.from_numpy(pix.astype(np.float32).reshape(BATCH, 1, 32, 32)) / 255
        y = torch.arange(BATCH) % 10
        opt = torch.optim.Adam(model.parameters(), lr=1e-3, betas=(0.9, 0.999), eps=1e-8)
        opt.zero_grad()
        loss = nn.CrossEntropyLoss()(model(x), y)
        loss.backward()
        opt.step()
        doc = {"arch": arch, "batch": BATCH, "loss": float(loss), "torch": torch.__version__, "tensors": []}
        with open(os.path.join(HERE, arch + "_step.f32"), "wb") as f:
            for n in names:
                a, shape = ir_layout(n, params[n], flat)
                f.write(np.ascontiguousarray(a, dtype="<f4").tobytes())
                doc["tensors"].append({"name": n, "shape": shape})
        with open(os.path.join(HERE, arch + "_step.json"), "w") as f:
            json.dump(doc, f, indent=1)
            f.write("\n")
        print("%s: loss %.6f, %d tensors" % (arch, float(loss), len(names)))


if __name__ == "__main__":
    main()
