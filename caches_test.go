package simdconv

import (
	"testing"
	"testing/fstest"

	"github.com/stretchr/testify/require"
)

// Register values of real CPUs' cache leaves, built from the documented
// layout (decodeCacheLeaf) and the caches each model has; the zero row ends
// the list.
var (
	// Intel Xeon Sapphire Rapids, 56 cores: leaf 4.
	leaf4SapphireRapids = [][3]uint32{
		{0xfc004121, 0x02c0003f, 0x3f},    // L1d 48 KiB 12-way, 2 threads
		{0xfc004122, 0x01c0003f, 0x3f},    // L1i 32 KiB 8-way
		{0xfc004143, 0x03c0003f, 0x7ff},   // L2 2 MiB 16-way
		{0xfc1fc163, 0x0380003f, 0x1bfff}, // L3 105 MiB 15-way, 128 threads
		{},
	}
	// AMD Zen 4 (EPYC 9004): leaf 0x8000001D.
	leaf1dZen4 = [][3]uint32{
		{0x4121, 0x01c0003f, 0x3f},    // L1d 32 KiB 8-way, 2 threads
		{0x4122, 0x01c0003f, 0x3f},    // L1i 32 KiB 8-way
		{0x4143, 0x01c0003f, 0x7ff},   // L2 1 MiB 8-way
		{0x3c163, 0x03c0003f, 0x7fff}, // L3 32 MiB 16-way, 16 threads
		{},
	}
	// AMD Zen 5 (EPYC 9005): leaf 0x8000001D.
	leaf1dZen5 = [][3]uint32{
		{0x4121, 0x02c0003f, 0x3f},    // L1d 48 KiB 12-way, 2 threads
		{0x4122, 0x01c0003f, 0x3f},    // L1i 32 KiB 8-way
		{0x4143, 0x03c0003f, 0x3ff},   // L2 1 MiB 16-way
		{0x3c163, 0x03c0003f, 0x7fff}, // L3 32 MiB 16-way, 16 threads
		{},
	}
)

func TestCachesFromLeaves(t *testing.T) {
	for _, tc := range []struct {
		name  string
		regs  [][3]uint32
		want  caches
		share int
	}{
		{"Sapphire Rapids leaf 4", leaf4SapphireRapids, caches{
			l1d: cache{48 << 10, 12, 2}, l2: cache{2 << 20, 16, 2}, l3: cache{105 << 20, 15, 128}}, 105 << 20 / 64},
		{"Zen 4 leaf 0x8000001D", leaf1dZen4, caches{
			l1d: cache{32 << 10, 8, 2}, l2: cache{1 << 20, 8, 2}, l3: cache{32 << 20, 16, 16}}, 4 << 20},
		{"Zen 5 leaf 0x8000001D", leaf1dZen5, caches{
			l1d: cache{48 << 10, 12, 2}, l2: cache{1 << 20, 16, 2}, l3: cache{32 << 20, 16, 16}}, 4 << 20},
		{"stops at type 0", [][3]uint32{leaf1dZen5[0], {}, leaf1dZen5[2]}, caches{l1d: cache{48 << 10, 12, 2}}, 0},
	} {
		got := cachesFromLeaves(tc.regs)
		require.Equal(t, tc.want, got, tc.name)
		if tc.share > 0 {
			require.Equal(t, tc.share, got.l3Share(), tc.name)
			require.Equal(t, got, got.sane(), "%s: sane changes reported caches", tc.name)
		}
	}
}

func TestCachesFromAMDLegacy(t *testing.T) {
	// A KVM guest on Zen 5 without topology extensions: its L3 field says
	// "see 0x8000001D" (ways 9), so the L3 is not reported.
	got := cachesFromAMDLegacy(0x300c0140, 0x04006140, 0x0fe09140, 0)
	require.Equal(t, caches{l1d: cache{48 << 10, 12, 1}, l2: cache{1 << 20, 8, 1}}, got)
	require.Equal(t, defaultCaches.l3, got.sane().l3)
	// Phenom II X6: L1d 64 KiB 2-way, L2 512 KiB 16-way, L3 6 MiB 48-way
	// shared by 6 cores.
	got = cachesFromAMDLegacy(0x40020140, 0x02008140, 0x0030b040, 5)
	require.Equal(t, caches{l1d: cache{64 << 10, 2, 1}, l2: cache{512 << 10, 16, 1}, l3: cache{6 << 20, 48, 6}}, got)
	require.Equal(t, 1<<20, got.l3Share())
}

