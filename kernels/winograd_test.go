package kernels

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/simdconv/simdconv/internal/testutil"
	"github.com/stretchr/testify/require"
)

// winoShapes are 3×3 stride-1 layers that Winograd fits: planes that are
// not multiples of the 4×4 tile, pads 0, 1 and 2, asymmetric pads,
// batches, a row of exactly 16 tiles (written in place) and a layer of
// several blocks, each holding bands of two images.
var winoShapes = []Conv2DParams{
	{N: 1, C: 3, H: 9, W: 11, K: 5, R: 3, S: 3, PadTop: 1, PadBottom: 1, PadLeft: 1, PadRight: 1},
	{N: 2, C: 4, H: 7, W: 13, K: 6, R: 3, S: 3},
	{N: 3, C: 5, H: 10, W: 6, K: 7, R: 3, S: 3, PadTop: 2, PadBottom: 2, PadLeft: 2, PadRight: 2},
	{N: 2, C: 6, H: 11, W: 9, K: 4, R: 3, S: 3, PadTop: 2, PadBottom: 0, PadLeft: 1, PadRight: 2},
	{N: 1, C: 17, H: 5, W: 5, K: 19, R: 3, S: 3, PadTop: 0, PadBottom: 2, PadLeft: 2, PadRight: 0},
	{N: 1, C: 2, H: 9, W: 64, K: 3, R: 3, S: 3, PadTop: 1, PadBottom: 1, PadLeft: 1, PadRight: 1},
	{N: 1, C: 1, H: 3, W: 3, K: 1, R: 3, S: 3},
	{N: 2, C: 64, H: 40, W: 14, K: 64, R: 3, S: 3, PadTop: 1, PadBottom: 1, PadLeft: 1, PadRight: 1},
}

// Winograd's error bound. With u = 2⁻²⁴ and every transform factored
// without cancelling terms, each output of a forward tile obeys
//
//	|ŷ − y| ≤ γ_{C+16} · κ_i·κ_j · Σ_c max|g_{k,c}| · max|d_c|
//
// over the 6×6 input window d_c of the tile, γ_n = n·u/(1 − n·u): C for
// the products' sums, 16 for the depth of the transforms and the bias. κ_i
// = Σ_ξ |Aᵀ_iξ|·‖G_ξ‖₁·‖Bᵀ_ξ‖₁ is how much the transforms' coefficients
// can grow a term on the way to output row (or column) i of the tile:
// 16, 17, 24 and 48, so at most 48² = 2304. The filter gradient's
// element (r, s) obeys the same with κ′_r = Σ_ξ |G_ξr|·‖A_ξ‖₁·‖Bᵀ_ξ‖₁
// (23⅓, 28⅓, 53⅓), the sum over every tile of max|e|·max|d|, and γ over
// the tiles of all images plus 16.
var (
	winoKappa       = [4]float64{16, 17, 24, 48}
	winoKappaFilter = [3]float64{70. / 3, 85. / 3, 160. / 3}
)

func gamma(n int) float64 {
	u := 0x1p-24
	return float64(n) * u / (1 - float64(n)*u)
}

// windowMax returns max|d| over the 6×6 input window of each tile of
// planes planes of in (h×w, padded by top and left), th×tw tiles a plane.
func windowMax(in []float32, planes, h, w, top, left, th, tw int) []float64 {
	window := make([]float64, planes*th*tw)
	for b := range planes {
		for ti := 0; ti < th; ti++ {
			for tj := 0; tj < tw; tj++ {
				m := 0.0
				for a := range 6 {
					for e := range 6 {
						if i, j := 4*ti+a-top, 4*tj+e-left; i >= 0 && i < h && j >= 0 && j < w {
							m = max(m, math.Abs(float64(in[(b*h+i)*w+j])))
						}
					}
				}
				window[(b*th+ti)*tw+tj] = m
			}
		}
	}
	return window
}

// winoBound returns the bound on each output of a correlation of in (n ×
// cin planes h×w, padded by top and left) with filters g(o, i) (nine
// floats) into n × cout planes p×q.
func winoBound(n, cin, cout, h, w, top, left, p, q int, in []float32, g func(o, i int) []float32) []float64 {
	th, tw := ceilDiv(p, 4), ceilDiv(q, 4)
	window := windowMax(in, n*cin, h, w, top, left, th, tw)
	gmax := make([]float64, cout*cin)
	for o := range cout {
		for i := range cin {
			for _, v := range g(o, i) {
				gmax[o*cin+i] = max(gmax[o*cin+i], math.Abs(float64(v)))
			}
		}
	}
	bound := make([]float64, n*cout*p*q)
	gm := gamma(cin + 16)
	for img := range n {
		for o := range cout {
			for ti := 0; ti < th; ti++ {
				for tj := 0; tj < tw; tj++ {
					sum := 0.0
					for i := range cin {
						sum += gmax[o*cin+i] * window[((img*cin+i)*th+ti)*tw+tj]
					}
					for a := 0; a < 4 && 4*ti+a < p; a++ {
						for e := 0; e < 4 && 4*tj+e < q; e++ {
							bound[((img*cout+o)*p+4*ti+a)*q+4*tj+e] = gm * winoKappa[a] * winoKappa[e] * sum
						}
					}
				}
			}
		}
	}
	return bound
}

