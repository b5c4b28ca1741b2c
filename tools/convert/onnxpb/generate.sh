#!/bin/sh
# Regenerates onnx.pb.go from onnx.proto, the ONNX IR's protobuf schema.
#
# onnx.proto is a verbatim copy of onnx/onnx.proto from ONNX 1.12.0 as
# Debian's python3-onnx ships it (/usr/lib/python3/dist-packages/onnx/onnx.proto),
# with a provenance and licence header added above it. ONNX is
# Copyright (c) ONNX Project Contributors, licensed Apache-2.0 (the file's
# SPDX line; Debian's copyright file lists the project as Expat).
#
# Requirements: protoc (Debian protobuf-compiler, 3.21) and protoc-gen-go
# at the version go.mod pins:
#   apt-get install -y protobuf-compiler
#   go install google.golang.org/protobuf/cmd/protoc-gen-go@v1.36.12
#
# Run from this directory (go generate does so): ./generate.sh
# To refresh the schema from an installed python3-onnx first:
#   ./generate.sh --copy /usr/lib/python3/dist-packages/onnx/onnx.proto
set -eu
cd "$(dirname "$0")"

if [ "${1:-}" = "--copy" ]; then
	src=$2
	version=$(dpkg-query -W -f '${Version}' python3-onnx 2>/dev/null || echo unknown)
	{
		echo "// Copied verbatim below the next blank line from onnx/onnx.proto of ONNX"
		echo "// (Debian python3-onnx $version). Copyright (c) ONNX Project Contributors;"
		echo "// licensed Apache-2.0, see https://github.com/onnx/onnx/blob/main/LICENSE."
		echo "// Regenerate the Go code with generate.sh in this directory."
		echo
		cat "$src"
	} >onnx.proto
fi

PATH="$(go env GOPATH)/bin:$PATH"
protoc --proto_path=. \
	--go_out=. --go_opt=paths=source_relative \
	--go_opt=Monnx.proto=github.com/glimpse-ml/glimpse/tools/convert/onnxpb \
	onnx.proto
