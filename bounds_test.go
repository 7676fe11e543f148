package simdconv

import (
	"fmt"
	"math"
	"math/big"
	"strings"
	"testing"

	"github.com/simdconv/simdconv/internal/engine"
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
				{"checkTile ldc", tile, func() { checkTile(a, b, c, k, h, mr, nr) }},
				{"checkTile k", tile, func() { checkTile(a, b, c, h, nr, mr, nr) }},
				{"packRows dstStride", "simdconv: packRows operands out of bounds", func() { packRows(id, buf, buf, 3, 4, 0, 4, h, 4) }},
				{"packRows srcStride", "simdconv: packRows operands out of bounds", func() { packRows(id, buf, buf, 3, 4, 0, 4, 4, h) }},
				{"AddRows", "simdconv: AddRows: ", func() { driver{}.AddRows(buf, buf, 3, 4, 4, h) }},
				{"Stencil offset", "simdconv: Stencil: offset ", func() { driver{}.Stencil(buf[:16], buf, buf, []int{h}, 10, 0) }},
				{"Stencil n", "simdconv: Stencil: n = ", func() { driver{}.Stencil(buf, buf, buf, []int{0}, h, 0) }},
				{"ShiftedDots n", "simdconv: ShiftedDots: n = ", func() { driver{}.ShiftedDots(buf, buf, buf, []int{0}, h) }},
				{"StencilPlane Top", "simdconv: StencilPlane: ", func() {
					p := engine.StencilPlane{H: 1, W: 1, Top: 4, Wp: h, Rows: 1, Cols: 1, Off: []int{0}}
					driver{}.StencilPlane(&p, buf, buf, buf, 0, false, buf, buf)
				}},
				{"StencilPlane Rows", "simdconv: StencilPlane: ", func() {
					p := engine.StencilPlane{H: 1, W: 1, Wp: 4, Rows: h, Cols: 1, Off: []int{0}}
					driver{}.StencilPlane(&p, buf, buf, buf, 0, false, buf, buf)
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
					func() { prefetchKernel(id, a, b, c, k, nr, buf, h, 3, false) }})
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
// c (ldc > nr): they pass, and one float less in any fails.
func TestCheckTileBoundary(t *testing.T) {
	const k, mr, nr, ldc = 5, 6, 16, 19
	a, b, c := make([]float32, k*mr), make([]float32, k*nr), make([]float32, (mr-1)*ldc+nr)
	require.NotPanics(t, func() { checkTile(a, b, c, k, ldc, mr, nr) })
	for name, f := range map[string]func(){
		"a": func() { checkTile(a[1:], b, c, k, ldc, mr, nr) },
		"b": func() { checkTile(a, b[1:], c, k, ldc, mr, nr) },
		"c": func() { checkTile(a, b, c[1:], k, ldc, mr, nr) },
	} {
		require.PanicsWithValue(t, "simdconv: microkernel operands out of bounds", f, "%s one float short", name)
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
