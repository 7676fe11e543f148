package kernels

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/simdconv/simdconv"
	"github.com/simdconv/simdconv/internal/engine"
	"github.com/simdconv/simdconv/internal/testutil"
	"github.com/stretchr/testify/require"
)

var registry = testutil.Registry{ISA: simdconv.ISA, ISAs: simdconv.ISAs, SetISA: simdconv.SetISA}

// testShapes covers stride, asymmetric padding, dilation, groups,
// depthwise, pointwise, batches and sizes around the register tiles.
var testShapes = []Conv2DParams{
	{N: 1, C: 3, H: 9, W: 11, K: 5, R: 3, S: 3, PadTop: 1, PadBottom: 1, PadLeft: 1, PadRight: 1},
	{N: 2, C: 4, H: 12, W: 10, K: 13, R: 3, S: 2, StrideH: 2, StrideW: 3, PadTop: 2, PadBottom: 0, PadLeft: 1, PadRight: 3},
	{N: 1, C: 6, H: 14, W: 13, K: 6, R: 3, S: 3, DilationH: 2, DilationW: 3, PadTop: 2, PadBottom: 1, PadLeft: 3, PadRight: 2},
	{N: 2, C: 8, H: 9, W: 9, K: 12, R: 3, S: 3, Groups: 4, PadTop: 1, PadBottom: 1, PadLeft: 1, PadRight: 1},
	{N: 1, C: 16, H: 10, W: 10, K: 16, R: 3, S: 3, Groups: 16, StrideH: 2, StrideW: 2, PadTop: 1, PadLeft: 1},
	{N: 3, C: 17, H: 7, W: 6, K: 33, R: 1, S: 1},
	{N: 1, C: 3, H: 23, W: 23, K: 16, R: 7, S: 7, StrideH: 2, StrideW: 2, PadTop: 3, PadBottom: 3, PadLeft: 3, PadRight: 3},
	{N: 4, C: 1, H: 8, W: 8, K: 7, R: 3, S: 3},
	{N: 1, C: 5, H: 6, W: 7, K: 4, R: 2, S: 3, StrideH: 3, StrideW: 2, DilationH: 2, PadTop: 4, PadBottom: 2, PadLeft: 0, PadRight: 1},
	{N: 1, C: 40, H: 5, W: 5, K: 50, R: 3, S: 3, PadTop: 5, PadBottom: 0, PadLeft: 0, PadRight: 5},
	{N: 1, C: 2, H: 5, W: 6, K: 3, R: 1, S: 1, StrideH: 2, StrideW: 2},
	{N: 1, C: 2, H: 6, W: 6, K: 3, R: 2, S: 2, StrideH: 3, StrideW: 3},
	// depthwise at stride 1: the stencil passes
	{N: 2, C: 5, H: 9, W: 11, K: 5, R: 3, S: 3, Groups: 5, PadTop: 1, PadBottom: 1, PadLeft: 1, PadRight: 1},
	{N: 1, C: 3, H: 12, W: 7, K: 3, R: 5, S: 3, Groups: 3, DilationH: 2, PadTop: 3, PadBottom: 5, PadLeft: 0, PadRight: 2},
	{N: 1, C: 4, H: 6, W: 6, K: 4, R: 3, S: 3, Groups: 4, PadTop: 3, PadBottom: 1, PadLeft: 1, PadRight: 3},
	// depthwise in whole blocks of a vector's lanes of channels: the
	// interleaved passes (dwc), at strides 1, 2 and (3, 1), with padding
	// past the filter's reach (forward only) and a plane narrower than a
	// block of columns
	{N: 2, C: 16, H: 9, W: 11, K: 16, R: 3, S: 3, Groups: 16, PadTop: 1, PadBottom: 1, PadLeft: 1, PadRight: 1},
	{N: 1, C: 32, H: 12, W: 7, K: 32, R: 5, S: 3, Groups: 32, DilationH: 2, PadTop: 3, PadBottom: 5, PadLeft: 0, PadRight: 2},
	{N: 1, C: 16, H: 14, W: 13, K: 16, R: 5, S: 5, Groups: 16, StrideH: 2, StrideW: 2, PadTop: 2, PadBottom: 1, PadLeft: 2, PadRight: 2},
	{N: 1, C: 16, H: 10, W: 9, K: 16, R: 3, S: 3, Groups: 16, StrideH: 3, StrideW: 1, PadTop: 1, PadBottom: 1, PadLeft: 1, PadRight: 1},
	{N: 1, C: 8, H: 6, W: 6, K: 8, R: 3, S: 3, Groups: 8, PadTop: 3, PadBottom: 1, PadLeft: 1, PadRight: 3},
	{N: 2, C: 24, H: 7, W: 7, K: 24, R: 3, S: 3, Groups: 24, PadTop: 1, PadBottom: 1, PadLeft: 1, PadRight: 1}, // 8 lanes on AVX-512
	// many more output channels than anything else: Forward runs transposed
	{N: 1, C: 22, H: 3, W: 6, K: 677, R: 3, S: 3, PadTop: 1, PadBottom: 1, PadLeft: 1, PadRight: 1},
	{N: 1, C: 256, H: 17, W: 1, K: 480, R: 1, S: 1},
	// 7×7 outputs: the direct-A kernel reads the filter in place (forward)
	// and transposed (backward-data), its last rows in an overlapping tile
	{N: 2, C: 5, H: 7, W: 7, K: 11, R: 3, S: 3, PadTop: 1, PadBottom: 1, PadLeft: 1, PadRight: 1},
	// depthwise at stride above 1: the stencil over phase planes
	{N: 2, C: 3, H: 11, W: 12, K: 3, R: 5, S: 5, Groups: 3, StrideH: 2, StrideW: 2, PadTop: 2, PadBottom: 1, PadLeft: 2, PadRight: 2},
	{N: 1, C: 2, H: 9, W: 8, K: 2, R: 3, S: 3, Groups: 2, StrideH: 1, StrideW: 2, DilationH: 2, PadTop: 2, PadBottom: 2, PadLeft: 1, PadRight: 0},
	{N: 1, C: 3, H: 7, W: 6, K: 3, R: 1, S: 1, Groups: 3, StrideH: 2, StrideW: 2}, // dX phases that no tap reaches
	// depthwise with a channel multiplier (K = 2·C, 3·C), at stride 1 and 2
	{N: 2, C: 3, H: 9, W: 8, K: 6, R: 3, S: 3, Groups: 3, PadTop: 1, PadBottom: 1, PadLeft: 1, PadRight: 1},
	{N: 1, C: 2, H: 9, W: 9, K: 6, R: 3, S: 3, Groups: 2, StrideH: 2, StrideW: 2, PadTop: 1, PadBottom: 1, PadLeft: 1, PadRight: 1},
	// depthwise whose padding passes the filter's reach, on the GEMM route
	{N: 1, C: 2, H: 2, W: 100, K: 2, R: 1, S: 100, Groups: 2, PadTop: 1},
	// stride 2 over rows long enough for the stride-2 row kernels (a
	// vector and a tail): 1×1 layers that subsample x (planSubsample),
	// depthwise phase planes, and the phase planes and sub-pixel scatters
	// of a 3×3 layer
	{N: 2, C: 5, H: 36, W: 37, K: 7, R: 1, S: 1, StrideH: 2, StrideW: 2},
	{N: 1, C: 4, H: 9, W: 40, K: 6, R: 1, S: 1, Groups: 2, StrideH: 2},
	{N: 1, C: 6, H: 11, W: 45, K: 6, R: 3, S: 3, Groups: 6, StrideH: 2, StrideW: 2, PadTop: 1, PadBottom: 1, PadLeft: 1, PadRight: 1},
	{N: 1, C: 3, H: 10, W: 41, K: 5, R: 3, S: 3, StrideH: 2, StrideW: 2, PadTop: 1, PadLeft: 1, PadRight: 1},
	// many channels over small planes: forward on the indirect route, its
	// output channels not whole vectors; at stride 2 and in two groups
	// with dilation
	{N: 3, C: 24, H: 9, W: 8, K: 40, R: 3, S: 3, StrideH: 2, StrideW: 2, PadTop: 1, PadBottom: 1, PadLeft: 1},
	{N: 2, C: 32, H: 7, W: 7, K: 44, R: 3, S: 3, Groups: 2, DilationH: 2, PadTop: 2, PadBottom: 2, PadLeft: 1, PadRight: 1},
	// a small dW over a long reduction: backward-filter cuts the reduction
	// into chunks, across images and within one (planFew at stride 1,
	// planChunks at stride 2)
	{N: 3, C: 2, H: 16, W: 16, K: 4, R: 3, S: 3, PadTop: 1, PadBottom: 1, PadLeft: 1, PadRight: 1},
	{N: 1, C: 3, H: 64, W: 64, K: 8, R: 5, S: 5, StrideH: 2, StrideW: 2, PadTop: 2, PadBottom: 2, PadLeft: 2, PadRight: 2},
	// few input channels per group at stride 1: the direct passes (fewchan.go)
	{N: 2, C: 3, H: 13, W: 11, K: 10, R: 3, S: 5, DilationH: 2, PadTop: 2, PadBottom: 1, PadLeft: 3, PadRight: 1},
	{N: 3, C: 6, H: 9, W: 10, K: 8, R: 3, S: 3, Groups: 2, PadBottom: 2, PadLeft: 1},
}

