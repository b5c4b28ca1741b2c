package learnui

import (
	"bytes"
	"strings"
	"testing"

	"github.com/glimpse-ml/glimpse/core/course"
	"github.com/glimpse-ml/glimpse/core/format"
	"github.com/glimpse-ml/glimpse/core/ir"
	"github.com/glimpse-ml/glimpse/models"
)

// TestKoreanErrors: the errors a student can meet on the course page,
// made by the code that makes them (the model file reader on bad files,
// the calculator on bad numbers, the class activation map on heads it
// cannot explain) or, for the browser runtime's, as it words them, read
// in Korean with no English sentence left and their file names and
// numbers kept.
func TestKoreanErrors(t *testing.T) {
	var errs []string
	add := func(err error) {
		t.Helper()
		if err == nil {
			t.Fatal("no error")
		}
		errs = append(errs, err.Error())
	}
	// Model files: not a model, truncated, corrupt weights.
	g, err := models.Build("lenet5", models.Options{})
	if err != nil {
		t.Fatal(err)
	}
	models.FillRandom(g, 1)
	var buf bytes.Buffer
	if err := format.Write(&buf, g, format.Options{}); err != nil {
		t.Fatal(err)
	}
	file := buf.Bytes()
	read := func(b []byte) error {
		_, err := format.Read(bytes.NewReader(b), int64(len(b)), "mine.glimpse")
		return err
	}
	add(read([]byte("PK\x03\x04 a zip file, not a model, long enough to hold a header")))
	add(read(file[:len(file)/2]))
	bad := bytes.Clone(file)
	bad[len(bad)-9] ^= 0x55
	add(read(bad))
	// The calculator.
	for _, c := range [][4]int{{0, 3, 0, 1}, {7, 0, 0, 1}, {7, 3, -1, 1}, {7, 3, 0, 0}} {
		_, err := course.OutputSize(c[0], c[1], c[2], c[3])
		add(err)
	}
	o, err := course.OutputSize(7, 3, 0, 1)
	if err != nil {
		t.Fatal(err)
	}
	_, err = o.Window(9)
	add(err)
	// Class activation maps: a backbone, a head that flattens, a hidden
	// layer after hard-swish (MobileNet v3's classifier).
	for _, arch := range []string{"lenet5", "mobilenet_v3_small"} {
		g, err := models.Build(arch, models.Options{})
		if err != nil {
			t.Fatal(err)
		}
		_, err = course.HeadOf(g)
		add(err)
	}
	bb := ir.New(ir.Shape{8, 8, 3})
	bb.Outputs = []string{bb.AddNode("gap", ir.GlobalAvgPool, []string{bb.Input}, nil, ir.Attrs{})}
	_, err = course.HeadOf(bb)
	add(err)
	// The browser runtime's own words (wasm/browser), as it writes them.
	errs = append(errs,
		"models/x.glimpse: could not fetch the model (TypeError: Failed to fetch)",
		"models/x.glimpse: the server answered HTTP 404 Not Found",
		"big.glimpse: larger than 512 MB, not a model Glimpse can load",
		"empty.glimpse: the file is empty",
		"photo.png: the browser could not decode it (InvalidStateError: The source image could not be decoded.)",
		"the image is 0x0 pixels: nothing to see",
		"NotAllowedError: Permission denied",
		"the camera sends no picture",
	)
	for _, e := range errs {
		ko := koError(e)
		if strings.HasPrefix(ko, "오류가 났습니다 (원문") || hasEnglish(ko) {
			t.Errorf("%q\n  reads %q", e, ko)
			continue
		}
		for _, keep := range []string{"mine.glimpse", "x.glimpse", "big.glimpse", "404", "512", "65536", "W=0", "F=0", "S=0", "-1", "fc3"} {
			if strings.Contains(e, keep) && !strings.Contains(ko, keep) {
				t.Errorf("%q lost %q: %q", e, keep, ko)
			}
		}
		t.Logf("%s\n    %s", e, ko)
	}
	// A message no rule knows is shown whole, marked as the original.
	if ko := koError("something nobody wrote a rule for"); !strings.Contains(ko, "something nobody wrote a rule for") {
		t.Errorf("unknown message: %q", ko)
	}
}
