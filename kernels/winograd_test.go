package kernels

import (
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"sync"
	"testing"

	"github.com/simdconv/simdconv/internal/engine"
	"github.com/simdconv/simdconv/internal/testutil"
	"github.com/stretchr/testify/require"
)

// winoShapes are 3×3 stride-1 layers that Winograd fits: planes that are
// not multiples of the 4×4 tile, pads 0, 1 and 2, asymmetric pads,
// batches, a row of exactly 16 tiles (written in place), a layer of
// several blocks whose strips start inside a plane, small planes folded
// into bands with a partial last group of images, and planes smaller than
// the filter.
var winoShapes = []Conv2DParams{
	{N: 1, C: 3, H: 9, W: 11, K: 5, R: 3, S: 3, PadTop: 1, PadBottom: 1, PadLeft: 1, PadRight: 1},
	{N: 2, C: 4, H: 7, W: 13, K: 6, R: 3, S: 3},
	{N: 3, C: 5, H: 10, W: 6, K: 7, R: 3, S: 3, PadTop: 2, PadBottom: 2, PadLeft: 2, PadRight: 2},
	{N: 2, C: 6, H: 11, W: 9, K: 4, R: 3, S: 3, PadTop: 2, PadBottom: 0, PadLeft: 1, PadRight: 2},
	{N: 1, C: 17, H: 5, W: 5, K: 19, R: 3, S: 3, PadTop: 0, PadBottom: 2, PadLeft: 2, PadRight: 0},
	{N: 1, C: 2, H: 9, W: 64, K: 3, R: 3, S: 3, PadTop: 1, PadBottom: 1, PadLeft: 1, PadRight: 1},
	{N: 1, C: 1, H: 3, W: 3, K: 1, R: 3, S: 3},
	{N: 2, C: 64, H: 40, W: 14, K: 64, R: 3, S: 3, PadTop: 1, PadBottom: 1, PadLeft: 1, PadRight: 1},
	{N: 11, C: 2, H: 9, W: 40, K: 3, R: 3, S: 3, PadTop: 1, PadBottom: 1, PadLeft: 1, PadRight: 1},
	// planes smaller than the filter, read mostly from the padding
	{N: 2, C: 2, H: 1, W: 1, K: 3, R: 3, S: 3, PadTop: 1, PadBottom: 1, PadLeft: 1, PadRight: 1},
	{N: 1, C: 3, H: 2, W: 1, K: 2, R: 3, S: 3, PadTop: 2, PadBottom: 0, PadLeft: 0, PadRight: 2},
}

// Winograd's error bound. With u = 2⁻²⁴ and every transform factored
// without cancelling terms, each output of a forward tile obeys
//
//	|ŷ − y| ≤ γ_{C+25} · κ_i·κ_j · Σ_c max|g_{k,c}| · max|d_c|
//
// over the 6×6 input window d_c of the tile, γ_n = n·u/(1 − n·u): C for
// the products' sums, 25 for the roundings on a term's way through the
// transforms (6 in the input's, 10 in the filter's 9-term sums with their
// rounded coefficients, 8 in the output's, 1 for the bias). κ_i
// = Σ_ξ |Aᵀ_iξ|·‖G_ξ‖₁·‖Bᵀ_ξ‖₁ is how much the transforms' coefficients
// can grow a term on the way to output row (or column) i of the tile:
// 16, 17, 24 and 48, so at most 48² = 2304. The filter gradient's
// element (r, s) obeys the same with κ′_r = Σ_ξ |G_ξr|·‖A_ξ‖₁·‖Bᵀ_ξ‖₁
// (23⅓, 28⅓, 53⅓), the sum over every tile of max|e|·max|d|, and γ over
// the tiles of all images plus 52 (8 in dY's transform, 6 in x's, 37 in
// the inverse's 36-term sums with their rounded coefficients, 1 for
// WithAccumulate).
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
	gm := gamma(cin + 25)
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
	gm := gamma(s.N*tiles + 52)
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