func name(p Conv2DParams) string {
	return fmt.Sprintf("%+v", p)
}

// data is a random problem for one shape.
type data struct {
	s                 shape
	x, w, bias, dy, g []float32
}

func newData(t testing.TB, p Conv2DParams, seed uint64) data {
	s, err := p.validate()
	require.NoError(t, err)
	r := rand.New(rand.NewPCG(seed, 7))
	return data{s: s, x: testutil.Rand(r, s.xLen), w: testutil.Rand(r, s.wLen), bias: testutil.Rand(r, s.K),
		dy: testutil.Rand(r, s.yLen), g: testutil.Rand(r, s.yLen)}
}

// reduction lengths of each pass, for the tolerances.
func (d data) tolForward() (float64, float64) { return testutil.Tol(d.s.CRSg + 1) }
func (d data) tolData() (float64, float64)    { return testutil.Tol(d.s.Kg * d.s.RS) }
func (d data) tolFilter() (float64, float64)  { return testutil.Tol(d.s.N * d.s.PQ) }

// runPasses runs all three passes of d on plan c with guarded outputs and
// checks them against the reference.
func runPasses(t *testing.T, c *Conv2D, d data) {
	t.Helper()
	s := d.s
	y := testutil.NewGuarded(s.yLen, nil)
	require.NoError(t, c.Forward(y.Slice(), d.x, d.w, d.bias))
	y.Check(t)
	rt, at := d.tolForward()
	testutil.AssertClose(t, refForward(s, d.x, d.w, d.bias, c.relu), y.Slice(), rt, at, "forward")

	dx := testutil.NewGuarded(s.xLen, testutil.Rand(rand.New(rand.NewPCG(1, 1)), s.xLen))
	require.NoError(t, c.BackwardData(dx.Slice(), d.dy, d.w))
	dx.Check(t)
	rt, at = d.tolData()
	testutil.AssertClose(t, refBackwardData(s, d.dy, d.w), dx.Slice(), rt, at, "backward-data")

	// dw and dbias start as garbage: without WithAccumulate every pass
	// must overwrite them.
	dw := testutil.NewGuarded(s.wLen, testutil.Rand(rand.New(rand.NewPCG(2, 2)), s.wLen))
	db := testutil.NewGuarded(s.K, testutil.Rand(rand.New(rand.NewPCG(3, 3)), s.K))
	require.NoError(t, c.BackwardFilter(dw.Slice(), db.Slice(), d.dy, d.x))
	dw.Check(t)
	db.Check(t)
	wantW, wantB := refBackwardFilter(s, d.dy, d.x)
	rt, at = d.tolFilter()
	testutil.AssertClose(t, wantW, dw.Slice(), rt, at, "backward-filter dw")
	testutil.AssertClose(t, wantB, db.Slice(), rt, at, "backward-filter dbias")
}

