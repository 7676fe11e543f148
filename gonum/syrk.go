package simdgonum

import (
	"sync"

	"gonum.org/v1/gonum/blas"

	"github.com/simdconv/simdconv"
)

// Ssyrk computes C = alpha·A·Aᵀ + beta·C (tA = blas.NoTrans, A is n×k) or
// C = alpha·Aᵀ·A + beta·C (A is k×n) on the ul triangle of the n×n matrix
// C, leaving the other triangle untouched.
func (impl Implementation) Ssyrk(ul blas.Uplo, tA blas.Transpose, n, k int, alpha float32, a []float32, lda int,
	beta float32, c []float32, ldc int) {
	if n == 0 || k == 0 || alpha == 0 || syrkRejects(ul, tA, n, k, len(a), lda, len(a), lda, len(c), ldc) {
		// gonum panics on what it rejects, and only scales C otherwise.
		impl.Implementation.Ssyrk(ul, tA, n, k, alpha, a, lda, beta, c, ldc)
		return
	}
	p := rankUpdate{trans: tA != blas.NoTrans, k: k, alpha: alpha, a: a, lda: lda, b: a, ldb: lda, beta: beta, c: c, ldc: ldc}
	p.triangle(ul == blas.Upper, 0, n)
}

// Ssyr2k computes C = alpha·A·Bᵀ + alpha·B·Aᵀ + beta·C (tA = blas.NoTrans,
// A and B are n×k) or C = alpha·Aᵀ·B + alpha·Bᵀ·A + beta·C (A and B are
// k×n) on the ul triangle of the n×n matrix C, leaving the other triangle
// untouched.
func (impl Implementation) Ssyr2k(ul blas.Uplo, tA blas.Transpose, n, k int, alpha float32, a []float32, lda int,
	b []float32, ldb int, beta float32, c []float32, ldc int) {
	if n == 0 || k == 0 || alpha == 0 || syrkRejects(ul, tA, n, k, len(a), lda, len(b), ldb, len(c), ldc) {
		impl.Implementation.Ssyr2k(ul, tA, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
		return
	}
	p := rankUpdate{trans: tA != blas.NoTrans, two: true, k: k, alpha: alpha, a: a, lda: lda, b: b, ldb: ldb, beta: beta, c: c, ldc: ldc}
	p.triangle(ul == blas.Upper, 0, n)
}

// syrkRejects reports whether gonum's Ssyr2k panics on these arguments, or
// its Ssyrk, given A for B.
func syrkRejects(ul blas.Uplo, tA blas.Transpose, n, k, lenA, lda, lenB, ldb, lenC, ldc int) bool {
	if ul != blas.Upper && ul != blas.Lower || !validTranspose(tA) || n < 0 || k < 0 {
		return true
	}
	rows, cols := n, k
	if tA != blas.NoTrans {
		rows, cols = k, n
	}
	if lda < max(1, cols) || ldb < max(1, cols) || ldc < max(1, n) {
		return true
	}
	if n == 0 {
		return false
	}
	return lenA < (rows-1)*lda+cols || lenB < (rows-1)*ldb+cols || lenC < (n-1)*ldc+n
}

// rankUpdate is a valid Ssyrk (b = a) or Ssyr2k (two) call with n, k and
// alpha above zero.
type rankUpdate struct {
	trans, two  bool
	k           int
	alpha, beta float32
	a, b, c     []float32
	lda, ldb    int
	ldc         int
}

// diagBlock is the largest diagonal block computed whole, through a
// temporary tile: large enough for the kernels to run near full speed,
// small enough that the wasted half of each block stays a small share.
const diagBlock = 64

var tiles = sync.Pool{New: func() any { t := make([]float32, diagBlock*diagBlock); return &t }}

// triangle updates the triangle of C's rows and columns [i, i+n): it
// halves it into two triangles and the rectangle between them, which is a
// plain product, so that nearly all the work runs as large Sgemm calls.
func (p *rankUpdate) triangle(upper bool, i, n int) {
	if n <= diagBlock {
		p.diagonal(upper, i, n)
		return
	}
	n1 := n / 2
	p.triangle(upper, i, n1)
	if upper {
		p.block(i, i+n1, n1, n-n1, p.beta, p.c[i*p.ldc+i+n1:], p.ldc)
	} else {
		p.block(i+n1, i, n-n1, n1, p.beta, p.c[(i+n1)*p.ldc+i:], p.ldc)
	}
	p.triangle(upper, i+n1, n-n1)
}

// block computes the rows×cols block of alpha·op(A)·op(B)ᵀ (plus
// alpha·op(B)·op(A)ᵀ for Ssyr2k) at rows i, columns j, into dst with
// beta.
func (p *rankUpdate) block(i, j, rows, cols int, beta float32, dst []float32, ld int) {
	t := p.trans
	simdconv.Sgemm(t, !t, rows, cols, p.k, p.alpha, p.row(p.a, p.lda, i), p.lda, p.row(p.b, p.ldb, j), p.ldb, beta, dst, ld)
	if p.two {
		simdconv.Sgemm(t, !t, rows, cols, p.k, p.alpha, p.row(p.b, p.ldb, i), p.ldb, p.row(p.a, p.lda, j), p.lda, 1, dst, ld)
	}
}

// row returns x from row i of op(X) on.
func (p *rankUpdate) row(x []float32, ld, i int) []float32 {
	if p.trans {
		return x[i:]
	}
	return x[i*ld:]
}

// diagonal updates the triangle of the n×n diagonal block at row i: the
// whole block goes to a tile, and its triangle into C.
func (p *rankUpdate) diagonal(upper bool, i, n int) {
	tp := tiles.Get().(*[]float32)
	tile := *tp
	p.block(i, i, n, n, 0, tile, n)
	for r := range n {
		lo, hi := 0, r+1
		if upper {
			lo, hi = r, n
		}
		dst, src := p.c[(i+r)*p.ldc+i+lo:(i+r)*p.ldc+i+hi], tile[r*n+lo:r*n+hi]
		if p.beta == 0 {
			copy(dst, src)
			continue
		}
		for j, v := range src {
			dst[j] = p.beta*dst[j] + v
		}
	}
	tiles.Put(tp)
}
