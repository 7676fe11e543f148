//go:build gc && !purego

package simdconv

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/simdconv/simdconv/internal/testutil"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/cpu"
)

// Tests and benchmarks of the generated AVX2/AVX-512 kernels
// (kernels_amd64.s, from asm/amd64).

type gemmKernel struct {
	isa, name string
	mr, nr    int
	kern      func(a, b, c []float32, k, ldc int)
	store     bool // sets the c tile instead of adding to it
}

func hasAVX2() bool { return cpu.X86.HasAVX2 && cpu.X86.HasFMA }

func hasAVX512() bool {
	return cpu.X86.HasAVX512F && cpu.X86.HasAVX512VL && cpu.X86.HasAVX512BW && cpu.X86.HasAVX512DQ
}

// amd64GemmKernels lists every emitted gemm kernel: the candidates, the edge
// kernels and the fixed dispatch names sgemmAVX2 and sgemmAVX512.
func amd64GemmKernels() []gemmKernel {
	var ks []gemmKernel
	for _, c := range append(avx2Candidates, avx2Edges...) {
		ks = append(ks, gemmKernel{"avx2", c.name, c.mr, c.nr, c.kern, false})
	}
	ks = append(ks, gemmKernel{"avx2", "sgemmAVX2", avx2MR, avx2NR, sgemmAVX2, false})
	ks = append(ks, gemmKernel{"avx2", "sgemmStoreAVX2", avx2MR, avx2NR, sgemmStoreAVX2, true})
	for _, c := range append(avx512Candidates, avx512Edges...) {
		ks = append(ks, gemmKernel{"avx512", c.name, c.mr, c.nr, c.kern, false})
	}
	ks = append(ks, gemmKernel{"avx512", "sgemmAVX512", avx512MR, avx512NR, sgemmAVX512, false})
	ks = append(ks, gemmKernel{"avx512", "sgemmStoreAVX512", avx512MR, avx512NR, sgemmStoreAVX512, true})
	return ks
}

func skipUnlessISA(tb testing.TB, isa string) {
	tb.Helper()
	switch isa {
	case "avx2":
		if !hasAVX2() {
			tb.Skip("CPU lacks AVX2/FMA")
		}
	case "avx512":
		if !hasAVX512() {
			tb.Skip("CPU lacks AVX-512 F/VL/BW/DQ")
		}
	}
}

func randSlice(r *rand.Rand, n int) []float32 {
	s := make([]float32, n)
	for i := range s {
		s[i] = r.Float32()*2 - 1
	}
	return s
}

// nanGuarded returns a copy of s that sits between two bands of guard NaNs in
// a larger backing array; the result has capacity len(s).
func nanGuarded(s []float32, guard int) []float32 {
	backing := make([]float32, guard+len(s)+guard)
	for i := range backing {
		backing[i] = float32(math.NaN())
	}
	copy(backing[guard:], s)
	return backing[guard : guard+len(s) : guard+len(s)]
}

func TestKernelGemm(t *testing.T) {
	const guard = 37 // NaN floats before and after each of a, b and the c tile
	nan := float32(math.NaN())
	for _, kk := range amd64GemmKernels() {
		t.Run(fmt.Sprintf("isa=%s/kern=%s", kk.isa, kk.name), func(t *testing.T) {
			skipUnlessISA(t, kk.isa)
			mr, nr := kk.mr, kk.nr
			// 20-27 and 64-75 cross the point where the k loop splits to
			// prefetch the c tile (5 and 17 unrolled steps from the end).
			for _, k := range []int{0, 1, 2, 3, 4, 5, 7, 16, 17, 20, 23, 24, 27, 64, 68, 71, 72, 75, 257} {
				for _, ldc := range []int{nr, nr + 3} {
					r := rand.New(rand.NewPCG(uint64(k), uint64(ldc)))
					// a and b sit between NaN bands too: a k step too many
					// (or too few floats per step) would pull a NaN into c.
					a := nanGuarded(randSlice(r, k*mr), guard)
					b := nanGuarded(randSlice(r, k*nr), guard)
					clen := (mr-1)*ldc + nr
					backing := make([]float32, guard+clen+guard)
					for i := range backing {
						backing[i] = nan
					}
					c := backing[guard : guard+clen : guard+clen]
					for i := 0; i < mr; i++ {
						for j := 0; j < nr; j++ {
							c[i*ldc+j] = r.Float32()*2 - 1
						}
					}
					c0 := slices.Clone(c)

					kk.kern(a, b, c, k, ldc)

					for i := range backing {
						in := i - guard
						if in >= 0 && in < clen && in%ldc < nr {
							continue
						}
						require.Truef(t, math.IsNaN(float64(backing[i])),
							"k=%d ldc=%d: guard float %d (tile offset %d) was overwritten with %v", k, ldc, i, in, backing[i])
					}
					checkTileProduct(t, a, b, c0, c, k, ldc, mr, nr, kk.store)
				}
			}
		})
	}
}

