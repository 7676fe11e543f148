package kernels

import (
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/simdconv/simdconv/internal/testutil"
	"github.com/stretchr/testify/require"
)

// torchCase is one case of testdata/convtranspose.txt: a layer, its inputs
// and PyTorch's float64 results.
type torchCase struct {
	name             string
	p                ConvTranspose2DParams
	outH, outW       int
	x, w, bias, dy   []float32
	y, dx, dw, dbias []float64
}

// loadTorchCases reads testdata/convtranspose.txt, which
// testdata/convtranspose.py writes.
func loadTorchCases(t testing.TB) []torchCase {
	b, err := os.ReadFile("testdata/convtranspose.txt")
	require.NoError(t, err)
	var cases []torchCase
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		f := strings.Fields(line)
		if f[0] == "#" {
			continue
		}
		if f[0] == "case" {
			cases = append(cases, torchCase{name: f[1]})
			continue
		}
		require.NotEmpty(t, cases, "a line before the first case")
		c := &cases[len(cases)-1]
		v := make([]float64, len(f)-1)
		for i, s := range f[1:] {
			v[i], err = strconv.ParseFloat(s, 64)
			require.NoError(t, err, "%s %s", c.name, f[0])
		}
		// The inputs are exact in float32.
		f32 := func() []float32 {
			x := make([]float32, len(v))
			for i, e := range v {
				x[i] = float32(e)
				require.Equal(t, e, float64(x[i]), "%s %s[%d] is not a float32", c.name, f[0], i)
			}
			return x
		}
		switch f[0] {
		case "params":
			require.Len(t, v, 18, c.name)
			n := make([]int, len(v))
			for i, e := range v {
				n[i] = int(e)
			}
			c.p = ConvTranspose2DParams{N: n[0], C: n[1], H: n[2], W: n[3], K: n[4], R: n[5], S: n[6],
				StrideH: n[7], StrideW: n[8], PadH: n[9], PadW: n[10], OutPadH: n[11], OutPadW: n[12],
				DilationH: n[13], DilationW: n[14], Groups: n[15]}
			c.outH, c.outW = n[16], n[17]
		case "x":
			c.x = f32()
		case "w":
			c.w = f32()
		case "bias":
			c.bias = f32()
		case "dy":
			c.dy = f32()
		case "y":
			c.y = v
		case "dx":
			c.dx = v
		case "dw":
			c.dw = v
		case "dbias":
			c.dbias = v
		default:
			t.Fatalf("%s: unknown line %q", c.name, f[0])
		}
	}
	require.Len(t, cases, 9)
	return cases
}

// Tolerances by the length of each result's sum: Forward sums C/G·R·S
// products and the bias, BackwardData K/G·R·S products, dw N·H·W and
// dbias N·OutH·OutW.
func (c torchCase) tolForward() (float64, float64) {
	return testutil.Tol(c.p.C/c.p.Groups*c.p.R*c.p.S + 1)
}
func (c torchCase) tolData() (float64, float64) {
	return testutil.Tol(c.p.K / c.p.Groups * c.p.R * c.p.S)
}
func (c torchCase) tolFilter() (float64, float64) { return testutil.Tol(c.p.N * c.p.H * c.p.W) }
func (c torchCase) tolBias() (float64, float64)   { return testutil.Tol(c.p.N * c.outH * c.outW) }

// garbage returns n values that a pass which overwrites its output must
// not keep.
func garbage(n int, seed uint64) []float32 {
	return testutil.Rand(rand.New(rand.NewPCG(seed, 5)), n)
}

