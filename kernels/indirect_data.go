package kernels

import "github.com/simdconv/simdconv/internal/engine"

// Backward-data on the indirect route: per sub-pixel phase of the stride
// (a residue of dX's rows and columns), the correlation of dY with the
// taps that reach that phase, each a step of the kernel; at stride 1 the
// one phase is the full convolution with every tap. The phases' outputs
// are dX positions a stride apart, which the kernel writes at their
// places among a band's (ypos), so that a band comes out as one
// interleaved panel, as forward's does.

// dataGeometry returns backward-data's plan on the indirect route, or nil
// if the ISA has no indirect kernel, dY's padded planes overflow maxCopy,
// or a phase has positions but no taps (a stride past the filter's reach),
// whose zeros the kernel would not write.
func dataGeometry(s *shape) *indirectPlan {
	var phases []phase
	top, left, bottom, right := 0, 0, 0, 0
	for a := range s.StrideH {
		h0, rows, rTaps, offH := phaseTaps(a, s.H, s.R, s.StrideH, s.DilationH, s.PadTop)
		for b := range s.StrideW {
			w0, cols, sTaps, offW := phaseTaps(b, s.W, s.S, s.StrideW, s.DilationW, s.PadLeft)
			if rows == 0 || cols == 0 {
				continue
			}
			if len(rTaps) == 0 || len(sTaps) == 0 {
				return nil
			}
			ph := phase{h0: h0, rows: rows, w0: w0, cols: cols, rTaps: rTaps, sTaps: sTaps, offH: offH, offW: offW}
			for _, r := range rTaps {
				for _, t := range sTaps {
					ph.taps = append(ph.taps, r*s.S+t)
				}
			}
			phases = append(phases, ph)
			// Phase row i reads dY's rows i + offH[u]: pad dY to hold them.
			top, bottom = max(top, -offH[len(offH)-1]), max(bottom, rows-1+offH[0]-(s.P-1))
			left, right = max(left, -offW[len(offW)-1]), max(right, cols-1+offW[0]-(s.Q-1))
		}
	}
	p := indirectGeometry(indirectConv{in: s.Kg, h: s.P, w: s.Q, out: s.Cg, p: s.H, q: s.W, r: s.R, s: s.S,
		dh: s.DilationH, dw: s.DilationW, sh: s.StrideH, sw: s.StrideW,
		top: top, left: left, bottom: bottom, right: right})
	if p != nil {
		p.phases = phases
	}
	return p
}

// layoutCost is the cost a float of backward-data's filter layout: a
// stream (streamCost), as forward's, where one phase takes every tap in
// order and one DwcIn a vector writes them in place; two cycles
// (col2imCost) where the phases copy their taps out of a transposed block
// a vector at a time (phaseFilter), 0.55 ns a float on an Intel Xeon
// (results/, 2026-12-04, phase-filter.md).
func (p *indirectPlan) layoutCost() float64 {
	if p.wholeTaps(p.r * p.s) {
		return streamCost
	}
	return col2imCost
}

// phaseOffsets fills p.off with the phases' steps, phase by phase, each
// (k, u, v) at k·hc·wp + offH[u]·wp + offW[v]: the phase's positions
// carry the padding.
func (p *indirectPlan) phaseOffsets() {
	for _, ph := range p.phases {
		for k := range p.in {
			for _, dr := range ph.offH {
				for _, dc := range ph.offW {
					p.off = append(p.off, (k*p.hc+dr)*p.wp+dc)
				}
			}
		}
	}
}

// phaseParts fills p.parts, a part per phase: per band of dX positions
// [i0, i0+band), the phase's positions among them, in order, each at
// (i + top)·wp + j + left for phase row i and column j.
func (p *indirectPlan) phaseParts() {
	pq := p.p * p.q
	t := 0
	for _, ph := range p.phases {
		pt := indirectPart{t0: t, t1: t + p.in*len(ph.taps)}
		t = pt.t1
		for i0 := 0; i0 < pq; i0 += p.band {
			var pos, ypos []int
			for at := i0; at < min(i0+p.band, pq); at++ {
				h, w := at/p.q-ph.h0, at%p.q-ph.w0
				if h < 0 || w < 0 || h%p.sh != 0 || w%p.sw != 0 {
					continue
				}
				pos = append(pos, (h/p.sh+p.top)*p.wp+w/p.sw+p.left)
				ypos = append(ypos, at-i0)
			}
			for len(pos)%p.mr != 0 {
				pos, ypos = append(pos, pos[len(pos)-1]), append(ypos, ypos[len(ypos)-1])
			}
			pt.pos, pt.ypos = append(pt.pos, pos), append(pt.ypos, ypos)
		}
		p.parts = append(p.parts, pt)
	}
}

// backwardDataIndirect is BackwardData on the indirect route.
func (st *callState) backwardDataIndirect(dx, dy, w []float32) {
	p := st.c.indData
	st.layoutFilter(p, w)
	st.runIndirect(p, dx, dy, w, nil, false)
}

// phaseFilter writes into dst vector v of group g of the filter of p's
// phases, as layoutSteps lays out one phase of every tap: l input
// channels, each step (phase, k, tap) the weights w[k][c][tap], zero past
// Cg. The vector's weights of one k are l rows of RS taps, which DwcIn
// transposes into wk's block, from which each phase copies its taps. A
// float at a time, as a gather, took 1.3–1.5 times as long on an Intel
// Xeon (results/, 2026-12-04, phase-filter.md).
func (st *callState) phaseFilter(wk *worker, dst, w []float32, p *indirectPlan, g, v int) {
	s := &st.c.s
	l := p.lanes
	tmp := wk.block[:s.RS*l]
	rows := min(l, s.Cg-v*l)
	if rows < l {
		clear(dst)
	}
	for k := range s.Kg {
		src := w[((g*s.Kg+k)*s.Cg+v*l)*s.RS:][:rows*s.RS]
		if rows == l {
			engine.DwcIn(l, tmp, src, 1, s.RS, s.RS, s.RS, s.RS*l, 0, 0)
		}
		t := 0 // the phase's first step
		for _, ph := range p.phases {
			for i, tap := range ph.taps {
				row := dst[(t+k*len(ph.taps)+i)*l:][:l]
				if rows == l {
					copy(row, tmp[tap*l:][:l])
					continue
				}
				for c := range rows {
					row[c] = src[c*s.RS+tap]
				}
			}
			t += s.Kg * len(ph.taps)
		}
	}
}