// TestWinogradPlanned pins what the shapes above exercise: several blocks,
// strips that start inside a plane, images folded into bands, bands
// written in place, and the Winograd buffers in place of the direct ones.
func TestWinogradPlanned(t *testing.T) {
	c, err := NewConv2D(winoShapes[7], WithAlgorithm(Winograd))
	require.NoError(t, err)
	require.Greater(t, c.wino.fwd.blocks(), 1)
	require.Greater(t, c.wino.bwd.blocks(), 1)
	require.NotEqual(t, 0, c.wino.fwd.bands()%c.wino.fwd.blockBands, "a partial last block")
	require.NotEqual(t, 0, c.wino.fwd.blockBands%c.wino.fwd.th, "a block that ends inside a plane")
	if engine.WinogradNative() { // folding fills vectors of tiles, which the generic transforms lack
		c, err = NewConv2D(winoShapes[8], WithAlgorithm(Winograd))
		require.NoError(t, err)
		for _, g := range []winoGeom{c.wino.fwd, c.wino.bwd} {
			require.Greater(t, g.fold, 1, "images side by side in a band")
			require.NotZero(t, g.n%g.fold, "a partial last group of images")
			require.Greater(t, g.blockBands, g.th, "a block across groups")
		}
	}
	c, err = NewConv2D(winoShapes[5], WithAlgorithm(Winograd))
	require.NoError(t, err)
	require.Equal(t, 64, c.s.Q, "16 tiles: a whole vector of tiles in place")
	require.Zero(t, c.panel+c.xpadLen+c.dypadLen+c.chunks, "no direct buffers")
	d, err := NewConv2D(winoShapes[5])
	require.NoError(t, err)
	require.Nil(t, d.wino, "Direct is the default")
}

// TestWinogradPointStride checks that no two points' matrices of U, V or M
// start a multiple of 4 KiB apart on layers whose channels and tiles are
// multiples of 16, where the transforms' 36 streams would otherwise share
// one set of the L1 cache.
func TestWinogradPointStride(t *testing.T) {
	for _, p := range []Conv2DParams{
		{N: 1, C: 128, H: 28, W: 28, K: 128, R: 3, S: 3, PadTop: 1, PadBottom: 1, PadLeft: 1, PadRight: 1},
		{N: 32, C: 16, H: 32, W: 32, K: 16, R: 3, S: 3, PadTop: 1, PadBottom: 1, PadLeft: 1, PadRight: 1},
	} {
		c, err := NewConv2D(p, WithAlgorithm(Winograd))
		require.NoError(t, err)
		wp := c.wino
		for _, stride := range []int{wp.us, wp.point(p.C), wp.point(p.K)} {
			for d := 1; d < 36; d++ {
				require.NotZero(t, d*stride*4%4096, "%v: points %d apart at stride %d floats", p, d, stride)
			}
		}
	}
}

// TestWinogradAccumulate checks WithAccumulate on Winograd's BackwardFilter.
func TestWinogradAccumulate(t *testing.T) {
	p := winoShapes[3]
	d := newData(t, p, 5)
	c, err := NewConv2D(p, WithAlgorithm(Winograd), WithAccumulate())
	require.NoError(t, err)
	s := d.s
	dw, db := make([]float32, s.wLen), make([]float32, s.K)
	for i := range dw {
		dw[i] = 1
	}
	for i := range db {
		db[i] = -2
	}
	require.NoError(t, c.BackwardFilter(dw, db, d.dy, d.x))
	wantW, wantB := refBackwardFilter(s, d.dy, d.x)
	bound := winoFilterBound(s, d.dy, d.x)
	for i := range wantW {
		wantW[i]++
		bound[i] += 0x1p-24 // the addition of 1
	}
	for i := range wantB {
		wantB[i] -= 2
	}
	checkBound(t, "accumulated dw", wantW, bound, dw)
	rt, at := d.tolFilter()
	testutil.AssertClose(t, wantB, db, rt, at, "accumulated dbias")
}

