package kernels

import "github.com/simdconv/simdconv/internal/engine"

// Backward-data on the direct route (fewchan.go): dX is the full
// convolution of dY, split at stride sh×sw into the sub-pixel phases of
// the full route (phaseTaps). The dX positions i0 + u·sh, j0 + v·sw of a
// phase receive only its taps (r, s), each reading dY at (u + offH_r,
// v + offW_s). With dY zero-padded into planes Wd wide, every tap is a
// shift, so a phase is StencilRows over the Kg planes with Cg output rows,
// each (k, r, s) of the phase holding the Cg weights w[k, ·, r, s]; its
// rows are scattered into dX at the stride. At stride 1 there is one phase,
// the whole of dX.

// fewData is the geometry of backward-data on the direct route: dY placed
// at row top and column left of Kg zero planes of plane floats, Wd wide.
type fewData struct {
	top, left, wd, plane int
	end                  int // floats of padded dY, with the taps' reach past it
	phases               []fewPhase
	items                int // bands of all the phases, per image and group
	panel                int // floats of the largest band's panel
}

// fewPhase is one sub-pixel phase: dX rows i0 + u·StrideH (u < rows) and
// columns j0 + v·StrideW (v < cols), computed in bands of band rows.
type fewPhase struct {
	i0, rows, j0, cols int
	taps               []int // the filter taps r·S + s it receives
	off                []int // per (k, tap), k major: the shift in padded dY
	groups             []int // off's tap groups (tapGroups)
	filt               int   // its weights' offset in a group's rearranged filter
	band, ld, bands    int
}

// planFewData returns backward-data's geometry on the direct route.
func (c *Conv2D) planFewData() *fewData {
	s := &c.s
	type axis struct {
		x0, n     int
		taps, off []int
	}
	split := func(stride, n, taps, dil, pad int) []axis {
		var as []axis
		for a := range stride {
			x0, count, ts, off := phaseTaps(a, n, taps, stride, dil, pad)
			if count > 0 {
				as = append(as, axis{x0, count, ts, off})
			}
		}
		return as
	}
	// extent returns how far dY must be padded before (lo) and how long a
	// padded axis of n must be, for every phase's reads.
	extent := func(as []axis, n int) (lo, length int) {
		length = n
		for _, a := range as {
			for _, o := range a.off {
				lo = max(lo, -o)
				length = max(length, a.n+o)
			}
		}
		return lo, lo + length
	}
	rows, cols := split(s.StrideH, s.H, s.R, s.DilationH, s.PadTop), split(s.StrideW, s.W, s.S, s.DilationW, s.PadLeft)
	d := &fewData{}
	top, hd := extent(rows, s.P)
	d.left, d.wd = extent(cols, s.Q)
	d.top, d.plane = top, hd*d.wd
	d.end = s.Kg * d.plane
	filt := 0
	for _, ra := range rows {
		for _, ca := range cols {
			ph := fewPhase{i0: ra.x0, rows: ra.n, j0: ca.x0, cols: ca.n, filt: filt}
			for k := range s.Kg {
				for i, r := range ra.taps {
					for j, t := range ca.taps {
						if k == 0 {
							ph.taps = append(ph.taps, r*s.S+t)
						}
						o := k*d.plane + (ra.off[i]+d.top)*d.wd + ca.off[j] + d.left
						ph.off = append(ph.off, o)
						d.end = max(d.end, o+ph.rows*d.wd+engine.Slack)
					}
				}
			}
			filt += s.Kg * len(ph.taps) * s.Cg
			ph.band, ph.ld, ph.bands = bands(ph.rows, d.wd, s.Cg)
			ph.groups = tapGroups(ph.off, d.wd, ph.band*d.wd)
			d.items += ph.bands
			d.panel = max(d.panel, groupPanels(ph.groups, s.Cg*ph.ld))
			d.phases = append(d.phases, ph)
		}
	}
	return d
}

