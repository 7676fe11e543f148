package simdgonum

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/gonum"

	"github.com/simdconv/simdconv"
	"github.com/simdconv/simdconv/internal/testutil"
)

var (
	registry   = testutil.Registry{ISA: simdconv.ISA, ISAs: simdconv.ISAs, SetISA: simdconv.SetISA}
	transposes = []blas.Transpose{blas.NoTrans, blas.Trans, blas.ConjTrans}
	// sizes are odd, or at and around the rows and columns of the
	// microkernel tiles of each ISA, and of the direct-A tiles that AVX-512
	// takes for products of 49 to 56 columns.
	sizes   = []int{1, 2, 3, 6, 7, 8, 12, 16, 17, 33, 48, 49, 56, 65, 130}
	scalars = []float32{0, 1, -0.5, 2}
)

// gemmCase is one Sgemm call; pad is what each leading dimension adds to
// the columns of its matrix.
type gemmCase struct {
	tA, tB      blas.Transpose
	m, n, k     int
	pad         int
	alpha, beta float32
}

func (g gemmCase) String() string {
	return fmt.Sprintf("tA=%c tB=%c m=%d n=%d k=%d pad=%d alpha=%g beta=%g",
		g.tA, g.tB, g.m, g.n, g.k, g.pad, g.alpha, g.beta)
}

// matrix returns a rows×cols matrix with leading dimension cols+pad: random
// values in [-1, 1), NaN in the gaps that no routine may read or write.
func matrix(r *rand.Rand, rows, cols, pad int) ([]float32, int) {
	ld := max(1, cols+pad)
	x := make([]float32, max(0, (rows-1)*ld+cols))
	for i := range x {
		if i%ld < cols {
			x[i] = 2*r.Float32() - 1
		} else {
			x[i] = float32(math.NaN())
		}
	}
	return x, ld
}

func dims(t blas.Transpose, rows, cols int) (int, int) {
	if t == blas.NoTrans {
		return rows, cols
	}
	return cols, rows
}

func abs(x []float32) []float32 {
	y := make([]float32, len(x))
	for i, v := range x {
		y[i] = float32(math.Abs(float64(v)))
	}
	return y
}

// check runs g on Implementation (inside NaN guard bands) and on gonum, and
// fails t unless they agree everywhere, gaps included.
func check(t *testing.T, r *rand.Rand, g gemmCase, cInit func([]float32)) {
	t.Helper()
	ar, ac := dims(g.tA, g.m, g.k)
	br, bc := dims(g.tB, g.k, g.n)
	a, lda := matrix(r, ar, ac, g.pad)
	b, ldb := matrix(r, br, bc, g.pad)
	c0, ldc := matrix(r, g.m, g.n, g.pad)
	if cInit != nil {
		cInit(c0)
	}
	compare(t, g, a, lda, b, ldb, c0, ldc)
}

// level3Case is a call of a level-3 routine that compare makes on both
// implementations.
type level3Case interface {
	fmt.Stringer
	call(impl blas.Float32Level3, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int)
	scalars() (alpha, beta float32)
	// roundings bounds the roundings between a result and the exact one,
	// in units of |alpha|·Σ|a||b| + |beta|·|c|.
	roundings() int
}

func (g gemmCase) call(impl blas.Float32Level3, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	impl.Sgemm(g.tA, g.tB, g.m, g.n, g.k, alpha, a, lda, b, ldb, beta, c, ldc)
}

func (g gemmCase) scalars() (alpha, beta float32) { return g.alpha, g.beta }

func (g gemmCase) roundings() int { return g.k + 2 }