// winoForwardBound is the bound on each y of Forward.
func winoForwardBound(s shape, x, w []float32) []float64 {
	return winoBound(s.N, s.C, s.K, s.H, s.W, s.PadTop, s.PadLeft, s.P, s.Q, x,
		func(k, c int) []float32 { return w[(k*s.C+c)*9:][:9] })
}

// winoDataBound is the bound on each dx of BackwardData.
func winoDataBound(s shape, dy, w []float32) []float64 {
	return winoBound(s.N, s.K, s.C, s.P, s.Q, 2-s.PadTop, 2-s.PadLeft, s.H, s.W, dy,
		func(c, k int) []float32 { return w[(k*s.C+c)*9:][:9] })
}

// winoFilterBound is the bound on each dw of BackwardFilter.
func winoFilterBound(s shape, dy, x []float32) []float64 {
	th, tw := ceilDiv(s.P, 4), ceilDiv(s.Q, 4)
	tiles := th * tw
	emax := make([]float64, s.N*s.K*tiles) // max|e| over each dY tile
	for b := 0; b < s.N*s.K; b++ {
		for i := 0; i < s.P; i++ {
			for j := 0; j < s.Q; j++ {
				e := &emax[b*tiles+i/4*tw+j/4]
				*e = max(*e, math.Abs(float64(dy[(b*s.P+i)*s.Q+j])))
			}
		}
	}
	dmax := windowMax(x, s.N*s.C, s.H, s.W, s.PadTop, s.PadLeft, th, tw)
	gm := gamma(s.N*tiles + 16)
	bound := make([]float64, s.wLen)
	for k := range s.K {
		for c := range s.C {
			sum := 0.0
			for n := range s.N {
				for t := range tiles {
					sum += emax[(n*s.K+k)*tiles+t] * dmax[(n*s.C+c)*tiles+t]
				}
			}
			for r := range 3 {
				for t := range 3 {
					bound[(k*s.C+c)*9+3*r+t] = gm * winoKappaFilter[r] * winoKappaFilter[t] * sum
				}
			}
		}
	}
	return bound
}

// checkBound fails unless |got − want| ≤ bound + u·|want| everywhere.
func checkBound(t *testing.T, what string, want, bound []float64, got []float32) {
	t.Helper()
	require.Equal(t, len(want), len(got))
	for i := range want {
		lim := bound[i] + 0x1p-24*math.Abs(want[i])
		if d := math.Abs(float64(got[i]) - want[i]); !(d <= lim) {
			t.Fatalf("%s: element %d: got %.9g, want %.9g: error %.3g above the bound %.3g", what, i, got[i], want[i], d, lim)
		}
	}
}

func TestWinogradPasses(t *testing.T) {
	allParallel(t)
	registry.ForEachISA(t, func(t *testing.T) {
		for i, p := range winoShapes {
			for _, threads := range []int{1, 2} {
				t.Run(fmt.Sprintf("shape=%d/threads=%d", i, threads), func(t *testing.T) {
					c0, err := NewConv2D(p, WithThreads(threads), WithAlgorithm(Winograd))
					require.NoError(t, err, name(p))
					c, err := NewConv2D(p, WithThreads(threads), WithAlgorithm(Winograd), WithReLU(),
						WithWorkspace(dirtyWorkspace(c0.WorkspaceSize())))
					require.NoError(t, err)
					require.NotNil(t, c.wino)
					d := newData(t, p, uint64(i))
					s := d.s
					y := testutil.NewGuarded(s.yLen, nil)
					require.NoError(t, c.Forward(y.Slice(), d.x, d.w, d.bias))
					y.Check(t)
					// The ReLU clips the error of a negative sum: bound the
					// plain sum.
					checkBound(t, "forward", refForward(s, d.x, d.w, d.bias, true),
						winoForwardBound(s, d.x, d.w), y.Slice())

					dx := testutil.NewGuarded(s.xLen, testutil.Rand(rand.New(rand.NewPCG(1, 1)), s.xLen))
					require.NoError(t, c.BackwardData(dx.Slice(), d.dy, d.w))
					dx.Check(t)
					checkBound(t, "backward-data", refBackwardData(s, d.dy, d.w), winoDataBound(s, d.dy, d.w), dx.Slice())

					dw := testutil.NewGuarded(s.wLen, testutil.Rand(rand.New(rand.NewPCG(2, 2)), s.wLen))
					db := testutil.NewGuarded(s.K, testutil.Rand(rand.New(rand.NewPCG(3, 3)), s.K))
					require.NoError(t, c.BackwardFilter(dw.Slice(), db.Slice(), d.dy, d.x))
					dw.Check(t)
					db.Check(t)
					wantW, wantB := refBackwardFilter(s, d.dy, d.x)
					checkBound(t, "backward-filter dw", wantW, winoFilterBound(s, d.dy, d.x), dw.Slice())
					rt, at := d.tolFilter()
					testutil.AssertClose(t, wantB, db.Slice(), rt, at, "backward-filter dbias")
				})
			}
		}
	})
}
