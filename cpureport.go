package simdconv

import (
	"fmt"
	"strings"
)

// CPUInfo describes, for diagnostics, what this package read about the CPU
// and chose from it: the vendor, family and model, the microarchitecture
// row matched, the caches (as reported, and as used), and the blocking of
// each available ISA. The text is for people; its format may change.
func CPUInfo() string {
	var b strings.Builder
	writeCPUInfo(&b, thisCPU, thisUarch, thisCaches)
	for _, id := range isaPreference {
		if available[id] {
			fmt.Fprintf(&b, "blocking %s: %v\n", isaNames[id], blockings[id])
		}
	}
	return b.String()
}

func writeCPUInfo(b *strings.Builder, c cpuInfo, u *uarch, used caches) {
	id := c.arch
	if c.vendor != "" {
		id = fmt.Sprintf("%s family %d (%#x) model %d (%#x) stepping %d, %s", c.vendor, c.family, c.family, c.model, c.model, c.stepping, c.arch)
	}
	ext := ""
	if c.avx512 {
		ext = ", AVX-512"
	}
	if c.amx {
		ext += ", AMX"
	}
	fmt.Fprintf(b, "cpu: %s%s\n", id, ext)
	fmt.Fprintf(b, "uarch: %s: %v; matched: %s\n", u.name, u.fma, u.rule)
	if c.source == "" {
		fmt.Fprintf(b, "caches read: none on this platform\n")
	} else {
		fmt.Fprintf(b, "caches read from %s: %v\n", c.source, c.caches)
	}
	fmt.Fprintf(b, "caches used (defaults for what was not read, sizes clamped): %v; L3 share a core %s\n", used, size(used.l3Share()))
}

func (c caches) String() string {
	return fmt.Sprintf("L1d %v; L2 %v; L3 %v", c.l1d, c.l2, c.l3)
}

func (c cache) String() string {
	if c.size == 0 {
		return "not reported"
	}
	s := size(c.size)
	if c.ways > 0 {
		s += fmt.Sprintf(" %d-way", c.ways)
	}
	if c.sharing > 0 {
		s += fmt.Sprintf(", shared by %d", c.sharing)
	}
	return s
}

func size(n int) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d B", n)
}

func (b blocking) String() string {
	return fmt.Sprintf("mr %d, nr %d, mc %d, kc %d, nc %d; past mc rows kc %d, and from C of %s kc %d",
		b.mr, b.nr, b.mc, b.kc, b.nc, b.wideKC, size(4*bigC), b.bigKC)
}
