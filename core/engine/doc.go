// Package engine runs an IR graph fast: it is the one place where a
// network meets the kernels.
//
// New does all the work that can be done once per model and input size, so
// that Run does nothing but call kernels:
//
//  1. lower: batch norm is folded into the convolution (or dense layer)
//     before it, a zero Pad into the next convolution's padding, a
//     stand-alone activation into the Conv2D, Dense or Add that feeds it,
//     and Flatten becomes a view (NHWC order is already the flattened order);
//  2. pack: weights are repacked once into the layouts the kernels read
//     (GEMM panels, depthwise taps);
//  3. plan: every intermediate value gets a slice of one arena, reused as
//     soon as its last reader has run (greedy first fit over lifetimes), so
//     an inference allocates nothing.
//
// An Engine is not safe for concurrent use; Clone gives another one that
// shares the packed weights and owns its own arena, one per goroutine.
package engine
