package simdgonum

import (
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/blas"

	"github.com/simdconv/simdconv/internal/testutil"
)

// argCase is a call with slices of the given lengths.
type argCase struct {
	name      string
	tA, tB    blas.Transpose
	m, n, k   int
	lenA, lda int
	lenB, ldb int
	lenC, ldc int
}

// run compares the call with gonum's: the same panic value, or the same C.
func (c argCase) run(t *testing.T, r *rand.Rand) {
	t.Helper()
	g := gemmCase{tA: c.tA, tB: c.tB, m: c.m, n: c.n, k: c.k, alpha: 1.5, beta: -0.5}
	compare(t, g, testutil.Rand(r, c.lenA), c.lda, testutil.Rand(r, c.lenB), c.ldb, testutil.Rand(r, c.lenC), c.ldc)
}

// TestSgemmPanicsLikeGonum names each check of gonum's Sgemm, the order in
// which it makes them, and the calls it lets through, zero sizes among
// them.
func TestSgemmPanicsLikeGonum(t *testing.T) {
	const N, T, C = blas.NoTrans, blas.Trans, blas.ConjTrans
	// Most cases break the first: a valid 3×4 by 4×5 product.
	cases := []argCase{
		{"valid", N, N, 3, 5, 4, 12, 4, 20, 5, 15, 5},
		{"valid transposed", T, C, 3, 5, 4, 12, 3, 20, 4, 15, 5},
		{"zero transpose A", 0, N, 3, 5, 4, 12, 4, 20, 5, 15, 5},
		{"letter transpose A", 'X', N, 3, 5, 4, 12, 4, 20, 5, 15, 5},
		{"bad transpose B", N, blas.Transpose(blas.Upper), 3, 5, 4, 12, 4, 20, 5, 15, 5},
		{"transpose before size", 0, N, -1, 5, 4, 12, 4, 20, 5, 15, 5},
		{"m < 0", N, N, -1, 5, 4, 12, 4, 20, 5, 15, 5},
		{"n < 0", N, N, 3, -1, 4, 12, 4, 20, 5, 15, 5},
		{"k < 0", N, N, 3, 5, -1, 12, 4, 20, 5, 15, 5},
		{"m before n", N, N, -1, -1, 4, 12, 4, 20, 5, 15, 5},
		{"lda < k", N, N, 3, 5, 4, 12, 3, 20, 5, 15, 5},
		{"lda < m transposed", T, N, 3, 5, 4, 12, 2, 20, 5, 15, 5},
		{"lda = 0 with k = 0", N, N, 3, 5, 0, 12, 0, 20, 5, 15, 5},
		{"ldb < n", N, N, 3, 5, 4, 12, 4, 20, 4, 15, 5},
		{"ldb < k transposed", N, T, 3, 5, 4, 12, 4, 20, 3, 15, 5},
		{"ldc < n", N, N, 3, 5, 4, 12, 4, 20, 5, 15, 4},
		{"lda before ldb", N, N, 3, 5, 4, 12, 3, 20, 4, 15, 5},
		{"leading dimension before m = 0", N, N, 0, 5, 4, 0, 3, 20, 5, 0, 5},
		{"m = 0 with empty slices", N, N, 0, 5, 4, 0, 4, 0, 5, 0, 5},
		{"n = 0 with empty slices", N, T, 3, 0, 4, 0, 4, 0, 4, 0, 1},
		{"short a", N, N, 3, 5, 4, 11, 4, 20, 5, 15, 5},
		{"short a transposed", C, N, 3, 5, 4, 11, 3, 20, 5, 15, 5},
		{"short b", N, N, 3, 5, 4, 12, 4, 19, 5, 15, 5},
		{"short b transposed", N, T, 3, 5, 4, 12, 4, 19, 4, 15, 5},
		{"short c", N, N, 3, 5, 4, 12, 4, 20, 5, 14, 5},
		{"short a before short c", N, N, 3, 5, 4, 11, 4, 20, 5, 14, 5},
		{"short a with k = 0", N, N, 3, 5, 0, 1, 1, 0, 5, 15, 5},
		{"a of (m-1)·lda with k = 0", N, N, 3, 5, 0, 2, 1, 0, 5, 15, 5},
		{"empty a transposed with k = 0", T, N, 3, 5, 0, 0, 3, 0, 5, 15, 5},
		{"short c with k = 0", N, N, 3, 5, 0, 2, 1, 0, 5, 14, 5},
		{"padded leading dimensions", N, N, 3, 5, 4, 20, 7, 30, 8, 25, 9},
	}
	r := rand.New(rand.NewPCG(5, 6))
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { c.run(t, r) })
	}
}

// TestSgemmRandomArguments compares many calls drawn around the edges of
// validity: each transpose, size, leading dimension and length is now and
// then one step past its limit.
func TestSgemmRandomArguments(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	trans := func() blas.Transpose {
		if r.IntN(10) == 0 {
			return []blas.Transpose{0, 'X'}[r.IntN(2)]
		}
		return []blas.Transpose{blas.NoTrans, blas.Trans, blas.ConjTrans}[r.IntN(3)]
	}
	size := func() int { return r.IntN(8) - 1 }
	step := func() int { return []int{-1, 0, 0, 1, 3}[r.IntN(5)] }
	// operand returns a leading dimension and a length for a rows×cols
	// operand, each near the least that gonum accepts.
	operand := func(t blas.Transpose, rows, cols int) (length, ld int) {
		if t != blas.NoTrans {
			rows, cols = cols, rows
		}
		ld = max(1, cols) + step()
		return max(0, (rows-1)*ld+cols+step()), ld
	}
	for range 20000 {
		c := argCase{tA: trans(), tB: trans(), m: size(), n: size(), k: size()}
		c.lenA, c.lda = operand(c.tA, c.m, c.k)
		c.lenB, c.ldb = operand(c.tB, c.k, c.n)
		c.lenC, c.ldc = operand(blas.NoTrans, c.m, c.n)
		c.run(t, r)
	}
}