// TestConvTranspose2DTorch checks all four results of every case against
// PyTorch's, on every ISA, at one and two threads, in outputs that start as
// garbage inside NaN guard bands, on a workspace of NaNs.
func TestConvTranspose2DTorch(t *testing.T) {
	allParallel(t)
	cases := loadTorchCases(t)
	registry.ForEachISA(t, func(t *testing.T) {
		for _, tc := range cases {
			for _, threads := range []int{1, 2} {
				t.Run(fmt.Sprintf("%s/threads=%d", tc.name, threads), func(t *testing.T) {
					m, err := tc.p.Matching()
					require.NoError(t, err)
					n, err := WorkspaceSize(m, WithThreads(threads))
					require.NoError(t, err)
					c, err := NewConvTranspose2D(tc.p, WithThreads(threads), WithWorkspace(dirtyWorkspace(n)))
					require.NoError(t, err)
					require.Equal(t, n, c.WorkspaceSize())
					require.Equal(t, [2]int{tc.outH, tc.outW}, [2]int{c.OutH(), c.OutW()}, "PyTorch's output size")
					checkTorch(t, c, tc, false, false)
				})
			}
		}
	})
}

// TestConvTranspose2DOptions runs every case with WithReLU, whose Forward
// is max(y, 0) of PyTorch's, and WithAccumulate, whose BackwardFilter adds
// PyTorch's dw and dbias to what they held.
func TestConvTranspose2DOptions(t *testing.T) {
	allParallel(t)
	registry.ForEachISA(t, func(t *testing.T) {
		for _, tc := range loadTorchCases(t) {
			c, err := NewConvTranspose2D(tc.p, WithThreads(2), WithReLU(), WithAccumulate())
			require.NoError(t, err)
			checkTorch(t, c, tc, true, true)
		}
	})
}

// checkTorch runs the three passes of c on the inputs of tc and checks
// them against its results, max(·, 0) of y with relu, and dw and dbias
// added to their starting values with accumulate.
func checkTorch(t *testing.T, c *ConvTranspose2D, tc torchCase, relu, accumulate bool) {
	t.Helper()
	y := testutil.NewGuarded(len(tc.y), garbage(len(tc.y), 1))
	require.NoError(t, c.Forward(y.Slice(), tc.x, tc.w, tc.bias))
	y.Check(t)
	want := tc.y
	if relu {
		want = make([]float64, len(tc.y))
		for i, v := range tc.y {
			want[i] = max(v, 0)
		}
	}
	rt, at := tc.tolForward()
	testutil.AssertClose(t, want, y.Slice(), rt, at, tc.name, " forward")

	dx := testutil.NewGuarded(len(tc.dx), garbage(len(tc.dx), 2))
	require.NoError(t, c.BackwardData(dx.Slice(), tc.dy, tc.w))
	dx.Check(t)
	rt, at = tc.tolData()
	testutil.AssertClose(t, tc.dx, dx.Slice(), rt, at, tc.name, " backward-data")

	dw0, db0 := garbage(len(tc.dw), 3), garbage(len(tc.dbias), 4)
	dw, db := testutil.NewGuarded(len(tc.dw), dw0), testutil.NewGuarded(len(tc.dbias), db0)
	require.NoError(t, c.BackwardFilter(dw.Slice(), db.Slice(), tc.dy, tc.x))
	dw.Check(t)
	db.Check(t)
	wantW, wantB := tc.dw, tc.dbias
	if accumulate {
		wantW, wantB = added(tc.dw, dw0), added(tc.dbias, db0)
	}
	rt, at = tc.tolFilter()
	testutil.AssertClose(t, wantW, dw.Slice(), rt, at, tc.name, " backward-filter dw")
	rt, at = tc.tolBias()
	testutil.AssertClose(t, wantB, db.Slice(), rt, at, tc.name, " backward-filter dbias")

	// Without bias, Forward adds none.
	require.NoError(t, c.Forward(y.Slice(), tc.x, tc.w, nil))
	want = make([]float64, len(tc.y))
	hw := tc.outH * tc.outW
	for i, v := range tc.y {
		want[i] = v - float64(tc.bias[i/hw%tc.p.K])
		if relu {
			want[i] = max(want[i], 0)
		}
	}
	rt, at = tc.tolForward()
	testutil.AssertClose(t, want, y.Slice(), rt, at, tc.name, " forward without bias")
}

