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

func peak(id isaID, n int) (flops int) {
	if id == isaNEON {
		peakNEON(n)
		return n * neonPeakFlops
	}
	return peakGeneric(n)
}

// storeKernel reports that there is no storing form of the kernel here:
// the driver clears C first and adds.
func storeKernel(isaID, int, []float32, []float32, []float32, int, int) bool { return false }

func hasStoreKernel(isaID) bool { return false }