// TestWinogradThreadsBitwise checks that every Winograd pass gives the same
// bits on 1, 2 and 3 threads.
func TestWinogradThreadsBitwise(t *testing.T) {
	allParallel(t)
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(3))
	registry.ForEachISA(t, func(t *testing.T) {
		for i, p := range winoShapes {
			d := newData(t, p, uint64(i))
			var want outputs
			for _, threads := range []int{1, 2, 3} {
				c, err := NewConv2D(p, WithThreads(threads), WithAlgorithm(Winograd))
				require.NoError(t, err)
				require.Equal(t, threads, c.threads)
				o := runAll(t, c, d)
				if threads == 1 {
					want = o
					continue
				}
				require.Equal(t, want, o, "shape %d, threads=%d", i, threads)
			}
		}
	})
}

func TestWinogradZeroAllocs(t *testing.T) {
	allParallel(t)
	registry.ForEachISA(t, func(t *testing.T) {
		for _, threads := range []int{1, 2} {
			for i, p := range winoShapes {
				d := newData(t, p, 1)
				n, err := WorkspaceSize(p, WithThreads(threads), WithAlgorithm(Winograd))
				require.NoError(t, err)
				c, err := NewConv2D(p, WithThreads(threads), WithAlgorithm(Winograd), WithWorkspace(make([]float32, n)))
				require.NoError(t, err)
				require.Equal(t, c.WorkspaceSize(), n)
				o := runAll(t, c, d)
				allocs := testing.AllocsPerRun(5, func() {
					_ = c.Forward(o.y, d.x, d.w, d.bias)
					_ = c.BackwardData(o.dx, d.dy, d.w)
					_ = c.BackwardFilter(o.dw, o.db, d.dy, d.x)
				})
				require.Zero(t, allocs, "shape %d threads %d", i, threads)
			}
		}
	})
}

// TestWinogradErrors checks that Winograd refuses, naming the reason, every
// layer it does not fit, that Auto plans those directly, and that the
// passes check their arguments as the direct ones do.
func TestWinogradErrors(t *testing.T) {
	ok := Conv2DParams{N: 1, C: 4, H: 8, W: 8, K: 6, R: 3, S: 3, PadTop: 1, PadBottom: 1, PadLeft: 1, PadRight: 1}
	for _, tc := range []struct {
		edit func(p *Conv2DParams)
		want string
	}{
		{func(p *Conv2DParams) { p.R = 5 }, "R×S = 5×3, want 3×3"},
		{func(p *Conv2DParams) { p.S = 1 }, "R×S = 3×1, want 3×3"},
		{func(p *Conv2DParams) { p.StrideW = 2 }, "stride 1×2, want 1×1"},
		{func(p *Conv2DParams) { p.DilationH = 2 }, "dilation 2×1, want 1×1"},
		{func(p *Conv2DParams) { p.PadRight = 3 }, "padding 1,1,1,3 (top, bottom, left, right), want each ≤ 2"},
		{func(p *Conv2DParams) { p.Groups = 2 }, "Groups = 2, want 1"},
	} {
		p := ok
		tc.edit(&p)
		_, err := NewConv2D(p, WithAlgorithm(Winograd))
		require.EqualError(t, err, "kernels: WithAlgorithm(Winograd): "+tc.want)
		_, err = WorkspaceSize(p, WithAlgorithm(Winograd))
		require.Error(t, err)
		c, err := NewConv2D(p, WithAlgorithm(Auto))
		require.NoError(t, err)
		require.Nil(t, c.wino)
	}
	_, err := NewConv2D(ok, WithAlgorithm(Auto+1))
	require.EqualError(t, err, "kernels: WithAlgorithm(Algorithm(3)): want Direct, Winograd or Auto")

	c, err := NewConv2D(ok, WithAlgorithm(Winograd))
	require.NoError(t, err)
	s := c.s
	x, w, y := make([]float32, s.xLen), make([]float32, s.wLen), make([]float32, s.yLen)
	require.EqualError(t, c.Forward(y[1:], x, w, nil), "kernels: Forward: len(y) = 383, want 384 (N·K·P·Q)")
	require.EqualError(t, c.BackwardData(x, y, w[:3]), "kernels: BackwardData: len(w) = 3, want 216 (K·C/Groups·R·S)")
	big := make([]float32, s.xLen+s.yLen)
	require.ErrorIs(t, c.Forward(big[:s.yLen], big[s.yLen-1:][:s.xLen], w, nil), ErrOverlap)
	require.ErrorIs(t, c.BackwardFilter(big[:s.wLen], nil, y, big[:s.xLen]), ErrOverlap)
}