func TestPasses(t *testing.T) {
	allParallel(t)
	registry.ForEachISA(t, func(t *testing.T) {
		for i, p := range testShapes {
			for _, threads := range []int{1, 2} {
				t.Run(fmt.Sprintf("shape=%d/threads=%d", i, threads), func(t *testing.T) {
					c0, err := NewConv2D(p, WithThreads(threads))
					require.NoError(t, err, name(p))
					c, err := NewConv2D(p, WithThreads(threads), WithWorkspace(dirtyWorkspace(c0.WorkspaceSize())))
					require.NoError(t, err, name(p))
					runPasses(t, c, newData(t, p, uint64(i)))
				})
			}
		}
	})
}

// TestBackwardDataRoutes runs both backward-data routes on every shape, and
// the full route (or a 1×1 layer's product) transposed, and checks that they
// agree with each other and with the reference.
func TestBackwardDataRoutes(t *testing.T) {
	allParallel(t)
	registry.ForEachISA(t, func(t *testing.T) {
		for i, p := range testShapes {
			d := newData(t, p, uint64(i))
			var got [3][]float32
			for ri, rt := range []route{routeFull, routeGemm, routeFull} {
				c, err := newConv2DRoute(p, rt, ri == 2, 2)
				require.NoError(t, err)
				dx := testutil.NewGuarded(d.s.xLen, nil)
				require.NoError(t, c.BackwardData(dx.Slice(), d.dy, d.w))
				dx.Check(t)
				got[ri] = dx.Slice()
			}
			rt, at := d.tolData()
			testutil.AssertClose(t, testutil.F64(got[0]), got[1], rt, at, "routes disagree: ", name(p))
			testutil.AssertClose(t, refBackwardData(d.s, d.dy, d.w), got[0], rt, at, "full route: ", name(p))
			testutil.AssertClose(t, refBackwardData(d.s, d.dy, d.w), got[2], rt, at, "full route, transposed at stride 1: ", name(p))
		}
	})
}

