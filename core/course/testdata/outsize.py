"""Writes outsize_torch.json: output sizes torch gives for (W, F, P, S) on
one axis, for a convolution (floor) and a max pool with ceil_mode=True.
Run with Debian's python3-torch: /usr/bin/python3 outsize.py"""
import json
import torch

cases = []
for w in [1, 2, 5, 7, 8, 13, 28, 32, 55, 112, 224, 227]:
    for f in [1, 2, 3, 5, 7, 11]:
        for s in [1, 2, 3, 4]:
            for p in range(0, 4):
                if f > w + 2 * p:
                    continue
                x = torch.zeros(1, 1, w, w)
                conv = torch.nn.Conv2d(1, 1, f, stride=s, padding=p)
                c = {"w": w, "f": f, "p": p, "s": s, "floor": conv(x).shape[-1]}
                if 2 * p <= f and s <= f:  # torch's limits for a pool
                    pool = torch.nn.MaxPool2d(f, stride=s, padding=p, ceil_mode=True)
                    c["ceil"] = pool(x).shape[-1]
                cases.append(c)
with open("outsize_torch.json", "w") as out:
    json.dump({"torch": torch.__version__, "cases": cases}, out, separators=(",", ":"))
    out.write("\n")
