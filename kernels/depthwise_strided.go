package kernels

import "github.com/simdconv/simdconv/internal/engine"

// A depthwise layer at stride sh×sw takes the stencil too, over row phase
// planes: the zero-padded plane (W' wide) split into sh planes of hs rows,
// plane a holding the padded rows a, a+sh, … (a copy of whole rows at a
// stride, which the SIMD row copy does). Output (p, q) of tap (r, s) reads
// plane r·DilationH mod sh at row p + ⌊r·DilationH/sh⌋ and column q·sw +
// s·DilationW, so with the planes one after the other every tap is a shift
// of the whole buffer read at positions p·W' + c. The stencil computes every
// column c and the output keeps c = q·sw: sw times the stencil's work, which
// is cheap, for a gather of P·Q outputs in place of one of the whole input.
// Forward is one stencil and backward-filter one dot product per tap, with
// dY spread to columns q·sw.
//
// Backward-data splits the same way: padded dX row u = i·sh + a receives
// tap r exactly when r·DilationH mod sh = a, from dY row i −
// ⌊r·DilationH/sh⌋. So each row phase of dX is a stencil, over the taps of
// that phase, of dY padded and spread to columns q·sw (a sub-pixel
// convolution), and its rows are copied into dX at stride sh.

// phasePlan is the row-phase geometry of a strided depthwise layer.
type phasePlan struct {
	hs, wp int
	off    []int  // tap (r, s)'s shift in the phase buffer
	need   []bool // the row phases a tap reads
	n      int    // positions computed: P·W'
	end    int    // floats of the phase buffer, with the reach past the planes

	// Backward-data: dY spread and padded to hd×wd, by top rows and left
	// columns, and per row phase its taps and their shifts in it.
	top, left, wd, hd int
	dataTaps, dataOff [][]int
	dataEnd           int // floats of padded dY, with the reach past it
}

// planStridedStencil sets st.phases for a depthwise layer of stride above 1
// whose copies fit maxCopy, and reports whether it did.
func (c *Conv2D) planStridedStencil(st *stencilPlan) bool {
	s := &c.s
	sh := s.StrideH
	hs := (s.H + s.PadTop + s.PadBottom + sh - 1) / sh
	wp := s.W + s.PadLeft + s.PadRight
	ph := &phasePlan{hs: hs, wp: wp, n: s.P * wp, end: sh * hs * wp}
	for r := 0; r < s.R; r++ {
		for t := 0; t < s.S; t++ {
			off := (r*s.DilationH%sh*hs+r*s.DilationH/sh)*wp + t*s.DilationW
			ph.off = append(ph.off, off)
			ph.end = max(ph.end, off+roundUpSlack(ph.n))
		}
	}
	ph.need = phasesRead(taps(s.R, s.DilationH, 0), []int{0}, sh, 1)

	ph.top, ph.left = (s.R-1)*s.DilationH/sh, (s.S-1)*s.DilationW
	ph.wd, ph.hd = wp+ph.left, hs+ph.top
	ph.dataTaps, ph.dataOff = make([][]int, sh), make([][]int, sh)
	ph.dataEnd = ph.hd * ph.wd
	for r := 0; r < s.R; r++ {
		a := r * s.DilationH % sh
		for t := 0; t < s.S; t++ {
			off := (ph.top-r*s.DilationH/sh)*ph.wd + ph.left - t*s.DilationW
			ph.dataTaps[a] = append(ph.dataTaps[a], r*s.S+t)
			ph.dataOff[a] = append(ph.dataOff[a], off)
			ph.dataEnd = max(ph.dataEnd, off+roundUpSlack(hs*ph.wd))
		}
	}
	if ph.end > maxCopy || ph.dataEnd > maxCopy {
		return false
	}
	st.phases, st.data = ph, true
	// Forward and backward-filter go a block of channels to a call, as
	// at stride 1 (planesJob, filterPlanesJob).
	st.block = 1
	if s.Kg == 1 {
		st.block = min(s.C, engine.MaxPlanes, max(1, planesTarget/ph.end))
	}
	c.xpadLen = max(c.xpadLen, st.block*ph.end)
	c.dypadLen = max(c.dypadLen, st.block*roundUpSlack(ph.n), ph.dataEnd)
	c.panel = max(c.panel, st.block*ph.n+engine.Slack, roundUpSlack(hs*ph.wd))
	return true
}

func roundUpSlack(n int) int { return roundUp(n, engine.Slack) }

// roundUp rounds n up to a multiple of m.
func roundUp(n, m int) int { return ceilDiv(n, m) * m }

// splitRows writes one channel x (H×W) into wk.xpad as the row phase
// planes, zero-padded to W' and zero past them, and returns the buffer.
func (c *Conv2D) splitRows(wk *worker, x []float32) []float32 {
	buf := wk.xpad[:c.stencil.phases.end]
	c.splitRowsInto(buf, x)
	return buf
}

// splitRowsInto is splitRows into buf, ph.end floats. A phase that no tap
// reads is zeroed: the last rows' runs reach into the next plane.
func (c *Conv2D) splitRowsInto(buf, x []float32) {
	s, ph := &c.s, c.stencil.phases
	sh := s.StrideH
	for a := range sh {
		plane := buf[a*ph.hs*ph.wp:][:ph.hs*ph.wp]
		// Plane rows [i0, i1) hold x rows i·sh + a − PadTop.
		i0 := min(ph.hs, max(0, ceilDiv(s.PadTop-a, sh)))
		i1 := max(i0, min(ph.hs, ceilDiv(s.PadTop+s.H-a, sh)))
		if !ph.need[a] || i0 == i1 {
			clear(plane)
			continue
		}
		clear(plane[:i0*ph.wp])
		engine.CopyRows(plane[i0*ph.wp:], x[(i0*sh+a-s.PadTop)*s.W:], i1-i0, ph.wp,
			s.PadLeft, s.PadLeft+s.W, ph.wp, sh*s.W)
		clear(plane[i1*ph.wp:])
	}
	clear(buf[sh*ph.hs*ph.wp:])
}