// newConv2DRoute plans p with the backward-data route forced, and on the
// full route the transposed product at stride 1 set to fullT. A 1×1 layer
// keeps its direct route, transposed (dataT) as fullT says, and a
// depthwise layer its interleaved backward-data (dwc).
func newConv2DRoute(p Conv2DParams, r route, fullT bool, threads int) (*Conv2D, error) {
	c, err := NewConv2D(p, WithThreads(threads))
	if err == nil && c.pointwise && c.dataT != fullT {
		c.dataT = fullT
		c.panel = max(c.panel, c.s.PQ*c.s.Cg)
		useDirtyWorkspace(c)
	}
	if err != nil || c.route == routeDirect || c.route == r && c.fullT == fullT || c.route == routeDwc {
		return c, err
	}
	c.route, c.phases, c.panel, c.fullT = r, nil, 0, fullT && c.s.StrideH == 1 && c.s.StrideW == 1
	if r == routeGemm {
		_, nr := engine.Tile()
		c.chunk = min(c.s.PQ, max(panelTarget/c.s.CRSg, 8*nr))
		c.panel = c.s.CRSg * c.chunk
	} else {
		c.planPhases()
	}
	c.plan() // the forward panel
	useDirtyWorkspace(c)
	return c, nil
}

// useDirtyWorkspace gives a replanned c one call state, in a workspace
// full of garbage that no pass may rely on.
func useDirtyWorkspace(c *Conv2D) {
	c.free = []*callState{c.newState(dirtyWorkspace(c.WorkspaceSize()))}
}

func TestReLUBiasAccumulate(t *testing.T) {
	p := testShapes[1]
	d := newData(t, p, 3)
	c, err := NewConv2D(p, WithReLU(), WithAccumulate())
	require.NoError(t, err)
	s := d.s
	y := make([]float32, s.yLen)
	require.NoError(t, c.Forward(y, d.x, d.w, d.bias))
	rt, at := d.tolForward()
	testutil.AssertClose(t, refForward(s, d.x, d.w, d.bias, true), y, rt, at, "relu")
	negatives := 0
	for _, v := range refForward(s, d.x, d.w, d.bias, false) {
		if v < 0 {
			negatives++
		}
	}
	require.Positive(t, negatives, "the test data must exercise the ReLU")

	dw, db := make([]float32, s.wLen), make([]float32, s.K)
	for i := range dw {
		dw[i] = 1
	}
	for i := range db {
		db[i] = -2
	}
	require.NoError(t, c.BackwardFilter(dw, db, d.dy, d.x))
	wantW, wantB := refBackwardFilter(s, d.dy, d.x)
	for i := range wantW {
		wantW[i]++
	}
	for i := range wantB {
		wantB[i] -= 2
	}
	rt, at = d.tolFilter()
	testutil.AssertClose(t, wantW, dw, rt, at, "accumulated dw")
	testutil.AssertClose(t, wantB, db, rt, at, "accumulated dbias")
}

