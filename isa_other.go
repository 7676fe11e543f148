//go:build !amd64 || purego || !gc

package simdconv

// cpuFeatures is empty: no kernel of these builds needs a CPU feature (NEON
// is part of the arm64 baseline).
func cpuFeatures() feature { return 0 }