// TestWinogradSpecialValues plants a NaN or an infinity in x or dy and
// checks that it spreads as the package doc says: to every output whose
// defining sum reads it, and otherwise only within the output tiles whose
// input window holds it (all channels); in dw, within the filters of its
// channel.
func TestWinogradSpecialValues(t *testing.T) {
	allParallel(t)
	for i, p := range winoShapes {
		if p.C*p.K > 1000 { // the reference of the 64-channel layer, 16 times over, takes minutes
			continue
		}
		d := newData(t, p, uint64(i))
		s := d.s
		for _, inDY := range []bool{false, true} {
			h, w, ch := s.H, s.W, s.C
			if inDY {
				h, w, ch = s.P, s.Q, s.K
			}
			for _, hw := range [][2]int{{h / 2, w / 2}, {0, 0}, {h - 1, w - 1}, {0, w - 1}} {
				img, cp := s.N-1, ch/2
				at := ((img*ch+cp)*h+hw[0])*w + hw[1]
				read := [3]map[int]bool{{}, {}, {}} // y, dx, dw
				refTermsPadded(s, func(yi, xi, wi int) {
					if !inDY && xi == at {
						read[0][yi], read[2][wi] = true, true
					}
					if inDY && yi == at {
						read[2][wi] = true
						if xi >= 0 {
							read[1][xi] = true
						}
					}
				})
				// The tiles whose window holds the plant, in y or dx.
				spread := [3]func(i int) bool{
					func(yi int) bool {
						return !inDY && yi/(s.K*s.PQ) == img && inWindow(hw, yi%s.PQ/s.Q, yi%s.Q, s.PadTop, s.PadLeft)
					},
					func(xi int) bool {
						return inDY && xi/(s.C*s.HW) == img && inWindow(hw, xi%s.HW/s.W, xi%s.W, 2-s.PadTop, 2-s.PadLeft)
					},
					func(wi int) bool {
						if inDY {
							return wi/(s.C*9) == cp
						}
						return wi/9%s.C == cp
					},
				}
				for _, v := range []float32{float32(math.NaN()), float32(math.Inf(-1))} {
					dd := d
					dd.x, dd.dy = append([]float32(nil), d.x...), append([]float32(nil), d.dy...)
					if inDY {
						dd.dy[at] = v
					} else {
						dd.x[at] = v
					}
					registry.ForEachISA(t, func(t *testing.T) {
						for _, threads := range []int{1, 2} {
							c, err := NewConv2D(p, WithThreads(threads), WithAlgorithm(Winograd))
							require.NoError(t, err)
							o := runAll(t, c, dd)
							where := fmt.Sprintf("shape %d, %v in dy=%v at %v, threads %d", i, v, inDY, hw, threads)
							for k, got := range [][]float32{o.y, o.dx, o.dw} {
								for e, x := range got {
									finite := !math.IsNaN(float64(x)) && !math.IsInf(float64(x), 0)
									if read[k][e] && finite || !finite && !spread[k](e) {
										t.Fatalf("%s: output %d element %d is %v: read %v, in a tile that holds it %v",
											where, k, e, x, read[k][e], spread[k](e))
									}
								}
							}
						}
					})
				}
			}
		}
	}
}

