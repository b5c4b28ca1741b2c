#!/usr/bin/python3
"""Builds the ONNX front end's fixtures and torch's reference outputs.

Run from the repository root with Debian's Python (python3-torch 1.13,
python3-torchvision 0.14, python3-onnx 1.12):

    /usr/bin/python3 tools/convert/testdata/make_fixtures.py

It writes into tools/convert/testdata/onnx/:

- mobilenet_v2_w0.5.onnx: torchvision's mobilenet_v2(width_mult=0.5,
  num_classes=10) with seeded random weights, a softmax appended, exported
  at opset 13 with a dynamic batch dimension. Its batch-norm running
  statistics are calibrated on real photographs (random statistics make a
  network whose outputs barely depend on the image), its batch-norm affine
  parameters stay near identity, and its classifier compares the pooled
  features with the photographs' own (one class per photograph), so that
  the top class depends on the photo without amplifying small differences
  (see mobilenet_v2_fixture). Ten classes instead of 1000 keep the file
  near 2.9 MB.
- photos256/*.png: the photographs of ../photos resized to 256x256 (Pillow
  bilinear); torchvision's evaluation transform (resize 256, centre crop
  224, ImageNet mean and std) turns them into the network's input.
- mobilenet_v2_w0.5.json: torch's probabilities and pooled features
  (adaptive average pool, 1280 values) for each photograph.
- tiny_ops_opset{11,13,17}.onnx and tiny_ops.json: a small network that
  uses every op and attribute the front end lowers in one graph (grouped
  convolution, batch norm, ReLU6 as Clip, hard-swish, max and average
  pools with ceil mode and padding counted or not, concat, squeeze-excite,
  explicit zero padding, a flatten of a 3x3 map into a linear layer, a
  reshape, softmax), with torch's output on a seeded random input.
"""

import json
import os

import numpy as np
import onnx
import onnx.numpy_helper
import torch
import torch.nn as nn
import torch.nn.functional as F
import torchvision
import torchvision.transforms as T
from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "onnx")
PHOTOS = os.path.join(HERE, "photos")
MEAN = [0.485, 0.456, 0.406]
STD = [0.229, 0.224, 0.225]


def photos():
    return sorted(f for f in os.listdir(PHOTOS) if f.endswith(".png"))


def randomize_batch_norms(model, gen):
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.weight.data = torch.empty_like(m.weight).uniform_(0.5, 1.5, generator=gen)
            m.bias.data = torch.empty_like(m.bias).uniform_(-0.2, 0.2, generator=gen)


def calibrate(model, images, gen):
    """Replaces every batch norm's running statistics by the average of
    the batch statistics over augmented crops of the photographs."""
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.reset_running_stats()
            m.momentum = None  # cumulative average
    augment = T.Compose([
        T.RandomResizedCrop(224, scale=(0.3, 1.0)),
        T.RandomHorizontalFlip(),
        T.ColorJitter(0.3, 0.3, 0.3),
        T.ToTensor(),
        T.Normalize(MEAN, STD),
    ])
    model.train()
    with torch.no_grad():
        for _ in range(8):
            batch = torch.stack([augment(img) for img in images for _ in range(2)])
            model(batch)
    model.eval()


def near_identity_batch_norms(model, gen):
    """Sets batch-norm scales near 1 and shifts near 0, with a small jitter
    so that a converter mixing up scale, shift, mean and variance is caught,
    and scales the last batch norm of every residual branch down to about
    0.3. With unit scales there, a random network is chaotic: each of the
    ten residual blocks adds its branch at full strength on top of the
    stream, and a rounding error in an early layer grows from block to
    block (int8 weights then moved the pooled features by half their
    between-photo spread). Damping the branches, as a zero- or
    small-gamma initialisation of residual branches does, keeps rounding
    errors at the size of rounding errors, as in a trained network."""
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.weight.data = 1 + torch.empty_like(m.weight).uniform_(-0.1, 0.1, generator=gen)
            m.bias.data = torch.empty_like(m.bias).uniform_(-0.05, 0.05, generator=gen)
    for block in model.features:
        if getattr(block, "use_res_connect", False):
            block.conv[-1].weight.data *= 0.3


