//go:build !amd64 || purego || !gc

package simdconv

// Without amd64 assembly, packing, stencils and row adds run the generic
// loops; the kernels that only amd64 has are never called.

func packRowsKernel(_ isaID, dst, src []float32, rows, n, lo, hi, dstStride, srcStride int) {
	packRowsGeneric(dst, src, rows, n, lo, hi, dstStride, srcStride)
}

func hasPackT(isaID, int) bool { return false }

func packTKernel(isaID, int, []float32, []float32, int, int, int, float32) {
	panic("simdconv: no transposing pack")
}

func packTOffKernel(isaID, []float32, []float32, []int, int, int, int, int) {
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

func directKernel(isaID, []float32, int, int, []float32, []float32, int, int, uint64) {
	panic("simdconv: no direct kernel")
}

func directDotKernel(isaID, []float32, int, int, []float32, []float32, []float32, int, int, uint64) {
	panic("simdconv: no direct kernel")
}

func hasPackingKernels(isaID) bool { return false }

// packKernel and prefetchKernel are never called: hasPackingKernels is
// false.
func packKernel(isaID, packing, []float32, []float32, []float32, int, int, []float32, int, bool) {
	panic("simdconv: no packing kernel")
}

func prefetchKernel(isaID, []float32, []float32, []float32, int, int, []float32, int, int, bool) {
	panic("simdconv: no prefetching kernel")
}
