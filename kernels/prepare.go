package kernels

import "github.com/simdconv/simdconv/internal/engine"

// Input preparation shared by the passes: x split into phase planes, and
// zero-padded copies of x and dY, written into a worker's buffers.

// columnSplit is the phase-plane form of a layer with column stride sw > 1
// (engine.Im2col): planes w = ⌈W/sw⌉ wide, and for each tap column s the
// shift and plane offset that read column q·sw + s·DilationW − PadLeft.
type columnSplit struct {
	w            int
	shift, plane []int
	need         []bool // the phase planes that a tap reads
}

// maxCopy bounds, in floats, each copy of an input that a worker keeps (a
// padded plane, phase planes, a transposed output): 16 MiB. A layer whose
// copies would be larger takes the passes that read its tensors in place,
// so that the workspace never grows with the whole input.
const maxCopy = 1 << 22

// planSubsample sets c.subsample for a 1×1 layer of stride above 1 without
// padding, not depthwise (whose stencil it keeps). Its column matrix is x at rows p·sh and columns q·sw: gathered
// once an image and group, a 1/(sh·sw) share of x, it is then multiplied
// as a pointwise layer's x is, where phase planes would copy whole rows
// that no tap reads and im2col would pack from them.
func (c *Conv2D) planSubsample() {
	s := &c.s
	if c.stencil != nil || s.R != 1 || s.S != 1 || s.StrideH == 1 && s.StrideW == 1 ||
		s.PadTop != 0 || s.PadBottom != 0 || s.PadLeft != 0 || s.PadRight != 0 || s.Cg*s.PQ > maxCopy {
		return
	}
	c.subsample = true
	c.xpadLen = max(c.xpadLen, s.Cg*s.PQ)
}

// subsampled gathers one image and group x into wk.xpad as planSubsample
// describes and returns it, Cg rows of P·Q. With st set, the threads
// gather a share of the channels each, as setIm2col's do.
func (c *Conv2D) subsampled(wk *worker, x []float32, st *callState) []float32 {
	s := &c.s
	xs := wk.xpad[:s.Cg*s.PQ]
	if st != nil && s.Cg >= c.threads {
		st.split = splitJob{c: c, dst: xs, x: x}
		st.group.Run(c.threads, &st.split)
		st.split = splitJob{}
	} else {
		c.gatherChannels(xs, x, 0, s.Cg)
	}
	return xs
}

// gatherChannels is subsampled for channels [c0, c1) of x into dst, which
// holds them from channel c0 on.
func (c *Conv2D) gatherChannels(dst, x []float32, c0, c1 int) {
	s := &c.s
	for ci := c0; ci < c1; ci++ {
		engine.GatherRows(dst[(ci-c0)*s.PQ:], x[ci*s.HW:], s.P, s.Q, s.StrideW, s.Q, s.StrideH*s.W)
	}
}

// planSplit sets c.split for a layer of column stride above 1 whose phase
// planes fit maxCopy.
func (c *Conv2D) planSplit() {
	s := &c.s
	if s.StrideW == 1 || c.subsample || s.Cg*s.StrideW*s.H*((s.W+s.StrideW-1)/s.StrideW) > maxCopy {
		return
	}
	sp := &columnSplit{w: (s.W + s.StrideW - 1) / s.StrideW}
	for _, o := range c.offW {
		ph := ((o % s.StrideW) + s.StrideW) % s.StrideW
		sp.shift = append(sp.shift, (o-ph)/s.StrideW)
		sp.plane = append(sp.plane, ph*s.H*sp.w)
	}
	sp.need = phasesRead([]int{0}, c.offW, 1, s.StrideW)
	c.split = sp
	c.xpadLen = max(c.xpadLen, s.Cg*s.StrideW*s.H*sp.w)
}

