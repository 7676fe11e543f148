package simdconv

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/simdconv/simdconv/internal/testutil"
	"github.com/stretchr/testify/require"
)

// runDirect calls the direct-A wrapper of kernel k (famDirect or a dot
// form) with A in place, a(i, p) = a[i*rs+p*ks].
func runDirect(k kernelSpec, a []float32, rs, ks int, b, d, c []float32, kk, ldc int, cols uint64) {
	if k.family == famDirect {
		directKernel(k.isa, a, rs, ks, b, c, kk, ldc, cols)
		return
	}
	directDotKernel(k.isa, a, rs, ks, b, d, c, kk, ldc, cols)
}

// TestKernelDirect checks the direct-A kernels against their definition,
// with A in place the way round each takes (the dot-rows kernel ks = 1,
// the dot-cols kernel rs = 1, the plain one both), column sets that start
// and end inside vectors, and NaN in every float of a, b, d and c that
// they must not read or write.
func TestKernelDirect(t *testing.T) {
	nan := float32(math.NaN())
	forEachKernel(t, func(t *testing.T, _ kernelID, kk kernelSpec) {
		mr, nr, bw := kk.mr, kk.nr, kk.nr
		if kk.family != famDirect {
			bw = nr - 1
		}
		trans := []bool{false, true}
		switch kk.family {
		case famDirectDotRows:
			trans = trans[:1]
		case famDirectDotCols:
			trans = trans[1:]
		}
		for _, k := range []int{1, 2, 3, 4, 5, 7, 8, 9, 17, 130} {
			for _, cols := range [][2]int{{0, 1}, {0, 7}, {0, 9}, {0, min(49, nr)}, {0, nr}, {5, 30}, {nr - 9, nr}, {nr - 1, nr}} {
				for _, tr := range trans {
					name := fmt.Sprintf("k=%d cols=%v trans=%v", k, cols, tr)
					r := rand.New(rand.NewPCG(uint64(k), uint64(cols[1])))
					rs, ks := k+2, 1
					if tr {
						rs, ks = 1, mr+2
					}
					ga := testutil.NewGuarded((mr-1)*rs+(k-1)*ks+1, nil)
					a := ga.Slice()
					for i := range a {
						a[i] = nan
					}
					for i := range mr {
						for p := range k {
							a[i*rs+p*ks] = 2*r.Float32() - 1
						}
					}
					gb, gd := testutil.NewGuarded(k*bw, testutil.Rand(r, k*bw)), testutil.NewGuarded(k, testutil.Rand(r, k))
					b, d := gb.Slice(), gd.Slice()
					bAt := func(p, j int) float32 {
						if j < bw {
							return b[p*bw+j]
						}
						return d[p]
					}
					ldc := nr + 3
					gc := testutil.NewGuarded((mr-1)*ldc+cols[1], nil)
					c := gc.Slice()
					in := func(i int) bool { return i%ldc >= cols[0] && i%ldc < cols[1] }
					for i := range c {
						c[i] = nan
						if in(i) {
							c[i] = 2*r.Float32() - 1
						}
					}
					c0 := slices.Clone(c)
					runDirect(kk, a, rs, ks, b, d, c, k, ldc, lanes(cols[0], cols[1]))
					for _, g := range []*testutil.Guarded{ga, gb, gd, gc} {
						g.Check(t)
					}
					for i := range c {
						if !in(i) {
							require.Truef(t, math.IsNaN(float64(c[i])), "%s: c[%d] outside the columns written", name, i)
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
	}, famDirect, famDirectDotRows, famDirectDotCols)
}

// TestKernelDirectInf checks that an infinite A element gives ±Inf, not
// NaN, in each direct-A kernel's columns, the dot column included, when it
// falls on a tail k step (k = 9: past the unrolled steps).
func TestKernelDirectInf(t *testing.T) {
	const k = 9
	forEachKernel(t, func(t *testing.T, _ kernelID, kk kernelSpec) {
		mr, nr, bw := kk.mr, kk.nr, kk.nr
		if kk.family != famDirect {
			bw = nr - 1
		}
		rs, ks := k, 1
		if kk.family == famDirectDotCols {
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
		runDirect(kk, a, rs, ks, b, d, c, k, nr, lanes(0, nr))
		for j := range nr {
			require.Truef(t, math.IsInf(float64(c[j]), 1), "c[0][%d] = %v", j, c[j])
			require.Equalf(t, float32(k), c[nr+j], "c[1][%d]", j)
		}
	}, famDirect, famDirectDotRows, famDirectDotCols)
}

// TestKernelDirectPanics checks that the direct-A wrappers refuse operands
// the kernels would read or write past.
func TestKernelDirectPanics(t *testing.T) {
	forEachKernel(t, func(t *testing.T, _ kernelID, kk kernelSpec) {
		const k, rs = 4, 4
		mr, nr, id := kk.mr, kk.nr, kk.isa
		a, b, d, c := make([]float32, (mr-1)*rs+k), make([]float32, k*nr), make([]float32, k), make([]float32, (mr-1)*nr+nr)
		msg := "simdconv: direct kernel operands out of bounds"
		cases := map[string]func(){
			"short a":         func() { directKernel(id, a[:len(a)-1], rs, 1, b, c, k, nr, lanes(0, nr)) },
			"short b":         func() { directKernel(id, a, rs, 1, b[:len(b)-1], c, k, nr, lanes(0, nr)) },
			"short c":         func() { directKernel(id, a, rs, 1, b, c[:len(c)-1], k, nr, lanes(0, nr)) },
			"lanes past nr":   func() { directKernel(id, a, rs, 1, b, c, k, nr, lanes(0, nr+1)) },
			"no lanes":        func() { directKernel(id, a, rs, 1, b, c, k, nr, 0) },
			"negative stride": func() { directKernel(id, a, -1, 1, b, c, k, nr, lanes(0, nr)) },
		}
		if kk.family != famDirect {
			cases = map[string]func(){
				"short d":        func() { directDotKernel(id, a, rs, 1, b, d[:k-1], c, k, nr, lanes(0, nr)) },
				"lanes past nr":  func() { directDotKernel(id, a, rs, 1, b, d, c, k, nr, lanes(0, nr+1)) },
				"short c":        func() { directDotKernel(id, a, rs, 1, b, d, c[:len(c)-1], k, nr, lanes(0, nr)) },
				"no unit stride": func() { directDotKernel(id, a, 2, 2, b, d, c, 2, nr, lanes(0, nr)) },
			}
		}
		if nr == 64 { // a lane past the last is not a bit of the mask
			delete(cases, "lanes past nr")
		}
		for name, f := range cases {
			want := msg
			if name == "no unit stride" {
				want = "simdconv: direct dot kernel needs a unit stride"
			}
			require.PanicsWithValue(t, want, f, name)
		}
	}, famDirect, famDirectDotRows)
}
