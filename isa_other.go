//go:build purego || !(amd64 || arm64)

package simdconv

func detectISAs() (a [numISA]bool) {
	a[isaGeneric] = true
	return a
}

func tileOf(isaID) blocking { return genericBlocking }

func microkernel(_ isaID, _ int, a, b, c []float32, k, ldc int) {
	sgemmGeneric(a, b, c, k, ldc)
}

func peak(_ isaID, n int) (flops int) { return peakGeneric(n) }

// storeKernel reports that there is no storing form of the kernel here:
// the driver clears C first and adds.
func storeKernel(isaID, int, []float32, []float32, []float32, int, int) bool { return false }

func hasStoreKernel(isaID) bool { return false }
