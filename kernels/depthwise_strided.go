package kernels

import "github.com/simdconv/simdconv/internal/engine"

// A depthwise layer at stride sh×sw takes the stencil too, over phase
// planes: the zero-padded plane split into sh·sw planes of hs×ws, plane
// (a, b) holding the padded rows a, a+sh, … and columns b, b+sw, …
// (splitPhases). Output (p, q) of tap (r, s) reads plane (r·DilationH mod
// sh, s·DilationW mod sw) at row p + ⌊r·DilationH/sh⌋ and column q +
// ⌊s·DilationW/sw⌋, so with the planes one after the other every tap is a
// shift of the whole buffer read at positions p·ws + q, as at stride 1.
// Forward is then one stencil and backward-filter one dot product per tap.
//
// Backward-data splits the other way: padded dX position u = i·sh + a
// (and v = j·sw + b) receives tap r exactly when r·DilationH mod sh = a,
// from dY row i − ⌊r·DilationH/sh⌋. So each phase plane of dX is a stencil
// of the zero-padded dY over the taps of that phase (a sub-pixel
// convolution), and the planes are interleaved into dX.

// phasePlan is the phase-plane geometry of a strided depthwise layer.
type phasePlan struct {
	hs, ws int
	off    []int  // tap (r, s)'s shift in the phase buffer
	need   []bool // the planes a tap reads (splitPhases)
	n      int    // positions computed: P·ws, of which each row's first Q count
	end    int    // floats of the phase buffer, with the reach past the planes

	// Backward-data: dY padded to hd×wd, by top rows and left columns,
	// and per phase plane (a·sw + b) its taps and their shifts in it.
	top, left, wd, hd int
	dataTaps, dataOff [][]int
	dataEnd           int // floats of padded dY, with the reach past it
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
	ph.top, ph.left = (s.R-1)*s.DilationH/s.StrideH, (s.S-1)*s.DilationW/s.StrideW
	ph.wd, ph.hd = ws+ph.left, hs+ph.top
	ph.dataTaps = make([][]int, s.StrideH*s.StrideW)
	ph.dataOff = make([][]int, s.StrideH*s.StrideW)
	ph.dataEnd = ph.hd * ph.wd
	for r := 0; r < s.R; r++ {
		for t := 0; t < s.S; t++ {
			pl := r*s.DilationH%s.StrideH*s.StrideW + t*s.DilationW%s.StrideW
			off := (ph.top-r*s.DilationH/s.StrideH)*ph.wd + ph.left - t*s.DilationW/s.StrideW
			ph.dataTaps[pl] = append(ph.dataTaps[pl], r*s.S+t)
			ph.dataOff[pl] = append(ph.dataOff[pl], off)
			ph.dataEnd = max(ph.dataEnd, off+roundUpSlack(hs*ph.wd))
		}
	}
	if ph.dataEnd > maxCopy {
		return false
	}
	st.phases, st.data = ph, true
	c.xpadLen = max(c.xpadLen, ph.end)
	c.dypadLen = max(c.dypadLen, roundUpSlack(ph.n), ph.dataEnd)
	c.panel = max(c.panel, roundUpSlack(ph.n), roundUpSlack(hs*ph.wd))
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

// backwardDataPhases is backwardDataStencil at stride above 1: each phase
// plane of dX is a stencil of padded dY over its taps, scattered into dx.
// A position that no tap reaches is zero.
func (c *Conv2D) backwardDataPhases(wk *worker, dx, dy, w []float32) {
	s, ph := c.s, c.stencil.phases
	pad := wk.dypad[:ph.dataEnd]
	clear(pad[:ph.top*ph.wd])
	engine.CopyRows(pad[ph.top*ph.wd:], dy, s.P, ph.wd, ph.left, ph.left+s.Q, ph.wd, s.Q)
	clear(pad[(ph.top+s.P)*ph.wd:])
	n := ph.hs * ph.wd
	panel := wk.panel[:roundUpSlack(n)]
	for a := range s.StrideH {
		for b := range s.StrideW {
			pl := a*s.StrideW + b
			wt := wk.dots[:len(ph.dataTaps[pl])]
			for i, t := range ph.dataTaps[pl] {
				wt[i] = w[t]
			}
			engine.Stencil(panel, pad, wt, ph.dataOff[pl], n, 0)
			// Padded row i·sh + a is dx row i·sh + a − PadTop; likewise
			// the columns.
			for i := range ph.hs {
				h := i*s.StrideH + a - s.PadTop
				if h < 0 || h >= s.H {
					continue
				}
				row, src := dx[h*s.W:][:s.W], panel[i*ph.wd:][:ph.ws]
				for j, v := range src {
					if x := j*s.StrideW + b - s.PadLeft; x >= 0 && x < s.W {
						row[x] = v
					}
				}
			}
		}
	}
}
