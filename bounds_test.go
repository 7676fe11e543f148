package simdconv

import (
	"fmt"
	"math"
	"math/big"
	"math/rand/v2"
	"runtime"
	"strings"
	"testing"

	"github.com/simdconv/simdconv/internal/engine"
	"github.com/simdconv/simdconv/internal/testutil"
	"github.com/stretchr/testify/require"
)

// TestFits checks fits against exact arithmetic on values around 0, small
// extents and MaxInt, where (rows−1)·stride + width overflows.
func TestFits(t *testing.T) {
	vals := []int{-1, 0, 1, 2, 3, 7, 8, 9, 100, math.MaxInt / 3, math.MaxInt / 2, math.MaxInt/2 + 1,
		1 << 62, math.MaxInt - 1, math.MaxInt, math.MinInt}
	for _, n := range vals {
		for _, rows := range vals {
			for _, stride := range vals {
				for _, width := range vals {
					want := n >= 0 && rows >= 0 && stride >= 0 && width >= 0
					if want && rows > 0 {
						ext := new(big.Int).Mul(big.NewInt(int64(rows-1)), big.NewInt(int64(stride)))
						ext.Add(ext, big.NewInt(int64(width)))
						want = ext.Cmp(big.NewInt(int64(n))) <= 0
					}
					require.Equal(t, want, fits(n, rows, stride, width), "fits(%d, %d, %d, %d)", n, rows, stride, width)
				}
			}
		}
	}
}

// TestSgemmHugeLd checks that leading dimensions whose extent overflows an
// int are refused with the message, for a, b and c, transposed or not,
// and never pass the check.
func TestSgemmHugeLd(t *testing.T) {
	const maxInt = math.MaxInt
	x := make([]float32, 64)
	cases := []struct {
		tA, tB                 bool
		m, n, k, lda, ldb, ldc int
		want                   string
	}{
		{false, false, 2, 2, 4, maxInt, 2, 2, "len(a) = 64, want ≥ 1·9223372036854775807 + 4, more than an int holds"},
		{false, false, 3, 2, 4, maxInt / 2, 2, 2, "len(a) = 64, want ≥ 2·4611686018427387903 + 4, more than an int holds"},
		{true, false, 2, 2, 4, 1 << 62, 2, 2, "len(a) = 64, want ≥ 3·4611686018427387904 + 2, more than an int holds"},
		{false, false, 2, 2, 4, 4, maxInt/2 + 1, 2, "len(b) = 64, want ≥ 3·4611686018427387904 + 2, more than an int holds"},
		{false, true, 2, 2, 4, 4, maxInt / 3, 2, "len(b) = 64, want ≥ 3074457345618258606"},
		{false, false, 4, 2, 4, 4, 2, maxInt / 3, "len(c) = 64, want ≥ 3·3074457345618258602 + 2, more than an int holds"},
		// 3·(MaxInt/3) + 1 is MaxInt itself: the largest extent an int holds.
		{false, false, 4, 1, 4, 4, 1, maxInt / 3, "len(c) = 64, want ≥ 9223372036854775807"},
	}
	for _, tc := range cases {
		require.PanicsWithValue(t, "simdconv: Sgemm: "+tc.want, func() {
			Sgemm(tc.tA, tc.tB, tc.m, tc.n, tc.k, 1, x, tc.lda, x, tc.ldb, 0, x, tc.ldc)
		}, "%+v", tc)
	}
}

