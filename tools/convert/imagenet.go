package convert

import (
	_ "embed"
	"strings"
)

// imageNetText is ImageNet's 1000 class names (ILSVRC-2012), one a line in
// class order, exactly as torchvision names them (_IMAGENET_CATEGORIES in
// torchvision/models/_meta.py: 0 "tench", 1 "goldfish", ...). `make
// imagenet-labels` regenerates it from Debian's python3-torchvision.
//
//go:embed imagenet_classes.txt
var imageNetText string

// imageNetBackground is the extra first class of TF-slim's and TF.js's
// 1001-output ImageNet classifiers.
const imageNetBackground = "background"

// ImageNetLabels returns a fresh copy of ImageNet's 1000 class names in
// class order.
func ImageNetLabels() []string {
	return strings.Split(strings.TrimSuffix(imageNetText, "\n"), "\n")
}

// imageNetFor gives the ImageNet class names for a classifier with n
// outputs, and what to call them: the 1000 names for 1000 outputs,
// "background" and then the 1000 for 1001; nil for any other count.
func imageNetFor(n int) ([]string, string) {
	switch n {
	case 1000:
		return ImageNetLabels(), "ImageNet's 1000 class names"
	case 1001:
		return append([]string{imageNetBackground}, ImageNetLabels()...), `"background" and ImageNet's 1000 class names`
	}
	return nil, ""
}
