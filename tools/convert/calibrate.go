package convert

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/glimpse-ml/glimpse/core/imageprep"
	"github.com/glimpse-ml/glimpse/core/ir"
	"github.com/glimpse-ml/glimpse/core/quantize"
)

// maxCalibrationPictures bounds how many pictures calibration reads (the
// first ones in sorted order): ranges settle after a few hundred, and a
// mistaken folder must not queue millions.
const maxCalibrationPictures = 1000

// CalibrationPictures lists the pictures under dir: the files in it and in
// its sub-folders one level down (a flat folder or a dataset with one
// folder per class), hidden entries skipped, in sorted order.
func CalibrationPictures(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var paths []string
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".") {
			continue
		}
		p := filepath.Join(dir, e.Name())
		if !e.IsDir() {
			paths = append(paths, p)
			continue
		}
		sub, err := os.ReadDir(p)
		if err != nil {
			return nil, err
		}
		for _, f := range sub {
			if !f.IsDir() && !strings.HasPrefix(f.Name(), ".") {
				paths = append(paths, filepath.Join(p, f.Name()))
			}
		}
	}
	sort.Strings(paths)
	return paths, nil
}

// CalibrationReport says what calibration read.
type CalibrationReport struct {
	Pictures   int      // pictures observed
	Unreadable []string // files that did not decode as pictures, with why
}

// Calibrate measures g's activations on the pictures under dir, each
// preprocessed as the model file prescribes, and returns the calibrated
// graph (lowered, with ir.Meta.Quant) that a --dtype int8 --calibrate file
// holds. A folder without one readable picture, or activations that int8
// cannot represent, is an error naming the folder.
func Calibrate(g *ir.Graph, dir string, rep *CalibrationReport) (*ir.Graph, error) {
	paths, err := CalibrationPictures(dir)
	if err != nil {
		return nil, fmt.Errorf("calibration folder: %v", err)
	}
	c, err := quantize.New(g)
	if err != nil {
		return nil, err
	}
	if rep == nil {
		rep = &CalibrationReport{}
	}
	in := make([]float32, g.InputShape.Size())
	var pr imageprep.Preparer
	for _, p := range paths {
		if c.Observed() == maxCalibrationPictures {
			break
		}
		img, err := imageprep.DecodeFile(p)
		if err == nil {
			err = pr.Prepare(img, g.Meta.Preprocess, g.InputShape, in)
		}
		if err != nil {
			rep.Unreadable = append(rep.Unreadable, err.Error())
			continue
		}
		if err := c.Observe(in); err != nil {
			return nil, fmt.Errorf("calibrating on %s: %v", p, err)
		}
	}
	rep.Pictures = c.Observed()
	if rep.Pictures == 0 {
		return nil, fmt.Errorf("calibration folder %s: no readable picture among %d files (want JPEG, PNG or GIF files, in the folder or in sub-folders one level down)", dir, len(paths))
	}
	q, err := c.Graph()
	if err != nil {
		return nil, fmt.Errorf("calibrated on %s: %v", dir, err)
	}
	return q, nil
}
