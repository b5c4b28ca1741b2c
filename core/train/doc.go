// Package train is how Glimpse learns a head: a classifier on cached
// embeddings (Train, Head, the Config presets), its Adam optimiser, and the
// arithmetic it shares with whole networks that learn (core/scratch): dense
// layers forward and backward over the engine's kernels, the softmax
// cross-entropy, activation gradients. It takes numbers, not pictures or
// files: core/classifier feeds it a user's pictures one at a time (the
// browser), core/dataset a folder of them (the command line).
//
// A head is at most two dense layers and a loss, so it needs no autograd
// graph and no spago: the library's glimpse.wasm, which trains heads, is
// smaller for it. core/scratch keeps spago for networks that do.
//
// Training is deterministic: the same samples, config and seed give the
// same head, bit for bit, natively and in the browser, because the dense
// layers run on kernels.Exact and the loss on expDet/logDet (mathdet.go).
package train
