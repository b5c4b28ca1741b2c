// Package course computes what the CNN course shows, so that every number
// a student reads comes from the IR, the zoo or the engine and none is
// typed into a page: the output size of a convolution worked through the
// course's formula (W − F + 2P)/S + 1, including what happens when the
// division is not whole; the receptive field of an output cell and of
// every layer of a network; a per-layer table of any graph (operation,
// kernel, stride, padding, output shape, receptive field, parameters,
// multiply-accumulates) with the parameters a fully connected layer of
// the same input and output sizes would need (weight sharing made
// concrete); MobileNet's depthwise-separable blocks set against the
// standard convolutions they replace; and the small worked examples the
// course draws on the board: the "\" versus "/" classifier, max, average
// and LeNet's trainable pooling, and softmax step by step.
//
// The package holds no text: the pages word the numbers in Korean and
// English.
package course
