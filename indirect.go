package simdconv

import (
	"fmt"
	"slices"
)

// The indirect kernels: a GEMM whose B is read from x through pointers
// rather than packed. A tile is mr output positions × nv vectors of
// output channels; each position is an offset into x and each reduction
// step (a channel and tap) a further offset, so a step broadcasts one
// float per position against nv vectors of the filter, each vector's
// weights a run of their own (a vector of channels a step). Strides, dilation
// and padding are all in the offsets. The outputs come out channel-
// interleaved, L channels a position (the depthwise kernels' layout, which
// DwcOut turns back into planes).

// IndirectTile is engine.IndirectTile.
func (driver) IndirectTile() (mr, lanes, nv int) {
	if kid := kernelSets[current].indirect; kid != noKernel {
		k := &kernelTable[kid]
		return k.mr, k.nr, k.per
	}
	return 0, 0, 0
}

// maxIndirectOffset bounds pos and off, so that their sums cannot wrap.
const maxIndirectOffset = 1 << 40

// Indirect is engine.Indirect. It panics unless the ISA has the kernel and
// y, x, pos, a, off and bias hold what it reads and writes.
func (d driver) Indirect(y []float32, ldy int, x []float32, pos []int, a []float32, lda int, off []int, nv int, bias []float32, add, relu bool) {
	mr, l, _ := d.IndirectTile()
	if mr == 0 {
		panic("simdconv: Indirect: no indirect kernel on ISA " + ISA())
	}
	if nv < 1 || nv > 1<<20 || len(pos)%mr != 0 || len(off) == 0 {
		panic(fmt.Sprintf("simdconv: Indirect: nv = %d, %d positions, %d steps: want 1 ≤ nv ≤ 2²⁰, positions a multiple of %d and a step",
			nv, len(pos), len(off), mr))
	}
	width := nv * l
	if ldy < len(pos)*l || !fits(len(y), nv, ldy, len(pos)*l) || lda < len(off)*l || !fits(len(a), nv, lda, len(off)*l) ||
		!add && len(bias) < width {
		panic(fmt.Sprintf("simdconv: Indirect: %d positions × %d channels: len(y) = %d at %d, len(a) = %d at %d, len(bias) = %d too short",
			len(pos), width, len(y), ldy, len(a), lda, len(bias)))
	}
	if len(pos) == 0 {
		return
	}
	pLo, pHi := slices.Min(pos), slices.Max(pos)
	oLo, oHi := slices.Min(off), slices.Max(off)
	if min(pLo, oLo) < -maxIndirectOffset || max(pHi, oHi) > maxIndirectOffset || pLo+oLo < 0 || pHi+oHi >= len(x) {
		panic(fmt.Sprintf("simdconv: Indirect: positions [%d, %d] plus steps [%d, %d] reach outside x (len %d)",
			pLo, pHi, oLo, oHi, len(x)))
	}
	callIndirect(kernelSets[current].indirect, y, ldy, x, pos, a, lda, off, nv, bias, add, relu)
}
