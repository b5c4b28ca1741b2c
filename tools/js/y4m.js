// Writes YUV4MPEG2 (4:2:0) video files from photographs, for Chromium's
// fake webcam (--use-file-for-fake-video-capture=FILE.y4m), which loops
// them. Each frame is the photo scaled to cover the frame and centre
// cropped, shifted by a pixel or two from frame to frame so the stream
// moves a little like a real camera's.
"use strict";

const fs = require("fs");
const { PNG } = require("pngjs");

/** Bilinear sample of an RGBA PNG at (x, y), channel c. */
function sample(png, x, y, c) {
  const x0 = Math.max(0, Math.min(png.width - 1, Math.floor(x)));
  const y0 = Math.max(0, Math.min(png.height - 1, Math.floor(y)));
  const x1 = Math.min(png.width - 1, x0 + 1);
  const y1 = Math.min(png.height - 1, y0 + 1);
  const fx = Math.min(1, Math.max(0, x - x0));
  const fy = Math.min(1, Math.max(0, y - y0));
  const p = (xx, yy) => png.data[4 * (yy * png.width + xx) + c];
  return (p(x0, y0) * (1 - fx) + p(x1, y0) * fx) * (1 - fy) + (p(x0, y1) * (1 - fx) + p(x1, y1) * fx) * fy;
}

/**
 * writeY4M(pngPath, outPath, {width, height, frames, fps}) writes the
 * stream and returns outPath. BT.601 studio range, as Chromium expects.
 */
function writeY4M(pngPath, outPath, opts = {}) {
  const w = opts.width || 640;
  const h = opts.height || 480;
  const frames = opts.frames || 8;
  const fps = opts.fps || 30;
  const png = PNG.sync.read(fs.readFileSync(pngPath));
  const scale = Math.max(w / png.width, h / png.height);
  const out = [Buffer.from(`YUV4MPEG2 W${w} H${h} F${fps}:1 Ip A1:1 C420jpeg\n`)];
  for (let f = 0; f < frames; f++) {
    const dx = (f % 4) - 1.5;
    const dy = ((f >> 1) % 3) - 1;
    const Y = Buffer.alloc(w * h);
    const U = Buffer.alloc((w / 2) * (h / 2));
    const V = Buffer.alloc((w / 2) * (h / 2));
    const rgb = new Float32Array(w * h * 3);
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        const sx = (x - w / 2 + dx) / scale + png.width / 2;
        const sy = (y - h / 2 + dy) / scale + png.height / 2;
        const i = 3 * (y * w + x);
        for (let c = 0; c < 3; c++) rgb[i + c] = sample(png, sx, sy, c);
        const [r, g, b] = [rgb[i], rgb[i + 1], rgb[i + 2]];
        Y[y * w + x] = Math.round(16 + 0.257 * r + 0.504 * g + 0.098 * b);
      }
    }
    for (let y = 0; y < h / 2; y++) {
      for (let x = 0; x < w / 2; x++) {
        let r = 0, g = 0, b = 0;
        for (const [ox, oy] of [[0, 0], [1, 0], [0, 1], [1, 1]]) {
          const i = 3 * ((2 * y + oy) * w + 2 * x + ox);
          r += rgb[i] / 4; g += rgb[i + 1] / 4; b += rgb[i + 2] / 4;
        }
        U[y * (w / 2) + x] = Math.round(128 - 0.148 * r - 0.291 * g + 0.439 * b);
        V[y * (w / 2) + x] = Math.round(128 + 0.439 * r - 0.368 * g - 0.071 * b);
      }
    }
    out.push(Buffer.from("FRAME\n"), Y, U, V);
  }
  fs.writeFileSync(outPath, Buffer.concat(out));
  return outPath;
}

module.exports = { writeY4M };

if (require.main === module) {
  if (process.argv.length < 4) {
    console.error("usage: node y4m.js PHOTO.png OUT.y4m [FRAMES]");
    process.exit(1);
  }
  writeY4M(process.argv[2], process.argv[3], { frames: Number(process.argv[4]) || 8 });
}
