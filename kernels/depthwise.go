package kernels

import "github.com/simdconv/simdconv/internal/engine"

// Depthwise layers (one input and one output channel per group) run without
// a matrix product (at stride above 1, see depthwise_strided.go). At stride
// 1, over a zero-padded plane read at positions p·W'+q, every tap is a
// shift of the plane, so forward and backward-data
// are a stencil and backward-filter is one dot product per tap
// (engine.StencilPlane). As in backward-filter's Shifted form, the W'−Q
// positions past each row are computed too: forward and backward-data drop
// them, backward-filter multiplies them by zeros in dY, and recomputes a
// tap by its definition (stencilTap) where that may have met a NaN or an
// infinity of x.

// stencilPlan is the geometry of the stencil passes.
type stencilPlan struct {
	wp     int   // padded input width W' = W + PadLeft + PadRight
	off    []int // forward taps (r, s): r·DilationH·W' + s·DilationW
	wd     int   // padded dY width W'' = W + (S−1)·DilationW, for backward-data
	offRot []int // backward-data taps: the filter rotated, over dY padded to W''
	data   bool  // backward-data runs as a stencil: padding ≤ the filter's reach

	forward, backwardData engine.StencilPlane // one plane of each pass
	phases                *phasePlan          // at stride above 1, the phase planes; the rest unset
}

// planStencil sets c.stencil for a depthwise layer: one input channel a
// group, and one output channel or, with more than one group, any number
// (a channel multiplier). A single-channel input with several outputs (an
// MNIST stem) is one product whose M is the outputs: the GEMM's.
func (c *Conv2D) planStencil() {
	s := &c.s
	if s.Cg != 1 || s.Kg > 1 && s.Groups == 1 {
		return
	}
	if s.StrideH != 1 || s.StrideW != 1 {
		st := &stencilPlan{}
		if c.planStridedStencil(st) {
			c.stencil = st
		}
		return
	}
	reachH, reachW := (s.R-1)*s.DilationH, (s.S-1)*s.DilationW
	st := &stencilPlan{wp: s.W + s.PadLeft + s.PadRight, wd: s.W + reachW}
	if (s.H+s.PadTop+s.PadBottom)*st.wp > maxCopy || (s.H+reachH)*st.wd > maxCopy {
		return
	}
	st.data = s.PadTop <= reachH && s.PadBottom <= reachH && s.PadLeft <= reachW && s.PadRight <= reachW
	for r := 0; r < s.R; r++ {
		for t := 0; t < s.S; t++ {
			st.off = append(st.off, r*s.DilationH*st.wp+t*s.DilationW)
			st.offRot = append(st.offRot, (reachH-r*s.DilationH)*st.wd+reachW-t*s.DilationW)
		}
	}
	st.forward = engine.StencilPlane{H: s.H, W: s.W, Top: s.PadTop, Left: s.PadLeft, Wp: st.wp,
		Rows: s.P, Cols: s.Q, Off: st.off}
	st.backwardData = engine.StencilPlane{H: s.P, W: s.Q, Top: reachH - s.PadTop, Left: reachW - s.PadLeft, Wp: st.wd,
		Rows: s.H, Cols: s.W, Off: st.offRot}
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
	if c.stencil.phases != nil {
		c.forwardPhases(wk, y, x, w, bias)
		return
	}
	c.stencil.forward.Run(y, x, w, bias, c.relu, wk.xpad, wk.panel)
}

// backwardDataStencil is dataJob.item for one image and channel: dx is
// the stencil of the rotated filter over dY padded by the filter's reach
// less the forward padding.
func (c *Conv2D) backwardDataStencil(wk *worker, dx, dy, w []float32) {
	s := &c.s
	for j := range s.Kg {
		out := dx
		if j > 0 { // a channel multiplier: the group's output channels add up
			out = wk.xpad[:s.HW]
		}
		dyj, wj := dy[j*s.PQ:][:s.PQ], w[j*s.RS:][:s.RS]
		if c.stencil.phases != nil {
			c.backwardDataPhases(wk, out, dyj, wj)
		} else {
			c.stencil.backwardData.Run(out, dyj, wj, 0, false, wk.dypad, wk.panel)
		}
		if j > 0 {
			engine.AddRows(dx, out, 1, s.HW, s.HW, s.HW)
		}
	}
}

// backwardFilterStencil adds to dw the taps [j0, j1) of one channel's
// filter gradient, summed over the images: the dot products of dY (padded
// to W' with zeros) with the padded input shifted by each tap.
func (c *Conv2D) backwardFilterStencil(wk *worker, g, k, j0, j1 int, dw, dy, x []float32) {
	s, st := &c.s, c.stencil
	d := wk.dots[:j1-j0]
	for img := 0; img < s.N; img++ {
		xg, dyg := x[(img*s.C+g)*s.HW:][:s.HW], dy[(img*s.K+k)*s.PQ:][:s.PQ]
		if st.phases != nil {
			c.dotsPhases(wk, d, xg, dyg, j0, j1)
		} else {
			st.forward.Dots(d, xg, dyg, st.off[j0:j1], wk.xpad, wk.dypad)
		}
		for t, v := range d {
			if v-v != 0 {
				// A NaN or an infinity: the positions past dY's rows
				// may have multiplied their zeros by one in x.
				v = c.stencilTap(j0+t, xg, dyg)
			}
			dw[j0+t] += v
		}
	}
}

// stencilTap is tap t of one image and channel's filter gradient by its
// definition: Σ_{p,q} dy[p,q]·x[p·StrideH + r·DilationH − PadTop, q·StrideW
// + s·DilationW − PadLeft], the padding as zeros.
func (c *Conv2D) stencilTap(t int, x, dy []float32) float32 {
	s := &c.s
	r, u := t/s.S, t%s.S
	var sum float32
	for p := range s.P {
		h := p*s.StrideH + r*s.DilationH - s.PadTop
		for q := range s.Q {
			xv, w := float32(0), q*s.StrideW+u*s.DilationW-s.PadLeft
			if h >= 0 && h < s.H && w >= 0 && w < s.W {
				xv = x[h*s.W+w]
			}
			sum += dy[p*s.Q+q] * xv
		}
	}
	return sum
}