// checkTileProduct checks that c is c0 (or 0, if store) plus a·b for packed
// slivers a and b of k steps, with a tolerance that grows with k.
func checkTileProduct(t *testing.T, a, b, c0, c []float32, k, ldc, mr, nr int, store bool) {
	t.Helper()
	tol := 1e-6 * float64(k+1)
	for i := 0; i < mr; i++ {
		for j := 0; j < nr; j++ {
			want := float64(c0[i*ldc+j])
			if store {
				want = 0
			}
			mag := math.Abs(want)
			for p := 0; p < k; p++ {
				prod := float64(a[p*mr+i]) * float64(b[p*nr+j])
				want += prod
				mag += math.Abs(prod)
			}
			got := float64(c[i*ldc+j])
			require.InDeltaf(t, want, got, tol*(mag+1), "k=%d ldc=%d: c[%d*ldc+%d]", k, ldc, i, j)
		}
	}
}

// TestKernelGemmForms checks the main kernels that pack their A or B
// sliver from its source (row stride lds, the gaps NaN) and those
// that prefetch rows on the side: the product, the packed sliver, and NaN
// guard bands around every operand.
func TestKernelGemmForms(t *testing.T) {
	const ldc, lds = 61, 300
	for _, isa := range []isaID{isaAVX2, isaAVX512} {
		for _, form := range []string{"packA", "packAT", "packB", "prefetch"} {
			for _, store := range []bool{false, true} {
				t.Run(fmt.Sprintf("isa=%s/form=%s/store=%v", isaNames[isa], form, store), func(t *testing.T) {
					skipUnlessISA(t, isaNames[isa])
					mr, nr := mainTile(isa)
					for _, k := range []int{0, 1, 4, 5, 23, 64, 75, 257} {
						r := rand.New(rand.NewPCG(uint64(k), 7))
						a, b := randSlice(r, k*mr), randSlice(r, k*nr) // packed slivers
						var src []float32                              // the one a packing form reads
						switch form {
						case "packA":
							src = rowMajor(k, mr, lds, func(p, i int) float32 { return a[p*mr+i] })
						case "packAT":
							src = rowMajor(mr, k, lds, func(i, p int) float32 { return a[p*mr+i] })
						case "packB", "prefetch":
							src = rowMajor(nr, k, lds, func(j, p int) float32 { return b[p*nr+j] })
						}
						ga, gb := testutil.NewGuarded(k*mr, a), testutil.NewGuarded(k*nr, b)
						gsrc := testutil.NewGuarded(len(src), src)
						gc := testutil.NewGuarded((mr-1)*ldc+nr, randSlice(r, (mr-1)*ldc+nr))
						c := gc.Slice()
						c0 := slices.Clone(c)
						switch form {
						case "packA":
							clear(ga.Slice())
							packKernel(isa, packingA, ga.Slice(), gb.Slice(), c, k, ldc, gsrc.Slice(), lds, store)
						case "packAT":
							clear(ga.Slice())
							packKernel(isa, packingAT, ga.Slice(), gb.Slice(), c, k, ldc, gsrc.Slice(), lds, store)
						case "packB":
							clear(gb.Slice())
							packKernel(isa, packingB, ga.Slice(), gb.Slice(), c, k, ldc, gsrc.Slice(), lds, store)
						case "prefetch":
							prefetchKernel(isa, ga.Slice(), gb.Slice(), c, k, ldc, gsrc.Slice(), lds, min(k, 3), store)
						}
						require.Equal(t, a, ga.Slice(), "k=%d: the packed A sliver", k)
						require.Equal(t, b, gb.Slice(), "k=%d: the packed B sliver", k)
						checkTileProduct(t, a, b, c0, c, k, ldc, mr, nr, store)
						for i, v := range c {
							if i%ldc >= nr {
								require.Equalf(t, c0[i], v, "k=%d: c[%d], outside the tile, was written", k, i)
							}
						}
						for _, g := range []*testutil.Guarded{ga, gb, gsrc, gc} {
							g.Check(t)
						}
					}
				})
			}
		}
	}
}

