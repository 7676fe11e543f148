// Package simdconv is the SIMD layer of the simdconv convolution library:
// a single-precision matrix multiply, Sgemm, on generated assembly kernels
// (AVX2 and AVX-512 on amd64, NEON on arm64) or, on every other platform
// and under the purego build tag, on a pure-Go kernel, and the run-time
// choice among them.
//
// Most users want package kernels (github.com/simdconv/simdconv/kernels),
// which computes convolution layers, forward and backward, on this
// package. Sgemm is a drop-in for gonum's blas32 Sgemm on row-major data.
//
// # Choosing the instruction set
//
// The best instruction set this CPU supports is chosen at start-up, or the
// one named by the SIMDCONV_ISA environment variable (avx512, avx2, neon or
// generic). ISA reports the choice, ISAs lists those available, and SetISA
// changes it. GODEBUG=cpu.avx512=off hides AVX-512 through
// golang.org/x/sys/cpu.
//
// A SIMDCONV_ISA that this CPU and build cannot run, unknown ("AVX2",
// " avx2") or unsupported ("avx512" without AVX-512, "neon" on amd64), is
// an error, not a hint: the best ISA stays selected, but Sgemm panics with
// the error, and package kernels returns it when planning, until a SetISA
// succeeds, which is a deliberate choice and clears it.
//
// # Layout
//
// The generated assembly (kernels_amd64.s, kernels_arm64.s) must sit in
// the package that declares it, and the design keeps it, with the pure-Go
// kernel of kernels_generic.go, at the module's top level. So this package
// holds the whole SIMD layer: the kernels; the dispatch table the
// generators write beside them (table_*.go: every kernel, its family,
// tile and the CPU features it needs); the BLIS-style driver that packs
// operands and runs the kernels, calling each directly; and the ISA
// selection. It exports only what a user of that layer needs. The
// products that package kernels builds, with operands packed straight from
// tensors, are described by the plain types of internal/engine, which this
// package's driver runs: it installs itself there when it is initialised.
//
// PeakLoop is exported for the benchmarks, which report speed against the
// FMA ceiling it measures, and CPUInfo for diagnostics: what was read about
// the CPU (vendor, model, caches) and the blocking chosen from it.
package simdconv
