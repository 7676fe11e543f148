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

func hasPackingKernels(isaID) bool { return false }

// packAKernel, packATKernel, packBKernel and prefetchKernel are never
// called: hasPackingKernels is false.
func packAKernel(isaID, []float32, []float32, []float32, int, int, []float32, int, bool) {
	panic("simdconv: no packing kernel")
}

func packATKernel(isaID, []float32, []float32, []float32, int, int, []float32, int, bool) {
	panic("simdconv: no packing kernel")
}

func packBKernel(isaID, []float32, []float32, []float32, int, int, []float32, int, bool) {
	panic("simdconv: no packing kernel")
}

func prefetchKernel(isaID, []float32, []float32, []float32, int, int, []float32, int, int, bool) {
	panic("simdconv: no prefetching kernel")
}
