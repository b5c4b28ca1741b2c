package kernels

// BestInt8 returns the fastest int8 implementation this build can run on
// this machine.
func BestInt8() Int8 {
	all := AvailableInt8()
	return all[len(all)-1]
}

// AvailableInt8 lists every int8 implementation this build can run here,
// the reference first; tests run each against the naive integer reference.
func AvailableInt8() []Int8 { return append([]Int8{Int8Go{}}, fastInt8()...) }