// inWindow reports whether input position hw lies in the 6×6 window of
// the tile of output (i, j), on an input padded by top and left.
func inWindow(hw [2]int, i, j, top, left int) bool {
	h0, w0 := i/4*4-top, j/4*4-left
	return hw[0] >= h0 && hw[0] < h0+6 && hw[1] >= w0 && hw[1] < w0+6
}

// TestWinogradMixed runs plans whose passes are split between Winograd and
// the direct paths, as Auto may plan them, on a dirty workspace sized for
// both, and checks every pass against the reference.
func TestWinogradMixed(t *testing.T) {
	allParallel(t)
	p := winoShapes[3]
	d := newData(t, p, 9)
	s := d.s
	for mask := 1; mask < 7; mask++ {
		for _, threads := range []int{1, 2} {
			c, err := NewConv2D(p, WithThreads(threads))
			require.NoError(t, err)
			c.algo = Auto
			wp := &winoPlan{fwd: newWinoGeom(s.N, s.C, s.K, s.H, s.W, s.PadTop, s.PadLeft, s.P, s.Q),
				bwd: newWinoGeom(s.N, s.K, s.C, s.P, s.Q, 2-s.PadTop, 2-s.PadLeft, s.H, s.W)}
			require.NoError(t, c.useWinograd(wp, mask&1 != 0, mask&2 != 0, mask&4 != 0))
			useDirtyWorkspace(c)
			o := runAll(t, c, d)
			for i, pass := range []struct {
				wino        bool
				want, bound []float64
				got         []float32
				rtol, atol  float64
			}{
				{wp.forward, refForward(s, d.x, d.w, d.bias, false), winoForwardBound(s, d.x, d.w), o.y, 0, 0},
				{wp.data, refBackwardData(s, d.dy, d.w), winoDataBound(s, d.dy, d.w), o.dx, 0, 0},
			} {
				if pass.wino {
					checkBound(t, fmt.Sprint("mask ", mask, " pass ", i), pass.want, pass.bound, pass.got)
					continue
				}
				rt, at := d.tolData()
				testutil.AssertClose(t, pass.want, pass.got, rt, at, "mask ", mask, " direct pass ", i)
			}
			wantW, _ := refBackwardFilter(s, d.dy, d.x)
			if wp.filter {
				checkBound(t, fmt.Sprint("mask ", mask, " dw"), wantW, winoFilterBound(s, d.dy, d.x), o.dw)
			} else {
				rt, at := d.tolFilter()
				testutil.AssertClose(t, wantW, o.dw, rt, at, "mask ", mask, " direct dw")
			}
		}
	}
}

