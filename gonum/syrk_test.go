package simdgonum

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/blas"

	"github.com/simdconv/simdconv/internal/testutil"
)

// syrkCase is one Ssyrk or, with two, Ssyr2k call.
type syrkCase struct {
	two         bool
	ul          blas.Uplo
	tA          blas.Transpose
	n, k, pad   int
	alpha, beta float32
}

func (s syrkCase) String() string {
	name := "Ssyrk"
	if s.two {
		name = "Ssyr2k"
	}
	return fmt.Sprintf("%s ul=%c tA=%c n=%d k=%d pad=%d alpha=%g beta=%g", name, s.ul, s.tA, s.n, s.k, s.pad, s.alpha, s.beta)
}

// call runs s on impl, with b ignored by Ssyrk.
func (s syrkCase) call(impl blas.Float32Level3, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	if s.two {
		impl.Ssyr2k(s.ul, s.tA, s.n, s.k, alpha, a, lda, b, ldb, beta, c, ldc)
	} else {
		impl.Ssyrk(s.ul, s.tA, s.n, s.k, alpha, a, lda, beta, c, ldc)
	}
}

func (s syrkCase) scalars() (alpha, beta float32) { return s.alpha, s.beta }

func (s syrkCase) roundings() int { return 2*s.k + 3 }

// checkSyrk draws the operands of s, with NaN in the triangle of C that it
// must not touch.
func checkSyrk(t *testing.T, r *rand.Rand, s syrkCase) {
	t.Helper()
	ar, ac := dims(s.tA, s.n, s.k)
	a, lda := matrix(r, ar, ac, s.pad)
	b, ldb := matrix(r, ar, ac, s.pad+1)
	c, ldc := matrix(r, s.n, s.n, s.pad)
	for i := range s.n {
		for j := range s.n {
			if s.ul == blas.Upper && j < i || s.ul == blas.Lower && j > i {
				c[i*ldc+j] = float32(math.NaN())
			}
		}
	}
	compare(t, s, a, lda, b, ldb, c, ldc)
}

// TestSsyrkMatchesGonum covers both triangles and every transpose, sizes
// below, at and past the diagonal block (so one to three levels of
// halving), and every alpha, beta pair in turn, on each ISA.
func TestSsyrkMatchesGonum(t *testing.T) {
	registry.ForEachISA(t, func(t *testing.T) {
		r := rand.New(rand.NewPCG(11, 12))
		i := 0
		for _, two := range []bool{false, true} {
			for _, ul := range []blas.Uplo{blas.Upper, blas.Lower} {
				for _, tA := range transposes {
					for _, n := range []int{1, 2, 7, 17, 63, 64, 65, 130, 257} {
						for _, k := range []int{1, 3, 17, 130} {
							checkSyrk(t, r, syrkCase{two, ul, tA, n, k, i % 3, scalars[i%4], scalars[i/4%4]})
							i++
						}
					}
				}
			}
		}
	})
}

// TestSsyrkAlphaBeta takes every alpha, beta pair, zero sizes included.
func TestSsyrkAlphaBeta(t *testing.T) {
	r := rand.New(rand.NewPCG(13, 14))
	for _, two := range []bool{false, true} {
		for _, ul := range []blas.Uplo{blas.Upper, blas.Lower} {
			for _, tA := range transposes {
				for _, nk := range [][2]int{{0, 0}, {0, 3}, {3, 0}, {1, 1}, {70, 9}} {
					for _, alpha := range scalars {
						for _, beta := range scalars {
							checkSyrk(t, r, syrkCase{two, ul, tA, nk[0], nk[1], 1, alpha, beta})
						}
					}
				}
			}
		}
	}
}

// TestSsyrkRandomArguments compares calls drawn around the edges of
// validity, as TestSgemmRandomArguments does.
func TestSsyrkRandomArguments(t *testing.T) {
	r := rand.New(rand.NewPCG(15, 16))
	pick := func(valid []byte, invalid ...byte) byte {
		if r.IntN(10) == 0 {
			return invalid[r.IntN(len(invalid))]
		}
		return valid[r.IntN(len(valid))]
	}
	step := func() int { return []int{-1, 0, 0, 1, 3}[r.IntN(5)] }
	operand := func(rows, cols int) (length, ld int) {
		ld = max(1, cols) + step()
		return max(0, (rows-1)*ld+cols+step()), ld
	}
	for i := range 20000 {
		s := syrkCase{
			two:   i%2 == 1,
			ul:    blas.Uplo(pick([]byte{byte(blas.Upper), byte(blas.Lower)}, 0, byte(blas.NoTrans))),
			tA:    blas.Transpose(pick([]byte{byte(blas.NoTrans), byte(blas.Trans), byte(blas.ConjTrans)}, 0, 'X')),
			n:     r.IntN(8) - 1,
			k:     r.IntN(8) - 1,
			alpha: 1.5, beta: -0.5,
		}
		ar, ac := dims(s.tA, s.n, s.k)
		lenA, lda := operand(ar, ac)
		lenB, ldb := operand(ar, ac)
		lenC, ldc := operand(s.n, s.n)
		compare(t, s, testutil.Rand(r, lenA), lda, testutil.Rand(r, lenB), ldb, testutil.Rand(r, lenC), ldc)
	}
}
