package kernels

import "github.com/simdconv/simdconv/internal/engine"

// A depthwise layer at stride sh×sw takes the stencil too, over phase
// planes: the zero-padded plane split into sh·sw planes of hs×ws, plane
// (a, b) holding the padded rows a, a+sh, … and columns b, b+sw, …
// (splitPhases). Output (p, q) of tap (r, s) reads plane (r·DilationH mod
// sh, s·DilationW mod sw) at row p + ⌊r·DilationH/sh⌋ and column q +
// ⌊s·DilationW/sw⌋, so with the planes one after the other every tap is a
// shift of the whole buffer read at positions p·ws + q, as at stride 1.
// Forward is then one stencil and backward-filter one dot product per tap;
// backward-data keeps the matrix routes.

// phasePlan is the phase-plane geometry of a strided depthwise layer.
type phasePlan struct {
	hs, ws int
	off    []int  // tap (r, s)'s shift in the phase buffer
	need   []bool // the planes a tap reads (splitPhases)
	n      int    // positions computed: P·ws, of which each row's first Q count
	end    int    // floats of the phase buffer, with the reach past the planes
}

// planStridedStencil sets st.phases for a depthwise layer of stride above 1 whose
// phase planes fit maxCopy, and reports whether it did.
func (c *Conv2D) planStridedStencil(st *stencilPlan) bool {
	s := c.s
	hs := (s.H + s.PadTop + s.PadBottom + s.StrideH - 1) / s.StrideH
	ws := (s.W + s.PadLeft + s.PadRight + s.StrideW - 1) / s.StrideW
	planes := s.StrideH * s.StrideW * hs * ws
	if planes > maxCopy || s.P*ws > maxCopy {
		return false
	}
	ph := &phasePlan{hs: hs, ws: ws, n: s.P * ws, end: planes}
	for r := 0; r < s.R; r++ {
		a, ur := r*s.DilationH%s.StrideH, r*s.DilationH/s.StrideH
		for t := 0; t < s.S; t++ {
			b, us := t*s.DilationW%s.StrideW, t*s.DilationW/s.StrideW
			off := (a*s.StrideW+b)*hs*ws + ur*ws + us
			ph.off = append(ph.off, off)
			ph.end = max(ph.end, off+roundUpSlack(ph.n))
		}
	}
	ph.need = phasesRead(taps(s.R, s.DilationH, 0), taps(s.S, s.DilationW, 0), s.StrideH, s.StrideW)
	st.phases = ph
	c.xpadLen = max(c.xpadLen, ph.end)
	c.dypadLen = max(c.dypadLen, roundUpSlack(ph.n))
	c.panel = max(c.panel, roundUpSlack(ph.n))
	return true
}

func roundUpSlack(n int) int { return ceilDiv(n, engine.Slack) * engine.Slack }

// splitPlane writes one channel x (H×W) into wk.xpad as ph's phase planes,
// zero past them, and returns the phase buffer.
func (c *Conv2D) splitPlane(wk *worker, x []float32) []float32 {
	s, ph := c.s, c.stencil.phases
	buf := wk.xpad[:ph.end]
	n := splitPhases(buf, x, 1, s.H, s.W, s.StrideH, s.StrideW, s.PadTop, s.PadLeft, ph.hs, ph.ws, ph.need)
	clear(buf[n:])
	return buf
}

// forwardPhases is forwardStencil at stride above 1.
func (c *Conv2D) forwardPhases(wk *worker, y, x, w []float32, bias float32) {
	s, ph := c.s, c.stencil.phases
	panel := wk.panel[:roundUpSlack(ph.n)]
	engine.Stencil(panel, c.splitPlane(wk, x), w, ph.off, ph.n, bias)
	engine.CopyRows(y, panel, s.P, s.Q, 0, s.Q, s.Q, ph.ws)
	if c.relu {
		for i, v := range y {
			y[i] = max(v, 0)
		}
	}
}

// dotsPhases sets d to the taps ph.off[j0:j1] of one image and channel's
// filter gradient at stride above 1: dY (P×Q) at row stride ws, zero past
// its columns, against the phase buffer.
func (c *Conv2D) dotsPhases(wk *worker, d, x, dy []float32, j0, j1 int) {
	s, ph := c.s, c.stencil.phases
	a := wk.dypad[:roundUpSlack(ph.n)]
	engine.CopyRows(a, dy, s.P, ph.ws, 0, s.Q, ph.ws, s.Q)
	clear(a[ph.n:])
	engine.ShiftedDots(d, a, c.splitPlane(wk, x), ph.off[j0:j1], ph.n)
}