// rowMajor returns n rows of m floats, row stride ld, x[i*ld+j] = at(j, i),
// with NaN in the gaps between rows.
func rowMajor(m, n, ld int, at func(j, i int) float32) []float32 {
	if m == 0 || n == 0 {
		return nil
	}
	x := make([]float32, (n-1)*ld+m)
	for i := range x {
		x[i] = float32(math.NaN())
	}
	for i := range n {
		for j := range m {
			x[i*ld+j] = at(j, i)
		}
	}
	return x
}

func TestKernelPeak(t *testing.T) {
	t.Run("isa=avx2", func(t *testing.T) {
		skipUnlessISA(t, "avx2")
		peakAVX2(1000)
		peakAVX2(0)
	})
	t.Run("isa=avx512", func(t *testing.T) {
		skipUnlessISA(t, "avx512")
		peakAVX512(1000)
		peakAVX512(0)
	})
}

func BenchmarkPeakKernels(b *testing.B) {
	for _, p := range []struct {
		isa   string
		flops int
		kern  func(int)
	}{
		{"avx2", avx2PeakFlops, peakAVX2},
		{"avx512", avx512PeakFlops, peakAVX512},
	} {
		b.Run("isa="+p.isa, func(b *testing.B) {
			skipUnlessISA(b, p.isa)
			const iters = 1 << 16
			for b.Loop() {
				p.kern(iters)
			}
			b.ReportMetric(float64(p.flops)*iters*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
	}
}

// BenchmarkMicrokernel times one microkernel call on packed a and b slivers
// that stay in L1/L2 (k=256) and a c tile that stays in L1.
func BenchmarkMicrokernel(b *testing.B) {
	const k = 256
	for _, kk := range amd64GemmKernels() {
		if kk.store || kk.name == "sgemmAVX2" || kk.name == "sgemmAVX512" {
			continue // duplicates of a candidate
		}
		b.Run(fmt.Sprintf("isa=%s/tile=%s", kk.isa, kk.name), func(b *testing.B) {
			skipUnlessISA(b, kk.isa)
			r := rand.New(rand.NewPCG(1, 2))
			a := randSlice(r, k*kk.mr)
			bb := randSlice(r, k*kk.nr)
			c := make([]float32, kk.mr*kk.nr)
			for b.Loop() {
				kk.kern(a, bb, c, k, kk.nr)
			}
			flops := 2 * float64(kk.mr*kk.nr*k)
			b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
	}
}

// BenchmarkMicrokernelL2 runs each microkernel the way the GEMM macro-kernel
// does: one packed b sliver (k=256) stays in L1 while successive calls walk
// the packed a slivers of a ~192 KiB A block in L2, each updating its own
// c tile.
func BenchmarkMicrokernelL2(b *testing.B) {
	const (
		k      = 256
		aBytes = 192 << 10
	)
	for _, kk := range amd64GemmKernels() {
		if kk.store || kk.name == "sgemmAVX2" || kk.name == "sgemmAVX512" {
			continue
		}
		b.Run(fmt.Sprintf("isa=%s/tile=%s", kk.isa, kk.name), func(b *testing.B) {
			skipUnlessISA(b, kk.isa)
			r := rand.New(rand.NewPCG(1, 2))
			slivers := aBytes / (4 * k * kk.mr)
			a := randSlice(r, slivers*k*kk.mr)
			bb := randSlice(r, k*kk.nr)
			c := make([]float32, slivers*kk.mr*kk.nr)
			for b.Loop() {
				for s := 0; s < slivers; s++ {
					kk.kern(a[s*k*kk.mr:], bb, c[s*kk.mr*kk.nr:], k, kk.nr)
				}
			}
			flops := 2 * float64(slivers*kk.mr*kk.nr*k)
			b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
	}
}

// TestKernelDirect checks the direct-A kernels against their definition,
// with A in place both ways round (row stride rs, k stride ks: each dot
// kernel takes one way), column sets that start and end inside vectors,
// and NaN in every float of a, b, d and c that they must not read or write.
func TestKernelDirect(t *testing.T) {
	skipUnlessISA(t, "avx512")
	const guard = 37
	nan := float32(math.NaN())
	for _, dot := range []bool{false, true} {
		mr, nr, bw := avx512DirectMR, avx512DirectNR, avx512DirectNR
		if dot {
			mr, nr, bw = avx512DirectDotMR, avx512DirectDotNR, avx512DirectDotNR-1
		}
		for _, k := range []int{1, 2, 3, 4, 5, 7, 8, 9, 17, 130} {
			for _, cols := range [][2]int{{0, 1}, {0, 7}, {0, 9}, {0, 49}, {0, nr}, {5, 30}, {40, nr}, {nr - 1, nr}} {
				for _, trans := range []bool{false, true} {
					name := fmt.Sprintf("dot=%v k=%d cols=%v trans=%v", dot, k, cols, trans)
					r := rand.New(rand.NewPCG(uint64(k), uint64(cols[1])))
					rs, ks := k+2, 1
					if trans {
						rs, ks = 1, mr+2
					}
					a := nanGuarded(make([]float32, (mr-1)*rs+(k-1)*ks+1), guard)
					for i := range a {
						a[i] = nan
					}
					for i := range mr {
						for p := range k {
							a[i*rs+p*ks] = r.Float32()*2 - 1
						}
					}
					b := nanGuarded(randSlice(r, k*bw), guard)
					d := nanGuarded(randSlice(r, k), guard)
					bAt := func(p, j int) float32 {
						if j < bw {
							return b[p*bw+j]
						}
						return d[p]
					}
					ldc := nr + 3
					clen := (mr-1)*ldc + cols[1]
					in := func(i int) bool { return i >= 0 && i < clen && i%ldc >= cols[0] && i%ldc < cols[1] }
					backing := make([]float32, guard+clen+guard)
					c := backing[guard : guard+clen : guard+clen]
					for i := range backing {
						backing[i] = nan
						if in(i - guard) {
							backing[i] = r.Float32()*2 - 1
						}
					}
					c0 := slices.Clone(c)
					if dot {
						directDotKernel(isaAVX512, a, rs, ks, b, d, c, k, ldc, lanes(cols[0], cols[1]))
					} else {
						directKernel(isaAVX512, a, rs, ks, b, c, k, ldc, lanes(cols[0], cols[1]))
					}
					for j := range backing {
						i := j - guard
						if !in(i) {
							require.Truef(t, math.IsNaN(float64(backing[j])), "%s: guard %d written", name, i)
							continue
						}
						want, mag := float64(c0[i]), math.Abs(float64(c0[i]))
						for p := range k {
							prod := float64(a[i/ldc*rs+p*ks]) * float64(bAt(p, i%ldc))
							want += prod
							mag += math.Abs(prod)
						}
						require.InDeltaf(t, want, float64(c[i]), 1e-6*float64(k+1)*(mag+1),
							"%s: c[%d*ldc+%d]", name, i/ldc, i%ldc)
					}
				}
			}
		}
	}
}

// TestKernelDirectInf checks that an infinite A element gives ±Inf, not
// NaN, in each direct-A kernel's columns, the dot column included, when it
// falls on a tail k step (k = 9: past the unrolled steps).
func TestKernelDirectInf(t *testing.T) {
	skipUnlessISA(t, "avx512")
	const mr, k = avx512DirectDotMR, 9
	for _, mode := range []string{"plain", "dotRows", "dotCols"} {
		nr, bw := avx512DirectNR, avx512DirectNR
		if mode != "plain" {
			nr, bw = avx512DirectDotNR, avx512DirectDotNR-1
		}
		rs, ks := k, 1
		if mode == "dotCols" {
			rs, ks = 1, mr
		}
		a := make([]float32, (mr-1)*rs+(k-1)*ks+1)
		for i := range a {
			a[i] = 1
		}
		a[(k-1)*ks] = float32(math.Inf(1)) // a(0, k-1)
		b, d := make([]float32, k*bw), make([]float32, k)
		for i := range b {
			b[i] = 1
		}
		for i := range d {
			d[i] = 1
		}
		c := make([]float32, mr*nr)
		if mode == "plain" {
			directKernel(isaAVX512, a, rs, ks, b, c, k, nr, lanes(0, nr))
		} else {
			directDotKernel(isaAVX512, a, rs, ks, b, d, c, k, nr, lanes(0, nr))
		}
		for j := range nr {
			require.Truef(t, math.IsInf(float64(c[j]), 1), "%s: c[0][%d] = %v", mode, j, c[j])
			require.Equalf(t, float32(k), c[nr+j], "%s: c[1][%d]", mode, j)
		}
	}
}

// TestKernelDirectPanics checks that the direct-A wrappers refuse operands
// the kernels would read or write past.
func TestKernelDirectPanics(t *testing.T) {
	skipUnlessISA(t, "avx512")
	const mr, nr, k, rs = avx512DirectMR, avx512DirectNR, 4, 4
	a, b, d, c := make([]float32, (mr-1)*rs+k), make([]float32, k*nr), make([]float32, k), make([]float32, (mr-1)*nr+nr)
	msg := "simdconv: direct kernel operands out of bounds"
	for name, f := range map[string]func(){
		"short a":         func() { directKernel(isaAVX512, a[:len(a)-1], rs, 1, b, c, k, nr, lanes(0, nr)) },
		"short b":         func() { directKernel(isaAVX512, a, rs, 1, b[:len(b)-1], c, k, nr, lanes(0, nr)) },
		"short c":         func() { directKernel(isaAVX512, a, rs, 1, b, c[:len(c)-1], k, nr, lanes(0, nr)) },
		"lanes past nr":   func() { directKernel(isaAVX512, a, rs, 1, b, c, k, nr, lanes(0, nr+1)) },
		"no lanes":        func() { directKernel(isaAVX512, a, rs, 1, b, c, k, nr, 0) },
		"negative stride": func() { directKernel(isaAVX512, a, -1, 1, b, c, k, nr, lanes(0, nr)) },
		"short d":         func() { directDotKernel(isaAVX512, a, rs, 1, b, d[:k-1], c, k, nr-7, lanes(0, nr-7)) },
		"dot lanes":       func() { directDotKernel(isaAVX512, a, rs, 1, b, d, c, k, nr, lanes(0, nr)) },
		"no unit stride":  func() { directDotKernel(isaAVX512, a, 2, 2, b, d, c, 2, nr-7, lanes(0, nr-7)) },
	} {
		want := msg
		if name == "no unit stride" {
			want = "simdconv: direct dot kernel needs a unit stride"
		}
		require.PanicsWithValue(t, want, f, name)
	}
}
