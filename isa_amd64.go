//go:build gc && !purego

package simdconv

import "golang.org/x/sys/cpu"

// cpuFeatures reports the features of kernelSpec.needs that this CPU and
// operating system support (x/sys/cpu checks that the OS saves the
// AVX-512 state, and honours GODEBUG=cpu.avx512=off).
func cpuFeatures() (f feature) {
	for _, c := range []struct {
		has bool
		f   feature
	}{
		{cpu.X86.HasAVX2, featAVX2},
		{cpu.X86.HasFMA, featFMA},
		{cpu.X86.HasPOPCNT, featPOPCNT},
		{cpu.X86.HasAVX512F, featAVX512F},
		{cpu.X86.HasAVX512VL, featAVX512VL},
	} {
		if c.has {
			f |= c.f
		}
	}
	return f
}