def mobilenet_v2_fixture():
    """Builds the MobileNetV2 0.5 fixture's network, in eval mode, and the
    photographs it was calibrated on; the same seeds give the same network
    every time (quant_torch.py rebuilds it to simulate f16 and int8)."""
    torch.manual_seed(0)
    gen = torch.Generator().manual_seed(1)
    model = torchvision.models.mobilenet_v2(width_mult=0.5, num_classes=10)
    near_identity_batch_norms(model, gen)
    images = [Image.open(os.path.join(PHOTOS, f)).convert("RGB") for f in photos()]
    calibrate(model, images, gen)

    evaluate = T.Compose([T.Resize(256), T.CenterCrop(224), T.ToTensor(), T.Normalize(MEAN, STD)])
    # Features of different photos share a large common part (their mean
    # cosine similarity is about 0.9); a random classifier would rank the
    # classes alike for all of them, and one scaled up until they differ
    # amplifies any change to the weights as much. Instead, class k's
    # weights are the unit direction of photo k's feature minus the mean
    # feature (the last two classes get random unit directions), the bias
    # subtracts the mean feature's logit, and one common factor brings the
    # logits' standard deviation over the photos to 2: each photo's top
    # class is its own, and the logits move only as much as the features
    # do along those directions.
    with torch.no_grad():
        feats = torch.flatten(F.adaptive_avg_pool2d(model.features(torch.stack([evaluate(img) for img in images])), 1), 1)
        mean = feats.mean(0)
        centred = feats - mean
        extra = torch.randn(model.classifier[1].out_features - len(images), feats.shape[1], generator=gen)
        w = torch.cat([centred, extra])
        w /= w.norm(dim=1, keepdim=True)
        w *= 2 / (centred @ w.T).std()
        lin = model.classifier[1]
        lin.weight.data = w
        lin.bias.data = -(mean @ w.T)
    return model.eval(), images


def mobilenet():
    model, images = mobilenet_v2_fixture()
    evaluate = T.Compose([T.Resize(256), T.CenterCrop(224), T.ToTensor(), T.Normalize(MEAN, STD)])

    def features(x):
        return torch.flatten(F.adaptive_avg_pool2d(model.features(x), (1, 1)), 1)

    net = nn.Sequential(model, nn.Softmax(dim=1)).eval()
    path = os.path.join(OUT, "mobilenet_v2_w0.5.onnx")
    torch.onnx.export(net, torch.zeros(1, 3, 224, 224), path, opset_version=13,
                      training=torch.onnx.TrainingMode.PRESERVE,  # keep BatchNormalization and Dropout nodes
                      input_names=["input"], output_names=["probabilities"],
                      dynamic_axes={"input": {0: "batch"}, "probabilities": {0: "batch"}})
    m = onnx.load(path)
    m.graph.name = "mobilenet_v2"
    m.doc_string = ("torchvision mobilenet_v2(width_mult=0.5, num_classes=10), seeded random weights, "
                    "batch norm calibrated on photos, one class per photo")
    onnx.checker.check_model(m)
    onnx.save(m, path)

    os.makedirs(os.path.join(OUT, "photos256"), exist_ok=True)
    refs = []
    for f, img in zip(photos(), images):
        big = img.resize((256, 256), Image.BILINEAR)
        big.save(os.path.join(OUT, "photos256", f), optimize=True)
        x = evaluate(Image.open(os.path.join(OUT, "photos256", f)).convert("RGB")).unsqueeze(0)
        with torch.no_grad():
            p = net(x)[0]
            feat = features(x)[0]
        refs.append({"photo": "photos256/" + f,
                     "probabilities": [float(v) for v in p],
                     "features": [float(v) for v in feat]})
        print(f, "top-1", int(p.argmax()), "p=%.3f" % float(p.max()))
    with open(os.path.join(OUT, "mobilenet_v2_w0.5.json"), "w") as fh:
        json.dump({"model": "mobilenet_v2_w0.5.onnx", "torch": torch.__version__,
                   "torchvision": torchvision.__version__, "references": refs}, fh)