// TestThreadsBitwise checks that every pass gives the same bits on 1, 2
// and 4 threads.
func TestThreadsBitwise(t *testing.T) {
	allParallel(t)
	registry.ForEachISA(t, func(t *testing.T) {
		for i, p := range append(testShapes, Conv2DParams{N: 1, C: 64, H: 20, W: 20, K: 64, R: 3, S: 3, PadTop: 1, PadBottom: 1, PadLeft: 1, PadRight: 1}) {
			d := newData(t, p, uint64(i))
			var ref [4][]float32
			for _, threads := range []int{1, 2, 4} {
				c, err := NewConv2D(p, WithThreads(threads))
				require.NoError(t, err)
				out := [4][]float32{make([]float32, d.s.yLen), make([]float32, d.s.xLen), make([]float32, d.s.wLen), make([]float32, d.s.K)}
				require.NoError(t, c.Forward(out[0], d.x, d.w, d.bias))
				require.NoError(t, c.BackwardData(out[1], d.dy, d.w))
				require.NoError(t, c.BackwardFilter(out[2], out[3], d.dy, d.x))
				if threads == 1 {
					ref = out
					continue
				}
				require.Equal(t, ref, out, "shape %d, threads=%d", i, threads)
			}
			// Each backward-data route, forced, is thread-count independent too.
			for _, rt := range []route{routeGemm, routeFull} {
				var want []float32
				for _, threads := range []int{1, 2, 4} {
					c, err := newConv2DRoute(p, rt, false, threads)
					require.NoError(t, err)
					dx := make([]float32, d.s.xLen)
					require.NoError(t, c.BackwardData(dx, d.dy, d.w))
					if want == nil {
						want = dx
						continue
					}
					require.Equal(t, want, dx, "shape %d, route %d, threads=%d", i, rt, threads)
				}
			}
		}
	})
}

func TestZeroAllocs(t *testing.T) {
	allParallel(t)
	registry.ForEachISA(t, func(t *testing.T) {
		for _, threads := range []int{1, 2} {
			for i, p := range testShapes {
				d := newData(t, p, 1)
				ws := make([]float32, 0)
				c0, err := NewConv2D(p, WithThreads(threads))
				require.NoError(t, err)
				ws = make([]float32, c0.WorkspaceSize())
				c, err := NewConv2D(p, WithThreads(threads), WithWorkspace(ws))
				require.NoError(t, err)
				y, dx, dw, db := make([]float32, d.s.yLen), make([]float32, d.s.xLen), make([]float32, d.s.wLen), make([]float32, d.s.K)
				allocs := testing.AllocsPerRun(5, func() {
					_ = c.Forward(y, d.x, d.w, d.bias)
					_ = c.BackwardData(dx, d.dy, d.w)
					_ = c.BackwardFilter(dw, db, d.dy, d.x)
				})
				require.Zero(t, allocs, "shape %d threads %d", i, threads)
			}
		}
	})
}

// TestGradients checks the backward passes against finite differences of
// the loss L = Σ y·g. L is linear in x and in w, so a central difference is
// exact up to rounding whatever the step.
func TestGradients(t *testing.T) {
	for i, p := range testShapes {
		d := newData(t, p, uint64(i)+100)
		s := d.s
		c, err := NewConv2D(p)
		require.NoError(t, err)
		y := make([]float32, s.yLen)
		loss := func(x, w, bias []float32) float64 {
			require.NoError(t, c.Forward(y, x, w, bias))
			sum := 0.0
			for j, v := range y {
				sum += float64(v) * float64(d.g[j])
			}
			return sum
		}
		dx, dw, db := make([]float32, s.xLen), make([]float32, s.wLen), make([]float32, s.K)
		require.NoError(t, c.BackwardData(dx, d.g, d.w))
		require.NoError(t, c.BackwardFilter(dw, db, d.g, d.x))
		r := rand.New(rand.NewPCG(uint64(i), 3))
		const h = 0.5
		tol := 1e-5 * float64(s.yLen)
		for range 6 {
			for _, v := range []struct {
				name string
				buf  []float32
				grad []float32
			}{{"x", d.x, dx}, {"w", d.w, dw}, {"bias", d.bias, db}} {
				j := r.IntN(len(v.buf))
				old := v.buf[j]
				v.buf[j] = old + h
				up := loss(d.x, d.w, d.bias)
				v.buf[j] = old - h
				down := loss(d.x, d.w, d.bias)
				v.buf[j] = old
				require.InDelta(t, (up-down)/(2*h), float64(v.grad[j]), tol, "shape %d: dL/d%s[%d]", i, v.name, j)
			}
		}
	}
}

