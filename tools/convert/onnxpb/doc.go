// Package onnxpb is the Go code protoc-gen-go generates from ONNX's
// protobuf schema (onnx.proto, copied here so that the generation is
// reproducible without ONNX installed). The ONNX front end in
// tools/convert decodes model and tensor files with it.
package onnxpb

//go:generate ./generate.sh