// spreadRows writes dy (P×Q) into dst, P rows of width wide, at columns q·sw
// from col0, and zeroes the rest of dst.
func (c *Conv2D) spreadRows(dst, dy []float32, width, col0 int) {
	s := &c.s
	if s.StrideW == 1 {
		engine.CopyRows(dst, dy, s.P, width, col0, col0+s.Q, width, s.Q)
		clear(dst[s.P*width:])
		return
	}
	clear(dst)
	engine.ScatterRows(dst[col0:], dy, s.P, s.Q, s.StrideW, width, s.Q)
}

// forwardPhases is forwardStencil at stride above 1.
func (c *Conv2D) forwardPhases(wk *worker, y, x, w []float32, bias float32) {
	s, ph := &c.s, c.stencil.phases
	panel := wk.panel[:roundUpSlack(ph.n)]
	engine.Stencil(panel, c.splitRows(wk, x), w, ph.off, ph.n, bias)
	y = y[:s.PQ]
	engine.GatherRows(y, panel, s.P, s.Q, s.StrideW, s.Q, ph.wp)
	if c.relu {
		for i, v := range y {
			y[i] = max(v, 0)
		}
	}
}

// forwardPhasesBlock is forwardPhases on nb channels at once, their phase
// planes one after the other: one stencil call and one gather of the
// outputs for the block.
func (c *Conv2D) forwardPhasesBlock(wk *worker, y, x, w, bias []float32, nb int) {
	s, ph := &c.s, c.stencil.phases
	buf := wk.xpad[:nb*ph.end]
	for i := range nb {
		c.splitRowsInto(buf[i*ph.end:][:ph.end], x[i*s.HW:][:s.HW])
	}
	panel := wk.panel[:(nb-1)*ph.n+roundUpSlack(ph.n)]
	engine.StencilPlanes(panel, buf, w, ph.off, ph.n, nb, ph.n, ph.end, s.RS, bias)
	y = y[:nb*s.PQ]
	engine.GatherRows(y, panel, nb*s.P, s.Q, s.StrideW, s.Q, ph.wp) // panel rows are W' apart across the planes too
	if c.relu {
		for i, v := range y {
			y[i] = max(v, 0)
		}
	}
}

// dotsPhasesBlock is dotsPhases on nb channels at once, for every tap:
// d holds nb·R·S dot products.
func (c *Conv2D) dotsPhasesBlock(wk *worker, d, x, dy []float32, nb int) {
	s, ph := &c.s, c.stencil.phases
	np := roundUpSlack(ph.n)
	a, buf := wk.dypad[:nb*np], wk.xpad[:nb*ph.end]
	for i := range nb {
		c.spreadRows(a[i*np:][:np], dy[i*s.PQ:][:s.PQ], ph.wp, 0)
		c.splitRowsInto(buf[i*ph.end:][:ph.end], x[i*s.HW:][:s.HW])
	}
	engine.ShiftedDotsPlanes(d, a, buf, ph.off, ph.n, nb, s.RS, np, ph.end)
}

// dotsPhases sets d to the taps ph.off[j0:j1] of one image and channel's
// filter gradient at stride above 1: dY spread to columns q·sw of rows W'
// wide, zero elsewhere, against the phase buffer.
func (c *Conv2D) dotsPhases(wk *worker, d, x, dy []float32, j0, j1 int) {
	ph := c.stencil.phases
	a := wk.dypad[:roundUpSlack(ph.n)]
	c.spreadRows(a, dy, ph.wp, 0)
	engine.ShiftedDots(d, a, c.splitRows(wk, x), ph.off[j0:j1], ph.n)
}

// backwardDataPhases is backwardDataStencil at stride above 1: each row
// phase of padded dX is a stencil of the spread, padded dY over its taps,
// whose rows are copied into dx.
func (c *Conv2D) backwardDataPhases(wk *worker, dx, dy, w []float32) {
	s, ph := &c.s, c.stencil.phases
	sh := s.StrideH
	pad := wk.dypad[:ph.dataEnd]
	clear(pad[:ph.top*ph.wd])
	c.spreadRows(pad[ph.top*ph.wd:], dy, ph.wd, ph.left)
	n := ph.hs * ph.wd
	panel := wk.panel[:roundUpSlack(n)]
	for a := range sh {
		// Phase rows [i0, i1) are dx rows i·sh + a − PadTop.
		i0 := min(ph.hs, max(0, ceilDiv(s.PadTop-a, sh)))
		i1 := max(i0, min(ph.hs, ceilDiv(s.PadTop+s.H-a, sh)))
		if i0 == i1 {
			continue
		}
		wt := wk.dots[:len(ph.dataTaps[a])]
		for i, t := range ph.dataTaps[a] {
			wt[i] = w[t]
		}
		engine.Stencil(panel, pad, wt, ph.dataOff[a], n, 0)
		engine.CopyRows(dx[(i0*sh+a-s.PadTop)*s.W:], panel[i0*ph.wd+s.PadLeft:], i1-i0, s.W,
			0, s.W, sh*s.W, ph.wd)
	}
}
