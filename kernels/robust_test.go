package kernels

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"

	"github.com/simdconv/simdconv"
	"github.com/simdconv/simdconv/internal/testutil"
	"github.com/stretchr/testify/require"
)

// outputs holds the results of all three passes.
type outputs struct{ y, dx, dw, db []float32 }

func runAll(t testing.TB, c *Conv2D, d data) outputs {
	s := d.s
	o := outputs{make([]float32, s.yLen), make([]float32, s.xLen), make([]float32, s.wLen), make([]float32, s.K)}
	require.NoError(t, c.Forward(o.y, d.x, d.w, d.bias))
	require.NoError(t, c.BackwardData(o.dx, d.dy, d.w))
	require.NoError(t, c.BackwardFilter(o.dw, o.db, d.dy, d.x))
	return o
}

// TestConcurrentBitwise calls every pass of one plan from several
// goroutines at once, on the plan's own workspaces and on the caller's,
// and checks each result bitwise against the same call made alone.
func TestConcurrentBitwise(t *testing.T) {
	allParallel(t)
	registry.ForEachISA(t, func(t *testing.T) {
		for i, p := range testShapes {
			d := newData(t, p, uint64(i))
			for _, threads := range []int{1, 2} {
				for _, shared := range []bool{false, true} {
					opts := []Option{WithThreads(threads)}
					if shared {
						n, err := WorkspaceSize(p, opts...)
						require.NoError(t, err)
						opts = append(opts, WithWorkspace(make([]float32, n)))
					}
					c, err := NewConv2D(p, opts...)
					require.NoError(t, err)
					want := runAll(t, c, d)
					const callers, calls = 4, 3
					got := make([][]outputs, callers)
					var wg sync.WaitGroup
					for g := range callers {
						wg.Add(1)
						go func() {
							defer wg.Done()
							for range calls {
								got[g] = append(got[g], runAll(t, c, d))
							}
						}()
					}
					wg.Wait()
					for g := range got {
						for k, o := range got[g] {
							require.Equal(t, want, o, "shape %d threads %d shared %v: caller %d, call %d", i, threads, shared, g, k)
						}
					}
				}
			}
		}
	})
}

// TestConcurrentAllocs checks that overlapping calls allocate only while
// the plan makes workspaces for them, not once it has as many as run.
func TestConcurrentAllocs(t *testing.T) {
	p := testShapes[0]
	d := newData(t, p, 1)
	c, err := NewConv2D(p, WithThreads(1))
	require.NoError(t, err)
	var wg sync.WaitGroup
	for range 3 {
		wg.Add(1)
		go func() { defer wg.Done(); runAll(t, c, d) }()
	}
	wg.Wait()
	o := runAll(t, c, d)
	require.Zero(t, testing.AllocsPerRun(5, func() {
		_ = c.Forward(o.y, d.x, d.w, d.bias)
		_ = c.BackwardData(o.dx, d.dy, d.w)
		_ = c.BackwardFilter(o.dw, o.db, d.dy, d.x)
	}))
	require.LessOrEqual(t, len(c.free), 4, "states kept")
}

