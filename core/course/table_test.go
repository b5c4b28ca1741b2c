package course

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/glimpse-ml/glimpse/models"
)

// Every architecture's totals and per-layer parameters and MACs against
// the per-layer reports taken from torchvision (models/testdata).
func TestExploreTorchvision(t *testing.T) {
	for _, name := range models.Names() {
		var ref struct {
			Totals struct{ Params, MACs int64 }
		}
		data, err := os.ReadFile(filepath.Join("..", "..", "models", "testdata", name+".json"))
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(data, &ref); err != nil {
			t.Fatal(err)
		}
		tab, err := ExploreArch(name)
		if err != nil {
			t.Fatal(err)
		}
		if tab.Params != ref.Totals.Params || tab.MACs != ref.Totals.MACs {
			t.Errorf("%s: %d params %d MACs, torchvision %d %d", name, tab.Params, tab.MACs, ref.Totals.Params, ref.Totals.MACs)
		}
		var p, m int64
		for _, r := range tab.Rows {
			p += r.Params
			m += r.MACs
			if r.Height != nil {
				want := r.Height.Floor
				if r.Ceil {
					want = r.Height.Ceil
				}
				if want != r.Output[0] {
					t.Errorf("%s %s: the formula gives %d, the layer %d", name, r.Name, want, r.Output[0])
				}
			}
		}
		if p != tab.Params || m != tab.MACs {
			t.Errorf("%s: rows sum to %d, %d", name, p, m)
		}
	}
}

func TestExploreLeNet(t *testing.T) {
	tab, err := ExploreArch("lenet5")
	if err != nil {
		t.Fatal(err)
	}
	if tab.Params != 61706 || tab.Field.Size != [2]int{16, 16} {
		t.Fatalf("%d params, field %+v", tab.Params, tab.Field)
	}
	r := tab.Rows[0]
	// conv1 maps 32x32x1 to 28x28x6 with 6·(25+1) = 156 parameters; a
	// dense layer between the same sizes has 1024·4704 weights and 4704 biases.
	if r.Name != "conv1" || r.Kind != KindConv || r.Params != 156 || r.DenseParams != 1024*4704+4704 || r.Height.Floor != 28 {
		t.Errorf("%+v", r)
	}
}

// MobileNet v1's paper, Table 4: the same network with standard
// convolutions costs 4866 million mult-adds and 29.3 million parameters;
// depthwise separable, 569 million and 4.2 million.
func TestSeparableMobileNetV1(t *testing.T) {
	tab, err := ExploreArch("mobilenet_v1")
	if err != nil {
		t.Fatal(err)
	}
	if len(tab.Blocks) != 13 {
		t.Fatalf("%d blocks, want 13", len(tab.Blocks))
	}
	macs, params := tab.MACs, tab.Params
	for _, b := range tab.Blocks {
		if math.Abs(b.Ratio-b.Formula) > 1e-12 {
			t.Errorf("%s: ratio %v, 1/N + 1/K² = %v", b.Depthwise, b.Ratio, b.Formula)
		}
		macs += b.StandardMACs - b.DepthwiseMACs - b.PointwiseMACs
		params += b.StandardParams - b.SeparableParams
	}
	if r := float64(macs) / 4866e6; math.Abs(r-1) > 0.005 {
		t.Errorf("with standard convolutions: %d MACs, the paper 4866M", macs)
	}
	if r := float64(params) / 29.3e6; math.Abs(r-1) > 0.01 {
		t.Errorf("with standard convolutions: %d parameters, the paper 29.3M", params)
	}
	if r := float64(tab.MACs) / 569e6; math.Abs(r-1) > 0.005 {
		t.Errorf("separable: %d MACs, the paper 569M", tab.MACs)
	}
	b := tab.Blocks[0]
	// The first block: 3x3 depthwise over 32 channels, then 1x1 to 64, on 112x112.
	if b.K != 3 || b.M != 32 || b.N != 64 || b.D != [2]int{112, 112} || b.StandardMACs != 9*32*64*112*112 {
		t.Errorf("%+v", b)
	}
}

// MobileNet v2's depthwise convolutions sit between an expansion and a
// projection; v3's have squeeze-and-excite between them and the projection.
func TestSeparableV2V3(t *testing.T) {
	for _, c := range []struct {
		arch   string
		blocks int
	}{{"mobilenet_v2", 17}, {"mobilenet_v3_small", 11}, {"mobilenet_v3_large", 15}} {
		tab, err := ExploreArch(c.arch)
		if err != nil {
			t.Fatal(err)
		}
		if len(tab.Blocks) != c.blocks {
			t.Errorf("%s: %d blocks, want %d", c.arch, len(tab.Blocks), c.blocks)
		}
		for _, b := range tab.Blocks {
			if math.Abs(b.Ratio-b.Formula) > 1e-12 {
				t.Errorf("%s %s: ratio %v, formula %v", c.arch, b.Depthwise, b.Ratio, b.Formula)
			}
		}
	}
	for _, arch := range []string{"lenet5", "lenet5_1998", "alexnet", "vgg16", "googlenet"} {
		tab, err := ExploreArch(arch)
		if err != nil {
			t.Fatal(err)
		}
		if len(tab.Blocks) != 0 {
			t.Errorf("%s has %d separable blocks", arch, len(tab.Blocks))
		}
	}
}

// The 1998 form's subsampling is an average pool and a coefficient and
// bias per channel: 6 channels, 12 parameters.
func TestExploreLeNet1998(t *testing.T) {
	tab, err := ExploreArch("lenet5_1998")
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range tab.Rows {
		if r.Name == "s2" && (r.Kind != KindScale || r.Params != 12) {
			t.Errorf("%+v", r)
		}
		if r.Name == "c1_act" && r.Act != "tanh" {
			t.Errorf("%+v", r)
		}
	}
}

func TestArchitectures(t *testing.T) {
	all, err := Architectures()
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != len(models.Names()) {
		t.Fatalf("%d papers for %d architectures", len(all), len(models.Names()))
	}
	for _, a := range all {
		if a.Params <= 0 || a.MACs <= 0 || a.Cite == "" || (a.Top1 > 0 && a.Table == "") {
			t.Errorf("%+v", a)
		}
	}
}