// setIm2col makes m the column matrix of one image and group x. At column
// stride sw > 1 it splits x into sw phase planes per channel in wk.xpad
// first, so that packing reads contiguous runs; with st set, the threads
// split a share of the channels each (a product that all threads share
// would otherwise wait for one thread's copy of its whole input).
func (c *Conv2D) setIm2col(wk *worker, m *engine.Im2col, x []float32, st *callState) {
	s := &c.s
	if c.subsample { // a 1×1 layer of stride 1 over the subsample
		*m = engine.Im2col{X: c.subsampled(wk, x, st), C: s.Cg, H: s.P, W: s.Q, P: s.P, Q: s.Q,
			StrideH: 1, StrideW: 1, OffH: c.offH, OffW: c.offW}
		return
	}
	if c.split == nil {
		*m = engine.Im2col{X: x, C: s.Cg, H: s.H, W: s.W, P: s.P, Q: s.Q,
			StrideH: s.StrideH, StrideW: s.StrideW, OffH: c.offH, OffW: c.offW}
		return
	}
	sp := c.split
	plane := s.H * sp.w
	xs := wk.xpad[:s.Cg*s.StrideW*plane]
	if st != nil && s.Cg >= c.threads {
		st.split = splitJob{c: c, dst: xs, x: x}
		st.group.Run(c.threads, &st.split)
		st.split = splitJob{}
	} else {
		splitPhases(xs, x, s.Cg, s.H, s.W, 1, s.StrideW, 0, 0, s.H, sp.w, sp.need)
	}
	*m = engine.Im2col{X: xs, C: s.Cg, H: s.H, W: sp.w, P: s.P, Q: s.Q,
		StrideH: s.StrideH, StrideW: 1, OffH: c.offH, OffW: sp.shift,
		ChanStride: s.StrideW * plane, TapPlane: sp.plane}
}

// splitJob is setIm2col's split of one image and group x into dst, the
// channels shared out among the threads.
type splitJob struct {
	c      *Conv2D
	dst, x []float32
}

func (j *splitJob) Do(part int) {
	c := j.c
	s, sp := &c.s, c.split
	c0, c1 := part*s.Cg/c.threads, (part+1)*s.Cg/c.threads
	if c.subsample {
		c.gatherChannels(j.dst[c0*s.PQ:c1*s.PQ], j.x, c0, c1)
		return
	}
	per := s.StrideW * s.H * sp.w
	splitPhases(j.dst[c0*per:c1*per], j.x[c0*s.HW:c1*s.HW], c1-c0, s.H, s.W, 1, s.StrideW, 0, 0, s.H, sp.w, sp.need)
}

// splitPhases writes x (c planes of h×w) into dst as sh·sw phase planes per
// channel, each hs×ws: plane (a, b) of channel ci holds at (i, j)
//
//	x[ci][i·sh + a − top][j·sw + b − left], or 0 outside x,
//
// and returns the floats the planes take. It serves both the column-stride
// split of forward (sh = 1, no padding) and backward-filter's padded
// planes. Only the planes that need[a·sw + b] marks are copied; no tap
// reads the others (a 1×1 layer at stride 2 reads one of four), which are
// cleared: the Shifted form's runs reach a few floats past their plane.
func splitPhases(dst, x []float32, c, h, w, sh, sw, top, left, hs, ws int, need []bool) int {
	n := 0
	for ci := 0; ci < c; ci++ {
		for a := 0; a < sh; a++ {
			for b := 0; b < sw; b++ {
				plane := dst[n : n+hs*ws]
				n += hs * ws
				if !need[a*sw+b] {
					clear(plane)
					continue
				}
				// Rows [i0, i1) and columns [j0, j1) read x; the others are padding.
				i0 := min(hs, max(0, ceilDiv(top-a, sh)))
				i1 := max(i0, min(hs, ceilDiv(h+top-a, sh)))
				j0 := min(ws, max(0, ceilDiv(left-b, sw)))
				j1 := max(j0, min(ws, ceilDiv(w+left-b, sw)))
				rows := plane[i0*ws : i1*ws]
				if j0 == j1 || i0 == i1 { // a phase past a narrow plane's last column or row
					clear(plane)
					continue
				}
				if j0 > 0 || j1 < ws {
					// One clear of the plane, not two of each row's
					// padding: on small planes the calls cost more than
					// the floats.
					clear(plane)
				} else {
					clear(plane[:i0*ws])
					clear(plane[i1*ws:])
				}
				engine.GatherRows(rows[j0:], x[(ci*h+i0*sh+a-top)*w+j0*sw+b-left:], i1-i0, j1-j0, sw, ws, sh*w)
			}
		}
	}
	return n
}