// TestOverlap checks that every pass refuses an output that shares memory
// with another argument or with the workspace of WithWorkspace, naming
// both, and writes nothing.
func TestOverlap(t *testing.T) {
	p := Conv2DParams{N: 2, C: 4, H: 6, W: 6, K: 4, R: 3, S: 3, PadTop: 1, PadBottom: 1, PadLeft: 1, PadRight: 1}
	n, err := WorkspaceSize(p, WithThreads(1))
	require.NoError(t, err)
	ws := make([]float32, n)
	c, err := NewConv2D(p, WithThreads(1), WithWorkspace(ws))
	require.NoError(t, err)
	s := c.s // x and y, and dx and dy, have the same length here
	require.Equal(t, s.xLen, s.yLen)
	buf := func(n int) []float32 { return testutil.Rand(rand.New(rand.NewPCG(uint64(n), 1)), n) }
	x, w, bias, dy := buf(s.xLen), buf(s.wLen), buf(s.K), buf(s.yLen)
	big := buf(2 * s.xLen)
	cases := []struct {
		name, want string
		call       func() error
	}{
		{"y is x", "y overlaps x", func() error { return c.Forward(x, x, w, bias) }},
		{"y half over x", "y overlaps x", func() error { return c.Forward(big[s.xLen/2:][:s.yLen], big[:s.xLen], w, bias) }},
		{"x half over y", "y overlaps x", func() error { return c.Forward(big[:s.yLen], big[s.yLen/2:][:s.xLen], w, bias) }},
		{"y over w", "y overlaps w", func() error { return c.Forward(big[:s.yLen], x, big[s.yLen-1:][:s.wLen], bias) }},
		{"y over bias", "y overlaps bias", func() error { return c.Forward(big[:s.yLen], x, w, big[3:][:s.K]) }},
		{"dx is dy", "dx overlaps dy", func() error { return c.BackwardData(dy, dy, w) }},
		{"dx over w", "dx overlaps w", func() error { return c.BackwardData(big[:s.xLen], dy, big[s.xLen-5:][:s.wLen]) }},
		{"dw inside x", "dw overlaps x", func() error { return c.BackwardFilter(big[7:][:s.wLen], nil, dy, big[:s.xLen]) }},
		{"dw inside dy", "dw overlaps dy", func() error { return c.BackwardFilter(big[1:][:s.wLen], nil, big[:s.yLen], x) }},
		{"dbias inside x", "dbias overlaps x", func() error { return c.BackwardFilter(w, big[9:][:s.K], dy, big[:s.xLen]) }},
		{"dbias inside dw", "dw overlaps dbias", func() error { return c.BackwardFilter(big[:s.wLen], big[2:][:s.K], dy, x) }},
		{"dbias inside dy", "dbias overlaps dy", func() error { return c.BackwardFilter(w, big[s.yLen-s.K:][:s.K], big[:s.yLen], x) }},
		{"y in the workspace", "y overlaps the workspace", func() error { return c.Forward(ws[:s.yLen], x, w, bias) }},
		{"x in the workspace", "x overlaps the workspace", func() error { return c.Forward(big[:s.yLen], ws[len(ws)-s.xLen:], w, bias) }},
		{"dy in the workspace", "dy overlaps the workspace", func() error { return c.BackwardData(big[:s.xLen], ws[:s.yLen], w) }},
	}
	for _, tc := range cases {
		before := append([]float32(nil), big...)
		wsBefore := append([]float32(nil), ws...)
		err := tc.call()
		require.ErrorIs(t, err, ErrOverlap, tc.name)
		require.ErrorContains(t, err, tc.want, tc.name)
		require.Equal(t, before, big, "%s: an argument was written", tc.name)
		require.Equal(t, wsBefore, ws, "%s: the workspace was written", tc.name)
	}
	// Adjacent, not overlapping: accepted.
	require.NoError(t, c.Forward(big[:s.yLen], big[s.yLen:][:s.xLen], w, bias))
	require.NoError(t, c.BackwardFilter(big[:s.wLen], big[s.wLen:][:s.K], dy, x))
}

// TestHostileOptions checks options a plan cannot take, or takes clamped.
func TestHostileOptions(t *testing.T) {
	p := testShapes[0]
	_, err := NewConv2D(p, nil)
	require.EqualError(t, err, "kernels: option 1 of 1 is nil")
	_, err = NewConv2D(p, WithReLU(), nil)
	require.EqualError(t, err, "kernels: option 2 of 2 is nil")
	_, err = WorkspaceSize(p, nil)
	require.Error(t, err)
	_, err = NewConv2D(p, WithThreads(-1))
	require.ErrorContains(t, err, "WithThreads(-1)")
	c, err := NewConv2D(p, WithThreads(1<<40))
	require.NoError(t, err)
	require.Equal(t, threads(1<<40), c.threads, "clamped")
	require.Less(t, c.threads, 1<<20)
	runPasses(t, c, newData(t, p, 1))
}

// TestWorkspaceSize checks the size given without a plan against the
// plan's, a workspace for more threads serving fewer, and that a layer
// whose copies of x would be large is accepted with a bounded workspace.
func TestWorkspaceSize(t *testing.T) {
	for i, p := range testShapes {
		for _, th := range []int{1, 2, 3} {
			n, err := WorkspaceSize(p, WithThreads(th))
			require.NoError(t, err)
			c, err := NewConv2D(p, WithThreads(th))
			require.NoError(t, err)
			require.Equal(t, c.WorkspaceSize(), n, "shape %d threads %d", i, th)
		}
		n3, err := WorkspaceSize(p, WithThreads(3))
		require.NoError(t, err)
		ws := make([]float32, n3)
		c, err := NewConv2D(p, WithThreads(2), WithWorkspace(ws))
		require.NoError(t, err, "a workspace for 3 threads serves 2")
		runPasses(t, c, newData(t, p, uint64(i)))
		n1, err := WorkspaceSize(p, WithThreads(1))
		require.NoError(t, err)
		if n1 < n3 {
			_, err = NewConv2D(p, WithThreads(3), WithWorkspace(make([]float32, n1)))
			require.ErrorContains(t, err, "want ≥")
		}
	}
	_, err := WorkspaceSize(Conv2DParams{N: 0})
	require.ErrorContains(t, err, "N = 0")
	// C = 64 at 4096×4096: 4 GiB of input, which no pass copies.
	big := Conv2DParams{N: 1, C: 64, H: 4096, W: 4096, K: 64, R: 3, S: 3, PadTop: 1, PadBottom: 1, PadLeft: 1, PadRight: 1}
	n, err := WorkspaceSize(big, WithThreads(2))
	require.NoError(t, err)
	require.Less(t, n, 2*4*maxCopy, "the workspace must not grow with the input")
	c, err := NewConv2D(big, WithThreads(1))
	require.NoError(t, err)
	require.Equal(t, 4096, c.OutH())
}

