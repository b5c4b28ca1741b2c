#!/usr/bin/python3
"""Reference outputs for core/imageprep, computed with Pillow and torchvision.

Run from this directory with Debian's python3 (python3-pil, python3-numpy,
python3-torchvision):

    /usr/bin/python3 make_reference.py

It writes small input images (generated deterministically, plus one
photograph from Debian's opencv-doc, downscaled), what Pillow and
torchvision make of them, and manifest.json describing every case. The Go
tests (reference_test.go) compare the package's output with these files.
"""

import json
import os
import sys

import numpy as np
import PIL
from PIL import Image, ImageOps
import torch
import torchvision
from torchvision import transforms

PHOTO = "/usr/share/doc/opencv-doc/examples/data/fruits.jpg"

cases = []


def save_png(img, name):
    img.save(name, optimize=True)
    # Reopen so every reference starts from exactly the stored pixels.
    return Image.open(name)


def gradient_noise(w, h, seed, mode="RGB", sigma=25):
    rng = np.random.RandomState(seed)
    y, x = np.mgrid[0:h, 0:w].astype(np.float64)
    r = 255 * x / max(w - 1, 1)
    g = 255 * y / max(h - 1, 1)
    b = 127.5 + 127.5 * np.sin((x + 2 * y) / 3.0)
    arr = np.stack([r, g, b], axis=-1) + rng.normal(0, sigma, (h, w, 3))
    # A few hard edges and saturated blocks exercise clipping.
    arr[h // 3 : h // 3 + max(h // 8, 1), :, :] = 255
    arr[:, w // 2 : w // 2 + max(w // 10, 1), 0] = 0
    arr = np.clip(np.rint(arr), 0, 255).astype(np.uint8)
    img = Image.fromarray(arr, "RGB")
    if mode == "RGBA":
        alpha = rng.randint(0, 256, (h, w)).astype(np.uint8)
        img = Image.fromarray(np.dstack([arr, alpha]), "RGBA")
    return img


def resize_case(inp, img, w, h, mode="RGB"):
    src = img.convert(mode)
    out = src.resize((w, h), Image.BILINEAR)
    name = "resize_%s_%s_%dx%d.png" % (os.path.splitext(inp)[0][3:], mode, w, h)
    if (w, h) == img.size and mode == img.mode:
        # Resizing to the same size must change nothing: the input is
        # the reference (and Pillow itself returns a copy).
        assert np.array_equal(np.asarray(out), np.asarray(src))
        name = inp
    else:
        out.save(name, optimize=True)
    cases.append({"kind": "resize", "input": inp, "mode": mode, "size": [w, h], "output": name})


def eval_case(inp, img, name, resize, crop, mean, std, grey=False, channels="RGB"):
    """torchvision's evaluation transform. resize is an int (shorter side)
    or [h, w] (stretch); crop is [h, w] or None."""
    steps = []
    if grey:
        steps.append(transforms.Grayscale())
    steps.append(transforms.Resize(resize, interpolation=transforms.InterpolationMode.BILINEAR))
    if crop is not None:
        steps.append(transforms.CenterCrop(crop))
    pil = transforms.Compose(steps)(img.convert("RGB"))
    # mean and std are listed in the network's channel order, as in the
    # model file: with BGR, mean[0] is blue's.
    if channels == "BGR":
        t = transforms.Normalize(mean[::-1], std[::-1])(transforms.ToTensor()(pil)).flip(0)
    else:
        t = transforms.Normalize(mean, std)(transforms.ToTensor()(pil))
    chw = t.numpy().astype("<f4")
    chw.tofile(name)
    cases.append({
        "kind": "eval", "input": inp, "output": name,
        "resize": resize, "crop": crop, "mean": mean, "std": std,
        "grey": grey, "channels": channels, "shape": list(chw.shape),
    })


def crop8_case(inp, img, name, resize, crop):
    """The 8-bit pixels after Resize and CenterCrop, before ToTensor."""
    t = transforms.Compose([transforms.Resize(resize), transforms.CenterCrop(crop)])
    t(img.convert("RGB")).save(name, optimize=True)
    cases.append({"kind": "crop8", "input": inp, "output": name, "resize": resize, "crop": crop})


def exif_cases(img):
    """One JPEG per EXIF orientation, and what ImageOps.exif_transpose
    (which is what a browser does) makes of Pillow's decoding of it."""
    for o in range(1, 9):
        name = "exif_%d.jpg" % o
        exif = Image.Exif()
        exif[0x0112] = o
        img.save(name, quality=95, subsampling=0, exif=exif.tobytes())
        upright = ImageOps.exif_transpose(Image.open(name)).convert("RGB")
        out = "exif_%d.png" % o
        upright.save(out, optimize=True)
        cases.append({"kind": "exif", "input": name, "output": out, "orientation": o})


def main():
    os.chdir(os.path.dirname(os.path.abspath(__file__)))
    imagenet_mean, imagenet_std = [0.485, 0.456, 0.406], [0.229, 0.224, 0.225]

    g1 = save_png(gradient_noise(37, 53, 1), "in_grad37x53.png")
    g2 = save_png(gradient_noise(300, 200, 2, sigma=4), "in_grad300x200.png")
    g3 = save_png(gradient_noise(64, 64, 3), "in_noise64x64.png")
    ga = save_png(gradient_noise(21, 15, 4, "RGBA"), "in_alpha21x15.png")
    gl = save_png(gradient_noise(29, 31, 5).convert("L"), "in_grey29x31.png")
    gp = save_png(gradient_noise(33, 19, 6).quantize(64), "in_pal33x19.png")
    photo = Image.open(PHOTO).convert("RGB")
    photo = save_png(photo.resize((160, photo.height * 160 // photo.width), Image.LANCZOS), "in_photo.png")

    for w, h in [(37, 53), (20, 30), (74, 106), (100, 13), (1, 1), (5, 80), (37, 20), (11, 53)]:
        resize_case("in_grad37x53.png", g1, w, h)
    for w, h in [(300, 200), (224, 224), (150, 100), (97, 61), (151, 201), (600, 20), (7, 3)]:
        resize_case("in_grad300x200.png", g2, w, h)
    for w, h in [(64, 64), (32, 32), (17, 17), (128, 128), (63, 65)]:
        resize_case("in_noise64x64.png", g3, w, h)
    for w, h in [(224, 224), (64, 48), (200, 170), (13, 77)]:
        resize_case("in_photo.png", photo, w, h)
    for w, h in [(21, 15), (10, 30), (44, 31)]:
        resize_case("in_alpha21x15.png", ga, w, h)
    for w, h in [(29, 31), (28, 28), (14, 14), (56, 40)]:
        resize_case("in_grey29x31.png", gl, w, h, mode="L")
    for w, h in [(28, 28), (9, 70)]:
        resize_case("in_grad37x53.png", g1, w, h, mode="L")  # luma first, then resize
    for w, h in [(33, 19), (16, 16), (50, 40)]:
        resize_case("in_pal33x19.png", gp, w, h)

    # torchvision's ImageNet evaluation transform at full size, as 8-bit
    # pixels (a float tensor would be 600 kB).
    crop8_case("in_photo.png", photo, "crop8_photo_256_224.png", 256, [224, 224])
    crop8_case("in_grad300x200.png", g2, "crop8_grad300x200_256_224.png", 256, [224, 224])
    # ... and at small sizes as normalised float tensors. (53-32)/2 = 10.5
    # rounds to 10 (half to even); crops larger than the image pad with 0.
    eval_case("in_photo.png", photo, "eval_photo_40_32.f32", 40, [32, 32], imagenet_mean, imagenet_std)
    eval_case("in_grad37x53.png", g1, "eval_grad37x53_40_32.f32", 40, [32, 32], imagenet_mean, imagenet_std)
    eval_case("in_grad37x53.png", g1, "eval_grad37x53_19_28.f32", 19, [28, 28], imagenet_mean, imagenet_std)
    eval_case("in_grad300x200.png", g2, "eval_grad300x200_50_24x40.f32", 50, [24, 40], imagenet_mean, imagenet_std)
    eval_case("in_noise64x64.png", g3, "eval_noise64_31_31.f32", 31, [31, 31], [0.5, 0.5, 0.5], [0.5, 0.5, 0.5])
    eval_case("in_grad300x200.png", g2, "eval_grad300x200_stretch_30x20.f32", [30, 20], None, [0.5, 0.5, 0.5], [0.5, 0.5, 0.5])
    eval_case("in_photo.png", photo, "eval_photo_stretch_bgr.f32", [24, 24], None,
              [0.406, 0.456, 0.485], [0.225, 0.224, 0.229], channels="BGR")
    # LeNet on MNIST: grey, stretched to 28x28, MNIST's mean and std.
    eval_case("in_photo.png", photo, "eval_photo_grey_28.f32", [28, 28], None, [0.1307], [0.3081], grey=True)
    eval_case("in_grey29x31.png", gl, "eval_grey_grey_28.f32", [28, 28], None, [0.1307], [0.3081], grey=True)

    exif_cases(gradient_noise(24, 16, 7))
    # A progressive, chroma-subsampled JPEG (what cameras and the web
    # mostly serve) and Pillow's decoding of it.
    # Odd sizes exercise the chroma edges.
    small = photo.crop((40, 30, 115, 91))  # 75x61
    for name, img, opts in [
        ("progressive420", photo, dict(quality=85, progressive=True, subsampling=2)),
        ("odd420", small, dict(quality=90, subsampling=2)),
        ("odd422", small, dict(quality=90, subsampling=1)),
        ("odd444", small, dict(quality=90, subsampling=0)),
    ]:
        img.save("in_%s.jpg" % name, **opts)
        Image.open("in_%s.jpg" % name).convert("RGB").save("jpeg_%s.png" % name, optimize=True)
        cases.append({"kind": "jpeg", "input": "in_%s.jpg" % name, "output": "jpeg_%s.png" % name})

    with open("manifest.json", "w") as f:
        json.dump({
            "generator": "make_reference.py",
            "pillow": PIL.__version__, "torchvision": torchvision.__version__,
            "cases": cases,
        }, f, indent=1)
        f.write("\n")
    total = sum(os.path.getsize(n) for n in os.listdir("."))
    print("%d cases, %d bytes in testdata" % (len(cases), total), file=sys.stderr)


if __name__ == "__main__":
    main()