// compare runs s on Implementation (inside NaN guard bands) and on gonum,
// and fails t unless both panic with the same value or both agree
// everywhere in C, gaps included, within twice the roundings of s.
func compare(t *testing.T, s level3Case, a []float32, lda int, b []float32, ldb int, c0 []float32, ldc int) {
	t.Helper()
	alpha, beta := s.scalars()
	want := append([]float32(nil), c0...)
	wantPanic := panicValue(func() { s.call(gonum.Implementation{}, alpha, a, lda, b, ldb, beta, want, ldc) })
	got := testutil.NewGuarded(len(c0), c0)
	gotPanic := panicValue(func() { s.call(Implementation{}, alpha, a, lda, b, ldb, beta, got.Slice(), ldc) })
	got.Check(t)
	if gotPanic != wantPanic {
		t.Fatalf("%v lda=%d ldb=%d ldc=%d len(a,b,c)=%d,%d,%d: panic %#v, gonum's %#v",
			s, lda, ldb, ldc, len(a), len(b), len(c0), gotPanic, wantPanic)
	}
	if wantPanic != nil {
		return
	}
	bound := abs(c0)
	s.call(gonum.Implementation{}, abs32(alpha), abs(a), lda, abs(b), ldb, abs32(beta), bound, ldc)
	assertClose(t, s, want, got.Slice(), bound, 2*float64(s.roundings())*0x1p-24)
}

func panicValue(f func()) (v any) {
	defer func() { v = recover() }()
	f()
	return nil
}

func abs32(x float32) float32 { return float32(math.Abs(float64(x))) }

// assertClose fails t if got[i] and want[i] differ by more than
// tol·bound[i] (NaN sentinels must match NaN), listing the first few.
func assertClose(t *testing.T, call fmt.Stringer, want, got, bound []float32, tol float64) {
	t.Helper()
	bad := 0
	var report string
	for i := range want {
		w, v := float64(want[i]), float64(got[i])
		ok := math.Abs(w-v) <= tol*float64(bound[i]) || math.IsNaN(w) && math.IsNaN(v)
		if !ok {
			if bad < 5 {
				report += fmt.Sprintf("\n  [%d] gonum %.9g got %.9g (bound %.3g)", i, w, v, tol*float64(bound[i]))
			}
			bad++
		}
	}
	if bad > 0 {
		t.Fatalf("%v: %d of %d values differ from gonum:%s", call, bad, len(want), report)
	}
}

// TestSgemmMatchesGonum runs every transpose pair over the cube of sizes,
// with leading dimensions of zero to three spare columns and every alpha,
// beta pair taken in turn, on each ISA.
func TestSgemmMatchesGonum(t *testing.T) {
	registry.ForEachISA(t, func(t *testing.T) {
		r := rand.New(rand.NewPCG(1, 2))
		i := 0
		for _, tA := range transposes {
			for _, tB := range transposes {
				for _, m := range sizes {
					for _, n := range sizes {
						for _, k := range sizes {
							check(t, r, gemmCase{tA, tB, m, n, k, []int{0, 1, 3}[i%3],
								scalars[i%4], scalars[i/4%4]}, nil)
							i++
						}
					}
				}
			}
		}
	})
}

// TestSgemmAlphaBeta takes every alpha, beta pair on a few shapes, zero
// sizes included, and a C full of NaN, which beta = 0 must clear.
func TestSgemmAlphaBeta(t *testing.T) {
	nan := func(c []float32) {
		for i := range c {
			c[i] = float32(math.NaN())
		}
	}
	shapes := [][3]int{{0, 0, 0}, {0, 3, 2}, {3, 0, 2}, {3, 2, 0}, {1, 1, 1}, {5, 1, 5}, {7, 17, 33}, {65, 48, 130}}
	r := rand.New(rand.NewPCG(3, 4))
	for _, tA := range transposes {
		for _, tB := range transposes {
			for _, s := range shapes {
				for _, alpha := range scalars {
					for _, beta := range scalars {
						g := gemmCase{tA, tB, s[0], s[1], s[2], 2, alpha, beta}
						check(t, r, g, nil)
						if beta == 0 {
							check(t, r, g, nan)
						}
					}
				}
			}
		}
	}
}
