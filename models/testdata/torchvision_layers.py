#!/usr/bin/python3
"""Per-layer reference reports for the models package, taken from torch.

For every case below this script builds the network in PyTorch (torchvision's
own model where there is one, weights=None; LeNet-5 and MobileNet v1, which
torchvision lacks, are defined here), runs one forward pass on a zero image
with forward hooks, and writes <case>.json next to itself:

    {"arch", "width", "input", "classes", "torch", "torchvision",
     "layers": [{"name", "op", "kernel", "stride", "padding", "output",
                 "params", "macs", "ceil", "eps"}...],
     "totals": {"params", "macs"},
     "state_dict": {key: torch shape}}

A layer is a leaf module (Conv2d, BatchNorm2d, Linear, pools, activations)
or one of the few containers whose output is made by a functional op that
the IR spells as a node of its own: a residual InvertedResidual (Add), a
SqueezeExcitation (Mul), an Inception block (Concat) and GoogLeNet's
BasicConv2d (its F.relu). "op" is the torch class name; "output" is
[H, W, C]; "padding" is [top, left, bottom, right]; "params" counts the
module's own parameters (weights, biases, batch-norm gamma and beta: what
model.parameters() holds, not the running statistics); "macs" counts the
multiply-accumulates of convolutions and linear layers. totals.params is
sum(p.numel() for p in model.parameters()), independently of the hooks.
"state_dict" lists every entry a checkpoint of the model holds, with its
shape in torch's layout (num_batches_tracked, which inference never reads,
left out).

Run it with Debian's python3-torch 1.13 and python3-torchvision 0.14:

    /usr/bin/python3 models/testdata/torchvision_layers.py

The JSON files are committed; the Go tests read them and need no torch.
"""

import json
import os
import sys

import torch
import torchvision
from torch import nn
from torchvision.models import alexnet, googlenet, mobilenet_v2, vgg16
from torchvision.models.mobilenetv2 import InvertedResidual as InvertedResidualV2
from torchvision.models.mobilenetv3 import InvertedResidual as InvertedResidualV3
from torchvision.models.mobilenetv3 import MobileNetV3, _mobilenet_v3_conf
from torchvision.models.googlenet import BasicConv2d, Inception
from torchvision.models._utils import _make_divisible
from torchvision.ops.misc import Conv2dNormActivation, SqueezeExcitation


class LeNet5(nn.Module):
    """The classic 6-16-120-84-10 LeNet-5 on a 32x32 grey image, with the
    ReLU and max pooling that modern courses use (61,706 parameters)."""

    def __init__(self, num_classes=10):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 6, 5)
        self.relu1 = nn.ReLU()
        self.pool1 = nn.MaxPool2d(2)
        self.conv2 = nn.Conv2d(6, 16, 5)
        self.relu2 = nn.ReLU()
        self.pool2 = nn.MaxPool2d(2)
        self.fc1 = nn.Linear(16 * 5 * 5, 120)
        self.relu3 = nn.ReLU()
        self.fc2 = nn.Linear(120, 84)
        self.relu4 = nn.ReLU()
        self.fc3 = nn.Linear(84, num_classes)

    def forward(self, x):
        x = self.pool1(self.relu1(self.conv1(x)))
        x = self.pool2(self.relu2(self.conv2(x)))
        x = torch.flatten(x, 1)
        x = self.relu3(self.fc1(x))
        x = self.relu4(self.fc2(x))
        return self.fc3(x)


class ScaledTanh(nn.Module):
    """LeCun's squashing function, 1.7159 tanh(2x/3) (LeCun et al. 1998,
    appendix A)."""

    def forward(self, x):
        return 1.7159 * torch.tanh(x * (2.0 / 3.0))


class LeNet5_1998(nn.Module):
    """LeNet-5 in the paper's form as the course teaches it: the scaled tanh
    after every layer, and trainable subsampling (each 2x2 average times a
    learned coefficient plus a learned bias, per channel: a 1x1 depthwise
    convolution after an average pool). C3 reads every S2 map, and the
    output is a linear layer in place of the RBF units (61,750 parameters)."""

    def __init__(self, num_classes=10):
        super().__init__()
        self.c1 = nn.Conv2d(1, 6, 5)
        self.c1_act = ScaledTanh()
        self.s2_pool = nn.AvgPool2d(2)
        self.s2 = nn.Conv2d(6, 6, 1, groups=6)
        self.s2_act = ScaledTanh()
        self.c3 = nn.Conv2d(6, 16, 5)
        self.c3_act = ScaledTanh()
        self.s4_pool = nn.AvgPool2d(2)
        self.s4 = nn.Conv2d(16, 16, 1, groups=16)
        self.s4_act = ScaledTanh()
        self.c5 = nn.Linear(16 * 5 * 5, 120)
        self.c5_act = ScaledTanh()
        self.f6 = nn.Linear(120, 84)
        self.f6_act = ScaledTanh()
        self.output = nn.Linear(84, num_classes)

    def forward(self, x):
        x = self.s2_act(self.s2(self.s2_pool(self.c1_act(self.c1(x)))))
        x = self.s4_act(self.s4(self.s4_pool(self.c3_act(self.c3(x)))))
        x = torch.flatten(x, 1)
        x = self.c5_act(self.c5(x))
        x = self.f6_act(self.f6(x))
        return self.output(x)


