// Package simdconv is the SIMD layer of the simdconv convolution library:
// a BLIS-style single-precision GEMM (Sgemm), the packing routines that feed
// its microkernels (including the implicit-im2col gather used by package
// kernels), the microkernels themselves (pure Go in kernels_generic.go,
// generated AVX2/AVX-512 and NEON assembly elsewhere), and the run-time
// selection of the instruction set.
//
// Most users want package kernels, which builds convolution layers on top of
// this package. Sgemm is exported as a drop-in for gonum's blas32.Gemm on
// row-major data.
//
// The instruction set is chosen once at start-up (the best available, or the
// one named by the SIMDCONV_ISA environment variable) and can be changed with
// SetISA. Building with the purego tag removes all assembly.
package simdconv
