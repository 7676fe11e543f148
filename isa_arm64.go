//go:build gc && !purego

package simdconv

// NEON (Advanced SIMD) is part of the arm64 baseline.
func detectISAs() (a [numISA]bool) {
	a[isaGeneric] = true
	a[isaNEON] = true
	return a
}

// A kc×12 B sliver (12 KiB) stays in L1d, an mc×kc A block (128 KiB) in L2.
var neonBlocking = blocking{mr: neonMR, nr: neonNR, mc: 128, kc: 256, nc: 4080}

func tileOf(id isaID) blocking {
	if id == isaNEON {
		return neonBlocking
	}
	return genericBlocking
}

func microkernel(id isaID, _ int, a, b, c []float32, k, ldc int) {
	if id == isaNEON {
		checkTile(a, b, c, k, ldc, neonMR, neonNR)
		sgemmNEON(a, b, c, k, ldc)
		return
	}
	sgemmGeneric(a, b, c, k, ldc)
}

func packRowsKernel(_ isaID, dst, src []float32, rows, n, lo, hi, dstStride, srcStride int) {
	packRowsGeneric(dst, src, rows, n, lo, hi, dstStride, srcStride)
}

func hasPackT(isaID, int) bool { return false }

func packTKernel(isaID, int, []float32, []float32, int, int, int, float32) {
	panic("simdconv: no transposing pack")
}

func packTOffKernel(isaID, []float32, []float32, []int, int, int, int) {
	panic("simdconv: no transposing pack")
}

func stencilKernel(_ isaID, y, x, w []float32, off []int, n int, bias float32) {
	stencilGeneric(y, x, w, off, n, bias)
}

func dotsKernel(_ isaID, d, a, x []float32, off []int, n int) { dotsGeneric(d, a, x, off, n) }

func addRowsKernel(isaID, []float32, []float32, int, int, int, int) int { return 0 }

func sliverLanes(isaID) int { return 0 }

func packSliverKernel(isaID, []float32, []float32, []int32, int, int, int, int, int, int) {
	panic("simdconv: no sliver kernel")
}

func peak(id isaID, n int) (flops int) {
	if id == isaNEON {
		peakNEON(n)
		return n * neonPeakFlops
	}
	return peakGeneric(n)
}