class MobileNetV1(nn.Module):
    """MobileNet v1 as in Howard et al. 2017, Table 1: a full 3x3 convolution,
    then 13 depthwise separable blocks (3x3 depthwise conv-bn-relu, 1x1
    pointwise conv-bn-relu), global average pooling and a linear classifier.
    Channels are scaled by the width multiplier and rounded as torchvision
    rounds its MobileNets (_make_divisible(c * width, 8)). Module names follow
    torchvision's MobileNetV2 (features.i, classifier.1)."""

    blocks = [(64, 1), (128, 2), (128, 1), (256, 2), (256, 1), (512, 2),
              (512, 1), (512, 1), (512, 1), (512, 1), (512, 1), (1024, 2), (1024, 1)]

    def __init__(self, width_mult=1.0, num_classes=1000):
        super().__init__()
        c = _make_divisible(32 * width_mult, 8)
        layers = [Conv2dNormActivation(3, c, stride=2, activation_layer=nn.ReLU)]
        for out, stride in self.blocks:
            o = _make_divisible(out * width_mult, 8)
            layers.append(nn.Sequential(
                Conv2dNormActivation(c, c, stride=stride, groups=c, activation_layer=nn.ReLU),
                Conv2dNormActivation(c, o, kernel_size=1, activation_layer=nn.ReLU),
            ))
            c = o
        self.features = nn.Sequential(*layers)
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Sequential(nn.Dropout(0.001), nn.Linear(c, num_classes))

    def forward(self, x):
        x = self.avgpool(self.features(x))
        return self.classifier(torch.flatten(x, 1))


def mobilenet_v3(arch, width):
    setting, last_channel = _mobilenet_v3_conf(arch, width_mult=width)
    return MobileNetV3(setting, last_channel)


# case name -> (arch, width, input, constructor)
CASES = {
    "lenet5": ("lenet5", 1.0, 32, lambda: LeNet5()),
    "lenet5_1998": ("lenet5_1998", 1.0, 32, lambda: LeNet5_1998()),
    "alexnet": ("alexnet", 1.0, 224, lambda: alexnet(weights=None)),
    # At 415 the features end at 12x12, so AdaptiveAvgPool2d((6, 6)) is a
    # 2x2 stride-2 average pool rather than the identity it is at 224.
    "alexnet_415": ("alexnet", 1.0, 415, lambda: alexnet(weights=None)),
    "vgg16": ("vgg16", 1.0, 224, lambda: vgg16(weights=None)),
    "googlenet": ("googlenet", 1.0, 224,
                  lambda: googlenet(weights=None, aux_logits=False, init_weights=False)),
    # An odd size exercises the ceil-mode max pools.
    "googlenet_193": ("googlenet", 1.0, 193,
                      lambda: googlenet(weights=None, aux_logits=False, init_weights=False)),
    "mobilenet_v1": ("mobilenet_v1", 1.0, 224, lambda: MobileNetV1(1.0)),
    "mobilenet_v1_w0.25_128": ("mobilenet_v1", 0.25, 128, lambda: MobileNetV1(0.25)),
    "mobilenet_v2": ("mobilenet_v2", 1.0, 224, lambda: mobilenet_v2(weights=None)),
    "mobilenet_v2_w0.5": ("mobilenet_v2", 0.5, 224, lambda: mobilenet_v2(weights=None, width_mult=0.5)),
    "mobilenet_v2_w1.4": ("mobilenet_v2", 1.4, 224, lambda: mobilenet_v2(weights=None, width_mult=1.4)),
    "mobilenet_v2_160": ("mobilenet_v2", 1.0, 160, lambda: mobilenet_v2(weights=None)),
    "mobilenet_v3_small": ("mobilenet_v3_small", 1.0, 224, lambda: mobilenet_v3("mobilenet_v3_small", 1.0)),
    "mobilenet_v3_small_w0.75": ("mobilenet_v3_small", 0.75, 224,
                                 lambda: mobilenet_v3("mobilenet_v3_small", 0.75)),
    "mobilenet_v3_large": ("mobilenet_v3_large", 1.0, 224, lambda: mobilenet_v3("mobilenet_v3_large", 1.0)),
    "mobilenet_v3_large_w0.35_97": ("mobilenet_v3_large", 0.35, 97,
                                    lambda: mobilenet_v3("mobilenet_v3_large", 0.35)),
}

LEAVES = (nn.Conv2d, nn.BatchNorm2d, nn.Linear, nn.MaxPool2d, nn.AvgPool2d, nn.AdaptiveAvgPool2d,
          nn.ReLU, nn.ReLU6, nn.Hardswish, nn.Hardsigmoid, nn.Sigmoid, ScaledTanh)


