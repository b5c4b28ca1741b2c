// Writes outsize_tfjs.json: the output sizes TF.js gives for padding
// "same" and "valid" on one axis, and where "same" puts its padding (read
// off a convolution of a ramp with a one-hot kernel). Run from the
// repository root after `make` has installed tools/js:
//   node core/course/testdata/outsize_tfjs.js
const path = require('path');
const tf = require(path.join(__dirname, '../../../tools/js/node_modules/@tensorflow/tfjs'));

const cases = [];
for (const w of [1, 2, 5, 7, 8, 13, 28, 32, 55, 112, 224, 227]) {
  for (const f of [1, 2, 3, 5, 7, 11]) {
    for (const s of [1, 2, 3, 4]) {
      // The input holds 1..w; a kernel with a single 1 in its first tap
      // copies the input value under the window's first cell, or 0 when
      // that cell is padding, so out[0] tells the padding before.
      const x = tf.tensor4d(Array.from({ length: w }, (_, i) => i + 1), [1, 1, w, 1]);
      const k = tf.tensor4d(Array.from({ length: f }, (_, i) => (i === 0 ? 1 : 0)), [1, f, 1, 1]);
      const same = tf.conv2d(x, k, [1, s], 'same');
      const first = same.dataSync()[0];
      const c = { w, f, s, same: same.shape[2], samePadBefore: first === 0 ? null : 1 - first };
      if (first === 0) {
        // the first window starts in the padding: find how far from the
        // first output whose first tap is inside the input
        const v = same.dataSync();
        const i = v.findIndex((y) => y !== 0);
        c.samePadBefore = i < 0 ? null : i * s - (v[i] - 1);
      }
      if (f <= w) c.valid = tf.conv2d(x, k, [1, s], 'valid').shape[2];
      cases.push(c);
    }
  }
}
require('fs').writeFileSync(path.join(__dirname, 'outsize_tfjs.json'),
  JSON.stringify({ tfjs: tf.version.tfjs, cases }) + '\n');