func TestDecodeIdentity(t *testing.T) {
	require.Equal(t, "AuthenticAMD", decodeVendor(0x68747541, 0x444d4163, 0x69746e65))
	require.Equal(t, "GenuineIntel", decodeVendor(0x756e6547, 0x6c65746e, 0x49656e69))
	for _, tc := range []struct {
		eax                     uint32
		family, model, stepping int
	}{
		{0x00b00f21, 0x1a, 0x02, 1}, // Zen 5 (EPYC 9005)
		{0x00a10f11, 0x19, 0x11, 1}, // Zen 4 (EPYC 9004)
		{0x000806f8, 6, 0x8f, 8},    // Sapphire Rapids
		{0x000c06f2, 6, 0xcf, 2},    // Emerald Rapids
		{0x000a06d1, 6, 0xad, 1},    // Granite Rapids
		{0x00050657, 6, 0x55, 7},    // Cascade Lake
		{0x00000f48, 0xf, 0x04, 8},  // Pentium 4: extended family 0
		{0x00100f42, 0x10, 0x04, 2}, // Phenom II: family 0x10
		{0x00020652, 6, 0x25, 2},    // Westmere
		{0x00000543, 5, 0x04, 3},    // Pentium MMX: no extended model
	} {
		f, m, s := decodeSignature(tc.eax)
		require.Equal(t, [3]int{tc.family, tc.model, tc.stepping}, [3]int{f, m, s}, "%#x", tc.eax)
	}
}

func TestSysfsCaches(t *testing.T) {
	file := func(s string) *fstest.MapFile { return &fstest.MapFile{Data: []byte(s + "\n")} }
	// Neoverse N1 (Graviton 2), one index per level plus the L1i.
	fsys := fstest.MapFS{
		"index0/level": file("1"), "index0/type": file("Data"), "index0/size": file("64K"),
		"index0/ways_of_associativity": file("4"), "index0/shared_cpu_list": file("0"),
		"index1/level": file("1"), "index1/type": file("Instruction"), "index1/size": file("64K"),
		"index2/level": file("2"), "index2/type": file("Unified"), "index2/size": file("1024K"),
		"index2/ways_of_associativity": file("8"), "index2/shared_cpu_list": file("0"),
		"index3/level": file("3"), "index3/type": file("Unified"), "index3/size": file("32768K"),
		"index3/shared_cpu_list": file("0-63"),
	}
	got, ok := sysfsCaches(fsys)
	require.True(t, ok)
	require.Equal(t, caches{l1d: cache{64 << 10, 4, 1}, l2: cache{1 << 20, 8, 1}, l3: cache{32 << 20, 0, 64}}, got)
	require.Equal(t, l3ShareRange[0], got.l3Share(), "512 KiB a core, raised to the bound")

	_, ok = sysfsCaches(fstest.MapFS{})
	require.False(t, ok, "no caches described")
	_, ok = sysfsCaches(fstest.MapFS{"index0/level": file("1"), "index0/type": file("Data"), "index0/size": file("lots")})
	require.False(t, ok, "a size that does not parse")

	for list, n := range map[string]int{"0": 1, "0-3": 4, "0-3,8-11": 8, "0,2,4": 3, "": 0, "3-1": 0, "x": 0} {
		require.Equal(t, n, countCPUs(list), "%q", list)
	}
}

// TestCachesSane checks that what a hypervisor may report, nothing or
// nonsense, comes out as caches in range.
func TestCachesSane(t *testing.T) {
	require.Equal(t, defaultCaches, caches{}.sane())
	huge := caches{l1d: cache{1 << 30, 1000, 0}, l2: cache{1 << 30, 7, 1}, l3: cache{1 << 40, 16, 1}}.sane()
	require.Equal(t, caches{l1d: cache{256 << 10, 8, 1}, l2: cache{16 << 20, 16, 1}, l3: cache{512 << 20, 16, 1}}, huge)
	require.Equal(t, l3ShareRange[1], huge.l3Share())
	tiny := caches{l1d: cache{1 << 10, 2, 1}, l2: cache{4 << 10, 4, 1}, l3: cache{64 << 10, 4, 1}}.sane()
	require.Equal(t, caches{l1d: cache{16 << 10, 2, 1}, l2: cache{128 << 10, 4, 1}, l3: cache{512 << 10, 4, 1}}, tiny)
	thin := caches{l3: cache{8 << 20, 16, 64}}.sane()
	require.Equal(t, l3ShareRange[0], thin.l3Share())
}
