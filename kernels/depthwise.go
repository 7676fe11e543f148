package kernels

import "github.com/simdconv/simdconv/internal/engine"

// Depthwise layers (one input and one output channel per group) at stride 1
// run without a matrix product: over a zero-padded plane read at positions
// p·W'+q, every tap is a shift of the plane, so forward and backward-data
// are a stencil and backward-filter is one dot product per tap
// (engine.Stencil, engine.ShiftedDots). As in backward-filter's Shifted
// form, the W'−Q positions past each row are computed too: forward and
// backward-data drop them, backward-filter multiplies them by zeros in dY
// (so, there too, an Inf in the input can give a NaN the GEMM route would
// not).

// stencilPlan is the geometry of the stencil passes.
type stencilPlan struct {
	wp     int   // padded input width W' = W + PadLeft + PadRight
	off    []int // forward taps (r, s): r·DilationH·W' + s·DilationW
	wd     int   // padded dY width W'' = W + (S−1)·DilationW, for backward-data
	offRot []int // backward-data taps: the filter rotated, over dY padded to W''
	data   bool  // backward-data runs as a stencil: padding ≤ the filter's reach
}

// planStencil sets c.stencil for a depthwise stride-1 layer.
func (c *Conv2D) planStencil() {
	s := c.s
	if s.Cg != 1 || s.Kg != 1 || s.StrideH != 1 || s.StrideW != 1 {
		return
	}
	reachH, reachW := (s.R-1)*s.DilationH, (s.S-1)*s.DilationW
	st := &stencilPlan{wp: s.W + s.PadLeft + s.PadRight, wd: s.W + reachW}
	st.data = s.PadTop <= reachH && s.PadBottom <= reachH && s.PadLeft <= reachW && s.PadRight <= reachW
	for r := 0; r < s.R; r++ {
		for t := 0; t < s.S; t++ {
			st.off = append(st.off, r*s.DilationH*st.wp+t*s.DilationW)
			st.offRot = append(st.offRot, (reachH-r*s.DilationH)*st.wd+reachW-t*s.DilationW)
		}
	}
	c.stencil = st
	c.wpad = st.wp
	hp := s.H + s.PadTop + s.PadBottom
	c.xpadLen = max(c.xpadLen, hp*st.wp+reachW+engine.Slack)
	c.dypadLen = max(c.dypadLen, s.P*st.wp+engine.Slack)
	c.panel = max(c.panel, s.P*st.wp+engine.Slack)
	if st.data {
		c.dypadLen = max(c.dypadLen, (s.H+reachH)*st.wd+reachW+engine.Slack)
		c.panel = max(c.panel, s.H*st.wd+engine.Slack)
	}
}

// forwardStencil is forwardJob.item for one image and channel x (H×W) into y.
func (c *Conv2D) forwardStencil(wk *worker, y, x, w []float32, bias float32) {
	s, st := c.s, c.stencil
	c.padInput(wk.xpad, x)
	engine.Stencil(wk.panel, wk.xpad, w, st.off, s.P*st.wp, bias)
	if !c.relu {
		engine.CopyRows(y, wk.panel, s.P, s.Q, 0, s.Q, s.Q, st.wp)
		return
	}
	for p := 0; p < s.P; p++ {
		row, src := y[p*s.Q:][:s.Q], wk.panel[p*st.wp:][:s.Q]
		for q, v := range src {
			row[q] = max(v, 0)
		}
	}
}

// backwardDataStencil is dataJob.item for one image and channel: dx is
// the stencil of the rotated filter over dY padded by the filter's reach
// less the forward padding.
func (c *Conv2D) backwardDataStencil(wk *worker, dx, dy, w []float32) {
	s, st := c.s, c.stencil
	reachH, reachW := (s.R-1)*s.DilationH, (s.S-1)*s.DilationW
	top, left := reachH-s.PadTop, reachW-s.PadLeft
	dyp := wk.dypad
	clear(dyp[:top*st.wd])
	engine.CopyRows(dyp[top*st.wd:], dy, s.P, st.wd, left, left+s.Q, st.wd, s.Q)
	clear(dyp[(top+s.P)*st.wd:])
	engine.Stencil(wk.panel, dyp, w, st.offRot, s.H*st.wd, 0)
	engine.CopyRows(dx, wk.panel, s.H, s.W, 0, s.W, s.W, st.wd)
}

// backwardFilterStencil adds to dw the taps [j0, j1) of one channel's
// filter gradient, summed over the images: the dot products of dY (padded
// to W' with zeros) with the padded input shifted by each tap.
func (c *Conv2D) backwardFilterStencil(wk *worker, g, j0, j1 int, dw, dy, x []float32) {
	s, st := c.s, c.stencil
	n := s.P * st.wp
	dyp := wk.dypad[:roundUpSlack(n)]
	d := &wk.dots
	for img := 0; img < s.N; img++ {
		c.padInput(wk.xpad, x[(img*s.C+g)*s.HW:][:s.HW])
		c.padGradient(dyp, dy[(img*s.K+g)*s.PQ:][:s.PQ])
		clear(dyp[n:])
		for t0 := j0; t0 < j1; t0 += maxStencilTaps {
			t1 := min(t0+maxStencilTaps, j1)
			engine.ShiftedDots(d[:t1-t0], dyp, wk.xpad, st.off[t0:t1], n)
			for t, v := range d[:t1-t0] {
				dw[t0+t] += v
			}
		}
	}
}

// maxStencilTaps is how many taps backwardFilterStencil sums at once; its
// results live on the stack.
const maxStencilTaps = 64

func roundUpSlack(n int) int { return (n + engine.Slack - 1) / engine.Slack * engine.Slack }
