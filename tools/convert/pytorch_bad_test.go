package convert

import (
	"archive/zip"
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// pickler writes the few pickle opcodes (protocol 2) a state_dict uses, to
// build hostile files by hand.
type pickler struct{ b []byte }

func (p *pickler) op(b ...byte) *pickler { p.b = append(p.b, b...); return p }

func (p *pickler) str(s string) *pickler {
	p.op('X')
	p.b = binary.LittleEndian.AppendUint32(p.b, uint32(len(s)))
	p.b = append(p.b, s...)
	return p
}

func (p *pickler) int(n int64) *pickler {
	if n >= math.MinInt32 && n <= math.MaxInt32 {
		p.op('J')
		p.b = binary.LittleEndian.AppendUint32(p.b, uint32(n))
		return p
	}
	p.op(0x8a, 8)
	p.b = binary.LittleEndian.AppendUint64(p.b, uint64(n))
	return p
}

func (p *pickler) global(module, name string) *pickler {
	p.op('c')
	p.b = append(p.b, module+"\n"+name+"\n"...)
	return p
}

func (p *pickler) ints(v []int64) *pickler {
	p.op('(')
	for _, n := range v {
		p.int(n)
	}
	return p.op('t')
}

// craftTensor is one state_dict entry of a crafted file: a float32 view
// (offset, size, stride) of storage key holding numel elements.
type craftTensor struct {
	key, storage string
	numel        int64
	offset       int64
	size, stride []int64
}

// statePickle pickles {key: tensor, ...} with persistent ids in the zip
// format's form (legacy adds a view field).
func statePickle(ts []craftTensor, legacy bool) []byte {
	p := (&pickler{}).op(0x80, 2, '}', '(')
	for _, t := range ts {
		p.str(t.key).global("torch._utils", "_rebuild_tensor_v2").op('(')
		p.op('(').str("storage").global("torch", "FloatStorage").str(t.storage).str("cpu").int(t.numel)
		if legacy {
			p.op('N')
		}
		p.op('t', 'Q').int(t.offset).ints(t.size).ints(t.stride).op(0x89, '}', 't', 'R')
	}
	return p.op('u', '.').b
}

// zipPth writes a zip-format .pth: archive/data.pkl and one entry per
// storage; a storage given a claimed size gets a deflated entry whose
// header claims that many bytes.
func zipPth(t *testing.T, pkl []byte, storages map[string][]byte, claims map[string]uint64) []byte {
	t.Helper()
	var buf bytes.Buffer
	w := zip.NewWriter(&buf)
	add := func(name string, data []byte) {
		f, err := w.CreateHeader(&zip.FileHeader{Name: name, Method: zip.Store})
		if err != nil {
			t.Fatal(err)
		}
		f.Write(data)
	}
	add("archive/data.pkl", pkl)
	for k, data := range storages {
		add("archive/data/"+k, data)
	}
	for k, n := range claims {
		f, err := w.CreateRaw(&zip.FileHeader{Name: "archive/data/" + k, Method: zip.Deflate,
			UncompressedSize64: n, CompressedSize64: 2})
		if err != nil {
			t.Fatal(err)
		}
		f.Write([]byte{3, 0}) // an empty final deflate block
	}
	add("archive/version", []byte("3\n"))
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// legacyPth writes a legacy-format .pth around an object pickle and its
// storages (key, element count, bytes).
func legacyPth(obj []byte, keys []string, counts []int64, data [][]byte) []byte {
	p := (&pickler{}).op(0x80, 2, 0x8a, 10)
	p.b = append(p.b, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19) // the magic number
	p.op('.')
	p.op(0x80, 2).int(1001).op('.')
	p.op(0x80, 2, '}', '.') // system information
	out := append(p.b, obj...)
	kp := (&pickler{}).op(0x80, 2, '(')
	for _, k := range keys {
		kp.str(k)
	}
	out = append(out, kp.op('l', '.').b...)
	for i := range keys {
		out = binary.LittleEndian.AppendUint64(out, uint64(counts[i]))
		out = append(out, data[i]...)
	}
	return out
}

func writeTemp(t *testing.T, name string, data []byte) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// allocatedDuring reports the bytes allocated while fn runs.
func allocatedDuring(fn func()) uint64 {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	fn()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// TestPyTorchHugeTensors feeds files whose tensors or storages claim 2^40
// elements: each is refused with the key and sizes named, before anything
// of that size is allocated.
func TestPyTorchHugeTensors(t *testing.T) {
	const huge = int64(1) << 40
	f4 := make([]byte, 4)
	cases := []struct {
		name, file string
		data       []byte
		want       []string
	}{
		{"storage larger than its entry", "a.pth", zipPth(t,
			statePickle([]craftTensor{{"conv1.weight", "0", huge, 0, []int64{huge}, []int64{1}}}, false),
			map[string][]byte{"0": f4}, nil),
			[]string{"a.pth", `storage "0" claims 1099511627776 elements`, "holds 4 bytes"}},
		{"tensor past its storage", "b.pth", zipPth(t,
			statePickle([]craftTensor{{"conv1.weight", "0", 1, 0, []int64{huge}, []int64{1}}}, false),
			map[string][]byte{"0": f4}, nil),
			[]string{"b.pth", "reaches past its storage of 1 elements"}},
		{"entry claiming 2^42 bytes", "c.pth", zipPth(t,
			statePickle([]craftTensor{{"conv1.weight", "0", huge, 0, []int64{huge}, []int64{1}}}, false),
			nil, map[string]uint64{"0": uint64(huge) * 4}),
			[]string{"c.pth", "conv1.weight is [1099511627776] in the file, [6 1 5 5] in lenet5", "missing conv1.bias [6]"}},
		{"shape that overflows", "d.pth", zipPth(t,
			statePickle([]craftTensor{{"conv1.weight", "0", 1, 0, []int64{huge, huge, huge}, []int64{1, 1, 1}}}, false),
			map[string][]byte{"0": f4}, nil),
			[]string{"d.pth", "overflows"}},
		{"legacy storage larger than the file", "e.pth", legacyPth(
			statePickle([]craftTensor{{"conv1.weight", "k", huge, 0, []int64{huge}, []int64{1}}}, true),
			[]string{"k"}, []int64{huge}, [][]byte{f4}),
			[]string{"e.pth", `storage "k" claims 1099511627776 elements of Float, more than the whole file holds`}},
		{"legacy storage count past the end", "f.pth", legacyPth(
			statePickle([]craftTensor{{"conv1.weight", "k", 1 << 20, 0, []int64{1}, []int64{1}}}, true),
			[]string{"k"}, []int64{1 << 20}, [][]byte{f4}),
			[]string{"f.pth", "truncated"}},
	}
	for _, c := range cases {
		path := writeTemp(t, c.file, c.data)
		var err error
		alloc := allocatedDuring(func() { _, err = FromPyTorch(path, "lenet5", 0, Options{}) })
		if err == nil {
			t.Errorf("%s: accepted", c.name)
			continue
		}
		for _, w := range c.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: error %q does not say %q", c.name, err, w)
			}
		}
		if alloc > 32<<20 {
			t.Errorf("%s: %d MB allocated before refusing", c.name, alloc>>20)
		}
	}
}

// TestPyTorchHostilePickles feeds pickles whose opcodes announce lengths
// the file does not have.
func TestPyTorchHostilePickles(t *testing.T) {
	u64 := func(op byte, n uint64) []byte {
		return binary.LittleEndian.AppendUint64([]byte{0x80, 2, op}, n)
	}
	cases := map[string][]byte{
		"BINUNICODE8 of 2^62 bytes": u64(0x8d, 1<<62),
		"BINBYTES8 of 2^40 bytes":   u64(0x8e, 1<<40),
		"FRAME of 2^40 bytes":       u64(0x95, 1<<40),
		"BINUNICODE of 2^31 bytes":  binary.LittleEndian.AppendUint32([]byte{0x80, 2, 'X'}, 1<<31-1),
		"LONG4 of negative length":  binary.LittleEndian.AppendUint32([]byte{0x80, 2, 0x8b}, 0xffffff00),
		"not an opcode":             {0x80, 2, 0xff},
		"no STOP":                   {0x80, 2, '}'},
		// gopickle panics on an OrderedDict keyed by bytes (unhashable in
		// Go): the panic is recovered.
		"unhashable key": append((&pickler{}).op(0x80, 2).global("collections", "OrderedDict").op(')', 'R').b,
			'C', 1, 'a', 'N', 's', '.'),
	}
	for name, pkl := range cases {
		for _, file := range [][]byte{zipPth(t, pkl, nil, nil), legacyPth(pkl, nil, nil, nil)} {
			path := writeTemp(t, "h.pth", file)
			var err error
			alloc := allocatedDuring(func() { _, err = FromPyTorch(path, "lenet5", 0, Options{}) })
			if err == nil || !strings.Contains(err.Error(), "h.pth") {
				t.Errorf("%s: error %v", name, err)
			}
			if name == "unhashable key" && !strings.Contains(err.Error(), "damaged pickle data") {
				t.Errorf("%s: error %v", name, err)
			}
			if alloc > 32<<20 {
				t.Errorf("%s: %d MB allocated before refusing", name, alloc>>20)
			}
		}
	}
}

// TestPyTorchTruncated cuts both formats at many points: each cut gives an
// error naming the file, never a panic.
func TestPyTorchTruncated(t *testing.T) {
	for _, name := range []string{"lenet5_legacy.pth", "lenet5_checkpoint.pth", "tiny_zip.pth", "tiny_legacy.pth"} {
		data, err := os.ReadFile(filepath.Join(pthFixtures, name))
		if err != nil {
			t.Fatal(err)
		}
		arch := "lenet5"
		cuts := []int{0, 1, 3, 4, 10, 17, 30, 100, 200, 400, len(data) / 4, len(data) / 2, len(data) * 3 / 4, len(data) - 100, len(data) - 22, len(data) - 1}
		for _, n := range cuts {
			if n < 0 || n >= len(data) {
				continue
			}
			path := writeTemp(t, "cut_"+name, data[:n])
			_, err := FromPyTorch(path, arch, 0, Options{})
			if err == nil || !strings.Contains(err.Error(), "cut_"+name) {
				t.Errorf("%s cut at %d of %d bytes: error %v", name, n, len(data), err)
				continue
			}
			if strings.HasPrefix(name, "lenet5") && !strings.Contains(err.Error(), "truncated") && !strings.Contains(err.Error(), "too short") {
				t.Errorf("%s cut at %d: error %q does not say the file is truncated", name, n, err)
			}
		}
	}
}

// TestPyTorchWrongArch loads MobileNetV3-small's file as other
// architectures: the error lists the keys with both shapes and says which
// architecture and width fit.
func TestPyTorchWrongArch(t *testing.T) {
	path := filepath.Join(pthFixtures, "mobilenet_v3_small.pth")
	_, err := FromPyTorch(path, "mobilenet_v2", 0, Options{})
	if err == nil {
		t.Fatal("loaded as mobilenet_v2")
	}
	for _, w := range []string{
		"mobilenet_v3_small.pth: the state_dict does not fit mobilenet_v2",
		"the file fits --arch mobilenet_v3_small",
		"features.0.0.weight is [16 3 3 3] in the file, [32 3 3 3] in mobilenet_v2",
		"missing features.1.conv.0.0.weight [32 1 3 3]",
		"unexpected features.1.block.0.0.weight [16 1 3 3]",
		"unexpected classifier.3.bias [10]",
	} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error does not say %q:\n%v", w, err)
		}
	}
	if strings.Contains(err.Error(), "\n") {
		t.Error("the error spans several lines")
	}
	_, err = FromPyTorch(path, "mobilenet_v3_small", 0.5, Options{})
	if err == nil || !strings.Contains(err.Error(), "at width 0.5") || !strings.Contains(err.Error(), "fits --arch mobilenet_v3_small)") {
		t.Errorf("width 0.5: %v", err)
	}
	_, err = FromPyTorch(path, "resnet50", 0, Options{})
	if err == nil || !strings.Contains(err.Error(), `unknown architecture "resnet50"`) || !strings.Contains(err.Error(), "mobilenet_v3_large") {
		t.Errorf("resnet50: %v", err)
	}
	lenet := filepath.Join(pthFixtures, "lenet5_legacy.pth")
	if _, err := FromPyTorch(lenet, "lenet5", 2, Options{}); err == nil || !strings.Contains(err.Error(), "no width multiplier") {
		t.Errorf("lenet5 at width 2: %v", err)
	}
}

