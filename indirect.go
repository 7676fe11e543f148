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
// DwcOut turns back into planes), each position at the place in y that
// ypos gives.

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
// y, ypos, x, pos, a, off and bias hold what it reads and writes.
func (d driver) Indirect(y []float32, ldy int, ypos []int, x []float32, pos []int, a []float32, lda int, off []int, nv int, bias []float32, add, relu bool) {
	mr, l, _ := d.IndirectTile()
	if mr == 0 {
		panic("simdconv: Indirect: no indirect kernel on ISA " + ISA())
	}
	if nv < 1 || nv > 1<<20 || len(pos)%mr != 0 || len(ypos) != len(pos) || len(off) == 0 {
		panic(fmt.Sprintf("simdconv: Indirect: nv = %d, %d positions at %d places, %d steps: want 1 ≤ nv ≤ 2²⁰, positions a multiple of %d, a place each and a step",
			nv, len(pos), len(ypos), len(off), mr))
	}
	if len(pos) == 0 {
		return
	}
	yLo, yHi := slices.Min(ypos), slices.Max(ypos)
	width, row := nv*l, 0
	if yLo >= 0 && yHi < maxIndirectOffset {
		row = (yHi + 1) * l // of a vector's outputs
	}
	if row == 0 || ldy < row || !fits(len(y), nv, ldy, row) || lda < len(off)*l || !fits(len(a), nv, lda, len(off)*l) ||
		!add && len(bias) < width {
		panic(fmt.Sprintf("simdconv: Indirect: places [%d, %d] × %d channels: len(y) = %d at %d, len(a) = %d at %d, len(bias) = %d too short",
			yLo, yHi, width, len(y), ldy, len(a), lda, len(bias)))
	}
	pLo, pHi := slices.Min(pos), slices.Max(pos)
	oLo, oHi := slices.Min(off), slices.Max(off)
	if min(pLo, oLo) < -maxIndirectOffset || max(pHi, oHi) > maxIndirectOffset || pLo+oLo < 0 || pHi+oHi >= len(x) {
		panic(fmt.Sprintf("simdconv: Indirect: positions [%d, %d] plus steps [%d, %d] reach outside x (len %d)",
			pLo, pHi, oLo, oHi, len(x)))
	}
	callIndirect(kernelSets[current].indirect, y, ldy, ypos, x, pos, a, lda, off, nv, bias, add, relu)
}
