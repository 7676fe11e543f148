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

// dwcPlan is the geometry of the interleaved passes. Forward and
// backward-filter always take them; backward-data where data is set.
type dwcPlan struct {
	l        int        // lanes: channels a block
	fwd, dat dwcPass    // forward (and backward-filter's) and backward-data's geometry
	data     bool       // BackwardData runs interleaved: at stride 1 with padding within the filter's reach as dat, else by phases
	phases   *dwcPhases // backward-data's sub-pixel phases, where dat does not serve
	zeros    []float32  // the bias of a call without one
}

// dwcPass is one pass's geometry over a block: its input plane, padded,
// the result, and the bands of result rows that a block goes in.
type dwcPass struct {
	h, w, top, left, right int   // the input plane and its padding
	wp                     int   // padded width
	rows, cols             int   // the result
	sh, sw                 int   // strides
	reach                  int   // padded rows a result row reads past its first
	off                    []int // taps over the padded layout, in floats
	band                   int   // result rows of a band
}

// planDwc sets c.dwc for a depthwise layer that the ISA's interleaved
// kernels take: no channel multiplier, whole blocks of channels, a column
// stride of 1 or 2.
func (c *Conv2D) planDwc() {
	s := &c.s
	l := engine.DwcLanes(s.C)
	if l == 0 || s.Cg != 1 || s.Kg != 1 || s.StrideW > 2 || s.PQ < l {
		return
	}
	reachH, reachW := (s.R-1)*s.DilationH, (s.S-1)*s.DilationW
	d := &dwcPlan{l: l, zeros: make([]float32, l)}
	d.fwd = dwcPass{h: s.H, w: s.W, top: s.PadTop, left: s.PadLeft, right: s.PadRight, wp: s.W + s.PadLeft + s.PadRight,
		rows: s.P, cols: s.Q, sh: s.StrideH, sw: s.StrideW, reach: reachH}
	d.dat = dwcPass{h: s.P, w: s.Q, top: reachH - s.PadTop, left: reachW - s.PadLeft, right: reachW - s.PadRight, wp: s.Q + reachW,
		rows: s.H, cols: s.W, sh: 1, sw: 1, reach: reachH}
	for r := range s.R {
		for t := range s.S {
			d.fwd.off = append(d.fwd.off, (r*s.DilationH*d.fwd.wp+t*s.DilationW)*l)
			d.dat.off = append(d.dat.off, ((reachH-r*s.DilationH)*d.dat.wp+reachW-t*s.DilationW)*l)
		}
	}
	d.data = s.StrideH == 1 && s.StrideW == 1 &&
		s.PadTop <= reachH && s.PadBottom <= reachH && s.PadLeft <= reachW && s.PadRight <= reachW
	passes := []*dwcPass{&d.fwd}
	if d.data {
		passes = append(passes, &d.dat)
	}
	for _, g := range passes {
		g.band = g.bandRows(l)
		c.xpadLen = max(c.xpadLen, g.padRows(g.band)*g.wp*l)
		c.panel = max(c.panel, g.band*g.cols*l)
	}
	if !d.data {
		if d.phases = c.planDwcPhases(l); d.phases != nil {
			d.data = true
			c.xpadLen = max(c.xpadLen, d.phases.hp*d.phases.wp*l)
			c.panel = max(c.panel, s.HW*l)
		}
	}
	c.dwc = d
}

// dwcTarget is the floats of a band's padded input and result together: a
// quarter of L2, which they stay in between the transposes and the
// convolution (a block of 16 channels of a 112×112 plane is 800 KiB).
var dwcTarget = engine.L2() / 4 / 4

// padRows is the padded input rows that n result rows read.
func (g *dwcPass) padRows(n int) int { return (n-1)*g.sh + g.reach + 1 }

// bandRows is the result rows of a band: the most within dwcTarget, the
// bands of a plane as even as they go, each with enough positions for a
// block's transpose back (engine.DwcOut).
func (g *dwcPass) bandRows(l int) int {
	per := func(n int) int { return (g.padRows(n)*g.wp + n*g.cols) * l }
	n := g.rows
	for n > 1 && per(n) > dwcTarget {
		n--
	}
	for bands := ceilDiv(g.rows, n); ; bands-- {
		band := ceilDiv(g.rows, bands)
		if last := g.rows - (bands-1)*band; bands == 1 || last*g.cols >= l {
			return band
		}
	}
}

