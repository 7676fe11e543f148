package simdconv

import "fmt"

// The channel-interleaved depthwise kernels: a block of L channels (a
// vector's lanes) laid out position by position, so that a filter tap is
// one vector of weights times one vector of inputs per output position,
// for any plane width, stride or padding. The layout costs a transpose of
// each plane in and of each result out (DwcIn, DwcOut); it pays where the
// plane stencils do not: small planes, strides and wide filters.

// DwcLanes is the channels a block for a layer of the given channels: the
// widest of the selected ISA's kernels, or of its fallback's (AVX-512 runs
// AVX2's 8-lane kernels where 16 does not divide the channels), whose
// lanes divide them; 0 if none does.
func (driver) DwcLanes(channels int) int {
	for isa := current; isa != isaGeneric; isa = isaFallback[isa] {
		if kid := kernelSets[isa].dwcConv[0]; kid != noKernel && channels%kernelTable[kid].nr == 0 {
			return kernelTable[kid].nr
		}
	}
	return 0
}

// dwcSet returns the kernel set, the selected ISA's or its fallback's,
// whose interleaved kernels have l lanes, or panics: the callers plan the
// layout only with what DwcLanes returned.
func dwcSet(l int, fn string) *kernelSet {
	for isa := current; isa != isaGeneric; isa = isaFallback[isa] {
		if kid := kernelSets[isa].dwcConv[0]; kid != noKernel && kernelTable[kid].nr == l {
			return &kernelSets[isa]
		}
	}
	panic(fmt.Sprintf("simdconv: %s: no channel-interleaved kernels of %d lanes on this ISA", fn, l))
}

// DwcIn is engine.DwcIn. It panics unless dst and src hold what it reads
// and writes.
func (driver) DwcIn(l int, dst, src []float32, rows, cols, ldr, lds, ldd, left, right int) {
	kid := dwcSet(l, "DwcIn").dwcIn
	if rows <= 0 {
		return
	}
	row := (left + cols + right) * l
	if cols < 1 || ldr < 0 || lds < 0 || left < 0 || right < 0 || !fits(len(dst), rows, ldd, row) ||
		!fits(len(src), l, lds, (rows-1)*ldr+cols) {
		panic(fmt.Sprintf("simdconv: DwcIn: %d rows of %d+%d+%d positions at %d, from %d planes of %d rows of %d, %d apart, at %d: outside len(dst) = %d, len(src) = %d",
			rows, left, cols, right, ldd, l, rows, cols, ldr, lds, len(dst), len(src)))
	}
	if cols < kernelTable[kid].mr {
		dwcInGeneric(dst, src, rows, cols, ldr, lds, ldd, left, right, l)
		return
	}
	callDwcIn(kid, dst, src, rows, cols, ldr, lds, ldd, left, right)
}

// dwcInGeneric is DwcIn for rows narrower than the ISA's kernel takes
// (kernelTable's mr: NEON's reads whole blocks of lanes).
func dwcInGeneric(dst, src []float32, rows, cols, ldr, lds, ldd, left, right, l int) {
	for r := range rows {
		row := dst[r*ldd:][:(left+cols+right)*l]
		clear(row)
		for j := range cols {
			for c := range l {
				row[(left+j)*l+c] = src[c*lds+r*ldr+j]
			}
		}
	}
}

// DwcOut is engine.DwcOut. It panics unless n ≥ L and dst and src hold
// what it reads and writes.
func (driver) DwcOut(l int, dst, src []float32, n, ldd int) {
	kid := dwcSet(l, "DwcOut").dwcOut
	if n < l || n > ldd || !fits(len(dst), l, ldd, n) || !fits(len(src), n, l, l) {
		panic(fmt.Sprintf("simdconv: DwcOut: %d positions of %d channels into planes %d apart: want n ≥ %d, len(dst) = %d and len(src) = %d enough",
			n, l, ldd, l, len(dst), len(src)))
	}
	callDwcOut(kid, dst, src, n, ldd)
}

// DwcConv is engine.DwcConv. It panics unless stride is 1 or 2, ystep at
// least 1, and y, x, w, off and bias hold what it reads and writes.
func (driver) DwcConv(l int, y, x, w []float32, off []int, rows, cols, ldx, stride, ldy, ystep int, bias []float32, relu bool) {
	if stride != 1 && stride != 2 {
		panic(fmt.Sprintf("simdconv: DwcConv: column stride %d, want 1 or 2", stride))
	}
	kid := dwcSet(l, "DwcConv").dwcConv[stride-1]
	if rows <= 0 || cols <= 0 {
		return
	}
	if len(off) == 0 || ystep < 1 || !fits(len(y), rows, ldy, ((cols-1)*ystep+1)*l) || len(w) < len(off)*l || len(bias) < l || ldx < 0 {
		panic(fmt.Sprintf("simdconv: DwcConv: %d taps, %d×%d outputs of %d channels at %d, step %d: len(y) = %d, len(w) = %d, len(bias) = %d too short",
			len(off), rows, cols, l, ldy, ystep, len(y), len(w), len(bias)))
	}
	checkDwcTaps("DwcConv", x, off, rows, cols, ldx, stride, l)
	callDwcConv(kid, y, x, w, off, rows, cols, ldx, ldy, ystep, bias, relu)
}

// DwcDots is engine.DwcDots, for any number of taps (the kernel takes a
// few at a time). It panics unless d, a, x and off hold what it reads and
// writes.
func (driver) DwcDots(l int, d, a, x []float32, off []int, rows, cols, ldx, stride int) {
	kid := dwcSet(l, "DwcDots").dwcDots
	if rows <= 0 || cols <= 0 || len(off) == 0 {
		return
	}
	if stride < 1 || ldx < 0 || !fits(len(d), len(off), l, l) || !fits(len(a), rows*cols, l, l) {
		panic(fmt.Sprintf("simdconv: DwcDots: %d taps, %d×%d positions of %d channels at stride %d: len(d) = %d, len(a) = %d too short",
			len(off), rows, cols, l, stride, len(d), len(a)))
	}
	checkDwcTaps("DwcDots", x, off, rows, cols, ldx, stride, l)
	per := kernelTable[kid].per
	for t0 := 0; t0 < len(off); t0 += per {
		callDwcDots(kid, d[t0*l:], a, x, off[t0:min(t0+per, len(off))], rows, cols, ldx, stride)
	}
}

// checkDwcTaps panics unless every tap's reads of x, rows of cols
// positions of l floats at a column stride, lie inside it.
func checkDwcTaps(fn string, x []float32, off []int, rows, cols, ldx, stride, l int) {
	end := (cols-1)*stride*l + l // a row's last position reads x this far past its tap
	for _, o := range off {
		if o < 0 || !fits(len(x), rows, ldx, o+end) {
			panic(fmt.Sprintf("simdconv: %s: tap offset %d past x (len %d) for %d rows %d apart of %d floats", fn, o, len(x), rows, ldx, end))
		}
	}
}
