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
