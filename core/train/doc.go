// Package train is how Glimpse learns: heads on cached embeddings (Train,
// Head, the Config presets), the Adam optimiser, and the spago operators
// that run layers forward and backward over the engine's kernels (dense,
// softmax cross-entropy, depthwise convolution, residual add). It takes
// numbers, not pictures or files: core/classifier feeds it a user's
// pictures one at a time (the browser), core/dataset a folder of them
// (the command line).
//
// Training is deterministic: the same samples, config and seed give the
// same head, bit for bit, natively and in the browser, because the dense
// layers run on kernels.Exact and the loss on expDet/logDet (mathdet.go).
package train