// pad writes the inputs of result rows [r0, r1) of a block, src (l planes
// in apart), into xp interleaved and zero-padded.
func (g *dwcPass) pad(xp, src []float32, in, l, r0, r1 int) {
	p0, rows, row := r0*g.sh, g.padRows(r1-r0), g.wp*l
	lo := min(max(p0-g.top, 0), g.h)
	hi := max(min(p0+rows-g.top, g.h), lo)
	xp = xp[:rows*row]
	if hi == lo {
		clear(xp)
		return
	}
	z := lo + g.top - p0 // zero rows above the first input row
	clear(xp[:z*row])
	engine.DwcIn(l, xp[z*row:], src[lo*g.w:], hi-lo, g.w, g.w, in, row, g.left, g.right)
	clear(xp[(z+hi-lo)*row:])
}

// dwcJob is Forward or BackwardData on the interleaved layout: an item is
// one image's block of l channels, or a band of its rows on a large plane.
type dwcJob struct {
	st                *callState
	dst, src, w, bias []float32
	data              bool
}

func (j *dwcJob) Do(part int) { j.st.doPart(j, part) }

func (j *dwcJob) pass() *dwcPass {
	if j.data {
		return &j.st.c.dwc.dat
	}
	return &j.st.c.dwc.fwd
}

func (j *dwcJob) items() int {
	s, g := &j.st.c.s, j.pass()
	return s.N * s.C / j.st.c.dwc.l * j.bands(g)
}

// bands is the bands of result rows that a block goes in: one by phases.
func (j *dwcJob) bands(g *dwcPass) int {
	if j.data && j.st.c.dwc.phases != nil {
		return 1
	}
	return ceilDiv(g.rows, g.band)
}

func (j *dwcJob) item(wk *worker, _ bool, it int) {
	c := j.st.c
	s, d, g := &c.s, c.dwc, j.pass()
	l, bands := d.l, j.bands(g)
	it, r0 := it/bands, it%bands*g.band
	r1 := min(r0+g.band, g.rows)
	blocks := s.C / l
	n, c0 := it/blocks, it%blocks*l
	// The block's filters tap by tap, a tap's l weights a vector: the
	// filters are l rows of R·S, transposed as one row of a plane.
	w := wk.dots[:s.RS*l]
	engine.DwcIn(l, w, j.w[c0*s.RS:][:l*s.RS], 1, s.RS, s.RS, s.RS, s.RS*l, 0, 0)
	bias, relu := d.zeros, c.relu && !j.data
	if j.bias != nil {
		bias = j.bias[c0:][:l]
	}
	if j.data && d.phases != nil {
		j.dataPhases(wk, n, c0, w)
		return
	}
	in, out := g.h*g.w, g.rows*g.cols
	xp, y := wk.xpad, wk.panel[:(r1-r0)*g.cols*l]
	g.pad(xp, j.src[(n*s.C+c0)*in:][:l*in], in, l, r0, r1)
	engine.DwcConv(l, y, xp, w, g.off, r1-r0, g.cols, g.sh*g.wp*l, g.sw, g.cols*l, 1, bias, relu)
	engine.DwcOut(l, j.dst[(n*s.C+c0)*out+r0*g.cols:][:(l-1)*out+(r1-r0)*g.cols], y, (r1-r0)*g.cols, out)
}

// dwcFilterJob is BackwardFilter on the interleaved layout: an item is a
// block of l channels, its filter gradient summed over the images and
// bands in order, so that the result does not depend on the threads.
type dwcFilterJob struct {
	st        *callState
	dw, dy, x []float32
}

func (j *dwcFilterJob) Do(part int) { j.st.doPart(j, part) }

func (j *dwcFilterJob) items() int { return j.st.c.s.C / j.st.c.dwc.l }

func (j *dwcFilterJob) item(wk *worker, _ bool, it int) {
	c := j.st.c
	s, d := &c.s, c.dwc
	g, l, c0 := &d.fwd, d.l, it*d.l
	sum := wk.dots[:s.RS*l]
	clear(sum)
	for n := range s.N {
		x, dy := j.x[(n*s.C+c0)*s.HW:][:l*s.HW], j.dy[(n*s.C+c0)*s.PQ:][:l*s.PQ]
		for r0 := 0; r0 < s.P; r0 += g.band {
			r1 := min(r0+g.band, s.P)
			a := wk.panel[:(r1-r0)*s.Q*l]
			g.pad(wk.xpad, x, s.HW, l, r0, r1)
			engine.DwcIn(l, a, dy[r0*s.Q:], r1-r0, s.Q, s.Q, s.PQ, s.Q*l, 0, 0)
			engine.DwcDots(l, sum, a, wk.xpad, g.off, r1-r0, s.Q, g.sh*g.wp*l, g.sw)
		}
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
