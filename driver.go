package simdconv

import (
	"fmt"

	"github.com/simdconv/simdconv/internal/engine"
)

// driver runs the products and helpers that internal/engine describes, for
// package kernels; it is installed there when this package is initialised.
type driver struct{}

func init() { engine.Install(driver{}) }

func (driver) RunBlock(g *engine.Gemm, ws []float32, i0, i1, j0, j1 int) {
	(*gemm)(g).runBlock(ws, i0, i1, j0, j1)
}

func (driver) NewRunner() engine.Runner                   { return new(runner) }
func (driver) Im2colRows(m *engine.Im2col, dst []float32) { (*im2col)(m).rows(dst) }
func (driver) Workspace(m, n, k int) int                  { return gemmWorkspace(m, n, k) }
func (driver) Tile() (mr, nr int)                         { return mainTile(current) }
func (driver) TileFit(m, n int) float64                   { return tileFit(m, n) }
func (driver) DenseTileFit(m, n int) float64              { return denseTileFit(m, n) }
func (driver) ISAError() error                            { return isaErr }
func (driver) L2() int                                    { return thisCaches.l2.size }
func (driver) Native() bool                               { return current != isaGeneric }

// StencilPlane pads planes of src into pad, runs the stencil on each into
// panel and crops panel into dst, calling the kernels directly: planes one
// after the other, so that one call of each kernel serves them all (the
// crop's rows are Wp apart in panel across the planes too).
func (d driver) StencilPlane(p *engine.StencilPlane, dst, src, w, bias []float32, planes int, relu bool, pad, panel []float32) {
	if planes < 1 || planes > engine.MaxPlanes {
		panic(fmt.Sprintf("simdconv: StencilPlane: %d planes, want 1 to %d", planes, engine.MaxPlanes))
	}
	if bias == nil {
		bias = zeroBias[:planes]
	}
	id := current
	plane := planeFloats("pad", pad, p.Hp, p.Wp)
	in := planeFloats("src", src, p.H, p.W)
	if !fits(len(pad), planes, plane, plane) || !fits(len(src), planes, in, in) {
		panic(fmt.Sprintf("simdconv: StencilPlane: %d planes of %d and %d floats outside len(pad) = %d, len(src) = %d",
			planes, plane, in, len(pad), len(src)))
	}
	padPlanes(id, p, pad, src, planes)
	n := planeFloats("panel", panel, p.Rows, p.Wp)
	d.StencilPlanes(panel, pad, w, p.Off, n, planes, n, plane, len(p.Off), bias)
	rows := planes * p.Rows
	if !relu {
		packRows(id, dst, panel, rows, p.Cols, 0, p.Cols, p.Cols, p.Wp)
		return
	}
	for i := range rows {
		row, src := dst[i*p.Cols:][:p.Cols], panel[i*p.Wp:][:p.Cols]
		for j, v := range src {
			row[j] = max(v, 0)
		}
	}
}

// zeroBias is StencilPlane's bias when it is given none.
var zeroBias [engine.MaxPlanes]float32

// StencilDots pads planes of src and of dy, one after the other, and takes
// their shifted dot products in one call of the kernel.
func (d driver) StencilDots(p *engine.StencilPlane, dots, src, dy []float32, off []int, planes int, pad, dyPad []float32) {
	if planes < 1 || planes > engine.MaxPlanes {
		panic(fmt.Sprintf("simdconv: StencilDots: %d planes, want 1 to %d", planes, engine.MaxPlanes))
	}
	id := current
	plane := planeFloats("pad", pad, p.Hp, p.Wp)
	in := planeFloats("src", src, p.H, p.W)
	n := planeFloats("dyPad", dyPad, p.Rows, p.Wp)
	np := roundUp(n, engine.Slack)
	out := planeFloats("dy", dy, p.Rows, p.Cols)
	if !fits(len(pad), planes, plane, plane) || !fits(len(src), planes, in, in) ||
		!fits(len(dyPad), planes, np, np) || !fits(len(dy), planes, out, out) {
		panic(fmt.Sprintf("simdconv: StencilDots: %d planes of %d, %d, %d and %d floats outside len(pad) = %d, len(src) = %d, len(dyPad) = %d, len(dy) = %d",
			planes, plane, in, np, out, len(pad), len(src), len(dyPad), len(dy)))
	}
	padPlanes(id, p, pad, src, planes)
	packPlanes(id, dyPad, dy, planes, np, out, p.Rows, p.Wp, 0, p.Cols, p.Wp, p.Cols)
	for c := range planes {
		clear(dyPad[c*np+n : (c+1)*np])
	}
	d.ShiftedDotsPlanes(dots, dyPad, pad, off, n, planes, len(off), np, plane)
}

// padPlanes writes planes of p's input, one after the other in src, into
// pad at (Top, Left) of each Hp×Wp plane, zero around them and past them.
// The caller has checked that pad and src hold the planes.
func padPlanes(id isaID, p *engine.StencilPlane, pad, src []float32, planes int) {
	plane, top := p.Hp*p.Wp, p.Top*p.Wp
	packPlanes(id, pad[top:], src, planes, plane, p.H*p.W, p.H, p.Wp, p.Left, p.Left+p.W, p.Wp, p.W)
	// The rows below one plane and above the next are one run.
	body := p.H * p.Wp
	clear(pad[:top])
	for c := range planes - 1 {
		clear(pad[c*plane+top+body:][:plane-body])
	}
	clear(pad[(planes-1)*plane+top+body:])
}

// planeFloats returns rows·wp after checking that buf holds that many
// floats, so that the product cannot overflow.
func planeFloats(name string, buf []float32, rows, wp int) int {
	if !fits(len(buf), rows, wp, wp) {
		panic(fmt.Sprintf("simdconv: StencilPlane: %d rows of Wp = %d floats, want them in len(%s) = %d", rows, wp, name, len(buf)))
	}
	return rows * wp
}

// CopyRows is packRows on the selected ISA: rows copied between strides,
// zero-padded on either side (a plane into a padded one, or back).
func (driver) CopyRows(dst, src []float32, rows, n, lo, hi, dstStride, srcStride int) {
	if n < wideRow || rows <= 0 {
		packRows(current, dst, src, rows, n, lo, hi, dstStride, srcStride)
		return
	}
	// Wide rows (cropping a direct pass's output panel, padding a plane):
	// the runtime's memmove and memclr, whose vector loops run at the
	// caches' speed, against packRows' call per kernel-wide column block,
	// which took most of a 224-wide layer's forward pass.
	if hi > lo && (lo < 0 || hi > n || !fits(len(src), rows, srcStride, hi-lo)) || !fits(len(dst), rows, dstStride, n) {
		panic("simdconv: CopyRows operands out of bounds")
	}
	if hi <= lo {
		lo, hi = 0, 0
	}
	for r := range rows {
		row := dst[r*dstStride:][:n]
		clear(row[:lo])
		if hi > lo {
			copy(row[lo:hi], src[r*srcStride:][:hi-lo])
		}
		clear(row[hi:])
	}
}

// wideRow is the row length, in floats, from which CopyRows moves whole
// rows with copy and clear: past a few vectors a row is cheaper as one
// memmove than as packRows' column blocks, while shorter rows (a stride-2
// depthwise layer's 112) go faster through packRows, which does a column
// block of every row per call. The paired runs behind the threshold are in
// the commit that set it.
const wideRow = 192
