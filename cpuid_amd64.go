//go:build gc && !purego

package simdconv

// readCPU reads the vendor, family, model, AMX and caches with CPUID (the
// generated stub cpuid): Intel's leaf 4, AMD's leaf 0x8000001D where
// CPUID 0x80000001 ECX bit 22 (topology extensions) says it exists, else
// AMD's legacy leaves 0x80000005 and 0x80000006.
func readCPU() cpuInfo {
	maxLeaf, ebx, ecx, edx := cpuid(0, 0)
	c := cpuInfo{vendor: decodeVendor(ebx, ecx, edx)}
	if maxLeaf >= 1 {
		eax, _, _, _ := cpuid(1, 0)
		c.family, c.model, c.stepping = decodeSignature(eax)
	}
	if maxLeaf >= 7 {
		_, _, _, edx7 := cpuid(7, 0)
		c.amx = edx7&(1<<24) != 0 // AMX-TILE
	}
	maxExt, _, _, _ := cpuid(0x80000000, 0)
	switch {
	case c.vendor == "GenuineIntel" && maxLeaf >= 4:
		c.caches, c.source = cachesFromLeaves(cacheLeaves(4)), "CPUID leaf 4"
	case c.vendor == "AuthenticAMD" && maxExt >= 0x8000001d && hasTopologyExtensions():
		c.caches, c.source = cachesFromLeaves(cacheLeaves(0x8000001d)), "CPUID leaf 0x8000001D"
	case c.vendor == "AuthenticAMD" && maxExt >= 0x80000006:
		_, _, ecx5, _ := cpuid(0x80000005, 0)
		_, _, ecx6, edx6 := cpuid(0x80000006, 0)
		var ecx8 uint32
		if maxExt >= 0x80000008 {
			_, _, ecx8, _ = cpuid(0x80000008, 0)
		}
		c.caches, c.source = cachesFromAMDLegacy(ecx5, ecx6, edx6, ecx8), "CPUID leaves 0x80000005-6"
	}
	return c
}

func hasTopologyExtensions() bool {
	_, _, ecx, _ := cpuid(0x80000001, 0)
	return ecx&(1<<22) != 0
}

// cacheLeaves returns leaf's subleafs up to the first of type 0 (at most
// 16: a CPU that never reports one is broken).
func cacheLeaves(leaf uint32) [][3]uint32 {
	var regs [][3]uint32
	for sub := range uint32(16) {
		eax, ebx, ecx, _ := cpuid(leaf, sub)
		regs = append(regs, [3]uint32{eax, ebx, ecx})
		if eax&0x1f == cacheNone {
			break
		}
	}
	return regs
}