// TestSgemmExactLengths runs Sgemm on a, b and c of exactly the length
// their shapes and leading dimensions need, on every ISA and route (small
// and large, packed or prefetched on the fly, storing, direct-A), every
// transposition, on one thread and on GOMAXPROCS: each slice
// comes from a Guarded buffer whose capacity reaches into a NaN band, and
// the gaps between rows are NaN too, so a kernel that reads past len or
// into a gap puts NaN into C, and one that writes past len is caught by
// the band. One float less in any of them must panic with the message.
func TestSgemmExactLengths(t *testing.T) {
	registry.ForEachISA(t, func(t *testing.T) {
		bl := tileOf(current)
		r := rand.New(rand.NewPCG(13, 14))
		shapes := [][3]int{{1, 1, 1}, {bl.mr + 1, bl.nr + 3, 17}, {2*bl.mr + 3, 2*bl.nr + 5, 70},
			{bl.mc + bl.mr + 1, 3*bl.nr + 1, bl.kc + 3}, {13, 49, 300}, {7, 56, 130}}
		for _, procs := range []int{1, runtime.GOMAXPROCS(0)} {
			func() {
				defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(procs))
				for _, s := range shapes {
					for _, tr := range [][2]bool{{false, false}, {true, false}, {false, true}, {true, true}} {
						for _, beta := range []float32{0, 0.5} {
							checkExactLengths(t, r, tr[0], tr[1], s[0], s[1], s[2], beta)
						}
					}
				}
			}()
		}
	})
}

func checkExactLengths(t *testing.T, r *rand.Rand, tA, tB bool, m, n, k int, beta float32) {
	t.Helper()
	where := fmt.Sprintf("m=%d n=%d k=%d tA=%v tB=%v beta=%v threads=%d", m, n, k, tA, tB, beta, runtime.GOMAXPROCS(0))
	// stored returns the rows, columns and ld of a matrix stored rows×cols,
	// or cols×rows transposed, with a gap of 2 floats after each row.
	stored := func(trans bool, rows, cols int) (int, int, int) {
		if trans {
			rows, cols = cols, rows
		}
		return rows, cols, cols + 2
	}
	// matrix returns a Guarded of exactly (rows−1)·ld + cols floats, random
	// in its rows and NaN in the gaps.
	matrix := func(rows, cols, ld int) *testutil.Guarded {
		g := testutil.NewGuarded((rows-1)*ld+cols, nil)
		x := g.Slice()
		for i := range x {
			x[i] = float32(nan)
			if i%ld < cols {
				x[i] = 2*r.Float32() - 1
			}
		}
		return g
	}
	ar, ac, lda := stored(tA, m, k)
	br, bc, ldb := stored(tB, k, n)
	ga, gb, gc := matrix(ar, ac, lda), matrix(br, bc, ldb), matrix(m, n, n+2)
	a, b, c := ga.Slice(), gb.Slice(), gc.Slice()
	require.Greater(t, cap(a), len(a), "a's capacity reaches into the band")

	want := naiveGemm(tA, tB, m, n, k, 1, a, lda, b, ldb, beta, c, n+2)
	Sgemm(tA, tB, m, n, k, 1, a, lda, b, ldb, beta, c, n+2)
	for _, g := range []*testutil.Guarded{ga, gb, gc} {
		g.Check(t)
	}
	for i := range c {
		if i%(n+2) >= n { // the gaps of c stay NaN
			require.True(t, math.IsNaN(float64(c[i])), "%s: gap c[%d] written", where, i)
			c[i], want[i] = 0, 0
		}
	}
	rtol, atol := testutil.Tol(k)
	testutil.AssertClose(t, want, c, rtol, atol, where)

	// One float short, and NaN past it: were the check to let it through,
	// the missing float would be NaN.
	short := func(x []float32) []float32 { return testutil.NewGuarded(len(x)-1, x).Slice() }
	for _, sh := range []struct {
		name string
		run  func()
		len  int
	}{
		{"a", func() { Sgemm(tA, tB, m, n, k, 1, short(a), lda, b, ldb, beta, c, n+2) }, len(a)},
		{"b", func() { Sgemm(tA, tB, m, n, k, 1, a, lda, short(b), ldb, beta, c, n+2) }, len(b)},
		{"c", func() { Sgemm(tA, tB, m, n, k, 1, a, lda, b, ldb, beta, short(c), n+2) }, len(c)},
	} {
		msg := fmt.Sprintf("simdconv: Sgemm: len(%s) = %d, want ≥ %d", sh.name, sh.len-1, sh.len)
		require.PanicsWithValue(t, msg, sh.run, "%s: %s one float short", where, sh.name)
	}
}