// TestPyTorchNotAStateDict feeds files that are not state_dicts.
func TestPyTorchNotAStateDict(t *testing.T) {
	cases := map[string]struct {
		data []byte
		want string
	}{
		"png":        {[]byte("\x89PNG\r\n\x1a\n...."), "not a PyTorch file"},
		"plain":      {[]byte{0x80, 2, '}', '.'}, "not a torch.save file"},
		"empty":      {nil, "too short"},
		"list":       {zipPth(t, []byte{0x80, 2, ']', '.'}, nil, nil), "holds a list, not a state_dict"},
		"module":     {zipPth(t, (&pickler{}).op(0x80, 2).global("torchvision.models", "MobileNetV2").op(')', 0x81, '.').b, nil, nil), "a pickled torchvision.models.MobileNetV2 object"},
		"checkpoint": {zipPth(t, (&pickler{}).op(0x80, 2, '}').str("model").global("torchvision.models", "VGG").op(')', 0x81, 's', '.').b, nil, nil), `checkpoint's "model" holds a pickled torchvision.models.VGG object`},
		"no data.pkl": {func() []byte {
			var b bytes.Buffer
			w := zip.NewWriter(&b)
			w.Create("x/y")
			w.Close()
			return b.Bytes()
		}(), "without data.pkl"},
	}
	for name, c := range cases {
		path := writeTemp(t, name+".pth", c.data)
		_, err := FromPyTorch(path, "lenet5", 0, Options{})
		if err == nil || !strings.Contains(err.Error(), name+".pth") || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want %q", name, err, c.want)
		}
	}
	if _, err := FromPyTorch(filepath.Join(t.TempDir(), "absent.pth"), "lenet5", 0, Options{}); err == nil || !strings.Contains(err.Error(), "absent.pth") {
		t.Errorf("absent file: %v", err)
	}
}