// TestAutoPicks pins Auto's choice on the 3×3 stride-1 layers of the layer
// table and the zoo (../shared/peers), and a batch of 32 of L5: Winograd
// for the wide planes of many channels (L2, L3, VGG's conv2_1, the U-Net's
// full resolution, L5 at batch 32), where results/winograd-speed.md
// measured it 1.2–2.3× the direct passes, and Direct where it measured
// Winograd slower: few channels (L8, Z18, Z27, Z30: the transforms outweigh
// the products), few tiles per filter (L4, L5, VGG's conv5 at batch 1) and
// CIFAR's stage 1 (Z24: 16 channels, 0.63–0.72× on avx512, where the model
// gives 0.94; on avx2 it gives 1.02, unmeasured). CIFAR's stage 2 (Z26, its
// 16×16 planes folded three to a band) measured 1.03–1.22×, where the
// model is within a few % of 1. Those figures are from cores with 1 MiB of
// L2, so the test plans for one: a larger L2 makes larger blocks, and on
// an Intel Xeon's 2 MiB Z26's forward gain is 1.20.
func TestAutoPicks(t *testing.T) {
	defer func(l2 int) { winoL2 = l2 }(winoL2)
	winoL2 = 1 << 20 / 4 / 2
	const (
		direct, wino, near = 0, 1, 2 // near: within a few % of 1, either pick as the model says
	)
	sq := func(n, c, hw, k int) Conv2DParams {
		return Conv2DParams{N: n, C: c, H: hw, W: hw, K: k, R: 3, S: 3, PadTop: 1, PadBottom: 1, PadLeft: 1, PadRight: 1}
	}
	for name, tc := range map[string]struct {
		p    Conv2DParams
		pick int // every pass
	}{
		"L2": {sq(1, 64, 56, 64), wino}, "L3": {sq(1, 128, 28, 128), wino},
		"L4": {sq(1, 256, 14, 256), direct}, "L5": {sq(1, 512, 7, 512), direct},
		"Z18": {sq(1, 3, 224, 64), direct}, "Z19": {sq(1, 64, 112, 128), wino}, "Z20": {sq(1, 512, 14, 512), direct},
		"Z24": {sq(32, 16, 32, 16), near}, "Z26": {sq(32, 32, 16, 32), near}, "Z27": {sq(64, 3, 32, 16), direct},
		"Z28":   {sq(1, 32, 256, 32), wino},
		"Z30":   {Conv2DParams{N: 3, C: 7, H: 19, W: 23, K: 11, R: 3, S: 3, PadTop: 1, PadBottom: 1, PadLeft: 1, PadRight: 1}, direct},
		"B32L5": {sq(32, 512, 7, 512), wino},
		"L8":    {Conv2DParams{N: 32, C: 1, H: 28, W: 28, K: 32, R: 3, S: 3}, direct},
	} {
		c, err := NewConv2D(tc.p, WithAlgorithm(Winograd))
		require.NoError(t, err)
		wp := c.wino
		gains := [3]float64{winogradGain(&c.s, &wp.fwd), winogradGain(&c.s, &wp.bwd), winogradGain(&c.s, &wp.fwd)}
		a, err := NewConv2D(tc.p, WithAlgorithm(Auto))
		require.NoError(t, err)
		if !engine.WinogradNative() {
			require.Nil(t, a.wino, "%s: Auto took Winograd without SIMD transforms", name)
			continue
		}
		for i, g := range gains {
			switch tc.pick {
			case near:
				require.InDelta(t, 1, g, 0.15, "%s pass %d", name, i)
			default:
				require.Equal(t, tc.pick == wino, g > 1, "%s pass %d: gain %.2f", name, i, g)
			}
		}
		if a.wino == nil {
			require.True(t, gains[0] <= 1 && gains[1] <= 1, "%s: gains %v but no pass on Winograd", name, gains)
			continue
		}
		require.Equal(t, [3]bool{gains[0] > 1, gains[1] > 1, gains[2] > 1},
			[3]bool{a.wino.forward, a.wino.data, a.wino.filter}, "%s: the passes Auto put on Winograd", name)
	}
}

// TestWinogradConcurrent calls every Winograd pass of one plan from several
// goroutines at once, on the plan's workspaces and on the caller's, and
// checks each result bitwise against the same call made alone.
func TestWinogradConcurrent(t *testing.T) {
	allParallel(t)
	p := winoShapes[7]
	d := newData(t, p, 4)
	for _, shared := range []bool{false, true} {
		opts := []Option{WithThreads(2), WithAlgorithm(Winograd)}
		if shared {
			n, err := WorkspaceSize(p, opts...)
			require.NoError(t, err)
			opts = append(opts, WithWorkspace(make([]float32, n)))
		}
		c, err := NewConv2D(p, opts...)
		require.NoError(t, err)
		want := runAll(t, c, d)
		got := make([]outputs, 4)
		var wg sync.WaitGroup
		for g := range got {
			wg.Add(1)
			go func() { defer wg.Done(); got[g] = runAll(t, c, d) }()
		}
		wg.Wait()
		for g, o := range got {
			require.Equal(t, want, o, "shared %v: caller %d", shared, g)
		}
	}
}

