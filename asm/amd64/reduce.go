package main

import (
	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

// hsum returns an xmm register whose lane 0 holds the sum of v's lanes,
// added in a fixed order: halves, then quarters, then pairs. evex selects
// the encodings that reach registers 16–31 (AVX-512F and VL); a zmm v
// implies it.
func hsum(v VecVirtual, evex bool) VecVirtual {
	y := v
	if v.Size() == 64 {
		hi := YMM()
		VEXTRACTF64X4(U8(1), v, hi)
		y = YMM()
		VADDPS(hi, v.AsY(), y)
		evex = true
	}
	hi, x := XMM(), XMM()
	if evex {
		VEXTRACTF32X4(U8(1), y, hi)
	} else {
		VEXTRACTF128(U8(1), y, hi)
	}
	VADDPS(hi, y.AsX(), x) // lanes l + l+4
	VMOVHLPS(x, x, hi)
	VADDPS(hi, x, x) // lanes 0+2, 1+3
	VMOVSHDUP(x, hi)
	VADDSS(hi, x, x)
	return x
}