// TestWrapperBounds checks every wrapper of the assembly, on every ISA
// that has its kernel, with strides and counts whose extents overflow an
// int: each must refuse them with its own message, before a kernel or Go
// code runs with them.
func TestWrapperBounds(t *testing.T) {
	huge := []int{math.MaxInt, math.MaxInt / 2, math.MaxInt/2 + 1, math.MaxInt / 3, 1 << 62}
	registry.ForEachISA(t, func(t *testing.T) {
		id := current
		mr, nr := mainTile(id)
		const k = 8
		a, b, c := make([]float32, k*mr), make([]float32, k*nr), make([]float32, mr*nr)
		buf := make([]float32, 4096)
		offs := []int{0, 1, 2, 3, 4, 5, 6, 7}
		for _, h := range huge {
			type check struct {
				name, msg string
				f         func()
			}
			const tile = "simdconv: microkernel operands out of bounds"
			checks := []check{
				{"checkTile ldc", tile, func() { checkTile(a, b, c, k, h, mr, mr, nr) }},
				{"checkTile k", tile, func() { checkTile(a, b, c, h, nr, mr, mr, nr) }},
				{"packRows dstStride", "simdconv: packRows operands out of bounds", func() { packRows(id, buf, buf, 3, 4, 0, 4, h, 4) }},
				{"packRows srcStride", "simdconv: packRows operands out of bounds", func() { packRows(id, buf, buf, 3, 4, 0, 4, 4, h) }},
				{"AddRows", "simdconv: AddRows: ", func() { driver{}.AddRows(buf, buf, 3, 4, 4, h) }},
				{"Stencil offset", "simdconv: Stencil: offset ", func() { driver{}.Stencil(buf[:16], buf, buf, []int{h}, 10, 0) }},
				{"Stencil n", "simdconv: Stencil: n = ", func() { driver{}.Stencil(buf, buf, buf, []int{0}, h, 0) }},
				{"ShiftedDots n", "simdconv: ShiftedDots: n = ", func() { driver{}.ShiftedDots(buf, buf, buf, []int{0}, h) }},
				{"WinogradInput ld", "simdconv: WinogradInput: ", func() { driver{}.WinogradInput(buf, 16, buf, h, 1) }},
				{"WinogradInput dstStride", "simdconv: WinogradInput: ", func() { driver{}.WinogradInput(buf, h, buf, 68, 1) }},
				{"WinogradInput tiles", "simdconv: WinogradInput: ", func() { driver{}.WinogradInput(buf, 16, buf, 68, h) }},
				{"WinogradOutput ld", "simdconv: WinogradOutput: ", func() { driver{}.WinogradOutput(buf, h, buf, 16, 1, 0, false) }},
				{"WinogradOutput srcStride", "simdconv: WinogradOutput: ", func() { driver{}.WinogradOutput(buf, 64, buf, h, 1, 0, false) }},
				{"WinogradGrad ld", "simdconv: WinogradGrad: ", func() { driver{}.WinogradGrad(buf, 16, buf, h, 1) }},
				{"WinogradGrad dstStride", "simdconv: WinogradGrad: ", func() { driver{}.WinogradGrad(buf, h, buf, 64, 1) }},
				{"StencilRows ldy", "simdconv: StencilRows: ", func() { driver{}.StencilRows(buf, h, buf, buf, []int{0}, 4, 2, nil) }},
				{"StencilRows n", "simdconv: StencilRows: n = ", func() { driver{}.StencilRows(buf, 16, buf, buf, []int{0}, h, 2, nil) }},
				{"StencilRows m", "simdconv: StencilRows: n = ", func() { driver{}.StencilRows(buf, 16, buf, buf, []int{0}, 4, h, nil) }},
				{"DotsRows lda", "simdconv: DotsRows: ", func() { driver{}.DotsRows(buf, buf, h, 2, buf, []int{0}, 4) }},
				{"DotsRows n", "simdconv: DotsRows: n = ", func() { driver{}.DotsRows(buf, buf, 16, 2, buf, []int{0}, h) }},
				{"StencilPlane Wp", "simdconv: StencilPlane: ", func() {
					p := engine.StencilPlane{H: 1, W: 1, Top: 4, Hp: 5, Wp: h, Rows: 1, Cols: 1, Off: []int{0}}
					driver{}.StencilPlane(&p, buf, buf, buf, nil, 1, false, buf, buf)
				}},
				{"StencilPlane Hp", "simdconv: StencilPlane: ", func() {
					p := engine.StencilPlane{H: 1, W: 1, Hp: h, Wp: 4, Rows: 1, Cols: 1, Off: []int{0}}
					driver{}.StencilPlane(&p, buf, buf, buf, nil, 1, false, buf, buf)
				}},
				{"StencilPlane Rows", "simdconv: StencilPlane: ", func() {
					p := engine.StencilPlane{H: 1, W: 1, Hp: 1, Wp: 4, Rows: h, Cols: 1, Off: []int{0}}
					driver{}.StencilPlane(&p, buf, buf, buf, nil, 1, false, buf, buf)
				}},
				{"StencilPlane planes", "simdconv: StencilPlane: ", func() {
					p := engine.StencilPlane{H: 1, W: 1, Hp: 1, Wp: 4, Rows: 1, Cols: 1, Off: []int{0}}
					driver{}.StencilPlane(&p, buf, buf, buf, nil, h, false, buf, buf)
				}},
			}
			if hasPackT(id, mr) {
				checks = append(checks, check{"packT lda", "simdconv: packT operands out of bounds", func() { packT(id, mr, buf, buf, h, mr, k, 1) }},
					check{"packT ldd", "simdconv: packT operands out of bounds", func() { packT(id, mr, buf, buf, k, h, k, 1) }})
			}
			if hasPackT(id, 8) {
				big := append([]int{h}, offs[1:]...)
				checks = append(checks, check{"packTOff offset", "simdconv: packTOff operands out of bounds", func() { packTOff(id, buf, buf, big, 1, 0, 8, k) }},
					check{"packTOff at", "simdconv: packTOff operands out of bounds", func() { packTOff(id, buf, buf, offs, 8, h, 8, k) }},
					check{"packTOff ldd", "simdconv: packTOff operands out of bounds", func() { packTOff(id, buf, buf, offs, 8, 0, h, k) }})
			}
			if hasPackingKernels(id) {
				for _, p := range []packing{packingA, packingAT, packingB} {
					checks = append(checks, check{fmt.Sprintf("packKernel %d lds", p), "simdconv: packKernel source out of bounds",
						func() { packKernel(id, p, a, b, c, k, nr, buf, h, false) }})
				}
				checks = append(checks, check{"prefetchKernel lds", "simdconv: prefetchKernel rows out of bounds",
					func() { prefetchTile(kernelSets[id].prefetch[0], a, b, c, k, nr, buf, h, 3) }})
			}
			if s := &kernelSets[id]; s.direct != noKernel {
				const msg = "simdconv: direct kernel operands out of bounds"
				cols := lanes(0, 1)
				checks = append(checks, check{"direct rs", msg, func() { directKernel(id, buf, h, 1, buf, buf, k, nr, cols) }},
					check{"direct ks", msg, func() { directKernel(id, buf, 1, h, buf, buf, k, nr, cols) }},
					check{"direct k", msg, func() { directKernel(id, buf, 1, 1, buf, buf, h, nr, cols) }},
					check{"direct ldc", msg, func() { directKernel(id, buf, 1, 1, buf, buf, k, h, cols) }},
					check{"direct dot rs", msg, func() { directDotKernel(id, buf, h, 1, buf, buf, buf, k, nr, cols) }})
			}
			if w := sliverLanes(id); w > 0 {
				// Two rows of one tap read channels 0 and 1, ChanStride apart.
				m := &im2col{X: buf[:w], C: 2, H: 1, W: w, P: 1, Q: w, StrideH: 1, StrideW: 1,
					OffH: []int{0}, OffW: []int{0}, ChanStride: h}
				seg := []segment{{n: w}}
				checks = append(checks, check{"packSliver ChanStride", "simdconv: packSliver mask outside x",
					func() { m.packSliver(id, buf, 0, 2, seg, w) }})
			}
			for _, ch := range checks {
				requirePanicPrefix(t, ch.msg, ch.f, "%s = %d", ch.name, h)
			}
		}
	})
}

