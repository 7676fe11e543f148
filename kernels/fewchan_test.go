package kernels

import (
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/simdconv/simdconv"
	"github.com/simdconv/simdconv/internal/engine"
	"github.com/simdconv/simdconv/internal/testutil"
	"github.com/stretchr/testify/require"
)

// fewShapes are layers with few input channels per group: odd sizes,
// asymmetric padding (past the filter's reach too), dilation, groups,
// batches, strides, and dX rows and columns that no tap reaches.
var fewShapes = []Conv2DParams{
	{N: 2, C: 3, H: 13, W: 11, K: 10, R: 3, S: 5, DilationH: 2, PadTop: 2, PadBottom: 1, PadLeft: 3, PadRight: 1},
	{N: 3, C: 6, H: 9, W: 10, K: 8, R: 3, S: 3, Groups: 2, PadBottom: 2, PadLeft: 1},
	{N: 2, C: 1, H: 17, W: 19, K: 9, R: 5, S: 2, DilationW: 3, PadTop: 1, PadBottom: 4, PadRight: 2},
	{N: 2, C: 3, H: 15, W: 14, K: 7, R: 5, S: 3, StrideH: 2, StrideW: 3, DilationW: 2, PadTop: 2, PadBottom: 1, PadLeft: 1, PadRight: 3},
	{N: 1, C: 4, H: 12, W: 13, K: 6, R: 3, S: 4, Groups: 2, StrideH: 3, StrideW: 2, PadTop: 1, PadLeft: 2, PadRight: 1},
	{N: 1, C: 2, H: 6, W: 5, K: 3, R: 3, S: 3, PadTop: 4, PadRight: 3},
	{N: 2, C: 2, H: 11, W: 10, K: 5, R: 2, S: 1, StrideH: 3, StrideW: 3, PadTop: 1, PadBottom: 2},
	// Taps in more rows than a group holds: forward's 6 planes × 5 rows,
	// backward-data's 12 × 5 (tapGroups).
	{N: 1, C: 6, H: 9, W: 11, K: 12, R: 5, S: 3, PadTop: 2, PadBottom: 2, PadLeft: 1, PadRight: 1},
}

// newFew plans p with every pass that the direct route admits on it,
// whatever the cost model says, in a workspace of garbage.
func newFew(t testing.TB, p Conv2DParams, opts ...Option) *Conv2D {
	c, err := NewConv2D(p, opts...)
	require.NoError(t, err)
	c.few = nil
	c.useFew(true, true, true)
	require.NotNil(t, c.few, name(p))
	if c.few.data {
		c.route = routeFew
	}
	c.plan()
	useDirtyWorkspace(c)
	return c
}

// fewBands lowers rowPanel and groupFloats for the rest of t, so that the
// small layers are cut into bands of a few rows and their taps into groups.
func fewBands(t testing.TB) {
	prev, prevGroup, prevLanes := rowPanel, groupFloats, groupLanes
	rowPanel, groupFloats, groupLanes = 16, 0, 64
	t.Cleanup(func() { rowPanel, groupFloats, groupLanes = prev, prevGroup, prevLanes })
}

// TestFewPasses runs every pass of the direct route against the reference,
// whole and cut into bands, with bias, with ReLU and with accumulation,
// and checks that 1, 2 and 3 threads give the same bits and that a call
// allocates nothing.
func TestFewPasses(t *testing.T) {
	allParallel(t)
	registry.ForEachISA(t, func(t *testing.T) {
		for _, banded := range []bool{false, true} {
			if banded {
				fewBands(t)
			}
			for i, p := range fewShapes {
				d := newData(t, p, uint64(i))
				var one outputs
				o := outputs{make([]float32, d.s.yLen), make([]float32, d.s.xLen), make([]float32, d.s.wLen), make([]float32, d.s.K)}
				for _, threads := range []int{1, 2, 3} {
					where := fmt.Sprintf("shape %d banded=%v threads=%d", i, banded, threads)
					c := newFew(t, p, WithThreads(threads), WithReLU())
					require.Equal(t, banded, c.few.bands > 1 && c.few.d.items > len(c.few.d.phases) && c.few.bandsF > 1, where)
					require.True(t, c.few.forward && c.few.data && c.few.filter, where)
					runPasses(t, c, d)
					if threads == 1 {
						one = runAll(t, c, d)
					} else {
						require.Equal(t, one, runAll(t, c, d), where)
					}
					require.Zero(t, testing.AllocsPerRun(3, func() {
						_ = c.Forward(o.y, d.x, d.w, d.bias)
						_ = c.BackwardData(o.dx, d.dy, d.w)
						_ = c.BackwardFilter(o.dw, o.db, d.dy, d.x)
					}), where)
				}
				checkAccumulate(t, newFew(t, p, WithThreads(2), WithAccumulate()), d)
			}
		}
	})
}