// TestForwardTransposed runs Forward both ways, as Y = W·im2col(X) and as
// Yᵀ = im2col(X)ᵀ·Wᵀ stored transposed, on every shape, with bias and ReLU,
// at one and two threads, and checks both against the reference.
func TestForwardTransposed(t *testing.T) {
	allParallel(t)
	registry.ForEachISA(t, func(t *testing.T) {
		for i, p := range testShapes {
			d := newData(t, p, uint64(i))
			want := refForward(d.s, d.x, d.w, d.bias, true)
			rt, at := d.tolForward()
			for _, transposed := range []bool{false, true} {
				for _, threads := range []int{1, 2} {
					c, err := NewConv2D(p, WithThreads(threads), WithReLU())
					require.NoError(t, err)
					c.forwardT = transposed
					if c.few != nil {
						c.few.forward = false
					}
					c.panel = max(c.panel, d.s.PQ*d.s.Kg)
					useDirtyWorkspace(c)
					y := testutil.NewGuarded(d.s.yLen, nil)
					require.NoError(t, c.Forward(y.Slice(), d.x, d.w, d.bias))
					y.Check(t)
					testutil.AssertClose(t, want, y.Slice(), rt, at, "transposed=", transposed, " threads=", threads, " ", name(p))
				}
			}
		}
	})
}

// TestTransposeFitsPacking checks the packing term of transposeFits: a
// sliver gathers runs of at most its width and the im2col's row, so a
// narrower one costs more an element, and L7's backward-data, whose 32
// rows fit AVX2's 6-row tiles a little worse than its 784 columns do,
// never takes the transposed full route (transposed, its im2col packs
// into 6-wide A slivers and the pass ran 1.5× slower on Zen 4). With SIMD
// it takes the indirect route, which ran 1.14–1.33× the full one.
func TestTransposeFitsPacking(t *testing.T) {
	require.Greater(t, imPackCost(6, 28), imPackCost(16, 28))
	require.Equal(t, imPackCost(16, 7), imPackCost(48, 7))
	registry.ForEachISA(t, func(t *testing.T) {
		c, err := NewConv2D(Conv2DParams{N: 8, C: 32, H: 28, W: 28, K: 64, R: 5, S: 5, StrideH: 1, StrideW: 1})
		require.NoError(t, err)
		want := routeFull
		if engine.Native() {
			want = routeIndirect
		}
		require.Equal(t, want, c.route)
		require.False(t, c.fullT)
	})
}

// TestBackwardFilterShifted runs backward-filter with the Shifted column
// matrix, with im2col(X)ᵀ gathered into the slivers and with it written out
// first (imRows), on every shape but the pointwise and depthwise ones, and
// transposed (filterT) on the 1×1 ones, with accumulation, at one and two
// threads, and checks each against the reference.
func TestBackwardFilterShifted(t *testing.T) {
	allParallel(t)
	registry.ForEachISA(t, func(t *testing.T) {
		for i, p := range testShapes {
			d := newData(t, p, uint64(i))
			wantW, wantB := refBackwardFilter(d.s, d.dy, d.x)
			for j := range wantW {
				wantW[j] += 1 // accumulated onto ones
			}
			rt, at := d.tolFilter()
			forms := []struct{ shifted, imRows, chunks, filterT bool }{
				{false, false, false, false}, {true, false, false, false}, {false, true, false, false}, {true, false, true, false}, {false, false, false, true}}
			for _, form := range forms {
				shifted, imRows := form.shifted, form.imRows
				for _, threads := range []int{1, 2} {
					c, err := NewConv2D(p, WithThreads(threads), WithAccumulate())
					require.NoError(t, err)
					c.shifted, c.chunks, c.filterT = nil, 0, form.filterT
					if form.filterT {
						if !c.pointwise && !c.subsample {
							continue
						}
						c.panel = max(c.panel, d.s.Kg*d.s.Cg)
					}
					if c.few != nil {
						c.few.filter = false
					}
					if shifted {
						if c.pointwise || c.stencil != nil {
							continue
						}
						c.useShifted()
					}
					if form.chunks {
						if c.planChunks(); c.chunks < 2 {
							continue
						}
					}
					c.imRows = imRows && c.shifted == nil && !c.pointwise && c.stencil == nil
					if imRows && !c.imRows {
						continue
					}
					c.plan()
					useDirtyWorkspace(c)
					ones := make([]float32, d.s.wLen)
					for j := range ones {
						ones[j] = 1
					}
					dw := testutil.NewGuarded(d.s.wLen, ones)
					db := testutil.NewGuarded(d.s.K, nil)
					require.NoError(t, c.BackwardFilter(dw.Slice(), db.Slice(), d.dy, d.x))
					dw.Check(t)
					db.Check(t)
					testutil.AssertClose(t, wantW, dw.Slice(), rt, at, "shifted=", shifted, " imRows=", imRows, " chunks=", c.chunks, " filterT=", c.filterT, " threads=", threads, " ", name(p))
					testutil.AssertClose(t, wantB, db.Slice(), rt, at, "dbias ", name(p))
				}
			}
		}
	})
}