// rearrangeFew writes into filt, per group and phase, the weights of each
// (k, tap) of the phase for the Cg input channels side by side.
func (c *Conv2D) rearrangeFew(filt, w []float32) {
	s := &c.s
	for g := range s.Groups {
		wg, fg := w[g*s.Kg*s.CRSg:][:s.Kg*s.CRSg], filt[g*s.Kg*s.CRSg:][:s.Kg*s.CRSg]
		for _, ph := range c.few.d.phases {
			dst := fg[ph.filt:]
			for k := range s.Kg {
				for i, t := range ph.taps {
					row := dst[(k*len(ph.taps)+i)*s.Cg:][:s.Cg]
					for ci := range row {
						row[ci] = wg[(k*s.Cg+ci)*s.RS+t]
					}
				}
			}
		}
	}
}

// backwardDataFew is BackwardData on the direct route.
func (st *callState) backwardDataFew(dx, dy, w []float32) {
	st.c.rearrangeFew(st.filt, w)
	st.resetPads()
	st.fewData = fewDataJob{st: st, dx: dx, dy: dy}
	st.spread(&st.fewData)
	st.fewData = fewDataJob{}
}

// fewDataJob is a BackwardData call on the direct route, an item per band
// of a phase of an image and group's dX.
type fewDataJob struct {
	st     *callState
	dx, dy []float32
}

func (j *fewDataJob) Do(part int) { j.st.doPart(j, part) }

func (j *fewDataJob) items() int {
	s := &j.st.c.s
	return s.N * s.Groups * j.st.c.few.d.items
}

// item computes one band of a phase. Its outputs are its own, so it
// ignores wide.
func (j *fewDataJob) item(wk *worker, _ bool, it int) {
	c := j.st.c
	s, d := &c.s, c.few.d
	img, b := it/d.items, it%d.items
	ph := &d.phases[0]
	for i := 0; b >= ph.bands; i++ {
		b -= ph.bands
		ph = &d.phases[i+1]
	}
	pad := c.padFewGradient(wk, j.dy, img)
	u0, u1 := b*ph.band, min(ph.rows, (b+1)*ph.band)
	nt := len(ph.taps)
	g := img % s.Groups
	panel, tmp := wk.panel[:s.Cg*ph.ld], wk.panel[s.Cg*ph.ld:]
	stencilGroups(panel, tmp, ph.ld, pad[u0*d.wd:], j.st.filt[g*s.Kg*s.CRSg+ph.filt:][:s.Kg*nt*s.Cg],
		ph.off, ph.groups, (u1-u0)*d.wd, s.Cg, nil)
	dxb := j.dx[img*s.Cg*s.HW:][:s.Cg*s.HW]
	for ci := range s.Cg {
		plane, src := dxb[ci*s.HW:][:s.HW], panel[ci*ph.ld:]
		if s.StrideW == 1 { // whole rows
			engine.CopyRows(plane[(ph.i0+u0*s.StrideH)*s.W:], src, u1-u0, s.W, 0, s.W, s.StrideH*s.W, d.wd)
			continue
		}
		for u := u0; u < u1; u++ {
			row, in := plane[(ph.i0+u*s.StrideH)*s.W:][:s.W], src[(u-u0)*d.wd:][:ph.cols]
			for v, x := range in {
				row[ph.j0+v*s.StrideW] = x
			}
		}
	}
}

// padFewGradient writes image and group img (n·G + g) of dy into
// wk.dypad as backward-data's padded planes, unless it holds them already.
func (c *Conv2D) padFewGradient(wk *worker, dy []float32, img int) []float32 {
	s, d := &c.s, c.few.d
	pad := wk.dypad[:d.end]
	if wk.xpadImage == img { // on this route the mark is dypad's
		return pad
	}
	dyg := dy[img*s.Kg*s.PQ:][:s.Kg*s.PQ]
	for k := range s.Kg {
		plane := pad[k*d.plane:][:d.plane]
		clear(plane[:d.top*d.wd])
		engine.CopyRows(plane[d.top*d.wd:], dyg[k*s.PQ:], s.P, d.wd, d.left, d.left+s.Q, d.wd, s.Q)
		clear(plane[(d.top+s.P)*d.wd:])
	}
	clear(pad[s.Kg*d.plane:])
	wk.xpadImage = img
	return pad
}
