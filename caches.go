package simdconv

import (
	"fmt"
	"io/fs"
	"strconv"
	"strings"
)

// cache is one level of data cache as the CPU reports it; a zero field is
// one it did not report.
type cache struct {
	size    int // bytes
	ways    int
	sharing int // logical CPUs that share it
}

// caches are the data caches of the core that runs the kernels.
type caches struct{ l1d, l2, l3 cache }

// defaultCaches stand in for what the CPU does not report: common sizes of
// the last decade's cores, so that the blocking derived from them runs well
// on any of them.
var defaultCaches = caches{
	l1d: cache{size: 32 << 10, ways: 8, sharing: 1},
	l2:  cache{size: 1 << 20, ways: 16, sharing: 1},
	l3:  cache{size: 2 << 20, ways: 16, sharing: 1},
}

// Sane ranges of each level: a hypervisor may report 0, or a size no core
// has; past a bound the value is clamped (or, when 0, defaulted).
var cacheRanges = [3][2]int{{16 << 10, 256 << 10}, {128 << 10, 16 << 20}, {512 << 10, 512 << 20}}

// sane is c with every unreported field defaulted and every size clamped
// to its level's range; ways outside 2–64 count as unreported.
func (c caches) sane() caches {
	lv := [3]*cache{&c.l1d, &c.l2, &c.l3}
	def := [3]cache{defaultCaches.l1d, defaultCaches.l2, defaultCaches.l3}
	for i, l := range lv {
		if l.size <= 0 {
			*l = def[i]
		}
		l.size = min(max(l.size, cacheRanges[i][0]), cacheRanges[i][1])
		if l.ways < 2 || l.ways > 64 || l.size%l.ways != 0 {
			l.ways = def[i].ways
		}
		if l.sharing <= 0 || l.sharing > 4096 {
			l.sharing = 1
		}
	}
	return c
}

// threadsPerCore is how many logical CPUs share a core: those that share
// its L1d.
func (c caches) threadsPerCore() int { return max(1, c.l1d.sharing) }

// l3Share is one core's share of the L3: the L3 divided among the cores
// that share it, each with all its logical CPUs; within l3ShareRange.
func (c caches) l3Share() int {
	cores := max(1, c.l3.sharing/c.threadsPerCore())
	return min(max(c.l3.size/cores, l3ShareRange[0]), l3ShareRange[1])
}

// l3ShareRange bounds a core's share of the L3: a guest told of a whole
// socket's L3 as its own, or of a stacked-die L3, would otherwise size B
// panels that other cores' data evicts, and one told of a thin slice
// panels of a few columns.
var l3ShareRange = [2]int{1 << 20, 16 << 20}

// The cache types of CPUID leaf 4 and 0x8000001D.
const (
	cacheNone    = 0
	cacheData    = 1
	cacheUnified = 3
)

// decodeCacheLeaf decodes one subleaf of Intel's deterministic cache
// parameters (leaf 4), whose layout AMD's leaf 0x8000001D shares: EAX[4:0]
// type, EAX[7:5] level, EAX[25:14] logical CPUs sharing it − 1; EBX[11:0]
// line size − 1, EBX[21:12] partitions − 1, EBX[31:22] ways − 1; ECX sets − 1.
func decodeCacheLeaf(eax, ebx, ecx uint32) (typ, level int, c cache) {
	typ, level = int(eax&0x1f), int(eax>>5&7)
	line, parts, ways := int(ebx&0xfff)+1, int(ebx>>12&0x3ff)+1, int(ebx>>22)+1
	sets := int(ecx) + 1
	return typ, level, cache{size: ways * parts * line * sets, ways: ways, sharing: int(eax>>14&0xfff) + 1}
}

// cachesFromLeaves reads the data caches from the subleafs of leaf 4 or
// 0x8000001D, in order, up to the first of type 0.
func cachesFromLeaves(subleafs [][3]uint32) caches {
	var c caches
	for _, r := range subleafs {
		typ, level, l := decodeCacheLeaf(r[0], r[1], r[2])
		if typ == cacheNone {
			break
		}
		if typ != cacheData && typ != cacheUnified {
			continue
		}
		switch level {
		case 1:
			c.l1d = l
		case 2:
			c.l2 = l
		case 3:
			c.l3 = l
		}
	}
	return c
}

