// Types of Glimpse's JavaScript API, the ES module glimpse.js beside this
// file (a CNN image classifier running in WebAssembly). They describe what
// glimpse.js does, call by call; the package's test fails when glimpse.js
// exports a function, a method or an option this file does not declare.

/**
 * A picture Glimpse reads: an image that has finished loading, a video
 * that is playing, a canvas, a bitmap, raw RGBA pixels, or a Blob (a File
 * from an `<input type="file">`) holding an encoded image. The browser
 * decodes it without colour conversion; resizing and normalizing happen in
 * Go, as the model file prescribes.
 */
export type Picture =
  | HTMLImageElement
  | HTMLVideoElement
  | HTMLCanvasElement
  | OffscreenCanvas
  | ImageBitmap
  | ImageData
  | Blob;

/** The bytes of a model file received so far, as load() streams it. */
export interface LoadProgress {
  loaded: number;
  /** The file's size, or null when the server sent none (it compressed the file). */
  total: number | null;
}

export interface LoadOptions {
  /**
   * Called as the file streams in with the fraction received, from 0 to 1
   * (1 exactly once, at the end; an estimate until then when the size is
   * unknown).
   */
  onProgress?: (fraction: number, progress: LoadProgress) => void;
  /** false plans the model on the pure-Go kernels even where WebAssembly SIMD runs. Default true. */
  simd?: boolean;
  /**
   * true runs the model in a dedicated Worker (glimpse-worker.js, beside
   * glimpse.js; one per page) behind the same API, off the page's thread.
   * Pictures are decoded on the page into ImageBitmaps and transferred.
   * Default false.
   */
  worker?: boolean;
}

/**
 * Loads a .glimpse model from a URL (resolved against the page) or a Blob
 * (a File, or a classifier's export()). Rejects with an Error saying what
 * is wrong (HTTP status, truncated or invalid file).
 */
export function load(source: string | URL | Blob, options?: LoadOptions): Promise<Model>;

/** Which WebAssembly SIMD kernel module the runtime loaded. */
export type SIMDVariant = 'relaxed' | 'simd' | 'none';

/** The runtime of this page (runtimeInfo()). */
export interface RuntimeInfo {
  /** Glimpse's release, as `glimpse --version` and the npm package give it. */
  version: string;
  /** The Go release the runtime was built with, e.g. "go1.26.8". */
  goVersion: string;
  simd: SIMDVariant;
  /** The kernels models are planned on by default, "wasmrelaxedsimd", "wasmsimd" or "go". */
  kernels: string;
  /** The size of the WebAssembly memory in bytes. */
  memoryBytes: number;
  /** Bytes of live Go heap objects. */
  heapAlloc: number;
  /** Bytes of heap the Go runtime holds. */
  heapSys: number;
  /** Bytes the Go runtime holds in all. */
  sys: number;
  /** Go garbage collections so far. */
  numGC: number;
  /** Models loaded and not disposed. */
  models: number;
}

/** Describes the runtime, starting it if no load() has. */
export function runtimeInfo(): Promise<RuntimeInfo>;

/** What a model file says about itself (model.info()). */
export interface ModelInfo {
  /** e.g. "mobilenet_v2"; free text for imported graphs. */
  architecture: string;
  params: number;
  /** Multiply-accumulates per picture. */
  macs: number;
  inputSize: [height: number, width: number, channels: number];
  /** The class names; empty for a backbone without classes. */
  labels: string[];
  hasClassifier: boolean;
  /** The length of embed()'s features, 0 when the model names no embedding. */
  embeddingSize: number;
  /** The kernels this model runs on; a calibrated (int8) model adds its int8 kernels, as in "wasmrelaxedsimd int8=wasmrelaxedsimd". */
  kernels: string;
  source: string;
  license: string;
}

/** One class and its probability, from classify() or a classifier's predict(). */
export interface Prediction {
  className: string;
  probability: number;
}

export interface ClassifyOptions {
  /** How many classes, most probable first; 0 or Infinity for every class. Default 5. */
  topk?: number;
}

/**
 * The head a classifier trains on the backbone's features, as `glimpse
 * train --head` names it: 'strong' (the default: softmax regression on
 * standardized multi-level features, every example trains), 'tm'
 * (Teachable Machine's Dense(100, ReLU) then softmax, 15% of each class
 * held out) or 'linear' (softmax regression).
 */
export type Head = 'tm' | 'linear' | 'strong';

export interface ClassifierOptions {
  /** Default 'strong', the most accurate head (as `glimpse train`). */
  head?: Head;
  /**
   * Augmented views (flip, crop, rotation, brightness, contrast) embedded
   * with every example as it is added: 0 to 64, true for 4, false for 0.
   * Default 0.
   */
  augment?: boolean | number;
  /** Draws the augmented views and, unless train() is given its own, the training. Default 1. */
  seed?: number;
}

/** A loaded model. */
export interface Model {
  info(): ModelInfo;
  /** Rejects when the model has no classes (hasClassifier false). */
  classify(picture: Picture, options?: ClassifyOptions): Promise<Prediction[]>;
  /** The backbone's features, info().embeddingSize of them. */
  embed(picture: Picture): Promise<Float32Array>;
  /** Starts a classifier of your own classes on this model's features. */
  classifier(options?: ClassifierOptions): Classifier;
  /** Frees the model's weights; later calls reject. */
  dispose(): void;
}

/** One epoch of training, as onEpoch and the report's history give it. */
export interface Epoch {
  /** 1-based. */
  epoch: number;
  epochs: number;
  loss: number;
  accuracy: number;
  /** null when nothing is held out. */
  valLoss: number | null;
  /** null when nothing is held out. */
  valAccuracy: number | null;
}

export interface TrainOptions {
  /** The head's preset when absent, as are batchSize and learningRate. */
  epochs?: number;
  batchSize?: number;
  learningRate?: number;
  /** Default: the classifier's seed. */
  seed?: number;
  /**
   * Called after every epoch, with the page given time to paint before the
   * next; returning false stops training there, keeping that epoch's head.
   */
  onEpoch?: (epoch: Epoch) => boolean | void;
  /**
   * Augmentation is chosen when the classifier is made
   * (model.classifier({ augment })); train() rejects any other value.
   */
  augment?: false | 0;
}

/** What train() resolves to. */
export interface TrainReport {
  /** Rows trained on (examples and their augmented views). */
  train: number;
  /** Examples held out to validate on. */
  validation: number;
  /** The epoch whose weights the head holds. */
  kept: number;
  /** Why training ended before its last epoch, or "". */
  stopped: string;
  /** The loss turned NaN or infinite; the head is epoch kept's. */
  diverged: boolean;
  history: Epoch[];
}

export interface PredictOptions {
  /** How many classes, most probable first; 0 or Infinity for every class. Default 0. */
  topk?: number;
}

/** A classifier of your own classes, made by model.classifier(). */
export interface Classifier {
  /** Adds picture as an example of class label; resolves to the examples of each class so far. */
  addExample(picture: Picture, label: string): Promise<Record<string, number>>;
  /** Trains a new head on every example added. */
  train(options?: TrainOptions): Promise<TrainReport>;
  predict(picture: Picture, options?: PredictOptions): Promise<Prediction[]>;
  /** The trained classifier as one self-contained model file, which load() and `glimpse predict` read. */
  export(): Promise<Blob>;
  /** Forgets the examples and the head; later calls reject. */
  dispose(): void;
}