// TestSpecialValuesLocal plants a NaN or an infinity in x or dy, at the
// interior, the edges and the corners, and checks on every path and ISA
// that exactly the outputs whose defining sums read it, the padding taken
// as explicit zeros, are not finite.
func TestSpecialValuesLocal(t *testing.T) {
	allParallel(t)
	for i, p := range testShapes {
		d := newData(t, p, uint64(i))
		s := d.s
		type plant struct {
			inDY bool
			at   int
		}
		var plants []plant
		for _, inDY := range []bool{false, true} {
			h, w, n, ch := s.H, s.W, s.N, s.C
			if inDY {
				h, w, ch = s.P, s.Q, s.K
			}
			img, c := n-1, ch/2
			for _, hw := range [][2]int{{h / 2, w / 2}, {0, 0}, {h - 1, w - 1}, {0, w / 2}, {h / 2, w - 1}, {h - 1, 0}} {
				plants = append(plants, plant{inDY, ((img*ch+c)*h+hw[0])*w + hw[1]})
			}
		}
		for _, pl := range plants {
			// The outputs whose terms read the planted element.
			readY, readDX, readDW, readDB := map[int]bool{}, map[int]bool{}, map[int]bool{}, map[int]bool{}
			refTermsPadded(s, func(yi, xi, wi int) {
				if !pl.inDY && xi == pl.at {
					readY[yi], readDW[wi] = true, true
				}
				if pl.inDY && yi == pl.at {
					readDW[wi] = true
					if xi >= 0 {
						readDX[xi] = true
					}
				}
			})
			if pl.inDY {
				readDB[pl.at/s.PQ%s.K] = true
			}
			for _, v := range []float32{float32(math.NaN()), float32(math.Inf(1))} {
				dd := d
				if pl.inDY {
					dd.dy = append([]float32(nil), d.dy...)
					dd.dy[pl.at] = v
				} else {
					dd.x = append([]float32(nil), d.x...)
					dd.x[pl.at] = v
				}
				registry.ForEachISA(t, func(t *testing.T) {
					for _, threads := range []int{1, 2} {
						where := fmt.Sprintf("shape %d, %v in dy=%v at %d, threads %d", i, v, pl.inDY, pl.at, threads)
						c, err := NewConv2D(p, WithThreads(threads))
						require.NoError(t, err)
						o := runAll(t, c, dd)
						checkMask(t, where+": forward", o.y, readY)
						checkMask(t, where+": backward-data", o.dx, readDX)
						checkMask(t, where+": backward-filter dw", o.dw, readDW)
						checkMask(t, where+": backward-filter dbias", o.db, readDB)
						if pl.inDY {
							for _, rt := range []route{routeGemm, routeFull} {
								c, err := newConv2DRoute(p, rt, false, threads)
								require.NoError(t, err)
								dx := make([]float32, s.xLen)
								require.NoError(t, c.BackwardData(dx, dd.dy, dd.w))
								checkMask(t, fmt.Sprintf("%s: backward-data route %d", where, rt), dx, readDX)
							}
						}
					}
				})
			}
		}
	}
}

// checkMask fails unless exactly the elements of got in read are not
// finite.
func checkMask(t *testing.T, what string, got []float32, read map[int]bool) {
	t.Helper()
	for i, v := range got {
		finite := !math.IsNaN(float64(v)) && !math.IsInf(float64(v), 0)
		if finite == read[i] {
			t.Fatalf("%s: element %d is %v, but its sum reads the planted value: %v", what, i, v, read[i])
		}
	}
}

// TestErrorsWrap checks that errors.Is sees ErrOverlap through the call's
// message and nothing else does.
func TestErrorsWrap(t *testing.T) {
	c, err := NewConv2D(testShapes[0])
	require.NoError(t, err)
	s := c.s
	err = c.Forward(make([]float32, s.yLen+1), make([]float32, s.xLen), make([]float32, s.wLen), nil)
	require.Error(t, err)
	require.False(t, errors.Is(err, ErrOverlap), "a length error is no overlap")
}

// TestISAEnvPlan runs this test binary with an SIMDCONV_ISA that names no
// ISA and checks that planning a layer fails with the error naming the
// variable, its value and the choices, rather than running another ISA.
func TestISAEnvPlan(t *testing.T) {
	if os.Getenv("SIMDCONV_TEST_ISA_CHILD") == "1" {
		_, err := NewConv2D(testShapes[0])
		_, err2 := WorkspaceSize(testShapes[0])
		fmt.Printf("\nplan: %v\nsize: %v\n", err, err2)
		return
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestISAEnvPlan$", "-test.count=1")
	cmd.Env = append(os.Environ(), "SIMDCONV_TEST_ISA_CHILD=1", "SIMDCONV_ISA=AVX2")
	out, err := cmd.CombinedOutput()
	if errors.Is(err, syscall.ENOEXEC) {
		t.Skipf("cannot run the test binary in a subprocess (an emulator without binfmt_misc?): %v", err)
	}
	require.NoError(t, err, "%s", out)
	want := `simdconv: SIMDCONV_ISA="AVX2": unknown ISA; choose one of ` + strings.Join(simdconv.ISAs(), ", ")
	require.Contains(t, string(out), "plan: "+want+"\n")
	require.Contains(t, string(out), "size: "+want+"\n")
}
