//go:build !js

package dataset

import (
	"fmt"
	"strings"

	"github.com/glimpse-ml/glimpse/core/imageprep"
	"github.com/glimpse-ml/glimpse/core/model"
)

// Evaluation is how a classifier did on a labelled set: `glimpse eval
// --json` prints it as is.
type Evaluation struct {
	Accuracy float64  `json:"accuracy"`
	Classes  []string `json:"classes"`
	// Confusion[t][p] counts the samples of true class t predicted as p.
	Confusion [][]int      `json:"confusion"`
	PerClass  []ClassScore `json:"perClass"`
}

// ClassScore is one class's precision (of the samples predicted as it, the
// share that are) and recall (of its samples, the share found). A class
// never predicted has precision 0.
type ClassScore struct {
	ClassName string  `json:"className"`
	Precision float64 `json:"precision"`
	Recall    float64 `json:"recall"`
	Support   int     `json:"support"` // samples of the class
}

// Score tallies predictions against the truth; both index classes.
func Score(classes []string, truth, predicted []int) *Evaluation {
	k := len(classes)
	e := &Evaluation{Classes: append([]string(nil), classes...), Confusion: make([][]int, k)}
	for i := range e.Confusion {
		e.Confusion[i] = make([]int, k)
	}
	correct := 0
	for i, t := range truth {
		e.Confusion[t][predicted[i]]++
		if t == predicted[i] {
			correct++
		}
	}
	if len(truth) > 0 {
		e.Accuracy = float64(correct) / float64(len(truth))
	}
	for c := 0; c < k; c++ {
		predictedAs, support := 0, 0
		for t := 0; t < k; t++ {
			predictedAs += e.Confusion[t][c]
			support += e.Confusion[c][t]
		}
		s := ClassScore{ClassName: classes[c], Support: support}
		if predictedAs > 0 {
			s.Precision = float64(e.Confusion[c][c]) / float64(predictedAs)
		}
		if support > 0 {
			s.Recall = float64(e.Confusion[c][c]) / float64(support)
		}
		e.PerClass = append(e.PerClass, s)
	}
	return e
}

// EvaluateFolder classifies every image of f with m on several goroutines
// and scores the top-1 class against the folder it came from. Each class
// folder must name one of the model's classes; the evaluation is over the
// model's classes, so a class the folder lacks still shows how often it
// was wrongly predicted. Unreadable files are returned and skipped.
func EvaluateFolder(m *model.Model, f *Folder, workers int, progress func(done, total int)) (*Evaluation, []Unreadable, error) {
	if !m.HasClassifier() {
		return nil, nil, fmt.Errorf("%s: %w", m.Name, model.ErrNoClassifier)
	}
	labels := m.Graph.Meta.Labels
	index := map[string]int{}
	for i, l := range labels {
		index[l] = i
	}
	truthOf := make([]int, len(f.Classes))
	for c, name := range f.Classes {
		i, ok := index[name]
		if !ok {
			return nil, nil, fmt.Errorf("%s: class folder %q is not one of the model's classes (%s)", f.Dir, name, strings.Join(labels, ", "))
		}
		truthOf[c] = i
	}
	var paths []string
	var truth []int
	for c, files := range f.Files {
		for _, p := range files {
			paths = append(paths, p)
			truth = append(truth, truthOf[c])
		}
	}
	pred := make([]int, len(paths))
	failed := make([]error, len(paths))
	forEachFile(m, len(paths), workers, progress, func(wm *model.Model, i int) {
		pred[i], failed[i] = classifyFile(wm, paths[i], index)
	})
	var bad []Unreadable
	var t, p []int
	for i := range paths {
		if failed[i] != nil {
			bad = append(bad, Unreadable{paths[i], failed[i]})
			continue
		}
		t = append(t, truth[i])
		p = append(p, pred[i])
	}
	if len(t) == 0 {
		return nil, bad, fmt.Errorf("%s: none of the %d files could be read (%s)", f.Dir, len(paths), bad[0])
	}
	return Score(labels, t, p), bad, nil
}

func classifyFile(m *model.Model, path string, index map[string]int) (c int, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("internal error: %v", r)
		}
	}()
	img, err := imageprep.DecodeFile(path)
	if err != nil {
		return 0, err
	}
	preds, err := m.Classify(img, 1)
	if err != nil {
		return 0, err
	}
	return index[preds[0].ClassName], nil
}