// TestCheckTileBoundary checks checkTile at the exact lengths of a, b and
// c (ldc > nr), for a whole tile and a row edge of 4 of its rows: they
// pass, and one float less in any fails.
func TestCheckTileBoundary(t *testing.T) {
	const k, mr, nr, ldc = 5, 6, 16, 19
	for _, h := range []int{mr, 4} {
		a, b, c := make([]float32, k*mr), make([]float32, k*nr), make([]float32, (h-1)*ldc+nr)
		require.NotPanics(t, func() { checkTile(a, b, c, k, ldc, mr, h, nr) }, "h=%d", h)
		for name, f := range map[string]func(){
			"a": func() { checkTile(a[1:], b, c, k, ldc, mr, h, nr) },
			"b": func() { checkTile(a, b[1:], c, k, ldc, mr, h, nr) },
			"c": func() { checkTile(a, b, c[1:], k, ldc, mr, h, nr) },
		} {
			require.PanicsWithValue(t, "simdconv: microkernel operands out of bounds", f, "h=%d: %s one float short", h, name)
		}
	}
}

// requirePanicPrefix fails t unless f panics with a string that starts with
// prefix.
func requirePanicPrefix(t *testing.T, prefix string, f func(), msg string, args ...any) {
	t.Helper()
	var got any
	func() {
		defer func() { got = recover() }()
		f()
	}()
	s, ok := got.(string)
	require.True(t, ok && strings.HasPrefix(s, prefix), "%s: panicked with %#v, want a message starting %q",
		fmt.Sprintf(msg, args...), got, prefix)
}

// TestPackSliverBoundary gives the sliver kernel an X that ends exactly
// where its last mask reads, which it must take, and one float shorter,
// which it must refuse: the check may not be off by one either way.
func TestPackSliverBoundary(t *testing.T) {
	registry.ForEachISA(t, func(t *testing.T) {
		w := sliverLanes(current)
		if w == 0 {
			t.Skip("no sliver kernel")
		}
		const cs = 2 * 64 // two channels, ChanStride apart
		x := testutil.Rand(rand.New(rand.NewPCG(1, 2)), cs+w)
		m := &im2col{X: x, C: 2, H: 1, W: w, P: 1, Q: w, StrideH: 1, StrideW: 1,
			OffH: []int{0}, OffW: []int{0}, ChanStride: cs}
		seg := []segment{{n: w}}
		dst := make([]float32, 2*w)
		require.True(t, m.packSliver(current, dst, 0, 2, seg, w))
		require.Equal(t, x[:w], dst[:w])
		require.Equal(t, x[cs:], dst[w:])
		m.X = x[:len(x)-1]
		requirePanicPrefix(t, "simdconv: packSliver mask outside x", func() { m.packSliver(current, dst, 0, 2, seg, w) }, "X one float short")
	})
}
