// Package models is Glimpse's model zoo: the named architectures a CNN
// course compares, built as IR graphs with shape-only weight tensors.
//
// A graph from Build has every layer and every weight tensor but no
// weights (Tensor.Data is nil). That is all `inspect` needs to print
// shapes, parameters and multiply-accumulates per layer (ir.Graph.Report);
// a front end fills the tensors later. A PyTorch .pth file holds only a
// state_dict, no graph, so the PyTorch front end loads it into a graph
// from here by name: every node and tensor is named exactly as
// torchvision names the module and the state_dict entry
// ("features.0.0.weight", "features.0.1.running_var", "classifier.1.bias").
// Where torch computes something with a function rather than a module (a
// residual sum, a squeeze-excite product, an Inception concatenation,
// GoogLeNet's ReLU), the node takes the name of the enclosing module, whose
// output it is. The tensors have the IR's layouts, not torch's:
// convolution kernels are HWIO where torch stores OIHW, and dense kernels
// are [In, Out] where torch stores [Out, In], so the front end transposes.
// Flatten works on NHWC values and so orders features H, W, C, where torch
// flattens NCHW as C, H, W: the dense layer right after a flatten over a
// map larger than 1x1 (AlexNet's classifier.1, VGG16's classifier.0, and
// LeNet-5's fc1) needs its input rows permuted from CHW to HWC order as
// well. Dropout is left out (these graphs only infer), and so is a final
// softmax: torchvision's models output logits.
//
// The counts match torchvision's exactly (testdata/ holds per-layer
// reports taken from torch, and the tests compare every layer): at 224x224
// MobileNetV2 has 3,504,872 parameters and about 300.8 million MACs.
//
// # What each architecture brings
//
// LeNet-5 (1998, 61,706 parameters) is the pattern every later network
// repeats: convolution, non-linearity, pooling, twice, then fully
// connected layers. A 5x5 convolution finds local features, pooling
// halves the map so the next layer sees a wider area, and the fully
// connected layers combine the 16 feature maps into a decision among 10
// digits. The paper used a scaled tanh and trainable subsampling; here, as
// in today's courses, ReLU and max pooling.
//
// AlexNet (2012, 61 million parameters) showed the pattern scales: five
// convolutions over 224x224 colour images, trained on ImageNet's 1.2
// million pictures on GPUs. It brought ReLU, which does not saturate and
// made deep training several times faster than tanh, a large first kernel
// with a large stride (11x11, stride 4) to shrink the image quickly, and
// dropout in the three big fully connected layers, which hold 96% of its
// parameters.
//
// VGG16 (2014, 138 million parameters) uses one kind of convolution only:
// 3x3 with padding 1, stacked. Two stacked 3x3 convolutions see a 5x5
// area and three see 7x7, with fewer parameters (2·9C² or 3·9C² against
// 25C² or 49C²) and more non-linearities between them. Five stages each
// end in a 2x2 max pool that halves the map while the channels double. It
// is simple and costly: 15.5 billion MACs per image.
//
// GoogLeNet (2014, Inception v1, 6.6 million parameters) is deeper than
// VGG with a twentieth of its parameters. Each Inception block runs 1x1,
// 3x3 and "5x5" convolutions and a max pool side by side and concatenates
// their outputs along channels, so the next layer picks the scale that
// fits. 1x1 convolutions in front of the larger ones are bottlenecks: they
// cut the channels first, and with them the cost. Global average pooling
// over the last 7x7 map replaces the big fully connected layers, leaving
// one dense layer of 1024x1000. (torchvision's version, modelled here, adds
// batch norm and uses 3x3 kernels in the "5x5" branch.)
//
// MobileNet v1 (2017) factors each convolution into a depthwise
// convolution (one KxK filter per channel) and a pointwise 1x1 convolution
// (mixing channels). For M input and N output channels on a DxD map, a
// standard convolution costs K²·M·N·D² multiply-adds, the separable pair
// K²·M·D² + M·N·D²: a ratio of 1/N + 1/K², so with 3x3 kernels eight to
// nine times cheaper. A width multiplier thins every layer (cost falls with
// its square) and a smaller input shrinks every map.
//
// MobileNet v2 (2018) builds on inverted residual blocks: a 1x1
// convolution expands the channels six times, the 3x3 depthwise convolution
// filters in that wide space, and a 1x1 projection goes back to a thin
// bottleneck with no activation after it (a linear bottleneck: ReLU in a
// low-dimensional space destroys information). Residual connections join
// the thin ends. 3.5 million parameters, 300 million MACs.
//
// MobileNet v3 (2019, small and large) was found by architecture search:
// v2's blocks with 5x5 kernels in places, squeeze-and-excite (average each
// channel to one number, pass the vector through two small layers and a
// hard sigmoid, and rescale the channels by the result, so the network
// weighs its own features), and hard-swish, x·relu6(x+3)/6, a cheap
// stand-in for swish, in the deeper layers.
package models
