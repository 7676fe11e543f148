package simdconv

// The generic microkernel's tile. Four by four keeps its sixteen accumulators
// in registers on amd64 and arm64 without spilling.
const (
	genericMR = 4
	genericNR = 4
)

// sgemmGeneric computes, for i < 4, j < 4:
//
//	c[i*ldc+j] += Σ_{p<k} a[p*4+i]·b[p*4+j]
//
// a holds k steps of a packed 4-row A sliver, b k steps of a packed 4-column
// B sliver. It is the fallback on every platform and the reference that the
// assembly kernels are tested against.
func sgemmGeneric(a, b, c []float32, k, ldc int) {
	var c00, c01, c02, c03 float32
	var c10, c11, c12, c13 float32
	var c20, c21, c22, c23 float32
	var c30, c31, c32, c33 float32
	a = a[:k*4]
	b = b[:k*4]
	for p := 0; p+3 < len(a) && p+3 < len(b); p += 4 {
		a0, a1, a2, a3 := a[p], a[p+1], a[p+2], a[p+3]
		b0, b1, b2, b3 := b[p], b[p+1], b[p+2], b[p+3]
		c00 += a0 * b0
		c01 += a0 * b1
		c02 += a0 * b2
		c03 += a0 * b3
		c10 += a1 * b0
		c11 += a1 * b1
		c12 += a1 * b2
		c13 += a1 * b3
		c20 += a2 * b0
		c21 += a2 * b1
		c22 += a2 * b2
		c23 += a2 * b3
		c30 += a3 * b0
		c31 += a3 * b1
		c32 += a3 * b2
		c33 += a3 * b3
	}
	r := c[:3*ldc+4]
	addRow4(r[0:4], c00, c01, c02, c03)
	addRow4(r[ldc:ldc+4], c10, c11, c12, c13)
	addRow4(r[2*ldc:2*ldc+4], c20, c21, c22, c23)
	addRow4(r[3*ldc:3*ldc+4], c30, c31, c32, c33)
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
	for r := range rows {
		out := dst[r*dstStride:][:n]
		clear(out[:lo])
		if lo < hi {
			copy(out[lo:hi], src[r*srcStride:])
		}
		clear(out[hi:])
	}
}