// phasesRead marks the phase planes, a·sw + b for a < sh and b < sw, that
// the taps at row offsets offH and column offsets offW read.
func phasesRead(offH, offW []int, sh, sw int) []bool {
	need := make([]bool, sh*sw)
	for _, oh := range offH {
		for _, ow := range offW {
			need[(oh%sh+sh)%sh*sw+(ow%sw+sw)%sw] = true
		}
	}
	return need
}

// padInput writes one image and group of x into xp, zero-padded and split
// into phase planes as planShifted describes, and zeroes the rest of xp.
func (c *Conv2D) padInput(xp, xg []float32) {
	clear(xp[c.padChannels(xp, xg, 0, c.s.Cg):])
}

// padChannels is padInput for channels [c0, c1) only, without the zeroing
// past them; it returns where channel c1's planes start.
func (c *Conv2D) padChannels(xp, xg []float32, c0, c1 int) int {
	s := &c.s
	hs := (s.H + s.PadTop + s.PadBottom + s.StrideH - 1) / s.StrideH
	chanLen := s.StrideH * s.StrideW * hs * c.wpad
	dst, src := xp[c0*chanLen:c1*chanLen], xg[c0*s.HW:c1*s.HW]
	if s.StrideH != 1 || s.StrideW != 1 {
		splitPhases(dst, src, c1-c0, s.H, s.W, s.StrideH, s.StrideW, s.PadTop, s.PadLeft, hs, c.wpad, c.shiftedPhases)
		return c1 * chanLen
	}
	padPlanes(dst, src, c1-c0, s.H, s.W, s.PadTop, s.PadLeft, hs, c.wpad)
	return c1 * chanLen
}

// padPlanes writes planes planes of h×w floats from src into dst as hp×wp
// planes, each with its h rows at row top and column left, zero around.
func padPlanes(dst, src []float32, planes, h, w, top, left, hp, wp int) {
	padWindow(dst, src, planes, h, w, top, left, 0, hp, wp)
}

// padWindow is padPlanes for rows [lo, lo+hc) of the padded planes only,
// hc×wp a plane in dst.
func padWindow(dst, src []float32, planes, h, w, top, left, lo, hc, wp int) {
	r0 := min(max(top-lo, 0), hc) // the window's rows above x's first
	r1 := min(max(top+h-lo, r0), hc)
	for ci := range planes {
		plane := dst[ci*hc*wp:][:hc*wp]
		clear(plane[:r0*wp])
		if r1 > r0 {
			engine.CopyRows(plane[r0*wp:], src[ci*h*w+(lo+r0-top)*w:], r1-r0, wp, left, left+w, wp, w)
		}
		clear(plane[r1*wp:])
	}
}

// padGradient writes dY's rows at stride W', zero past column Q.
func (c *Conv2D) padGradient(dyp, dyg []float32) { c.padGradientRows(dyp, dyg, 0, c.s.Kg*c.s.P) }

// padGradientRows is padGradient for rows [r0, r1) of dY's Kg·P.
func (c *Conv2D) padGradientRows(dyp, dyg []float32, r0, r1 int) {
	s := &c.s
	if r0 < r1 {
		engine.CopyRows(dyp[r0*c.wpad:], dyg[r0*s.Q:], r1-r0, c.wpad, 0, s.Q, c.wpad, s.Q)
	}
}
