package kernels

import (
	"fmt"
	"testing"

	"github.com/simdconv/simdconv/internal/engine"
	"github.com/stretchr/testify/require"
)

// indirectShapes are layers whose passes the tests run on the indirect
// route whatever the cost model picks: few channels and many, at strides
// 1 to 3 (backward-data's phases of 1 to 4 taps, 16 a 7×7 filter's at
// stride 2) with asymmetric padding and dilation, in groups, with output
// channels that are not whole vectors (3, 40, 22 and 70 a group;
// backward-data's 24, 16 and 20 a group, 3, 4 and 20), and images whose
// positions are not whole tiles. The two of one image (N = 1) fuse their
// filter's layout into the items (fuse) where fusedBlocks cuts the filter
// into blocks, and the last splits forward's vectors on avx512.
var indirectShapes = []Conv2DParams{
	{N: 3, C: 24, H: 9, W: 8, K: 40, R: 3, S: 3, StrideH: 2, StrideW: 2, PadTop: 1, PadBottom: 1, PadLeft: 1},
	{N: 2, C: 32, H: 7, W: 7, K: 44, R: 3, S: 3, Groups: 2, DilationH: 2, PadTop: 2, PadBottom: 2, PadLeft: 1, PadRight: 1},
	{N: 1, C: 3, H: 23, W: 23, K: 16, R: 7, S: 7, StrideH: 2, StrideW: 2, PadTop: 3, PadBottom: 3, PadLeft: 3, PadRight: 3},
	{N: 2, C: 4, H: 12, W: 10, K: 3, R: 3, S: 2, StrideH: 3, StrideW: 1, PadTop: 2, PadLeft: 1, PadRight: 3},
	{N: 2, C: 20, H: 6, W: 9, K: 24, R: 3, S: 5, PadBottom: 2, PadLeft: 3, PadRight: 1},
	{N: 1, C: 40, H: 9, W: 7, K: 140, R: 3, S: 3, Groups: 2, DilationW: 2, PadTop: 1, PadBottom: 2, PadLeft: 2, PadRight: 2},
}

// newIndirect plans p with every pass on the indirect route, or returns
// nil on an ISA without the kernel.
func newIndirect(t testing.TB, p Conv2DParams, opts ...Option) *Conv2D {
	c, err := NewConv2D(p, opts...)
	require.NoError(t, err)
	if c.few != nil {
		c.few.forward = false
	}
	g := indirectGeometry(forwardConv(&c.s))
	if g == nil {
		return nil
	}
	c.ind = c.useIndirect(g)
	c.route, c.indData = routeIndirect, c.useIndirect(dataGeometry(&c.s))
	if c.few != nil {
		c.few.filter = false
	}
	c.useIndirectFilter(indirectGeometry(forwardConv(&c.s)))
	c.plan()
	useDirtyWorkspace(c)
	return c
}

// indirectBlocks lowers rowPanel and the filter's share of L2 for the rest
// of t, so that the small layers are cut into bands of a few tiles and
// their reductions into blocks of a few steps, each carried on by the next.
func indirectBlocks(t testing.TB) {
	prevPanel, prevShare := rowPanel, filterShare
	rowPanel, filterShare = 16, engine.L2()/64
	t.Cleanup(func() { rowPanel, filterShare = prevPanel, prevShare })
}

// fusedBlocks raises filterShare for the rest of t, so that every filter
// overflows its share of L2 and a layer of one image lays its filter out
// in blocks of a few steps, item by item (fuse).
func fusedBlocks(t testing.TB) {
	prevPanel, prevShare := rowPanel, filterShare
	rowPanel, filterShare = panelTarget, engine.L2()/64
	t.Cleanup(func() { rowPanel, filterShare = prevPanel, prevShare })
}

// TestIndirectPasses runs every pass on the indirect route against the
// reference: whole; cut into bands (each with a window of the padded
// rows) and blocks of steps; and with the filter laid out block by block
// in the items (fused). With bias and ReLU, it checks that 1, 2 and 3
// threads give the same bits, that a call allocates nothing and that
// backward-filter adds to dw and dbias under WithAccumulate.
func TestIndirectPasses(t *testing.T) {
	allParallel(t)
	registry.ForEachISA(t, func(t *testing.T) {
		if mr, _, _ := engine.IndirectTile(); mr == 0 {
			require.Nil(t, newIndirect(t, indirectShapes[0]), "a route without its kernel")
			return
		}
		for _, mode := range []string{"whole", "blocked", "fused"} {
			blocked, fused := mode == "blocked", mode == "fused"
			if blocked {
				indirectBlocks(t)
			}
			if fused {
				fusedBlocks(t)
			}
			for i, p := range indirectShapes {
				d := newData(t, p, uint64(i))
				var one outputs
				for _, threads := range []int{1, 2, 3} {
					where := fmt.Sprintf("shape %d %s threads=%d", i, mode, threads)
					c := newIndirect(t, p, WithThreads(threads), WithReLU())
					require.Equal(t, "indirect", c.Paths().Forward, where)
					require.Equal(t, "indirect", c.Paths().BackwardFilter, where)
					require.Equal(t, "indirect", c.Paths().BackwardData, where)
					longest := 0
					for _, pt := range c.indData.parts {
						longest = max(longest, pt.t1-pt.t0)
					}
					if !fused {
						require.Equal(t, blocked, c.indFilter.bands > 1 && c.indFilter.steps < d.s.N*d.s.PQ, where)
						require.Equal(t, blocked, c.ind.bands > 1 && c.ind.steps < d.s.CRSg, where)
						require.Equal(t, blocked, c.indData.bands > 1 && c.indData.steps < longest, where)
					}
					if blocked { // bands of a tile read a window of the padded rows each
						require.True(t, c.ind.lo != nil && c.indData.lo != nil, where)
					}
					require.Equal(t, fused && p.N == 1, c.ind.fused, where)
					require.Equal(t, fused && p.N == 1 && p.StrideH < 2, c.indData.fused, where)
					if c.ind.fused { // blocks of steps, and of vectors where the threads want them
						require.Less(t, c.ind.steps, d.s.CRSg, where)
						require.Equal(t, threads > 1 && c.ind.vecs > c.ind.nv, c.ind.vblocks > 1, where)
					}
					if c.indData.fused {
						require.Less(t, c.indData.steps, longest, where)
					}
					runPasses(t, c, d)
					o := runAll(t, c, d)
					if threads == 1 {
						one = o
					} else {
						require.Equal(t, one, o, where)
					}
					require.Zero(t, testing.AllocsPerRun(3, func() {
						_ = c.Forward(o.y, d.x, d.w, d.bias)
						_ = c.BackwardData(o.dx, d.dy, d.w)
						_ = c.BackwardFilter(o.dw, o.db, d.dy, d.x)
					}), where)
				}
				checkAccumulate(t, newIndirect(t, p, WithThreads(2), WithAccumulate()), d)
			}
		}
	})
}