// dirtyWorkspace returns n NaNs: a plan must not rely on its workspace
// starting out zero, since callers share one between layers.
func dirtyWorkspace(n int) []float32 {
	ws := make([]float32, n)
	for i := range ws {
		ws[i] = float32(math.NaN())
	}
	return ws
}

// allParallel makes every pass of the tests' small shapes run on all the
// threads asked for, as large layers do, for the rest of t.
func allParallel(t testing.TB) {
	prev := minParallelFlops
	minParallelFlops = 0
	t.Cleanup(func() { minParallelFlops = prev })
}

// TestBackwardDataRows runs the GEMM route of backward-data with the
// threads splitting dX's rows on every shape, and checks it against the
// reference and, bitwise, against one thread.
func TestBackwardDataRows(t *testing.T) {
	allParallel(t)
	prev := minRowChunks
	minRowChunks = 0
	t.Cleanup(func() { minRowChunks = prev })
	registry.ForEachISA(t, func(t *testing.T) {
		for i, p := range testShapes {
			d := newData(t, p, uint64(i))
			var one []float32
			for _, threads := range []int{1, 2, 4} {
				c, err := newConv2DRoute(p, routeGemm, false, threads)
				require.NoError(t, err)
				dx := testutil.NewGuarded(d.s.xLen, nil)
				require.NoError(t, c.BackwardData(dx.Slice(), d.dy, d.w))
				dx.Check(t)
				if one == nil {
					one = dx.Slice()
					rt, at := d.tolData()
					testutil.AssertClose(t, refBackwardData(d.s, d.dy, d.w), one, rt, at, name(p))
					continue
				}
				require.Equal(t, one, dx.Slice(), "shape %d, threads=%d", i, threads)
			}
		}
	})
}

// TestChunksPlanned pins which layers take a chunked backward-filter
// route (the Shifted form's or the direct one's, fewchan.go), so that
// TestBackwardFilterShifted and TestThreadsBitwise run it.
func TestChunksPlanned(t *testing.T) {
	for _, tc := range []struct {
		p      Conv2DParams
		chunks int
	}{
		{testShapes[len(testShapes)-4], maxChunks},
		{testShapes[len(testShapes)-3], 3},
		{Conv2DParams{N: 1, C: 64, H: 56, W: 56, K: 64, R: 3, S: 3, PadTop: 1, PadBottom: 1, PadLeft: 1, PadRight: 1}, 0},
	} {
		c, err := NewConv2D(tc.p)
		require.NoError(t, err)
		require.Equal(t, tc.chunks, c.chunks, name(tc.p))
	}
}

// TestStencilPlanned pins that every depthwise layer (one input channel a
// group, any multiplier) takes the stencil passes, over phase planes at
// stride above 1, so that the tests above run them.
func TestStencilPlanned(t *testing.T) {
	n := 0
	for _, p := range testShapes {
		c, err := NewConv2D(p)
		require.NoError(t, err)
		depthwise := c.s.Cg == 1 && (c.s.Kg == 1 || c.s.Groups > 1)
		strided := depthwise && (c.s.StrideH > 1 || c.s.StrideW > 1)
		require.Equal(t, depthwise, c.stencil != nil, name(p))
		require.Equal(t, strided, c.stencil != nil && c.stencil.phases != nil, name(p))
		if strided {
			n++
		}
	}
	require.Equal(t, 8, n)
}

