// Type tests of the npm package's glimpse.d.ts. package-test.js compiles
// this file beside the README's examples with `tsc --strict` against the
// installed tarball: every line must compile except the ones under an
// expect-error directive, which must each be an error (tsc fails on a
// marked line that is not, so a type too loose to catch a mistake fails).
import { load, runtimeInfo } from '@glimpse-ml/glimpse';
import type {
  Classifier, ClassifierOptions, Epoch, Head, LoadOptions, Model, ModelInfo, Picture, Prediction,
  RuntimeInfo, SIMDVariant, TrainOptions, TrainReport,
} from '@glimpse-ml/glimpse';

declare const image: HTMLImageElement;
declare const video: HTMLVideoElement;
declare const canvas: HTMLCanvasElement;
declare const offscreen: OffscreenCanvas;
declare const bitmap: ImageBitmap;
declare const pixels: ImageData;
declare const blob: Blob;
declare const file: File;

export async function loading(): Promise<Model> {
  const options: LoadOptions = {
    onProgress: (fraction, progress) => {
      const f: number = fraction;
      const loaded: number = progress.loaded;
      const total: number | null = progress.total;
      console.log(f, loaded, total);
    },
    simd: false,
  };
  await load(new URL('models/m.glimpse', import.meta.url), options);
  await load(file);
  // @ts-expect-error a number is not a model source
  await load(42);
  // @ts-expect-error simd is a boolean
  await load('m.glimpse', { simd: 'yes' });
  // @ts-expect-error no such option
  await load('m.glimpse', { progress: () => {} });
  // @ts-expect-error the progress total may be null
  await load('m.glimpse', { onProgress: (_f, p) => { const total: number = p.total; console.log(total); } });
  return load('m.glimpse');
}

export async function pictures(model: Model): Promise<void> {
  const all: Picture[] = [image, video, canvas, offscreen, bitmap, pixels, blob, file];
  for (const p of all) {
    const features: Float32Array = await model.embed(p);
    const top: Prediction[] = await model.classify(p, { topk: 3 });
    console.log(features.length, top[0].className, top[0].probability);
  }
  // @ts-expect-error a number is not a picture
  await model.embed(42);
  // @ts-expect-error a URL is not a picture: fetch it and pass the Blob
  await model.classify('cat.png');
  // @ts-expect-error an array of pixels is not a picture: wrap it in an ImageData
  await model.embed(new Uint8ClampedArray(4));
  // @ts-expect-error topk is a number
  await model.classify(image, { topk: '3' });
  // @ts-expect-error no such option
  await model.classify(image, { top: 3 });

  const info: ModelInfo = model.info();
  const [height, width, channels]: [number, number, number] = info.inputSize;
  const labels: string[] = info.labels;
  const n: number = info.embeddingSize;
  console.log(height, width, channels, labels, n, info.hasClassifier === true);
  // @ts-expect-error info() is read-only data, not a Promise
  await model.info().then;
  model.dispose();
}

export async function classifiers(model: Model): Promise<Blob> {
  const heads: Head[] = ['tm', 'linear', 'strong'];
  const options: ClassifierOptions[] = [{ head: 'tm' }, { head: 'linear', augment: true, seed: 2 }, { head: 'strong', augment: 4 }, {}];
  for (const o of options) model.classifier(o).dispose();
  console.log(heads);
  // @ts-expect-error no such head
  model.classifier({ head: 'nope' });
  // @ts-expect-error augment is a number of views or a boolean
  model.classifier({ augment: 'lots' });

  const clf: Classifier = model.classifier({ head: 'tm' });
  const counts: Record<string, number> = await clf.addExample(blob, 'cat');
  console.log(counts.cat);
  // @ts-expect-error a label is a string
  await clf.addExample(blob, 1);
  // @ts-expect-error a number is not a picture
  await clf.addExample(7, 'cat');

  const train: TrainOptions = { epochs: 10, batchSize: 16, learningRate: 1e-3, seed: 1, onEpoch: (e: Epoch) => e.epoch < 5 };
  const report: TrainReport = await clf.train(train);
  const kept: number = report.kept;
  const stopped: string = report.stopped;
  const diverged: boolean = report.diverged;
  const history: Epoch[] = report.history;
  console.log(kept, stopped, diverged, history, report.train, report.validation);
  await clf.train({ onEpoch: (e) => { const v: number | null = e.valAccuracy; console.log(v); } });
  await clf.train({ augment: false });
  // @ts-expect-error augmentation is chosen in model.classifier()
  await clf.train({ augment: 4 });
  // @ts-expect-error valAccuracy is null when nothing is held out
  await clf.train({ onEpoch: (e) => { const v: number = e.valAccuracy; console.log(v); } });
  // @ts-expect-error onEpoch returns a boolean or nothing
  await clf.train({ onEpoch: () => 'stop' });

  const best: Prediction[] = await clf.predict(video, { topk: 1 });
  console.log(best);
  // @ts-expect-error a number is not a picture
  await clf.predict(3);
  const exported: Blob = await clf.export();
  clf.dispose();
  return exported;
}

export async function runtime(): Promise<string> {
  const rt: RuntimeInfo = await runtimeInfo();
  const simd: SIMDVariant = rt.simd;
  const memory: number = rt.memoryBytes;
  console.log(simd, memory, rt.goVersion, rt.kernels, rt.heapAlloc, rt.heapSys, rt.sys, rt.numGC, rt.models);
  // @ts-expect-error the SIMD variant is one of three names
  const other: 'avx2' = rt.simd;
  console.log(other);
  return rt.version;
}
