package simdconv

import (
	"fmt"

	"github.com/simdconv/simdconv/internal/engine"
)

// Depthwise convolution has one input and one output channel per filter,
// so it is no matrix product. Over a zero-padded plane read at positions
// p·W'+q, each filter tap is a shift of the plane, and its passes are a
// stencil (forward, backward-data) or one dot product per tap
// (backward-filter).

// Stencil sets y[i] = bias + Σ_t w[t]·x[off[t]+i] for i < n, and writes y
// up to n rounded up to a multiple of engine.Slack. It panics unless y, w,
// off and x hold what that reads and writes. The depthwise passes call it
// once a plane, so the ISA's kernel is called from here, a frame fewer.
func (d driver) Stencil(y, x, w []float32, off []int, n int, bias float32) {
	b := [1]float32{bias}
	d.StencilPlanes(y, x, w, off, n, 1, 0, 0, 0, b[:])
}

// StencilPlanes is Stencil on planes planes in turn: for c < planes,
// y[c·ldy+i] = bias[c] + Σ_t w[c·ldw+t]·x[c·ldx+off[t]+i] for i < n (bias
// nil: 0, for at most engine.MaxPlanes planes). Each
// plane writes y up to n rounded up to a multiple of engine.Slack, which
// the next plane overwrites where ldy is shorter; n ≤ ldy keeps every
// plane's n outputs. It panics unless the operands hold what that reads
// and writes.
func (driver) StencilPlanes(y, x, w []float32, off []int, n, planes, ldy, ldx, ldw int, bias []float32) {
	if n < 0 || n > len(y) || planes < 1 || planes > 1 && n > ldy { // before rounding n up, which could overflow
		panic(fmt.Sprintf("simdconv: Stencil: n = %d, planes = %d, ldy = %d, want 0 ≤ n ≤ len(y) = %d, planes ≥ 1 and n ≤ ldy", n, planes, ldy, len(y)))
	}
	if bias == nil && planes <= engine.MaxPlanes {
		bias = zeroBias[:planes]
	}
	np := roundUp(n, engine.Slack)
	for _, o := range off {
		if o < 0 || !fits(len(x), planes, ldx, o+np) {
			panic(fmt.Sprintf("simdconv: Stencil: offset %d + %d floats in %d planes %d apart is outside x (len %d)", o, np, planes, ldx, len(x)))
		}
	}
	if !fits(len(y), planes, ldy, np) || !fits(len(w), planes, ldw, len(off)) || len(bias) < planes {
		panic(fmt.Sprintf("simdconv: Stencil: %d planes: len(y) = %d, len(w) = %d, len(bias) = %d, want ≥ %d planes of %d, %d apart; of %d, %d apart; and %d",
			planes, len(y), len(w), len(bias), planes, np, ldy, len(off), ldw, planes))
	}
	switch {
	case len(off) == 0:
		for c := range planes {
			for i := range y[c*ldy:][:n] {
				y[c*ldy+i] = bias[c]
			}
		}
	case np > 0:
		if kid := kernelSets[current].stencil; kid != noKernel {
			callStencil(kid, y, x, w, off, np, planes, ldy, ldx, ldw, bias)
			return
		}
		for c := range planes {
			stencilGeneric(y[c*ldy:], x[c*ldx:], w[c*ldw:], off, np, bias[c])
		}
	}
}

// ShiftedDots sets d[t] = Σ_{i<n} a[i]·x[off[t]+i] for t < len(off). a must
// hold n rounded up to a multiple of engine.Slack floats, zero past n. It panics
// unless a, d, off and x hold what that reads and writes.
func (d driver) ShiftedDots(dots, a, x []float32, off []int, n int) {
	d.ShiftedDotsPlanes(dots, a, x, off, n, 1, 0, 0, 0)
}

