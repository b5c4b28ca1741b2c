#!/usr/bin/python3
"""Builds the PyTorch front end's fixtures and torch's reference outputs.

Run from the repository root with Debian's Python (python3-torch 1.13,
python3-torchvision 0.14):

    /usr/bin/python3 tools/convert/testdata/make_pth_fixtures.py

It writes into tools/convert/testdata/pth/:

- mobilenet_v3_small.pth: the state_dict of torchvision's
  mobilenet_v3_small(num_classes=10) with seeded random weights, saved in
  torch's zip format (torch >= 1.6). Its batch-norm statistics are
  calibrated on real photographs and its classifier spread as in
  make_fixtures.py, so that outputs depend on the image. Ten classes keep
  the file near 6 MB.
- mobilenet_v3_small.json: torch's probabilities (softmax of the logits)
  and pooled features (576 values) for each photograph of
  ../onnx/photos256, under torchvision's evaluation transform.
- lenet5_legacy.pth: the state_dict of the LeNet-5 of
  models/testdata/torchvision_layers.py, seeded, saved in the legacy
  (pre-1.6, non-zip) format. Its fc1 reads a flattened 5x5x16 map, so it
  checks the reordering of dense rows from torch's CHW to the IR's HWC.
- lenet5_checkpoint.pth: the same weights inside a training checkpoint
  ({"epoch", "arch", "state_dict", "best_acc1"}), zip format.
- lenet5.json: LeNet-5's 32x32 grey inputs (the photographs converted to
  grey and resized by Pillow) and torch's logits on them.
- tiny_zip.pth, tiny_legacy.pth and tiny.json: a few small tensors of
  every floating dtype torch saves (float32, float64, float16, bfloat16),
  a transposed (non-contiguous) view, a slice sharing its storage with
  another tensor, and an int64 counter, in both formats, with their values
  as torch reads them back. They test the reader's dtypes and strides and
  seed FuzzPyTorch's corpus.
"""

import json
import os
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F
import torchvision
import torchvision.transforms as T
from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "..", "..", "models", "testdata"))

from make_fixtures import MEAN, STD, calibrate, randomize_batch_norms  # noqa: E402
from torchvision_layers import LeNet5  # noqa: E402

OUT = os.path.join(HERE, "pth")
PHOTOS256 = os.path.join(HERE, "onnx", "photos256")


def photos():
    return sorted(f for f in os.listdir(PHOTOS256) if f.endswith(".png"))


def mobilenet_v3_small():
    torch.manual_seed(10)
    gen = torch.Generator().manual_seed(11)
    model = torchvision.models.mobilenet_v3_small(num_classes=10)
    randomize_batch_norms(model, gen)
    images = [Image.open(os.path.join(PHOTOS256, f)).convert("RGB") for f in photos()]
    calibrate(model, images, gen)
    evaluate = T.Compose([T.Resize(256), T.CenterCrop(224), T.ToTensor(), T.Normalize(MEAN, STD)])

    def features(x):
        return torch.flatten(model.avgpool(model.features(x)), 1)

    # As in make_fixtures.py: centre the last layer's logits on the photos'
    # mean hidden activation and spread them, so the top class depends on
    # the photo.
    with torch.no_grad():
        batch = torch.stack([evaluate(img) for img in images])
        hidden = model.classifier[1](model.classifier[0](features(batch)))
        lin = model.classifier[3]
        w = torch.randn(lin.weight.shape, generator=gen)
        w *= 3 / ((hidden - hidden.mean(0)) @ w.T).std()
        lin.weight.data = w
        lin.bias.data = -(hidden.mean(0) @ w.T) + torch.randn(lin.bias.shape, generator=gen) * 0.3
    model.eval()
    torch.save(model.state_dict(), os.path.join(OUT, "mobilenet_v3_small.pth"))

    refs = []
    for f in photos():
        x = evaluate(Image.open(os.path.join(PHOTOS256, f)).convert("RGB")).unsqueeze(0)
        with torch.no_grad():
            p = torch.softmax(model(x), dim=1)[0]
            feat = features(x)[0]
        refs.append({"photo": "../onnx/photos256/" + f,
                     "probabilities": [float(v) for v in p],
                     "features": [float(v) for v in feat]})
        print(f, "top-1", int(p.argmax()), "p=%.3f" % float(p.max()))
    with open(os.path.join(OUT, "mobilenet_v3_small.json"), "w") as fh:
        json.dump({"model": "mobilenet_v3_small.pth", "torch": torch.__version__,
                   "torchvision": torchvision.__version__, "references": refs}, fh)


def lenet5():
    torch.manual_seed(20)
    model = LeNet5().eval()
    sd = model.state_dict()
    torch.save(sd, os.path.join(OUT, "lenet5_legacy.pth"), _use_new_zipfile_serialization=False)
    torch.save({"epoch": 3, "arch": "lenet5", "state_dict": sd, "best_acc1": torch.tensor(0.25)},
               os.path.join(OUT, "lenet5_checkpoint.pth"))
    refs = []
    for f in photos():
        grey = Image.open(os.path.join(PHOTOS256, f)).convert("L").resize((32, 32), Image.BILINEAR)
        x = T.ToTensor()(grey).unsqueeze(0)
        with torch.no_grad():
            y = model(x)[0]
        refs.append({"photo": f, "input": [float(v) for v in x.flatten()], "logits": [float(v) for v in y]})
    with open(os.path.join(OUT, "lenet5.json"), "w") as fh:
        json.dump({"model": "lenet5_legacy.pth", "torch": torch.__version__, "references": refs}, fh)


def tiny():
    gen = torch.Generator().manual_seed(30)
    base = torch.randn(4, 6, generator=gen)
    sd = {
        "f32": torch.randn(2, 3, generator=gen),
        "f64": torch.randn(5, generator=gen, dtype=torch.float64),
        "f16": torch.randn(3, 2, generator=gen).half(),
        "bf16": torch.randn(2, 2, generator=gen).bfloat16(),
        "transposed": base.t(),         # stride (1, 6)
        "row": base[2],                 # offset 12 in base's storage
        "count": torch.tensor(7),       # an int64 scalar, like num_batches_tracked
    }
    torch.save(sd, os.path.join(OUT, "tiny_zip.pth"))
    torch.save(sd, os.path.join(OUT, "tiny_legacy.pth"), _use_new_zipfile_serialization=False)
    with open(os.path.join(OUT, "tiny.json"), "w") as fh:
        json.dump({k: {"shape": list(v.shape), "values": [float(x) for x in v.double().flatten()]}
                   for k, v in sd.items()}, fh)


if __name__ == "__main__":
    os.makedirs(OUT, exist_ok=True)
    tiny()
    lenet5()
    mobilenet_v3_small()
