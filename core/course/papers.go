package course

import (
	"fmt"

	"github.com/glimpse-ml/glimpse/models"
)

// Paper is an architecture's paper and the ImageNet accuracy it reports.
// Parameters and MACs are never taken from here: the zoo computes them.
type Paper struct {
	Arch string `json:"arch"` // the zoo's name
	Name string `json:"name"` // as a course writes it
	Year int    `json:"year"` // of the paper
	Cite string `json:"cite"` // authors, title, venue
	// Top1 is the ImageNet top-1 accuracy in percent the paper reports for
	// this configuration, Top5 the top-5, and Table the table they are in.
	// Zero when the paper reports none (LeNet-5 predates ImageNet;
	// GoogLeNet's paper gives top-5 only). The pages say in words which
	// setting each figure is (single model, validation set...).
	Top1  float64 `json:"top1,omitempty"`
	Top5  float64 `json:"top5,omitempty"`
	Table string  `json:"table,omitempty"`
	// File is, for an architecture the zoo does not build, the model file
	// (relative to the site) whose network the pages explore instead.
	File string `json:"file,omitempty"`
}

// Papers lists the zoo's architectures in the order the course meets them.
func Papers() []Paper {
	return []Paper{
		{Arch: "lenet5", Name: "LeNet-5", Year: 1998,
			Cite:  "Y. LeCun, L. Bottou, Y. Bengio, P. Haffner. Gradient-based learning applied to document recognition. Proc. IEEE 86(11), 1998",
			Table: ""},
		{Arch: "lenet5_1998", Name: "LeNet-5 (1998)", Year: 1998,
			Cite: "Y. LeCun, L. Bottou, Y. Bengio, P. Haffner. Gradient-based learning applied to document recognition. Proc. IEEE 86(11), 1998"},
		{Arch: "alexnet", Name: "AlexNet", Year: 2012, Top1: 59.3, Top5: 81.8,
			Cite:  "A. Krizhevsky, I. Sutskever, G. E. Hinton. ImageNet classification with deep convolutional neural networks. NeurIPS 2012",
			Table: "Table 2"},
		{Arch: "vgg16", Name: "VGG16", Year: 2014, Top1: 74.4, Top5: 91.9,
			Cite:  "K. Simonyan, A. Zisserman. Very deep convolutional networks for large-scale image recognition. ICLR 2015",
			Table: "Table 3"},
		{Arch: "googlenet", Name: "GoogLeNet", Year: 2014, Top5: 93.33,
			Cite:  "C. Szegedy et al. Going deeper with convolutions. CVPR 2015",
			Table: "Table 2"},
		{Arch: "mobilenet_v1", Name: "MobileNet v1", Year: 2017, Top1: 70.6,
			Cite:  "A. G. Howard et al. MobileNets: Efficient convolutional neural networks for mobile vision applications. arXiv:1704.04861",
			Table: "Table 8"},
		{Arch: "mobilenet_v2", Name: "MobileNet v2", Year: 2018, Top1: 72.0,
			Cite:  "M. Sandler et al. MobileNetV2: Inverted residuals and linear bottlenecks. CVPR 2018",
			Table: "Table 4"},
		{Arch: "mobilenet_v3_small", Name: "MobileNet v3-small", Year: 2019, Top1: 67.4,
			Cite:  "A. Howard et al. Searching for MobileNetV3. ICCV 2019",
			Table: "Table 3"},
		{Arch: "mobilenet_v3_large", Name: "MobileNet v3-large", Year: 2019, Top1: 75.2,
			Cite:  "A. Howard et al. Searching for MobileNetV3. ICCV 2019",
			Table: "Table 3"},
	}
}

// FilePapers are the architectures the pages explore from a real model
// file rather than the zoo: nsfwjs's pretrained InceptionV3, the Inception
// family's real weights (its classifier dropped).
func FilePapers() []Paper {
	return []Paper{
		{Arch: "inception_v3", Name: "InceptionV3 (nsfwjs)", Year: 2016, Top1: 78.8, Top5: 94.4, Table: "Table 3",
			Cite: "C. Szegedy, V. Vanhoucke, S. Ioffe, J. Shlens, Z. Wojna. Rethinking the Inception architecture for computer vision. CVPR 2016",
			File: "models/inception_v3_299.glimpse"},
	}
}

// Architecture is one point of the course's chart: the zoo's counts at
// the default input beside the paper's accuracy.
type Architecture struct {
	Paper
	Params int64 `json:"params"`
	MACs   int64 `json:"macs"`
}

// Architectures builds every paper's architecture at its default input
// and counts it.
func Architectures() ([]Architecture, error) {
	var out []Architecture
	for _, p := range Papers() {
		t, err := ExploreArch(p.Arch)
		if err != nil {
			return nil, err
		}
		out = append(out, Architecture{Paper: p, Params: t.Params, MACs: t.MACs})
	}
	return out, nil
}

// ExploreArch builds a zoo architecture at its default size and explores it.
func ExploreArch(name string) (*Table, error) {
	g, err := models.Build(name, models.Options{})
	if err != nil {
		return nil, err
	}
	t, err := Explore(g)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return t, nil
}