// checkAccumulate checks that BackwardFilter adds to dw and dbias.
func checkAccumulate(t *testing.T, c *Conv2D, d data) {
	s := d.s
	dw, db := testutil.NewGuarded(s.wLen, nil), testutil.NewGuarded(s.K, nil)
	for i := range dw.Slice() {
		dw.Slice()[i] = 1
	}
	require.NoError(t, c.BackwardFilter(dw.Slice(), db.Slice(), d.dy, d.x))
	dw.Check(t)
	db.Check(t)
	want, _ := refBackwardFilter(s, d.dy, d.x)
	for i := range want {
		want[i]++
	}
	rt, at := d.tolFilter()
	testutil.AssertClose(t, want, dw.Slice(), rt, at, "accumulated dw ", name(s.Conv2DParams))
}

// TestTapGroups checks that the tap groups cover the taps in order, each
// reading at most maxStreams rows and every one but the last full, and
// that the last of fewShapes takes several groups on both passes that use
// them; and that StencilRows in Go (generic) takes none.
func TestTapGroups(t *testing.T) {
	for _, tc := range []struct {
		off  []int
		ld   int
		want []int
	}{
		{[]int{0, 1, 2}, 10, []int{0, 3}},
		{nil, 10, []int{0, 0}},
	} {
		require.Equal(t, tc.want, tapGroups(tc.off, tc.ld, 1))
	}
	var off []int
	for r := range 60 {
		off = append(off, r*7, r*7+1, (r%3)*7) // 60 rows, each first met at tap 3r
	}
	fewBands(t)
	l := engine.RowsLanes()
	if l == 0 {
		require.Equal(t, []int{0, len(off)}, tapGroups(off, 7, 1), "StencilRows in Go")
		return
	}
	groupFloats = 60 * 100
	require.Equal(t, []int{0, len(off)}, tapGroups(off, 7, 100), "a band that fits half of L2")
	groupFloats, groupLanes = 0, l
	require.Equal(t, []int{0, len(off)}, tapGroups(off, 7, 1), "passes as wide as groupLanes")
	groupLanes = 64
	g := tapGroups(off, 7, 1)
	require.Equal(t, 0, g[0])
	require.Equal(t, len(off), g[len(g)-1])
	for i := 0; i+1 < len(g); i++ {
		rows := map[int]bool{}
		for _, o := range off[g[i]:g[i+1]] {
			rows[o/7] = true
		}
		require.LessOrEqual(t, len(rows), maxStreams, "group %d", i)
		if i+2 < len(g) {
			require.Less(t, maxStreams, len(rows)+1, "group %d not full", i)
			require.False(t, rows[off[g[i+1]]/7], "group %d could take tap %d", i, g[i+1])
		}
	}
	c := newFew(t, fewShapes[len(fewShapes)-1])
	require.Greater(t, len(c.few.groups), 2, "forward in groups")
	require.Greater(t, len(c.few.d.phases[0].groups), 3, "backward-data in groups")
}