// TestWinogradConvTranspose runs a 3×3 stride-1 ConvTranspose2D on
// Winograd and checks every pass against the same layer on Direct, within
// twice the bound of the matching convolution's pass.
func TestWinogradConvTranspose(t *testing.T) {
	p := ConvTranspose2DParams{N: 2, C: 5, H: 9, W: 7, K: 6, R: 3, S: 3, PadH: 1, PadW: 0}
	m, err := p.Matching()
	require.NoError(t, err)
	s, err := m.validate()
	require.NoError(t, err)
	direct, err := NewConvTranspose2D(p)
	require.NoError(t, err)
	wino, err := NewConvTranspose2D(p, WithAlgorithm(Winograd))
	require.NoError(t, err)
	require.NotNil(t, wino.conv.wino)
	r := rand.New(rand.NewPCG(5, 5))
	// The layer's x is the convolution's dy, its y the convolution's x.
	x, w, dy := testutil.Rand(r, s.yLen), testutil.Rand(r, s.wLen), testutil.Rand(r, s.xLen)
	run := func(c *ConvTranspose2D) (y, dx, dw []float32) {
		y, dx, dw = make([]float32, s.xLen), make([]float32, s.yLen), make([]float32, s.wLen)
		require.NoError(t, c.Forward(y, x, w, nil))
		require.NoError(t, c.BackwardData(dx, dy, w))
		require.NoError(t, c.BackwardFilter(dw, nil, dy, x))
		return y, dx, dw
	}
	yd, dxd, dwd := run(direct)
	yw, dxw, dww := run(wino)
	twice := func(b []float64) []float64 {
		for i := range b {
			b[i] *= 2
		}
		return b
	}
	checkBound(t, "forward", testutil.F64(yd), twice(winoDataBound(s, x, w)), yw)
	checkBound(t, "backward-data", testutil.F64(dxd), twice(winoForwardBound(s, dy, w)), dxw)
	checkBound(t, "backward-filter", testutil.F64(dwd), twice(winoFilterBound(s, x, dy)), dww)
}

// TestWinogradKappa derives the growth constants of the error bound from
// Lavin and Gray's matrices, and checks G against the filter transform's
// winoGG.
func TestWinogradKappa(t *testing.T) {
	bt := [6][6]float64{{4, 0, -5, 0, 1, 0}, {0, -4, -4, 1, 1, 0}, {0, 4, -4, -1, 1, 0},
		{0, -2, -1, 2, 1, 0}, {0, 2, -1, -2, 1, 0}, {0, 4, 0, -5, 0, 1}}
	g := [6][3]float64{{1. / 4, 0, 0}, {-1. / 6, -1. / 6, -1. / 6}, {-1. / 6, 1. / 6, -1. / 6},
		{1. / 24, 1. / 12, 1. / 6}, {1. / 24, -1. / 12, 1. / 6}, {0, 0, 1}}
	at := [4][6]float64{{1, 1, 1, 1, 1, 0}, {0, 1, -1, 2, -2, 0}, {0, 1, 1, 4, 4, 0}, {0, 1, -1, 8, -8, 1}}
	norm := func(row []float64) (n float64) {
		for _, v := range row {
			n += math.Abs(v)
		}
		return n
	}
	for i := range 4 {
		k := 0.0
		for xi := range 6 {
			k += math.Abs(at[i][xi]) * norm(g[xi][:]) * norm(bt[xi][:])
		}
		require.InDelta(t, winoKappa[i], k, 1e-12, "κ_%d", i)
	}
	for r := range 3 {
		k := 0.0
		for xi := range 6 {
			a := 0.0
			for i := range 4 {
				a += math.Abs(at[i][xi])
			}
			k += math.Abs(g[xi][r]) * a * norm(bt[xi][:])
		}
		require.InDelta(t, winoKappaFilter[r], k, 1e-12, "κ′_%d", r)
	}
	for p := range 36 {
		for e := range 9 {
			require.Equal(t, float32(g[p/6][e/3]*g[p%6][e%3]), winoGG[9*p+e], "G⊗G[%d][%d]", p, e)
		}
	}
}
