package simdconv

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestCPUInfo checks that CPUInfo names the row matched and gives the
// blocking of every available ISA, and how the caches of a recorded CPU
// read.
func TestCPUInfo(t *testing.T) {
	s := CPUInfo()
	require.Contains(t, s, "uarch: "+thisUarch.name)
	for _, name := range ISAs() {
		require.Contains(t, s, "blocking "+name+": ")
	}
	var b strings.Builder
	zen5 := cpuInfo{vendor: "AuthenticAMD", family: 0x1a, model: 2, stepping: 1, arch: "amd64", avx512: true,
		caches: cachesFromLeaves(leaf1dZen5), source: "CPUID leaf 0x8000001D"}
	writeCPUInfo(&b, zen5, uarchOf(zen5), zen5.caches.sane())
	require.Equal(t, `cpu: AuthenticAMD family 26 (0x1a) model 2 (0x2) stepping 1, amd64, AVX-512
uarch: AMD Zen 5: 2×512-bit FMA; matched: AuthenticAMD family 0x1A, AVX-512
caches read from CPUID leaf 0x8000001D: L1d 48 KiB 12-way, shared by 2; L2 1 MiB 16-way, shared by 2; L3 32 MiB 16-way, shared by 16
caches used (defaults for what was not read, sizes clamped): L1d 48 KiB 12-way, shared by 2; L2 1 MiB 16-way, shared by 2; L3 32 MiB 16-way, shared by 16; L3 share a core 4 MiB
`, b.String())
}