class TinyOps(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, 8, 3, stride=2, padding=1, bias=False), nn.BatchNorm2d(8), nn.ReLU6())
        self.dw = nn.Sequential(nn.Conv2d(8, 8, 3, padding=2, dilation=2, groups=8, bias=False), nn.BatchNorm2d(8), nn.Hardswish())
        self.pool = nn.MaxPool2d(3, stride=1, padding=1)
        self.se_down = nn.Conv2d(16, 4, 1)
        self.se_up = nn.Conv2d(4, 16, 1)
        self.avg_pad = nn.AvgPool2d(3, stride=1, padding=1, count_include_pad=True)
        self.grouped = nn.Conv2d(16, 12, 3, stride=2, groups=4)
        self.pw = nn.Sequential(nn.Conv2d(12, 12, 1, bias=False), nn.BatchNorm2d(12))
        self.avg_ceil = nn.AvgPool2d(3, stride=2, padding=1, ceil_mode=True, count_include_pad=False)
        self.max_ceil = nn.MaxPool2d(2, stride=2, ceil_mode=True)
        self.fc = nn.Linear(12 * 2 * 2, 7)

    def forward(self, x):
        x = self.stem(x)                                       # 10x10x8
        x = torch.cat([self.dw(x), self.pool(x)], dim=1)       # 10x10x16
        s = F.adaptive_avg_pool2d(x, 1)
        s = F.hardsigmoid(self.se_up(F.relu(self.se_down(s))))
        x = self.avg_pad(x * s)                                # squeeze-excite
        x = torch.sigmoid(self.grouped(F.pad(x, (0, 1, 0, 1))))  # 11x11 -> 5x5x12
        x = F.relu(x + self.pw(x))
        x = self.avg_ceil(x)                                   # 3x3
        x = self.max_ceil(x)                                   # 2x2
        x = x.reshape(1, -1)                                   # CHW order
        return torch.softmax(self.fc(x), dim=1)


def fold_pads(m):
    """torch exports F.pad's pads as a chain of shape arithmetic
    (ConstantOfShape, Concat, Slice, Transpose, Cast) that is constant for
    a fixed input; replace it by the ONNX pads it computes for TinyOps's
    F.pad(x, (0, 1, 0, 1)) and drop the chain."""
    produced_by_constant = {o for n in m.graph.node if n.op_type == "Constant" for o in n.output}
    produced_by_constant |= {i.name for i in m.graph.initializer}
    for n in m.graph.node:
        if n.op_type == "Pad" and n.input[1] not in produced_by_constant:
            name = n.name + "_pads"
            m.graph.initializer.append(onnx.numpy_helper.from_array(np.array([0, 0, 0, 0, 0, 0, 1, 1], dtype=np.int64), name))
            n.input[1] = name
    while True:  # drop nodes whose outputs nothing reads
        used = {i for n in m.graph.node for i in n.input} | {o.name for o in m.graph.output}
        dead = [n for n in m.graph.node if not any(o in used for o in n.output)]
        if not dead:
            return m
        for n in dead:
            m.graph.node.remove(n)


def tiny_ops():
    torch.manual_seed(2)
    gen = torch.Generator().manual_seed(3)
    model = TinyOps()
    randomize_batch_norms(model, gen)
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.running_mean = torch.randn(m.running_mean.shape, generator=gen) * 0.3
            m.running_var = torch.empty(m.running_var.shape).uniform_(0.5, 2.0, generator=gen)
    with torch.no_grad():
        model.fc.weight *= 8
    model.eval()
    x = torch.randn(1, 3, 20, 20, generator=gen)
    with torch.no_grad():
        y = model(x)[0]
    for opset in (11, 13, 17):
        path = os.path.join(OUT, "tiny_ops_opset%d.onnx" % opset)
        torch.onnx.export(model, x, path, opset_version=opset, input_names=["image"], output_names=["probs"],
                          training=torch.onnx.TrainingMode.PRESERVE)
        m = fold_pads(onnx.load(path))
        onnx.save(m, path)
        onnx.checker.check_model(m)
        print(path, sorted({n.op_type for n in m.graph.node}))
    with open(os.path.join(OUT, "tiny_ops.json"), "w") as fh:
        json.dump({"input_shape": list(x.shape), "input": [float(v) for v in x.flatten()],
                   "output": [float(v) for v in y]}, fh)


if __name__ == "__main__":
    os.makedirs(OUT, exist_ok=True)
    tiny_ops()
    mobilenet()
