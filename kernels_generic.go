package simdconv

// The generic microkernel's tile: four rows, computed two at a time, by
// four columns. Go emits a multiply and an add for each term (it fuses them
// only where the ISA always has FMA, as on arm64), and schedules the
// updates of the accumulators that end a loop's body after every other
// value of it, so that all their addends are live at once. Eight
// accumulators, two rows of four, leave room in amd64's fifteen free XMM
// registers for all but two operands and two addends of that last k step;
// the sixteen of a whole 4×4 tile spilled on every step. arm64 (FMADD, 32
// registers) spills nothing either way.
const (
	genericMR = 4
	genericNR = 4
)

// sgemmGeneric computes, for i < rows ≤ 4, j < 4:
//
//	c[i*ldc+j] += Σ_{p<k} a[p*4+i]·b[p*4+j]
//
// summing over p in order. a holds k steps of a packed 4-row A sliver, b k
// steps of a packed 4-column B sliver. It is the fallback on every platform
// and the reference that the assembly kernels are tested against. An edge
// tile's rows past rows are padding, and a product of one or three rows
// (a convolution's one or three input channels) would spend a quarter to
// three quarters of its time on them.
func sgemmGeneric(a, b, c []float32, k, ldc, rows int) {
	a, b = a[:k*4], b[:k*4]
	for i := 0; i < rows; i += 2 {
		if rows-i == 1 {
			sgemmRow1(a, b, c[i*ldc:], i)
		} else {
			sgemmRows2(a, b, c[i*ldc:], i, ldc)
		}
	}
}

// sgemmRows2 is sgemmGeneric for rows i and i+1 (i is 0 or 2), c starting
// at row i. Its loop takes four k steps, so that only the last of them has
// its updates deferred, and reads A and B through array pointers, whose
// indexes need no bounds checks.
func sgemmRows2(a, b, c []float32, i, ldc int) {
	var c00, c01, c02, c03, c10, c11, c12, c13 float32
	i &= 2 // proves i+13 < 16
	for len(a) >= 16 && len(b) >= 16 {
		ap, bp := (*[16]float32)(a), (*[16]float32)(b)
		a0, a1 := ap[i], ap[i+1]
		b0, b1, b2, b3 := bp[0], bp[1], bp[2], bp[3]
		c00 += a0 * b0
		c01 += a0 * b1
		c02 += a0 * b2
		c03 += a0 * b3
		c10 += a1 * b0
		c11 += a1 * b1
		c12 += a1 * b2
		c13 += a1 * b3
		a0, a1 = ap[i+4], ap[i+5]
		b0, b1, b2, b3 = bp[4], bp[5], bp[6], bp[7]
		c00 += a0 * b0
		c01 += a0 * b1
		c02 += a0 * b2
		c03 += a0 * b3
		c10 += a1 * b0
		c11 += a1 * b1
		c12 += a1 * b2
		c13 += a1 * b3
		a0, a1 = ap[i+8], ap[i+9]
		b0, b1, b2, b3 = bp[8], bp[9], bp[10], bp[11]
		c00 += a0 * b0
		c01 += a0 * b1
		c02 += a0 * b2
		c03 += a0 * b3
		c10 += a1 * b0
		c11 += a1 * b1
		c12 += a1 * b2
		c13 += a1 * b3
		a0, a1 = ap[i+12], ap[i+13]
		b0, b1, b2, b3 = bp[12], bp[13], bp[14], bp[15]
		c00 += a0 * b0
		c01 += a0 * b1
		c02 += a0 * b2
		c03 += a0 * b3
		c10 += a1 * b0
		c11 += a1 * b1
		c12 += a1 * b2
		c13 += a1 * b3
		a, b = a[16:], b[16:]
	}
	for len(a) >= 4 && len(b) >= 4 {
		ap, bp := (*[4]float32)(a), (*[4]float32)(b)
		a0, a1 := ap[i], ap[i+1]
		b0, b1, b2, b3 := bp[0], bp[1], bp[2], bp[3]
		c00 += a0 * b0
		c01 += a0 * b1
		c02 += a0 * b2
		c03 += a0 * b3
		c10 += a1 * b0
		c11 += a1 * b1
		c12 += a1 * b2
		c13 += a1 * b3
		a, b = a[4:], b[4:]
	}
	addRow4(c[:4], c00, c01, c02, c03)
	addRow4(c[ldc:ldc+4], c10, c11, c12, c13)
}