def pair(v):
    return [v, v] if isinstance(v, int) else [int(v[0]), int(v[1])]


def hwc(t):
    s = list(t.shape)
    if len(s) == 2:
        return [1, 1, s[1]]
    return [s[2], s[3], s[1]]


def recorded(m):
    if isinstance(m, LEAVES):
        return True
    if isinstance(m, (InvertedResidualV2, InvertedResidualV3)):
        return m.use_res_connect
    return isinstance(m, (SqueezeExcitation, Inception, BasicConv2d))


def report(model, channels, size):
    layers = []

    def hook(name):
        def f(m, inputs, output):
            out = hwc(output)
            row = {"name": name, "op": type(m).__name__, "kernel": [0, 0], "stride": [0, 0],
                   "padding": [0, 0, 0, 0], "output": out, "params": 0, "macs": 0}
            if isinstance(m, LEAVES):
                row["params"] = sum(p.numel() for p in m.parameters(recurse=False))
            if isinstance(m, nn.BatchNorm2d):
                row["eps"] = m.eps
            if isinstance(m, nn.Conv2d):
                assert m.dilation == (1, 1) and isinstance(m.padding, tuple)
                kh, kw = m.kernel_size
                row["kernel"], row["stride"] = [kh, kw], pair(m.stride)
                ph, pw = m.padding
                row["padding"] = [ph, pw, ph, pw]
                row["macs"] = out[0] * out[1] * out[2] * (m.in_channels // m.groups) * kh * kw
            elif isinstance(m, nn.Linear):
                row["macs"] = m.in_features * m.out_features
            elif isinstance(m, (nn.MaxPool2d, nn.AvgPool2d)):
                row["kernel"], row["stride"] = pair(m.kernel_size), pair(m.stride)
                ph, pw = pair(m.padding)
                row["padding"] = [ph, pw, ph, pw]
                row["ceil"] = bool(m.ceil_mode)
                if isinstance(m, nn.AvgPool2d):
                    row["count_include_pad"] = bool(m.count_include_pad)
            elif isinstance(m, nn.AdaptiveAvgPool2d):
                ih, iw = inputs[0].shape[2], inputs[0].shape[3]
                # Uniform windows exist only when the output divides the input.
                if ih % out[0] == 0 and iw % out[1] == 0:
                    row["kernel"] = [ih // out[0], iw // out[1]]
                    row["stride"] = list(row["kernel"])
            layers.append(row)
        return f

    handles = [m.register_forward_hook(hook(n)) for n, m in model.named_modules() if n and recorded(m)]
    model.eval()
    with torch.no_grad():
        model(torch.zeros(1, channels, size, size))
    for h in handles:
        h.remove()
    names = [r["name"] for r in layers]
    assert len(names) == len(set(names)), "a module ran twice"
    params = sum(p.numel() for p in model.parameters())
    assert params == sum(r["params"] for r in layers), "a parameter is outside the recorded layers"
    return layers, {"params": params, "macs": sum(r["macs"] for r in layers)}


def write(path, doc):
    # One layer per line keeps the files readable and their diffs small.
    head = {k: v for k, v in doc.items() if k not in ("layers", "totals", "state_dict")}
    lines = ["{"]
    for k, v in head.items():
        lines.append("  %s: %s," % (json.dumps(k), json.dumps(v)))
    lines.append('  "layers": [')
    rows = [json.dumps(r) for r in doc["layers"]]
    lines.extend("    " + r + ("," if i < len(rows) - 1 else "") for i, r in enumerate(rows))
    lines.append("  ],")
    lines.append('  "totals": %s,' % json.dumps(doc["totals"]))
    lines.append('  "state_dict": {')
    keys = list(doc["state_dict"].items())
    lines.extend("    %s: %s%s" % (json.dumps(k), json.dumps(v), "," if i < len(keys) - 1 else "")
                 for i, (k, v) in enumerate(keys))
    lines.append("  }")
    lines.append("}")
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")


def main():
    torch.manual_seed(0)
    here = os.path.dirname(os.path.abspath(__file__))
    only = set(sys.argv[1:])
    for case, (arch, width, size, make) in CASES.items():
        if only and case not in only:
            continue
        model = make()
        channels = 1 if arch.startswith("lenet5") else 3
        classes = 10 if arch.startswith("lenet5") else 1000
        layers, totals = report(model, channels, size)
        doc = {"arch": arch, "width": width, "input": size, "classes": classes,
               "torch": torch.__version__, "torchvision": torchvision.__version__,
               "layers": layers, "totals": totals,
               "state_dict": {k: list(v.shape) for k, v in model.state_dict().items()
                              if not k.endswith("num_batches_tracked")}}
        write(os.path.join(here, case + ".json"), doc)
        print("%-28s %4d layers %12d params %14d MACs" % (case, len(layers), totals["params"], totals["macs"]))


if __name__ == "__main__":
    main()