// TestPyTorchTensorKinds reads every dtype and view the tiny fixtures
// hold, in both formats, against the values torch reads back.
func TestPyTorchTensorKinds(t *testing.T) {
	var want map[string]struct {
		Shape  []int64
		Values []float64
	}
	readJSON(t, filepath.Join(pthFixtures, "tiny.json"), &want)
	for _, name := range []string{"tiny_zip.pth", "tiny_legacy.pth"} {
		sd, err := openStateDict(filepath.Join(pthFixtures, name))
		if err != nil {
			t.Fatal(err)
		}
		if len(sd.tensors) != len(want) {
			t.Errorf("%s: %d tensors, want %d", name, len(sd.tensors), len(want))
		}
		for key, w := range want {
			tt := sd.tensors[key]
			if tt == nil {
				t.Errorf("%s: no %s", name, key)
				continue
			}
			got, err := sd.read(key, tt)
			if key == "count" {
				if err == nil || !strings.Contains(err.Error(), "Long") {
					t.Errorf("%s: int64 tensor read as weights: %v", name, err)
				}
				continue
			}
			if err != nil {
				t.Errorf("%s: %v", name, err)
				continue
			}
			for i, v := range w.Values {
				if float64(got[i]) != float64(float32(v)) {
					t.Errorf("%s %s[%d] = %v, torch %v", name, key, i, got[i], v)
				}
			}
		}
		sd.Close()
	}
}