func added(a []float64, b []float32) []float64 {
	s := make([]float64, len(a))
	for i := range a {
		s[i] = a[i] + float64(b[i])
	}
	return s
}

// TestConvTranspose2DBitwise checks that every pass gives the same bits on
// 1, 2 and 4 threads, and when several goroutines call one plan at once.
func TestConvTranspose2DBitwise(t *testing.T) {
	allParallel(t)
	cases := loadTorchCases(t)
	registry.ForEachISA(t, func(t *testing.T) {
		for _, tc := range cases {
			run := func(c *ConvTranspose2D) [4][]float32 {
				o := [4][]float32{make([]float32, len(tc.y)), make([]float32, len(tc.dx)),
					make([]float32, len(tc.dw)), make([]float32, len(tc.dbias))}
				require.NoError(t, c.Forward(o[0], tc.x, tc.w, tc.bias))
				require.NoError(t, c.BackwardData(o[1], tc.dy, tc.w))
				require.NoError(t, c.BackwardFilter(o[2], o[3], tc.dy, tc.x))
				return o
			}
			var want [4][]float32
			for _, threads := range []int{1, 2, 4} {
				c, err := NewConvTranspose2D(tc.p, WithThreads(threads))
				require.NoError(t, err)
				got := run(c)
				if threads == 1 {
					want = got
					continue
				}
				require.Equal(t, want, got, "%s, threads=%d", tc.name, threads)
				var wg sync.WaitGroup
				concurrent := make([][4][]float32, 4)
				for g := range concurrent {
					wg.Add(1)
					go func() { defer wg.Done(); concurrent[g] = run(c) }()
				}
				wg.Wait()
				for g, o := range concurrent {
					require.Equal(t, want, o, "%s, threads=%d, concurrent caller %d", tc.name, threads, g)
				}
			}
		}
	})
}

func TestConvTranspose2DZeroAllocs(t *testing.T) {
	allParallel(t)
	registry.ForEachISA(t, func(t *testing.T) {
		for _, tc := range loadTorchCases(t) {
			for _, threads := range []int{1, 2} {
				c, err := NewConvTranspose2D(tc.p, WithThreads(threads), WithReLU())
				require.NoError(t, err)
				y, dx, dw, db := make([]float32, len(tc.y)), make([]float32, len(tc.dx)), make([]float32, len(tc.dw)), make([]float32, len(tc.dbias))
				allocs := testing.AllocsPerRun(5, func() {
					_ = c.Forward(y, tc.x, tc.w, tc.bias)
					_ = c.BackwardData(dx, tc.dy, tc.w)
					_ = c.BackwardFilter(dw, db, tc.dy, tc.x)
				})
				require.Zero(t, allocs, "%s threads %d", tc.name, threads)
			}
		}
	})
}

// TestConvTranspose2DSpecialValues checks that a NaN in x reaches only the
// outputs of Forward that its products reach: the layer adds no pass that
// mixes outputs.
func TestConvTranspose2DSpecialValues(t *testing.T) {
	tc := loadTorchCases(t)[1]
	c, err := NewConvTranspose2D(tc.p)
	require.NoError(t, err)
	x := append([]float32(nil), tc.x...)
	x[0] = float32(math.NaN())
	y := make([]float32, len(tc.y))
	require.NoError(t, c.Forward(y, x, tc.w, tc.bias))
	// In this case (stride 2, padding 1, a 3×3 filter, no dilation, one
	// group), x[0] at row 0 and column 0 of image 0 reaches the rows r −
	// PadH and columns s − PadW of every output channel of image 0.
	p, hw := tc.p, tc.outH*tc.outW
	for i, v := range y {
		n, i0, j0 := i/(p.K*hw), i%hw/tc.outW, i%tc.outW
		reached := n == 0 && i0 < p.R-p.PadH && j0 < p.S-p.PadW
		require.Equal(t, reached, math.IsNaN(float64(v)), "y[%d]", i)
	}
}
