package main

import "testing"

// TestCommittedKernelsAreCurrent fails when core/kernels holds other files
// than this generator writes now (see asmgen.Generator.TestCurrent).
func TestCommittedKernelsAreCurrent(t *testing.T) { generator.TestCurrent(t) }
