package main

import (
	"compress/gzip"
	"flag"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"strings"
)

func runServe(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	addr := fs.String("addr", "127.0.0.1:8080", "address to listen on")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	dir := "dist"
	switch len(pos) {
	case 0:
	case 1:
		dir = pos[0]
	default:
		return fmt.Errorf("want at most one DIR")
	}
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		return fmt.Errorf("%s: not a directory (run make first to build the site)", dir)
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "serving %s on http://%s/\n", dir, ln.Addr())
	return http.Serve(ln, siteHandler(dir))
}

// siteHandler serves a static directory the way the app needs: wasm with
// its own MIME type (browsers refuse to stream-compile it otherwise),
// gzip for text and wasm, and revalidation on every load so a new build is
// seen at once (the service worker does the offline caching).
func siteHandler(dir string) http.Handler {
	files := http.FileServer(http.Dir(dir))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ext := filepath.Ext(r.URL.Path)
		switch ext {
		case ".wasm":
			w.Header().Set("Content-Type", "application/wasm")
		case ".glimpse":
			w.Header().Set("Content-Type", "application/octet-stream")
		case ".js", ".mjs":
			w.Header().Set("Content-Type", "text/javascript; charset=utf-8")
		case ".webmanifest":
			w.Header().Set("Content-Type", "application/manifest+json")
		default:
			if t := mime.TypeByExtension(ext); t != "" {
				w.Header().Set("Content-Type", t)
			}
		}
		w.Header().Set("Cache-Control", "no-cache")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		compressible := ext == "" || strings.Contains(".html.js.mjs.css.json.wasm.svg.webmanifest.txt.glimpse", ext)
		if !compressible || !strings.Contains(r.Header.Get("Accept-Encoding"), "gzip") || r.Header.Get("Range") != "" {
			files.ServeHTTP(w, r)
			return
		}
		w.Header().Set("Content-Encoding", "gzip")
		w.Header().Add("Vary", "Accept-Encoding")
		if servePrecompressed(w, r, http.Dir(dir)) {
			return
		}
		gw := &gzipWriter{ResponseWriter: w, gz: gzip.NewWriter(w)}
		files.ServeHTTP(gw, r)
		if !gw.bodiless {
			gw.gz.Close()
		}
	})
}

// servePrecompressed sends FILE.gz for FILE when make wrote one (the
// course's program, compressed once at build time with gzip -9, as static
// hosts do with gzip_static) and it is not older than FILE: compressing
// megabytes of WebAssembly on every request costs the page a second on a
// busy machine. It reports whether it answered.
func servePrecompressed(w http.ResponseWriter, r *http.Request, root http.Dir) bool {
	name := path.Clean("/" + r.URL.Path)
	if strings.HasSuffix(name, "/") || path.Ext(name) == ".gz" {
		return false
	}
	orig, err := root.Open(name)
	if err != nil {
		return false
	}
	defer orig.Close()
	gz, err := root.Open(name + ".gz")
	if err != nil {
		return false
	}
	defer gz.Close()
	fi, err1 := orig.Stat()
	gs, err2 := gz.Stat()
	if err1 != nil || err2 != nil || fi.IsDir() || gs.IsDir() || gs.ModTime().Before(fi.ModTime()) {
		return false
	}
	http.ServeContent(w, r, name, fi.ModTime(), gz)
	return true
}

// gzipWriter sends the body through gzip; the length changes, so the
// file server's Content-Length must go.
// A 304 or 204 must carry no body, not even an empty gzip stream.
type gzipWriter struct {
	http.ResponseWriter
	gz       *gzip.Writer
	bodiless bool
}

func (g *gzipWriter) WriteHeader(status int) {
	g.Header().Del("Content-Length")
	if status == http.StatusNotModified || status == http.StatusNoContent {
		g.bodiless = true
		g.Header().Del("Content-Encoding")
	}
	g.ResponseWriter.WriteHeader(status)
}

func (g *gzipWriter) Write(b []byte) (int, error) {
	g.Header().Del("Content-Length")
	return g.gz.Write(b)
}