// amdLegacyWays decodes the associativity field of leaf 0x80000006; 0xF is
// fully associative and counts as unknown.
var amdLegacyWays = [16]int{1: 1, 2: 2, 3: 3, 4: 4, 5: 6, 6: 8, 8: 16, 0xA: 32, 0xB: 48, 0xC: 64, 0xD: 96, 0xE: 128}

// cachesFromAMDLegacy decodes AMD's leaves from before 0x8000001D:
// 0x80000005 ECX (L1d: [31:24] KiB, [23:16] ways), 0x80000006 ECX (L2:
// [31:16] KiB, [15:12] ways encoded) and EDX (L3: [31:18] in 512 KiB,
// [15:12] ways encoded), whose L3 the package's cores (0x80000008 ECX[7:0]
// + 1) share. A level whose ways field is 0 is absent, and one of 9 says
// that only 0x8000001D describes it: both leave it unreported.
func cachesFromAMDLegacy(ecx5, ecx6, edx6, ecx8 uint32) caches {
	level := func(size int, waysField uint32, sharing int) cache {
		if waysField == 0 || waysField == 9 {
			return cache{}
		}
		return cache{size: size, ways: amdLegacyWays[waysField], sharing: sharing}
	}
	return caches{
		l1d: cache{size: int(ecx5>>24) << 10, ways: int(ecx5 >> 16 & 0xff), sharing: 1},
		l2:  level(int(ecx6>>16)<<10, ecx6>>12&0xf, 1),
		l3:  level(int(edx6>>18)<<19, edx6>>12&0xf, int(ecx8&0xff)+1),
	}
}

// sysfsCaches reads Linux's description of a CPU's caches, the directory
// /sys/devices/system/cpu/cpuN/cache: index*/level, type ("Data",
// "Unified", "Instruction") and size ("48K"), and where present
// ways_of_associativity and shared_cpu_list. It reports whether it found
// an L1d.
func sysfsCaches(fsys fs.FS) (caches, bool) {
	var c caches
	dirs, _ := fs.Glob(fsys, "index*")
	for _, d := range dirs {
		read := func(name string) string {
			b, _ := fs.ReadFile(fsys, d+"/"+name)
			return strings.TrimSpace(string(b))
		}
		typ := read("type")
		if typ != "Data" && typ != "Unified" {
			continue
		}
		size, err := parseCacheSize(read("size"))
		if err != nil {
			continue
		}
		ways, _ := strconv.Atoi(read("ways_of_associativity"))
		l := cache{size: size, ways: ways, sharing: countCPUs(read("shared_cpu_list"))}
		switch read("level") {
		case "1":
			c.l1d = l
		case "2":
			c.l2 = l
		case "3":
			c.l3 = l
		}
	}
	return c, c.l1d.size > 0
}

// parseCacheSize parses sysfs's sizes: "512", "48K", "2M".
func parseCacheSize(s string) (int, error) {
	unit := 1
	switch {
	case strings.HasSuffix(s, "K"):
		unit, s = 1<<10, s[:len(s)-1]
	case strings.HasSuffix(s, "M"):
		unit, s = 1<<20, s[:len(s)-1]
	}
	n, err := strconv.Atoi(s)
	if err != nil || n <= 0 {
		return 0, fmt.Errorf("cache size %q", s)
	}
	return n * unit, nil
}

// countCPUs counts the CPUs of a list such as "0-3,8-11"; 0 if it is
// empty or malformed.
func countCPUs(list string) int {
	n := 0
	for _, part := range strings.Split(list, ",") {
		lo, hi, isRange := strings.Cut(part, "-")
		a, err := strconv.Atoi(lo)
		if err != nil {
			return 0
		}
		b := a
		if isRange {
			if b, err = strconv.Atoi(hi); err != nil || b < a {
				return 0
			}
		}
		n += b - a + 1
	}
	return n
}
