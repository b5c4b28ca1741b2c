#!/usr/bin/python3
"""Make the golden test's photographs: real photos from Debian packages,
centre-cropped to a square and resized to 224x224 RGB PNGs.

The networks under test take 224x224 inputs; feeding images already at that
size means the TF.js reference and the Go engine see exactly the same
pixels, with no resampler in between whose details could differ.

Run with Debian's python3 and PIL (python3-pil), after installing
python3-skimage, opencv-doc and darknet:

    /usr/bin/python3 tools/js/make-photos.py tools/convert/testdata/photos
"""
import os
import sys

from PIL import Image

SIZE = 224

# name -> source file. Licences are in the output folder's README.
PHOTOS = {
    "astronaut": "/usr/lib/python3/dist-packages/skimage/data/astronaut.png",
    "chelsea": "/usr/lib/python3/dist-packages/skimage/data/chelsea.png",
    "coffee": "/usr/lib/python3/dist-packages/skimage/data/coffee.png",
    "rocket": "/usr/lib/python3/dist-packages/skimage/data/rocket.jpg",
    "dog": "/usr/share/darknet/data/dog.jpg",
    "eagle": "/usr/share/darknet/data/eagle.jpg",
    "horses": "/usr/share/darknet/data/horses.jpg",
    "fruits": "/usr/share/doc/opencv-doc/examples/data/fruits.jpg",
}


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: make-photos.py OUTDIR")
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    for name, src in sorted(PHOTOS.items()):
        im = Image.open(src).convert("RGB")
        w, h = im.size
        s = min(w, h)
        left, top = (w - s) // 2, (h - s) // 2
        im = im.crop((left, top, left + s, top + s))
        im = im.resize((SIZE, SIZE), Image.LANCZOS)
        dst = os.path.join(out, name + ".png")
        im.save(dst, optimize=True)
        print(dst, os.path.getsize(dst), "bytes")


if __name__ == "__main__":
    main()
