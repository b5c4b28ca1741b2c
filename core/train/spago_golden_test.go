package train

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

// spagoHeads are the configurations testdata/spago-heads.json holds the
// heads of, as the spago-graph trainer (the head trainer up to release
// 0.1.0, a spago autograd graph of dense and softmax cross-entropy
// operators) trained them: every preset, with and without a hidden layer,
// validation, label smoothing, class weights, early stopping and
// reshuffling. The trainer that replaced it runs the same operations in
// the same order without the autograd graph, and must give the same bits.
func spagoHeads() map[string]Config {
	linear, _ := Preset("linear")
	linear.Epochs, linear.Seed = 9, 3
	strong, _ := Preset("strong")
	strong.Epochs, strong.Seed = 7, 5
	tm, _ := Preset("tm")
	tm.Epochs, tm.Hidden, tm.Seed, tm.LabelSmoothing, tm.ClassWeights = 10, 16, 11, 0.1, true
	patient, _ := Preset("linear")
	patient.Epochs, patient.Patience, patient.Seed, patient.OutputBias, patient.Hidden, patient.LearningRate = 60, 2, 8, false, 8, 0.05
	return map[string]Config{"linear": linear, "strong": strong, "tm": tm, "patience": patient}
}

type spagoHead struct {
	W1, B1, W2, B2 []float64
	History        []Epoch
	Kept           int
	Stopped        string
}

// TestHeadsEqualSpagoTrainer trains each configuration of spagoHeads on
// the same samples and compares the head, every epoch's figures and the
// report with the spago trainer's, to the bit. Natively only: under wasm
// the golden head test (TestSameHeadOnEveryPlatform) checks the browser.
func TestHeadsEqualSpagoTrainer(t *testing.T) {
	path := filepath.Join("testdata", "spago-heads.json")
	s := uniformSamples(4, 20, 48)
	s.Y[5], s.Y[6] = 1, 1 // uneven classes, for the class weights
	got := map[string]spagoHead{}
	for name, cfg := range spagoHeads() {
		h, err := Train(s, cfg, nil)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		got[name] = spagoHead{W1: to64(h.W1), B1: to64(h.B1), W2: to64(h.W2), B2: to64(h.B2),
			History: h.Report.History, Kept: h.Report.Kept, Stopped: h.Report.Stopped}
	}
	if *update {
		data, _ := json.MarshalIndent(got, "", " ")
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	if runtime.GOOS == "js" {
		t.Skip("natively only")
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var want map[string]spagoHead
	if err := json.Unmarshal(data, &want); err != nil {
		t.Fatal(err)
	}
	if len(want) != len(got) {
		t.Fatalf("%d golden heads, %d configurations", len(want), len(got))
	}
	for name, w := range want {
		g := got[name]
		for i, pair := range [][2][]float64{{w.W1, g.W1}, {w.B1, g.B1}, {w.W2, g.W2}, {w.B2, g.B2}} {
			if len(pair[0]) != len(pair[1]) {
				t.Fatalf("%s: tensor %d has %d values, the spago trainer's %d", name, i, len(pair[1]), len(pair[0]))
			}
			for j := range pair[0] {
				if math.Float32bits(float32(pair[0][j])) != math.Float32bits(float32(pair[1][j])) {
					t.Fatalf("%s: tensor %d value %d is %v, the spago trainer's %v", name, i, j, pair[1][j], pair[0][j])
				}
			}
		}
		if len(w.History) != len(g.History) || w.Kept != g.Kept || w.Stopped != g.Stopped {
			t.Fatalf("%s: %d epochs, kept %d (%q); the spago trainer %d, %d (%q)", name, len(g.History), g.Kept, g.Stopped, len(w.History), w.Kept, w.Stopped)
		}
		for i := range w.History {
			if w.History[i] != g.History[i] {
				t.Fatalf("%s: epoch %+v, the spago trainer's %+v", name, g.History[i], w.History[i])
			}
		}
	}
}
