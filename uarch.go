package simdconv

import (
	"fmt"
	"slices"
)

// A uarch is a kind of core, told apart by what the CPU reports (vendor,
// family, model, features), and the choices made for it: the AVX-512 tile
// and how much of each cache level the blocking uses (blocking.go).
//
// The shipped AVX-512 tile, 8×48, keeps 24 zmm accumulators (≥ 8 chains
// for two FMA pipes of latency 4) and per k step loads 3 vectors of B and
// broadcasts 8 floats of A: 11 loads per 24 FMAs. Its C tile is 1.5 KiB and
// each k step reads 224 bytes of packed A and B.
type uarch struct {
	name string
	rule string // what it matches, for -v
	fma  fmaModel
	// tile512 is the AVX-512 main tile; a kernel set of that tile must be
	// generated (asm/amd64). Zero on rows without AVX-512.
	tile512 tile
	// The A block takes 1/l2Part of L2 (the rest holds B slivers, C tiles
	// and the other hyperthread's data), the B panel 1/l3Part of the
	// core's L3 share.
	l2Part, l3Part int
	match          func(c cpuInfo) bool
}

// fmaModel is a core's FMA throughput: ports, each starting one FMA of
// bits a cycle.
type fmaModel struct{ ports, bits int }

func (f fmaModel) String() string {
	if f.ports == 0 {
		return "FMA ports unknown"
	}
	return fmt.Sprintf("%d×%d-bit FMA", f.ports, f.bits)
}

// intelServer are the Intel server cores with two 512-bit FMA ports:
// Skylake-SP, Cascade and Cooper Lake; Ice Lake-SP and -D; Sapphire,
// Emerald and Granite Rapids. (Model 0x55 also covers Core X and Xeon W
// parts, some with one port; CPUID does not tell them apart.) A
// hypervisor may report another model: one Xeon here reported 0xA7
// (Rocket Lake, a client core) with AMX, 2 MiB of L2 and BenchmarkPeak at
// two ports. AMX marks Sapphire Rapids and later whatever the model says.
var intelServer = []int{0x55, 0x6a, 0x6c, 0x8f, 0xcf, 0xad, 0xae}

func (c cpuInfo) intelServer() bool {
	return c.avx512 && (c.intel(6, intelServer) || c.vendor == "GenuineIntel" && c.amx)
}

// zen5Mobile reports the Zen 5 models with a 256-bit FP datapath (Strix
// Point, Krackan Point).
func zen5Mobile(model int) bool {
	return model >= 0x20 && model <= 0x2f || model >= 0x60 && model <= 0x6f
}

// uarchs is the table, first match wins; the last row matches every CPU.
// Today every row takes the one shipped AVX-512 tile and the model's
// fractions; each row's comment gives the model behind its choices, so
// that a measurement on that kind of core changes one row.
var uarchs = []uarch{
	// Two zmm FMAs a cycle need 0.9 loads a cycle of the tile, within two
	// load ports; the 2 MiB L2 of the later ones doubles mc.
	{name: "Intel Xeon, two 512-bit FMA ports", rule: "GenuineIntel family 6 model 0x55/0x6A/0x6C/0x8F/0xCF/0xAD/0xAE, or AMX; AVX-512",
		fma: fmaModel{2, 512}, tile512: tile{8, 48}, l2Part: 2, l3Part: 1,
		match: cpuInfo.intelServer},
	// Zen 5 mobile splits each zmm FMA in two, like Zen 4: 0.5 loads a
	// cycle.
	{name: "AMD Zen 5, 256-bit datapath", rule: "AuthenticAMD family 0x1A model 0x20-0x2F/0x60-0x6F, AVX-512",
		fma: fmaModel{2, 256}, tile512: tile{8, 48}, l2Part: 2, l3Part: 1,
		match: func(c cpuInfo) bool { return c.amd(0x1a) && c.avx512 && zen5Mobile(c.model) }},
	// Two zmm FMAs a cycle, 0.9 loads a cycle of the four it has.
	{name: "AMD Zen 5", rule: "AuthenticAMD family 0x1A, AVX-512",
		fma: fmaModel{2, 512}, tile512: tile{8, 48}, l2Part: 2, l3Part: 1,
		match: func(c cpuInfo) bool { return c.amd(0x1a) && c.avx512 }},
	// 512-bit instructions on a 256-bit datapath: one zmm FMA a cycle, so
	// the tile needs 0.5 loads a cycle of three.
	{name: "AMD Zen 4", rule: "AuthenticAMD family 0x19, AVX-512",
		fma: fmaModel{2, 256}, tile512: tile{8, 48}, l2Part: 2, l3Part: 1,
		match: func(c cpuInfo) bool { return c.amd(0x19) && c.avx512 }},
	// Client cores fuse their two 256-bit FMA ports into one for zmm:
	// one zmm FMA a cycle, as on Zen 4.
	{name: "Intel client, one 512-bit FMA port", rule: "GenuineIntel, AVX-512, not a server model above",
		fma: fmaModel{1, 512}, tile512: tile{8, 48}, l2Part: 2, l3Part: 1,
		match: func(c cpuInfo) bool { return c.vendor == "GenuineIntel" && c.avx512 }},
	// The AVX2 tile, 6×16, loads 2 vectors of B and broadcasts 6 floats
	// of A per 12 FMAs: 1.3 loads a cycle at two FMAs, within two load
	// ports; its C tile is 384 bytes.
	{name: "x86 with AVX2, no AVX-512", rule: "amd64 without AVX-512",
		fma: fmaModel{2, 256}, l2Part: 2, l3Part: 1,
		match: func(c cpuInfo) bool { return c.arch == "amd64" && !c.avx512 }},
	// The NEON tile, 8×12, loads 5 q registers per 24 FMLAs by element:
	// 0.4 loads a cycle at two 128-bit pipes, 0.8 at four; its C tile is
	// 384 bytes.
	{name: "arm64 NEON", rule: "arm64",
		fma: fmaModel{2, 128}, l2Part: 2, l3Part: 1,
		match: func(c cpuInfo) bool { return c.arch == "arm64" }},
	// Anything else, AVX-512 cores of other vendors included: the choices
	// of the measured rows, which suit cores with one or two FMA ports.
	{name: "unknown CPU", rule: "any",
		tile512: tile{8, 48}, l2Part: 2, l3Part: 1,
		match: func(cpuInfo) bool { return true }},
}

func (c cpuInfo) intel(family int, models []int) bool {
	return c.vendor == "GenuineIntel" && c.family == family && slices.Contains(models, c.model)
}

func (c cpuInfo) amd(family int) bool { return c.vendor == "AuthenticAMD" && c.family == family }

// uarchOf is the first row of uarchs that matches c.
func uarchOf(c cpuInfo) *uarch {
	for i := range uarchs {
		if uarchs[i].match(c) {
			return &uarchs[i]
		}
	}
	panic("simdconv: uarchs has no default row")
}

// thisUarch is this CPU's row.
var thisUarch = uarchOf(thisCPU)

// avx512Tile is the AVX-512 main tile of this CPU's row or, where AVX-512
// is not available, of the default row, for the kernel set that is built
// for every ISA.
func avx512Tile() tile {
	if t := thisUarch.tile512; t != (tile{}) {
		return t
	}
	return uarchs[len(uarchs)-1].tile512
}
