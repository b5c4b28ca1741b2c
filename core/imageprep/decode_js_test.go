//go:build js

package imageprep

import (
	"image"
	"image/jpeg"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// mustDecode decodes a file of testdata with the standard decoders: the
// browser build has no decoder of its own (the browser decodes), and the
// fixtures the tests read under GOOS=js carry no EXIF orientation.
func mustDecode(t *testing.T, name string) image.Image {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var img image.Image
	if strings.HasSuffix(name, ".png") {
		img, err = png.Decode(f)
	} else {
		img, err = jpeg.Decode(f)
	}
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return img
}
