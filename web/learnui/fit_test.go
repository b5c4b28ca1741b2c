package learnui

import (
	"bytes"
	"testing"

	"github.com/glimpse-ml/glimpse/core/format"
	"github.com/glimpse-ml/glimpse/models"
)

// TestNeed: the weights counted from a file's header alone (the first
// bytes of the file) are the numbers torchvision's state_dict holds, and the estimate against the limits picks the least.
func TestNeed(t *testing.T) {
	g, err := models.Build("googlenet", models.Options{})
	if err != nil {
		t.Fatal(err)
	}
	models.FillRandom(g, 1)
	var buf bytes.Buffer
	if err := format.Write(&buf, g, format.Options{DType: "f16"}); err != nil {
		t.Fatal(err)
	}
	file := buf.Bytes()
	// A prefix too short for the header says so; the header is enough.
	short := &prefixReader{b: file[:64]}
	if _, err := format.Inspect(short, int64(len(file)), "googlenet.glimpse"); err == nil || !short.short {
		t.Fatalf("64 bytes: %v, short %v", err, short.short)
	}
	r := &prefixReader{b: file[:1<<20]}
	info, err := format.Inspect(r, int64(len(file)), "googlenet.glimpse")
	if err != nil || r.short {
		t.Fatalf("1 MB of %d: %v", len(file), err)
	}
	n := needOf(info, int64(len(file)))
	// torchvision.models.googlenet(aux_logits=False).state_dict(): every
	// floating-point tensor's numel, its 6,624,904 parameters and the batch
	// norms' running means and variances, all held once loaded
	const googlenet = 6639464
	if n.Params != googlenet || n.Weights != 4*googlenet || n.Total != int64(len(file))+8*googlenet+activationAllowance {
		t.Fatalf("need %+v", n)
	}
	for _, c := range []struct {
		used, device, heap, limit int64
		by                        string
	}{
		{0, 0, 0, wasmLimit, "wasm"},
		{1 << 30, 0, 0, 3 << 30, "wasm"},
		{0, 4 << 30, 0, 2 << 30, "device"},
		{0, 4 << 30, 1 << 30, 1 << 30, "heap"},
		{0, 16 << 30, 0, wasmLimit, "wasm"},
	} {
		if b := budgetOf(c.used, c.device, c.heap); b.Limit != c.limit || b.By != c.by {
			t.Errorf("used %d, device %d, heap %d: %+v", c.used, c.device, c.heap, b)
		}
	}
}
