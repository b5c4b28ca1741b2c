package main

import (
	"bytes"
	"compress/gzip"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// A file's gzip twin, when make wrote one and it is current, is what the
// server sends; a stale twin is ignored and the file compressed on the fly.
func TestServePrecompressed(t *testing.T) {
	dir := t.TempDir()
	body := bytes.Repeat([]byte("\x00asm wasm bytes "), 1000)
	if err := os.WriteFile(filepath.Join(dir, "p.wasm"), body, 0o644); err != nil {
		t.Fatal(err)
	}
	// The twin holds other bytes, so the test can tell which was sent.
	twin := []byte("the precompressed twin")
	var z bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&z, gzip.BestCompression)
	zw.Write(twin)
	zw.Close()
	gzPath := filepath.Join(dir, "p.wasm.gz")
	if err := os.WriteFile(gzPath, z.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(siteHandler(dir))
	defer srv.Close()
	get := func() []byte {
		t.Helper()
		req, _ := http.NewRequest("GET", srv.URL+"/p.wasm", nil)
		req.Header.Set("Accept-Encoding", "gzip")
		res, err := http.DefaultTransport.RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		if res.Header.Get("Content-Encoding") != "gzip" || res.Header.Get("Content-Type") != "application/wasm" {
			t.Fatalf("headers %v", res.Header)
		}
		zr, err := gzip.NewReader(res.Body)
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(zr)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	if got := get(); !bytes.Equal(got, twin) {
		t.Fatalf("current twin: got %q", got[:min(len(got), 40)])
	}
	old := time.Now().Add(-time.Hour)
	if err := os.Chtimes(gzPath, old, old); err != nil {
		t.Fatal(err)
	}
	if got := get(); !bytes.Equal(got, body) {
		t.Fatalf("stale twin: the file itself should be sent, got %q", got[:min(len(got), 40)])
	}
}