// ShiftedDotsPlanes is ShiftedDots on planes planes in turn: d[c·ldd+t] =
// Σ_{i<n} a[c·lda+i]·x[c·ldx+off[t]+i]. Each plane of a holds n rounded up
// to a multiple of engine.Slack floats, zero past n.
func (driver) ShiftedDotsPlanes(d, a, x []float32, off []int, n, planes, ldd, lda, ldx int) {
	if n < 0 || planes < 1 || n > len(a) { // before rounding n up, which could overflow
		panic(fmt.Sprintf("simdconv: ShiftedDots: n = %d, planes = %d, want 0 ≤ n ≤ len(a) = %d and planes ≥ 1", n, planes, len(a)))
	}
	np := roundUp(n, engine.Slack)
	for _, o := range off {
		if o < 0 || !fits(len(x), planes, ldx, o+np) {
			panic(fmt.Sprintf("simdconv: ShiftedDots: offset %d + %d floats in %d planes %d apart is outside x (len %d)", o, np, planes, ldx, len(x)))
		}
	}
	if !fits(len(d), planes, ldd, len(off)) || !fits(len(a), planes, lda, np) {
		panic(fmt.Sprintf("simdconv: ShiftedDots: %d planes: len(d) = %d, len(a) = %d, want ≥ %d planes of %d, %d apart, and of %d, %d apart",
			planes, len(d), len(a), planes, len(off), ldd, np, lda))
	}
	for c := range planes {
		for _, v := range a[c*lda:][n:np] {
			if v != 0 {
				panic("simdconv: ShiftedDots: a is not zero past n")
			}
		}
	}
	dotsKernel(current, d, a, x, off, np, planes, ldd, lda, ldx)
}

// AddRows adds src[r*srcStride+j] to dst[r*dstStride+j] for r < rows and
// j < n: rows accumulated between strides (col2im). It panics unless dst
// and src hold what it touches.
func (driver) AddRows(dst, src []float32, rows, n, dstStride, srcStride int) {
	if rows <= 0 || n <= 0 {
		return
	}
	if n > dstStride && rows > 1 || !fits(len(dst), rows, dstStride, n) || !fits(len(src), rows, srcStride, n) {
		panic(fmt.Sprintf("simdconv: AddRows: %d rows of %d at strides %d, %d outside len(dst) = %d, len(src) = %d",
			rows, n, dstStride, srcStride, len(dst), len(src)))
	}
	vn := addRowsKernel(current, dst, src, rows, n, dstStride, srcStride)
	for r := range rows {
		d, s := dst[r*dstStride:][vn:n], src[r*srcStride:][vn:n]
		for j, v := range s {
			d[j] += v
		}
	}
}

func checkShifts(fn string, x []float32, off []int, np int) {
	for _, o := range off {
		if !fits(len(x), 2, o, np) { // the run of np floats at o
			panic(fmt.Sprintf("simdconv: %s: offset %d + %d floats is outside x (len %d)", fn, o, np, len(x)))
		}
	}
}

func stencilGeneric(y, x, w []float32, off []int, n int, bias float32) {
	y = y[:n]
	for i := range y {
		y[i] = bias
	}
	for t, o := range off {
		wt, xs := w[t], x[o:o+n]
		for i := range y {
			y[i] += wt * xs[i]
		}
	}
}

// dotsGeneric sums each dot product in order, four taps at a time: one
// chain of adds is bound by the add's latency, four run side by side.
func dotsGeneric(d, a, x []float32, off []int, n int) {
	a = a[:n]
	for len(off) >= 4 {
		x0, x1, x2, x3 := x[off[0]:][:n], x[off[1]:][:n], x[off[2]:][:n], x[off[3]:][:n]
		var s0, s1, s2, s3 float32
		for i, v := range a {
			s0 += v * x0[i]
			s1 += v * x1[i]
			s2 += v * x2[i]
			s3 += v * x3[i]
		}
		d[0], d[1], d[2], d[3] = s0, s1, s2, s3
		d, off = d[4:], off[4:]
	}
	for t, o := range off {
		xs := x[o : o+n]
		sum := float32(0)
		for i, v := range a {
			sum += v * xs[i]
		}
		d[t] = sum
	}
}