// TestFewSpecialValues plants a NaN or an infinity in x or dy, inside and
// at the corners, and checks that exactly the outputs whose sums read it
// are not finite on the direct route cut into bands. A special value in x
// sends backward-filter to the GEMM, since the zeros past dY's rows would
// meet it.
func TestFewSpecialValues(t *testing.T) {
	allParallel(t)
	fewBands(t)
	for i, p := range fewShapes {
		d := newData(t, p, uint64(i))
		s := d.s
		for _, inDY := range []bool{false, true} {
			h, w, ch := s.H, s.W, s.C
			if inDY {
				h, w, ch = s.P, s.Q, s.K
			}
			for _, at := range []int{((s.N*ch-1)*h+h/2)*w + w/2, 0, s.N*ch*h*w - 1, ((ch/2)*h + h - 1) * w} {
				readY, readDX, readDW := map[int]bool{}, map[int]bool{}, map[int]bool{}
				refTermsPadded(s, func(yi, xi, wi int) {
					if !inDY && xi == at {
						readY[yi], readDW[wi] = true, true
					}
					if inDY && yi == at {
						readDW[wi] = true
						if xi >= 0 {
							readDX[xi] = true
						}
					}
				})
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
							where := fmt.Sprintf("shape %d, %v in dy=%v at %d, threads %d", i, v, inDY, at, threads)
							o := runAll(t, newFew(t, p, WithThreads(threads)), dd)
							checkMask(t, where+": forward", o.y, readY)
							checkMask(t, where+": backward-data", o.dx, readDX)
							checkMask(t, where+": backward-filter", o.dw, readDW)
						}
					})
				}
			}
		}
	}
}

// TestFewPlanned pins which passes of the calibration layers take the
// direct route (F forward, D backward-data, W backward-filter) on every
// ISA, whose tiles the GEMM's costs depend on (and on generic, whose
// StencilRows is scalar Go: genericRowPeak), and that the shared test
// shapes run every direct pass.
func TestFewPlanned(t *testing.T) {
	sq := func(n, c, hw, k, rs, stride, pad int) Conv2DParams {
		return Conv2DParams{N: n, C: c, H: hw, W: hw, K: k, R: rs, S: rs, StrideH: stride, StrideW: stride,
			PadTop: pad, PadBottom: pad, PadLeft: pad, PadRight: pad}
	}
	layers := []struct {
		name string
		p    Conv2DParams
		want string            // on every ISA but those in isa
		isa  map[string]string // where an ISA's tiles tip a close call
	}{
		{"L8", sq(32, 1, 28, 32, 3, 1, 0), "FW", map[string]string{"generic": "W"}},
		{"Z22", sq(64, 1, 28, 6, 5, 1, 2), "FDW", map[string]string{"generic": "DW"}},
		{"Z23", sq(64, 6, 14, 16, 5, 1, 0), "D", map[string]string{"generic": "W"}},
		{"Z27", sq(64, 3, 32, 16, 3, 1, 1), "FDW", map[string]string{"generic": "DW"}},
		{"Z18", sq(1, 3, 224, 64, 3, 1, 1), "FDW", map[string]string{"generic": "W"}},
		{"L1", sq(1, 3, 224, 64, 7, 2, 3), "D", map[string]string{"avx2": "DW", "neon": "DW", "generic": ""}},
		{"Z08", sq(1, 3, 224, 32, 3, 2, 1), "FDW", map[string]string{"generic": "W"}},
		// stride 2 on small planes of more channels: the direct route
		// writes dX's phases a float at a time, where the indirect one
		// interleaves them in its tiles (1.15–1.7× on an Intel Xeon)
		{"Z25", sq(32, 16, 32, 32, 3, 2, 1), "", map[string]string{"avx2": "W", "neon": "W"}},
		{"Z32", sq(8, 64, 14, 64, 3, 2, 1), "", nil},
		{"L2", sq(1, 64, 56, 64, 3, 1, 1), "", nil}, // many channels
	}
	registry.ForEachISA(t, func(t *testing.T) {
		for _, l := range layers {
			want, ok := l.isa[simdconv.ISA()]
			if !ok {
				want = l.want
			}
			c, err := NewConv2D(l.p)
			require.NoError(t, err)
			require.Equal(t, want, fewPasses(c), l.name)
			require.Equal(t, strings.Contains(want, "D"), c.route == routeFew, l.name)
		}
		var all string
		for _, p := range testShapes {
			c, err := NewConv2D(p)
			require.NoError(t, err)
			all += fewPasses(c)
		}
		for _, pass := range "FDW" {
			require.Contains(t, all, string(pass), "no shared test shape runs this direct pass")
		}
	})
}

// fewPasses lists the passes of c on the direct route.
func fewPasses(c *Conv2D) string {
	var b strings.Builder
	if f := c.few; f != nil {
		for _, p := range []struct {
			on   bool
			name string
		}{{f.forward, "F"}, {f.data, "D"}, {f.filter, "W"}} {
			if p.on {
				b.WriteString(p.name)
			}
		}
	}
	return b.String()
}