// FuzzPyTorch feeds arbitrary bytes to the .pth reader: it may refuse
// them, but must not panic, hang or allocate without bound.
func FuzzPyTorch(f *testing.F) {
	for _, name := range []string{"tiny_zip.pth", "tiny_legacy.pth"} {
		data, err := os.ReadFile(filepath.Join(pthFixtures, name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
		f.Add(data[:len(data)/2])
	}
	f.Add(legacyPth(statePickle([]craftTensor{{"conv1.bias", "k", 6, 0, []int64{6}, []int64{1}}}, true),
		[]string{"k"}, []int64{6}, [][]byte{make([]byte, 24)}))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		path := filepath.Join(t.TempDir(), "fuzz.pth")
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		sd, err := openStateDict(path)
		if err != nil {
			return
		}
		defer sd.Close()
		for _, k := range sd.keys {
			if tt := sd.tensors[k]; tt != nil && tt.numel() <= 1<<16 {
				sd.read(k, tt)
			}
		}
		FromPyTorch(path, "lenet5", 0, Options{})
	})
}

// TestPyTorchKeysOfEveryArch matches the state_dict keys and shapes that
// torchvision's own models have (recorded from torch in
// models/testdata/*.json) for every architecture and width recorded at
// the default input size: they fit the architecture they came from, with
// batch norm's counters and GoogLeNet's auxiliary classifiers ignored,
// and named as another architecture they are refused with the right one
// suggested.
func TestPyTorchKeysOfEveryArch(t *testing.T) {
	files, err := filepath.Glob("../../models/testdata/*.json")
	if err != nil || len(files) == 0 {
		t.Fatalf("no torch references (%v)", err)
	}
	tested := map[string]bool{}
	for _, f := range files {
		var ref struct {
			Arch      string           `json:"arch"`
			Width     float64          `json:"width"`
			Input     int              `json:"input"`
			StateDict map[string][]int `json:"state_dict"`
		}
		readJSON(t, f, &ref)
		if (ref.Input != 224 && !strings.HasPrefix(ref.Arch, "lenet5")) || len(ref.StateDict) == 0 {
			continue // FromPyTorch builds at the default input size
		}
		sd := &stateDict{tensors: map[string]*ptTensor{}, others: map[string]string{}}
		add := func(key string, shape ...int) {
			tt := &ptTensor{}
			for _, d := range shape {
				tt.size = append(tt.size, int64(d))
			}
			sd.keys = append(sd.keys, key)
			sd.tensors[key] = tt
		}
		for key, shape := range ref.StateDict {
			add(key, shape...)
			if prefix, ok := strings.CutSuffix(key, ".running_mean"); ok {
				add(prefix + ".num_batches_tracked")
			}
		}
		if ref.Arch == "googlenet" {
			add("aux1.conv.conv.weight", 128, 512, 1, 1)
			add("aux2.fc2.bias", 1000)
		}
		g, err := pyTorchGraph(ref.Arch, ref.Width, sd)
		if err != nil {
			t.Fatal(err)
		}
		if err := matchKeys(g, sd, ref.Arch, ref.Width); err != nil {
			t.Errorf("%s: %v", filepath.Base(f), err)
		}
		tested[ref.Arch] = true

		wrong := "mobilenet_v2"
		if ref.Arch == wrong {
			wrong = "mobilenet_v3_large"
		}
		g, err = pyTorchGraph(wrong, 0, sd)
		if err != nil {
			t.Fatal(err)
		}
		hint := "the file fits --arch " + ref.Arch
		if ref.Width != 1 {
			hint += " --width " + strings.TrimRight(strings.TrimRight(fmt.Sprintf("%f", ref.Width), "0"), ".")
		}
		if err := matchKeys(g, sd, wrong, 0); err == nil || !strings.Contains(err.Error(), hint+")") {
			t.Errorf("%s as %s: error does not say %q: %.300v", filepath.Base(f), wrong, hint, err)
		}
	}
	for _, arch := range PyTorchArchs() {
		if !tested[arch] {
			t.Errorf("no torch reference tested %s", arch)
		}
	}
}