// TestDwcPlanned pins which layers take the interleaved depthwise passes
// on each ISA, so that the tests above run them: those without a channel
// multiplier whose channels are whole blocks of the ISA's lanes, at a
// column stride of 1 or 2, all three passes; backward-data by sub-pixel
// phases but at stride 1 with padding within the filter's reach. It also checks their forward pass with ReLU.
func TestDwcPlanned(t *testing.T) {
	registry.ForEachISA(t, func(t *testing.T) {
		planned := 0
		for i, p := range testShapes {
			c, err := NewConv2D(p, WithReLU())
			require.NoError(t, err)
			s := &c.s
			l := engine.DwcLanes(s.C)
			want := l > 0 && s.Cg == 1 && s.Kg == 1 && s.StrideW <= 2 && s.PQ >= l
			require.Equal(t, want, c.dwc != nil, name(p))
			if !want {
				continue
			}
			planned++
			reachH, reachW := (s.R-1)*s.DilationH, (s.S-1)*s.DilationW
			stride1 := s.StrideH == 1 && s.StrideW == 1 && s.PadTop <= reachH && s.PadBottom <= reachH && s.PadLeft <= reachW && s.PadRight <= reachW
			require.True(t, c.dwc.data, name(p))
			require.Equal(t, stride1, c.dwc.phases == nil, name(p))
			require.Equal(t, "dwc", c.Paths().BackwardData, name(p))
			require.Equal(t, "dwc", c.Paths().Forward, name(p))
			require.Equal(t, "dwc", c.Paths().BackwardFilter, name(p))
			d := newData(t, p, uint64(i))
			y := testutil.NewGuarded(d.s.yLen, nil)
			require.NoError(t, c.Forward(y.Slice(), d.x, d.w, d.bias))
			y.Check(t)
			rt, at := d.tolForward()
			testutil.AssertClose(t, refForward(d.s, d.x, d.w, d.bias, true), y.Slice(), rt, at, "relu ", name(p))
		}
		if engine.DwcLanes(16) > 0 {
			require.GreaterOrEqual(t, planned, 3, "layers planned interleaved")
		}
	})
}

// TestDwcBands runs the interleaved depthwise passes with a band of a few
// result rows a call (as a plane larger than dwcTarget goes), at one and
// two threads, against the reference, inside guard bands.
func TestDwcBands(t *testing.T) {
	allParallel(t)
	prev := dwcTarget
	dwcTarget = 1
	t.Cleanup(func() { dwcTarget = prev })
	registry.ForEachISA(t, func(t *testing.T) {
		banded := 0
		for i, p := range testShapes {
			for _, threads := range []int{1, 2} {
				c, err := NewConv2D(p, WithThreads(threads))
				require.NoError(t, err)
				if c.dwc == nil {
					continue
				}
				if c.dwc.fwd.band < c.dwc.fwd.rows {
					banded++
				}
				d := newData(t, p, uint64(i))
				y := testutil.NewGuarded(d.s.yLen, nil)
				require.NoError(t, c.Forward(y.Slice(), d.x, d.w, d.bias))
				y.Check(t)
				rt, at := d.tolForward()
				testutil.AssertClose(t, refForward(d.s, d.x, d.w, d.bias, false), y.Slice(), rt, at, "forward ", name(p))
				dx := testutil.NewGuarded(d.s.xLen, nil)
				require.NoError(t, c.BackwardData(dx.Slice(), d.dy, d.w))
				dx.Check(t)
				rt, at = d.tolData()
				testutil.AssertClose(t, refBackwardData(d.s, d.dy, d.w), dx.Slice(), rt, at, "backward-data ", name(p))
				dw := testutil.NewGuarded(d.s.wLen, nil)
				require.NoError(t, c.BackwardFilter(dw.Slice(), nil, d.dy, d.x))
				dw.Check(t)
				wantW, _ := refBackwardFilter(d.s, d.dy, d.x)
				rt, at = d.tolFilter()
				testutil.AssertClose(t, wantW, dw.Slice(), rt, at, "backward-filter ", name(p))
			}
		}
		if engine.DwcLanes(16) > 0 {
			require.Positive(t, banded, "no layer went in bands")
		}
	})
}

// TestSubsamplePlanned pins that the 1×1 layers of stride above 1 without
// padding, and only they, gather their subsample (planSubsample), so that
// the tests above run it.
func TestSubsamplePlanned(t *testing.T) {
	n := 0
	for _, p := range testShapes {
		c, err := NewConv2D(p)
		require.NoError(t, err)
		s := &c.s
		want := s.R == 1 && s.S == 1 && (s.StrideH > 1 || s.StrideW > 1) &&
			s.PadTop+s.PadBottom+s.PadLeft+s.PadRight == 0 && c.stencil == nil
		require.Equal(t, want, c.subsample, name(p))
		if want {
			n++
			require.Equal(t, routeDirect, c.route, name(p))
			require.Nil(t, c.split, name(p))
		}
	}
	require.Equal(t, 3, n)
}