// sgemmRow1 is sgemmGeneric for row i alone, c starting at row i.
func sgemmRow1(a, b, c []float32, i int) {
	var c0, c1, c2, c3 float32
	i &= 3 // proves i+12 < 16
	for len(a) >= 16 && len(b) >= 16 {
		ap, bp := (*[16]float32)(a), (*[16]float32)(b)
		ai := ap[i]
		c0 += ai * bp[0]
		c1 += ai * bp[1]
		c2 += ai * bp[2]
		c3 += ai * bp[3]
		ai = ap[i+4]
		c0 += ai * bp[4]
		c1 += ai * bp[5]
		c2 += ai * bp[6]
		c3 += ai * bp[7]
		ai = ap[i+8]
		c0 += ai * bp[8]
		c1 += ai * bp[9]
		c2 += ai * bp[10]
		c3 += ai * bp[11]
		ai = ap[i+12]
		c0 += ai * bp[12]
		c1 += ai * bp[13]
		c2 += ai * bp[14]
		c3 += ai * bp[15]
		a, b = a[16:], b[16:]
	}
	for len(a) >= 4 && len(b) >= 4 {
		ap, bp := (*[4]float32)(a), (*[4]float32)(b)
		ai := ap[i]
		c0 += ai * bp[0]
		c1 += ai * bp[1]
		c2 += ai * bp[2]
		c3 += ai * bp[3]
		a, b = a[4:], b[4:]
	}
	addRow4(c, c0, c1, c2, c3)
}

func addRow4(r []float32, v0, v1, v2, v3 float32) {
	r = r[:4]
	r[0] += v0
	r[1] += v1
	r[2] += v2
	r[3] += v3
}

// peakGeneric runs n iterations of eight independent multiply-add chains and
// returns the flops done.
func peakGeneric(n int) (flops int) {
	x0, x1, x2, x3, x4, x5, x6, x7 := float32(0), float32(1), float32(2), float32(3), float32(4), float32(5), float32(6), float32(7)
	const m, a = 0.999, 0.001
	for range n {
		x0 = x0*m + a
		x1 = x1*m + a
		x2 = x2*m + a
		x3 = x3*m + a
		x4 = x4*m + a
		x5 = x5*m + a
		x6 = x6*m + a
		x7 = x7*m + a
	}
	peakSink = x0 + x1 + x2 + x3 + x4 + x5 + x6 + x7
	return n * 16
}

// peakSink keeps peakGeneric's result alive.
var peakSink float32

// packRowsGeneric sets, for r < rows and j < n, dst[r*dstStride+j] to
// src[r*srcStride+j-lo] where lo ≤ j < hi and to 0 elsewhere. It is the
// reference for the assembly packRows kernels.
func packRowsGeneric(dst, src []float32, rows, n, lo, hi, dstStride, srcStride int) {
	// A generic sliver's rows are a few floats each, which cost less to
	// move one by one, or as an array, than the calls of clear and copy.
	switch {
	case n == genericNR && lo == 0 && hi == n:
		for r := range rows {
			*(*[genericNR]float32)(dst[r*dstStride:]) = *(*[genericNR]float32)(src[r*srcStride:])
		}
		return
	case n <= genericNR:
		for r := range rows {
			out, in := dst[r*dstStride:][:n], src[r*srcStride:]
			for j := range out {
				v := float32(0)
				if j >= lo && j < hi {
					v = in[j-lo]
				}
				out[j] = v
			}
		}
		return
	}
	for r := range rows {
		out := dst[r*dstStride:][:n]
		clear(out[:lo])
		if lo < hi {
			copy(out[lo:hi], src[r*srcStride:])
		}
		clear(out[hi:])
	}
}
