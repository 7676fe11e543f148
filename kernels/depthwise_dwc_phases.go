package kernels

import "github.com/simdconv/simdconv/internal/engine"

// Backward-data of an interleaved depthwise layer at a stride above 1 (or
// with padding past the filter's reach) goes by sub-pixel phases: dX's
// positions (a + i·sh, b + j·sw) receive, for each tap (r, s) with
// (a + PadTop − r·DilationH) and (b + PadLeft − s·DilationW) multiples of
// the strides, dY at (i + e_r, j + f_s), e_r and f_s those multiples. So
// each phase is a stride-1 convolution of dY, zero-padded, with that
// phase's taps, written into dX's interleaved layout sh rows and sw
// positions apart; a phase that no tap reaches is zero.

// dwcPhases is the geometry of the phases.
type dwcPhases struct {
	top, left, right int // dY's zero padding
	hp, wp           int // padded dY
	phases           []dwcPhase
	gaps             bool // some phase has no taps
}

// dwcPhase is one phase: where its outputs start in dX's interleaved
// block, how many rows and columns it has, and its taps and their offsets
// into padded dY.
type dwcPhase struct {
	y0, rows, cols int
	taps, off      []int
}

// planDwcPhases returns the phases of an interleaved backward-data with l
// lanes, or nil if its buffers would pass maxCopy.
func (c *Conv2D) planDwcPhases(l int) *dwcPhases {
	s := &c.s
	sh, sw := s.StrideH, s.StrideW
	// e(a, r): dY row i + e(a, r) feeds dX row a + i·sh through tap row r,
	// if ok.
	shift := func(a, pad, r, dil, stride int) (e int, ok bool) {
		v := a + pad - r*dil
		return floorDiv(v, stride), ((v%stride)+stride)%stride == 0
	}
	ph := &dwcPhases{}
	bottom := 0
	for a := range min(sh, s.H) {
		rows := ceilDiv(s.H-a, sh)
		for r := range s.R {
			if e, ok := shift(a, s.PadTop, r, s.DilationH, sh); ok {
				ph.top, bottom = max(ph.top, -e), max(bottom, rows-1+e-(s.P-1))
			}
		}
	}
	for b := range min(sw, s.W) {
		cols := ceilDiv(s.W-b, sw)
		for t := range s.S {
			if f, ok := shift(b, s.PadLeft, t, s.DilationW, sw); ok {
				ph.left, ph.right = max(ph.left, -f), max(ph.right, cols-1+f-(s.Q-1))
			}
		}
	}
	ph.hp, ph.wp = s.P+ph.top+bottom, s.Q+ph.left+ph.right
	if ph.hp*ph.wp*l > maxCopy || s.HW*l > maxCopy {
		return nil
	}
	for a := range min(sh, s.H) {
		for b := range min(sw, s.W) {
			p := dwcPhase{y0: (a*s.W + b) * l, rows: ceilDiv(s.H-a, sh), cols: ceilDiv(s.W-b, sw)}
			for r := range s.R {
				e, okr := shift(a, s.PadTop, r, s.DilationH, sh)
				for t := range s.S {
					f, oks := shift(b, s.PadLeft, t, s.DilationW, sw)
					if okr && oks {
						p.taps = append(p.taps, r*s.S+t)
						p.off = append(p.off, ((e+ph.top)*ph.wp+f+ph.left)*l)
					}
				}
			}
			if len(p.taps) == 0 {
				ph.gaps = true
				continue
			}
			ph.phases = append(ph.phases, p)
		}
	}
	return ph
}

// dataPhases is dwcJob.item's backward-data by phases for image n's block
// of l channels from c0, its filters w interleaved.
func (j *dwcJob) dataPhases(wk *worker, n, c0 int, w []float32) {
	c := j.st.c
	s, d := &c.s, c.dwc
	ph, l := d.phases, d.l
	row := ph.wp * l
	xp := wk.xpad[:ph.hp*row]
	clear(xp[:ph.top*row])
	engine.DwcIn(l, xp[ph.top*row:], j.src[(n*s.C+c0)*s.PQ:][:l*s.PQ], s.P, s.Q, s.Q, s.PQ, row, ph.left, ph.right)
	clear(xp[(ph.top+s.P)*row:])
	dx := wk.panel[:s.HW*l]
	if ph.gaps {
		clear(dx)
	}
	for _, p := range ph.phases {
		wp := wk.dots[s.RS*l:][:len(p.taps)*l]
		for k, t := range p.taps {
			copy(wp[k*l:][:l], w[t*l:])
		}
		engine.DwcConv(l, dx[p.y0:], xp, wp, p.off, p.rows, p.cols, row, 1, s.StrideH*s.W*l, s.StrideW, d.zeros, false)
	}
	engine.DwcOut(l, j.dst[(n*s.C+c0)*s.HW:][:l*s.HW], dx, s.HW, s.HW)
}
