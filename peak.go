package simdconv

// PeakLoop runs n iterations of the selected ISA's loop of independent
// fused multiply-adds, which touches no memory, and returns the number of
// floating-point operations it did. Timing it gives the FMA ceiling that
// the benchmarks compare against.
func PeakLoop(n int) (flops int) { return peak(current, n) }
