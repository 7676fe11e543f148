package kernels

import "github.com/simdconv/simdconv/internal/engine"

// A depthwise layer without a channel multiplier can also run with its
// channels interleaved (engine.DwcLanes): a block of L channels, a
// vector's lanes, is transposed into a zero-padded layout that holds a
// position's L channels side by side, convolved there one tap at a time,
// each tap a vector of weights times a vector of inputs per output
// position, and transposed back. The plane stencils (depthwise.go) compute
// the padded columns of every row too and go a plane at a time; this
// layout computes no padding and takes strides and any plane width alike,
// at the cost of the transposes.

// dwcPlan is the geometry of the interleaved passes.
type dwcPlan struct {
	l        int       // lanes: channels a block
	hp, wp   int       // the padded input plane
	off      []int     // forward taps over it, in floats: (r·DilationH·wp + s·DilationW)·l
	forward  bool      // Forward runs interleaved
	data     bool      // BackwardData runs interleaved: stride 1, padding within the filter's reach
	hd, wd   int       // dY padded by the filter's reach less the padding
	offRot   []int     // backward-data taps over that: the filter rotated
	planeLen int       // floats of the larger padded block, forward's or backward-data's
	outLen   int       // floats of the larger interleaved result
	zeros    []float32 // the bias of a call without one
}

// planDwc sets c.dwc for a depthwise layer that the ISA's interleaved
// kernels take: no channel multiplier, whole blocks of channels, a column
// stride of 1 or 2.
func (c *Conv2D) planDwc() {
	s := &c.s
	l := engine.DwcLanes()
	if l == 0 || s.Cg != 1 || s.Kg != 1 || s.C%l != 0 || s.StrideW > 2 || s.PQ < l {
		return
	}
	reachH, reachW := (s.R-1)*s.DilationH, (s.S-1)*s.DilationW
	d := &dwcPlan{l: l, hp: s.H + s.PadTop + s.PadBottom, wp: s.W + s.PadLeft + s.PadRight, zeros: make([]float32, l)}
	d.hd, d.wd = s.P+reachH, s.Q+reachW
	for r := range s.R {
		for t := range s.S {
			d.off = append(d.off, (r*s.DilationH*d.wp+t*s.DilationW)*l)
			d.offRot = append(d.offRot, ((reachH-r*s.DilationH)*d.wd+reachW-t*s.DilationW)*l)
		}
	}
	d.planeLen, d.outLen = d.hp*d.wp*l, s.PQ*l
	if d.planeLen > maxCopy || d.outLen > maxCopy {
		return
	}
	d.forward = true
	d.data = s.StrideH == 1 && s.StrideW == 1 &&
		s.PadTop <= reachH && s.PadBottom <= reachH && s.PadLeft <= reachW && s.PadRight <= reachW
	if d.data {
		d.planeLen, d.outLen = max(d.planeLen, d.hd*d.wd*l), max(d.outLen, s.HW*l)
	}
	c.dwc = d
	c.xpadLen = max(c.xpadLen, d.planeLen)
	c.panel = max(c.panel, d.outLen)
}

// dwcJob is Forward or BackwardData on the interleaved layout: an item is
// one image's block of l channels.
type dwcJob struct {
	st                *callState
	dst, src, w, bias []float32
	data              bool
}

func (j *dwcJob) Do(part int) { j.st.doPart(j, part) }

func (j *dwcJob) items() int { return j.st.c.s.N * j.st.c.s.C / j.st.c.dwc.l }

func (j *dwcJob) item(wk *worker, _ bool, it int) {
	c := j.st.c
	s, d := &c.s, c.dwc
	l := d.l
	blocks := s.C / l
	n, c0 := it/blocks, it%blocks*l
	// The block's filters tap by tap, a tap's l weights a vector: the
	// filters are l rows of R·S, transposed as one row of a plane.
	w := wk.dots[:s.RS*l]
	engine.DwcIn(w, j.w[c0*s.RS:][:l*s.RS], 1, s.RS, s.RS, s.RS*l, 0, 0)
	bias := d.zeros
	if j.bias != nil {
		bias = j.bias[c0:][:l]
	}
	// The geometry: forward's, or backward-data's over dY padded by the
	// reach less the padding.
	in, out := s.HW, s.PQ
	h, wd, top, left, right, hp, wp := s.H, s.W, s.PadTop, s.PadLeft, s.PadRight, d.hp, d.wp
	rows, cols, ldx, stride, off, relu := s.P, s.Q, s.StrideH*d.wp*l, s.StrideW, d.off, c.relu
	if j.data {
		in, out = s.PQ, s.HW
		reachH, reachW := (s.R-1)*s.DilationH, (s.S-1)*s.DilationW
		h, wd, top, left, right, hp, wp = s.P, s.Q, reachH-s.PadTop, reachW-s.PadLeft, reachW-s.PadRight, d.hd, d.wd
		rows, cols, ldx, stride, off, relu = s.H, s.W, d.wd*l, 1, d.offRot, false
	}
	xp := wk.xpad[:hp*wp*l]
	clear(xp[:top*wp*l])
	engine.DwcIn(xp[top*wp*l:], j.src[(n*s.C+c0)*in:][:l*in], h, wd, in, wp*l, left, right)
	clear(xp[(top+h)*wp*l:])
	y := wk.panel[:out*l]
	engine.DwcConv(y, xp, w, off, rows, cols, ldx, stride, bias, relu)
	engine.DwcOut(j.dst[(n*s.C+c0)*out:][:l*out], y, out, out)
}

// dwcFilterJob is BackwardFilter on the interleaved layout: an item is a
// block of l channels, its filter gradient summed over the images in
// order, so that the result does not depend on the threads.
type dwcFilterJob struct {
	st        *callState
	dw, dy, x []float32
}

func (j *dwcFilterJob) Do(part int) { j.st.doPart(j, part) }

func (j *dwcFilterJob) items() int { return j.st.c.s.C / j.st.c.dwc.l }

func (j *dwcFilterJob) item(wk *worker, _ bool, it int) {
	c := j.st.c
	s, d := &c.s, c.dwc
	l, c0 := d.l, it*d.l
	sum := wk.dots[:s.RS*l]
	clear(sum)
	xp, a := wk.xpad[:d.hp*d.wp*l], wk.panel[:s.PQ*l]
	top := s.PadTop * d.wp * l
	for n := range s.N {
		clear(xp[:top])
		engine.DwcIn(xp[top:], j.x[(n*s.C+c0)*s.HW:][:l*s.HW], s.H, s.W, s.HW, d.wp*l, s.PadLeft, s.PadRight)
		clear(xp[top+s.H*d.wp*l:])
		engine.DwcIn(a, j.dy[(n*s.C+c0)*s.PQ:][:l*s.PQ], s.P, s.Q, s.PQ, s.Q*l, 0, 0)
		engine.DwcDots(sum, a, xp, d.off, s.P, s.Q, s.StrideH*d.wp*l, s.StrideW)
	}
	// Back to a filter a channel: every term of the sums is a product of
	// dY with x or its zero padding, as by definition, so a NaN or an
	// infinity reaches exactly the taps that read it.
	for ci := range l {
		row := j.dw[(c0+ci)*s.RS:][:s.RS]
		for t := range row {
			v := sum[t*l+ci]
			if c.accumulate {
				v += row[t]
			}
			row[t] = v
		}
	}
}
