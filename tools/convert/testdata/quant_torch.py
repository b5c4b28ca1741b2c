#!/usr/bin/python3
"""Simulates in torch what Glimpse's f16 and int8 weights do to the two
torchvision fixtures, as an independent check on the quantization study
(quant_study_test.go, `make quant-study`).

Run from the repository root with Debian's Python (python3-torch 1.13,
python3-torchvision 0.14, python3-skimage, opencv-doc, darknet):

    /usr/bin/python3 tools/convert/testdata/quant_torch.py

Every convolution and linear weight is rounded to float16, or to symmetric
int8 with one scale per output channel (max|w| / 127, as FORMAT.md's
writer does); activations stay float32. It prints, per fixture and dtype,
the top-1 agreement with float32 over the photos whose float32 top-1 leads
the runner-up by at least 0.05, and the mean cosine similarity of the
probability vectors. The MobileNetV2 0.5 fixture is rebuilt from
make_fixtures.py's recipe (same seeds), since its ONNX file names its
weights by ONNX's, not torch's, names.
"""

import copy
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
import make_fixtures as mf  # noqa: E402

SK = "/usr/lib/python3/dist-packages/skimage/data/"
CV = "/usr/share/doc/opencv-doc/examples/data/"
DN = "/usr/share/darknet/data/"
# The same photographs as studyPhotos in quant_study_test.go.
PHOTOS = [SK + f for f in ("astronaut.png chelsea.png coffee.png camera.png rocket.jpg hubble_deep_field.jpg "
                           "retina.jpg motorcycle_left.png motorcycle_right.png grass.png gravel.png brick.png "
                           "coins.png moon.png").split()] + \
         [CV + f for f in ("leuvenA.jpg leuvenB.jpg aloeL.jpg aloeR.jpg ela_original.jpg baboon.jpg board.jpg "
                           "fruits.jpg building.jpg messi5.jpg squirrel_cls.jpg aero1.jpg aero3.jpg apple.jpg "
                           "orange.jpg butterfly.jpg home.jpg stuff.jpg HappyFish.jpg chicky_512.png "
                           "rubberwhale1.png rubberwhale2.png basketball1.png basketball2.png box_in_scene.png "
                           "smarties.png graf1.png graf3.png left01.jpg left05.jpg left09.jpg left13.jpg "
                           "licenseplate_motion.jpg starry_night.jpg").split()] + \
         [DN + f for f in "dog.jpg eagle.jpg giraffe.jpg horses.jpg kite.jpg person.jpg scream.jpg".split()]


def mobilenet_v2_fixture():
    """The ONNX fixture's network, rebuilt exactly as make_fixtures.py builds it."""
    return mf.mobilenet_v2_fixture()[0]


def mobilenet_v3_small_fixture():
    model = torchvision.models.mobilenet_v3_small(num_classes=10)
    model.load_state_dict(torch.load(os.path.join(HERE, "pth", "mobilenet_v3_small.pth")))
    return model.eval()


def quantized(model, dtype):
    q = copy.deepcopy(model)
    for m in q.modules():
        if isinstance(m, (nn.Conv2d, nn.Linear)):
            w = m.weight.data
            if dtype == "f16":
                m.weight.data = w.half().float()
                continue
            oc = w.shape[0]
            s = (w.reshape(oc, -1).abs().max(1).values / 127).reshape([oc] + [1] * (w.dim() - 1))
            m.weight.data = torch.where(s > 0, torch.round(w / torch.where(s > 0, s, 1)).clamp(-127, 127) * s, w)
    return q


def main():
    evaluate = T.Compose([T.Resize(256), T.CenterCrop(224), T.ToTensor(), T.Normalize(mf.MEAN, mf.STD)])
    photos = [p for p in PHOTOS if os.path.exists(p)]
    x = torch.stack([evaluate(Image.open(p).convert("RGB")) for p in photos])
    print("%d photos" % len(photos))
    for name, model in [("MobileNetV2 0.5 (ONNX fixture)", mobilenet_v2_fixture()),
                        ("MobileNetV3-small (.pth fixture)", mobilenet_v3_small_fixture())]:
        with torch.no_grad():
            p32 = torch.softmax(model(x), 1)
            top2 = p32.topk(2).values
            confident = (top2[:, 0] - top2[:, 1]) >= 0.05
            for dtype in ("f16", "int8"):
                p = torch.softmax(quantized(model, dtype)(x), 1)
                agree = int(((p.argmax(1) == p32.argmax(1)) & confident).sum())
                cos = float(F.cosine_similarity(p, p32).mean())
                print("%s %s: agreement %d/%d, mean output cosine %.6f" % (name, dtype, agree, int(confident.sum()), cos))


if __name__ == "__main__":
    main()
