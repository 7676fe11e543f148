package kernels

import "github.com/simdconv/simdconv/internal/engine"

// Depthwise layers (one input and one output channel per group) run on
// interleaved channels where the ISA's kernels take their channel count
// (depthwise_dwc.go); the others, a channel multiplier among them, run
// without a matrix product (at stride above 1, see depthwise_strided.go).
// At stride 1, over a zero-padded plane read at positions p·W'+q, every
// tap is a shift of the plane, so forward and backward-data are a stencil
// and backward-filter is one dot product per tap (engine.StencilPlane). As
// in backward-filter's Shifted form, the W'−Q positions past each row are
// computed too: forward and backward-data drop them, backward-filter
// multiplies them by zeros in dY, and recomputes a tap by its definition
// (stencilTap) where that may have met a NaN or an infinity of x.

// stencilPlan is the geometry of the stencil passes.
type stencilPlan struct {
	wp     int   // padded input width W' = W + PadLeft + PadRight
	off    []int // forward taps (r, s): r·DilationH·W' + s·DilationW
	wd     int   // padded dY width W'' = W + (S−1)·DilationW, for backward-data
	offRot []int // backward-data taps: the filter rotated, over dY padded to W''
	data   bool  // backward-data runs as a stencil: padding ≤ the filter's reach

	forward, backwardData engine.StencilPlane // one plane of each pass
	phases                *phasePlan          // at stride above 1, the phase planes; the rest unset
	block                 int                 // channels a call without a channel multiplier (planesJob, filterPlanesJob)
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
	hp, hd := s.H+s.PadTop+s.PadBottom, s.H+reachH
	st.forward = engine.StencilPlane{H: s.H, W: s.W, Top: s.PadTop, Left: s.PadLeft, Hp: hp, Wp: st.wp,
		Rows: s.P, Cols: s.Q, Off: st.off}
	st.backwardData = engine.StencilPlane{H: s.P, W: s.Q, Top: reachH - s.PadTop, Left: reachW - s.PadLeft, Hp: hd, Wp: st.wd,
		Rows: s.H, Cols: s.W, Off: st.offRot}
	c.stencil = st
	c.wpad = st.wp
	// Small planes go a block to a call: the planes of a block, padded,
	// and its output panel stay in L1 while the stencil reads and writes
	// them and the crop reads the panel back.
	st.block = 1
	if s.Kg == 1 {
		st.block = min(s.C, engine.MaxPlanes, max(1, planesTarget/((hp+s.P)*st.wp)))
		if st.data {
			st.block = min(st.block, max(1, planesTarget/((hd+s.H)*st.wd)))
		}
	}
	c.xpadLen = max(c.xpadLen, st.block*hp*st.wp+reachW+engine.Slack)
	c.dypadLen = max(c.dypadLen, st.block*roundUpSlack(s.P*st.wp)) // backward-filter's dY planes
	c.panel = max(c.panel, st.block*s.P*st.wp+engine.Slack)
	if st.data {
		c.dypadLen = max(c.dypadLen, st.block*hd*st.wd+reachW+engine.Slack)
		c.panel = max(c.panel, st.block*s.H*st.wd+engine.Slack)
	}
}

// planesTarget is the floats of padded planes and output a stencil call
// takes at most: 32 KiB, within any L1d.
const planesTarget = 1 << 13

// forwardStencil is forwardJob.item for one image and channel x (H×W) into y.
func (c *Conv2D) forwardStencil(wk *worker, y, x, w, bias []float32) {
	if c.stencil.phases != nil {
		b := float32(0)
		if bias != nil {
			b = bias[0]
		}
		c.forwardPhases(wk, y, x, w, b)
		return
	}
	c.stencil.forward.Run(y, x, w, bias, 1, c.relu, wk.xpad, wk.panel)
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
			c.stencil.backwardData.Run(out, dyj, wj, nil, 1, false, wk.dypad, wk.panel)
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
			st.forward.Dots(d, xg, dyg, st.off[j0:j1], 1, wk.xpad, wk.dypad)
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

// planesJob is a depthwise pass without a channel multiplier, forward or
// (at stride 1) backward-data: one stencil plane pl per image and channel,
// from src into dst, a block of channels an item. At stride above 1,
// forward runs over phase planes (forwardPhasesBlock).
type planesJob struct {
	st                *callState
	pl                *engine.StencilPlane
	dst, src, w, bias []float32
	relu              bool
	data              bool // backward-data, whose padded planes go in the worker's dypad
}

func (j *planesJob) Do(part int) { j.st.doPart(j, part) }

func (j *planesJob) items() int {
	s, b := &j.st.c.s, j.st.c.stencil.block
	return s.N * ceilDiv(s.C, b)
}

func (j *planesJob) item(wk *worker, _ bool, it int) {
	c := j.st.c
	s, b, pl := &c.s, c.stencil.block, j.pl
	blocks := ceilDiv(s.C, b)
	n, c0 := it/blocks, it%blocks*b
	nb := min(b, s.C-c0)
	in, out := s.HW, s.PQ
	if j.data {
		in, out = s.PQ, s.HW
	}
	var bias []float32
	if j.bias != nil {
		bias = j.bias[c0:][:nb]
	}
	x, w := j.src[(n*s.C+c0)*in:][:nb*in], j.w[c0*s.RS:][:nb*s.RS]
	if c.stencil.phases != nil {
		c.forwardPhasesBlock(wk, j.dst[(n*s.C+c0)*out:], x, w, bias, nb)
		return
	}
	pad := wk.xpad
	if j.data {
		pad = wk.dypad
	}
	pl.Run(j.dst[(n*s.C+c0)*out:][:nb*out], x, w, bias, nb, j.relu, pad, wk.panel)
}

// planes reports whether the depthwise passes go a block of channels to a
// call (planesJob, filterPlanesJob): all but backward-data at stride above
// 1, which goes a channel at a time.
func (c *Conv2D) planes() bool {
	return c.stencil != nil && c.s.Kg == 1
}

// filterPlanesJob is backward-filter of a depthwise layer without a
// channel multiplier: dw of a block of channels an item, summed
// over the images in order, so that the result does not depend on the
// threads.
type filterPlanesJob struct {
	st        *callState
	dw, dy, x []float32
}

func (j *filterPlanesJob) Do(part int) { j.st.doPart(j, part) }

func (j *filterPlanesJob) items() int { return ceilDiv(j.st.c.s.C, j.st.c.stencil.block) }

func (j *filterPlanesJob) item(wk *worker, _ bool, it int) {
	c := j.st.c
	s, st := &c.s, c.stencil
	c0 := it * st.block
	nb := min(st.block, s.C-c0)
	dw, d := j.dw[c0*s.RS:][:nb*s.RS], wk.dots[:nb*s.RS]
	if !c.accumulate {
		clear(dw)
	}
	for img := range s.N {
		x, dy := j.x[(img*s.C+c0)*s.HW:][:nb*s.HW], j.dy[(img*s.C+c0)*s.PQ:][:nb*s.PQ]
		if st.phases != nil {
			c.dotsPhasesBlock(wk, d, x, dy, nb)
		} else {
			st.forward.Dots(d, x, dy, st.off, nb, wk.xpad, wk.dypad)
		}
		for i, v := range d {
			if v-v != 0 {
				// A NaN or an infinity: the positions past dY's rows
				// may have multiplied their zeros by one in x.
				ci := i / s.RS
				v = c.stencilTap(i%s.RS, x[ci*s.HW:][:s.HW], dy[ci*s.PQ:][:s.PQ])
			}
			dw[i] += v
		}
	}
}
