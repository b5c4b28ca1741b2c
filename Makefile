# Glimpse build. `make` builds the CLI and the static site (dist/), `make
# test` runs every test, `make serve` serves the site on 127.0.0.1:8080.
#
# The native CLI is built with GOEXPERIMENT=simd so that its AVX2/FMA
# kernels (core/kernels, simd/archsimd) are compiled in; without the
# experiment the pure-Go kernels run. The browser build is GOOS=js.

GO        ?= go
NPM       ?= npm
NODE      ?= node
SIMD      := GOEXPERIMENT=simd
WASM_ENV  := GOOS=js GOARCH=wasm
GOROOT    := $(shell $(GO) env GOROOT)
JS        := tools/js
NSFWJS    := build/nsfwjs
FUZZTIME  ?= 15s

GO_SOURCES := $(shell find core models tools wasm web -name '*.go' -not -path '*/node_modules/*') go.mod go.sum
STATIC     := $(wildcard web/static/*)
MODELS     := dist/models/mobilenet_v2_1.0_224.glimpse dist/models/mobilenet_v2_1.4_224.glimpse

.PHONY: all site serve test test-go test-wasm fuzz vet bench clean
.DELETE_ON_ERROR:

all: bin/glimpse site

bin/glimpse: $(GO_SOURCES)
	$(SIMD) $(GO) build -trimpath -o $@ ./tools/glimpse

# Node tooling: TF.js (references, benchmarks), the bundled nsfwjs models,
# Playwright. ONNX Runtime's post-install download is skipped: its npm
# package already ships the native library.
$(JS)/node_modules/.installed: $(JS)/package.json $(JS)/package-lock.json
	cd $(JS) && ONNXRUNTIME_NODE_INSTALL=skip $(NPM) ci --no-audit --no-fund
	touch $@

# nsfwjs bundles its models as base64 in JavaScript; write them back out in
# TF.js's standard layout (model.json + binary shards).
$(NSFWJS)/.decoded: $(JS)/node_modules/.installed $(JS)/decode-nsfwjs.js
	$(NODE) $(JS)/decode-nsfwjs.js $(NSFWJS)
	touch $@

# The default models are the pretrained backbones only: nsfwjs's classifier
# heads (content moderation) never ship.
dist/models/mobilenet_v2_1.0_224.glimpse: bin/glimpse $(NSFWJS)/.decoded
	@mkdir -p $(@D)
	bin/glimpse convert $(NSFWJS)/mobilenet_v2/model.json --drop-head --dtype f16 -o $@

dist/models/mobilenet_v2_1.4_224.glimpse: bin/glimpse $(NSFWJS)/.decoded
	@mkdir -p $(@D)
	bin/glimpse convert $(NSFWJS)/mobilenet_v2_mid/model.json --drop-head --dtype f16 -o $@

dist/glimpse.wasm: $(GO_SOURCES)
	@mkdir -p $(@D)
	$(WASM_ENV) $(GO) build -trimpath -ldflags=-s -o $@ ./wasm/glimpse

dist/wasm_exec.js: $(GOROOT)/lib/wasm/wasm_exec.js
	@mkdir -p $(@D)
	cp $< $@

dist/.static: $(STATIC)
	@mkdir -p dist
	cp $(STATIC) dist/
	touch $@

site: dist/glimpse.wasm dist/wasm_exec.js dist/.static $(MODELS)

serve: all
	bin/glimpse serve dist --addr 127.0.0.1:8080

vet:
	$(GO) vet ./...
	$(SIMD) $(GO) vet ./core/...
	$(WASM_ENV) $(GO) vet ./core/... ./models/... ./wasm/...

# Unit, reference and golden tests, natively with the pure-Go and the
# AVX2/FMA kernels; then the fuzzers for a short while each.
test: vet test-go fuzz

test-go: $(NSFWJS)/.decoded bin/glimpse
	$(GO) test ./...
	$(SIMD) $(GO) test ./core/... ./tools/...

fuzz:
	$(GO) test -run '^$$' -fuzz '^FuzzRead$$' -fuzztime $(FUZZTIME) ./core/format
	$(GO) test -run '^$$' -fuzz '^FuzzDecode$$' -fuzztime $(FUZZTIME) ./core/imageprep

bench: bin/glimpse $(MODELS)
	$(SIMD) $(GO) test -run '^$$' -bench . ./core/kernels
	bin/glimpse bench -m dist/models/mobilenet_v2_1.0_224.glimpse
	bin/glimpse bench -m dist/models/mobilenet_v2_1.0_224.glimpse --kernels go

clean:
	rm -rf bin dist build
