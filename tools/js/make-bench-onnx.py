#!/usr/bin/python3
"""Writes torchvision's MobileNetV2 1.0 at 224 as ONNX (opset 13) for the
native latency benchmark. Latency does not depend on the weights, so they
stay at torchvision's seeded initialisation; batch norm stays in the file
(TrainingMode.PRESERVE) so each engine folds it itself.

usage: /usr/bin/python3 tools/js/make-bench-onnx.py OUT.onnx
Needs Debian's python3-torch and python3-torchvision.
"""
import sys

import torch
import torchvision

torch.manual_seed(0)
model = torchvision.models.mobilenet_v2(weights=None).eval()
x = torch.rand(1, 3, 224, 224)
torch.onnx.export(model, x, sys.argv[1], opset_version=13, input_names=["input"],
                  output_names=["logits"], training=torch.onnx.TrainingMode.PRESERVE,
                  do_constant_folding=False)
