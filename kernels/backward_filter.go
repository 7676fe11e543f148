package kernels

import "github.com/simdconv/simdconv/internal/engine"

// BackwardFilter computes the filter gradient dw = Σ_n x ⋆ dy (the input
// correlated with the output gradient as the filter) and, when dbias is not
// nil, the bias gradient dbias[k] = Σ_{n,p,q} dy[n,k,p,q]. With
// WithAccumulate both are added to what dw and dbias hold.
//
// Per group it is dW (K/G × C/G·R·S) = Σ_n dY · im2col(X)ᵀ. The threads split
// dW, never the sum over images and positions, so the result is the same
// for every thread count. A plan that takes Winograd for it
// (WithAlgorithm) computes dw on F(4×4, 3×3); dbias is the same sum.
func (c *Conv2D) BackwardFilter(dw, dbias, dy, x []float32) error {
	s := &c.s
	if err := checkArgs("BackwardFilter", c.ws,
		arg{name: "dw", x: dw, want: s.wLen, what: "K·C/Groups·R·S", out: true},
		arg{name: "dbias", x: dbias, want: s.K, what: "K", optional: true, out: true},
		arg{name: "dy", x: dy, want: s.yLen, what: "N·K·P·Q"},
		arg{name: "x", x: x, want: s.xLen, what: "N·C·H·W"}); err != nil {
		return err
	}
	if dbias != nil {
		c.biasGrad(dbias, dy)
	}
	st := c.acquire()
	defer c.release(st)
	if c.wino != nil && c.wino.filter {
		st.winoFilter(dw, dy, x)
		return nil
	}
	// As the Shifted form, the direct route multiplies x by zeros past dY's rows.
	if c.few != nil && c.few.filter && engine.AllFinite(x) {
		st.backwardFilterFew(dw, dy, x)
		return nil
	}
	if c.indFilter != nil {
		st.backwardFilterIndirect(dw, dy, x)
		return nil
	}
	if c.dwc != nil {
		st.dwcFilter = dwcFilterJob{st: st, dw: dw, dy: dy, x: x}
		st.spread(&st.dwcFilter)
		st.dwcFilter = dwcFilterJob{}
		return nil
	}
	if c.planes() {
		st.filterPlanes = filterPlanesJob{st: st, dw: dw, dy: dy, x: x}
		st.spread(&st.filterPlanes)
		st.filterPlanes = filterPlanesJob{}
		return nil
	}
	blocks := c.filterBlocks()
	// The Shifted form multiplies the zeros past dY's rows by x: a NaN or
	// an infinity there would reach entries of dw that never read it.
	shifted := c.shifted != nil && engine.AllFinite(x)
	if shifted && c.chunks > 1 {
		st.backwardFilterChunks(dw, dy, x)
		return nil
	}
	if shifted && blocks > 1 {
		st.backwardFilterShared(dw, dy, x)
		return nil
	}
	st.filter = filterJob{st: st, dw: dw, dy: dy, x: x, blocks: blocks, shifted: shifted}
	st.spread(&st.filter)
	st.filter = filterJob{}
	return nil
}

// filterJob is a BackwardFilter call: dw from dy and x. Its items are
// groups, or, with fewer groups than threads, blocks of a group's dW.
type filterJob struct {
	st        *callState
	dw, dy, x []float32
	blocks    int  // blocks per group (filterBlocks)
	shifted   bool // the Shifted form, for an x that is all finite
}

func (j *filterJob) Do(part int) { j.st.doPart(j, part) }

func (j *filterJob) items() int { return j.st.c.s.Groups * j.blocks }

// item does one block of a group's dW. Its products are blocks of dW,
// never spread over the threads, so it ignores wide.
func (j *filterJob) item(wk *worker, _ bool, it int) {
	c := j.st.c
	s, dw, dy, x, blocks := &c.s, j.dw, j.dy, j.x, j.blocks
	g, blk := it/blocks, it%blocks
	i0, i1, j0, j1 := split(s.Kg, s.CRSg, blocks, blk)
	if c.stencil != nil { // C/G = 1, CRSg = R·S: dot products per output channel
		for k := g*s.Kg + i0; k < g*s.Kg+i1 && j0 < j1; k++ {
			dwk := dw[k*s.RS:][:s.RS]
			if !c.accumulate {
				clear(dwk[j0:j1])
			}
			c.backwardFilterStencil(wk, g, k, j0, j1, dwk, dy, x)
		}
		return
	}
	if c.filterT {
		j.itemT(wk, g, blk)
		return
	}
	beta := float32(0)
	if c.accumulate {
		beta = 1
	}
	for n := 0; n < s.N; n++ {
		xg := x[(n*s.C+g*s.Cg)*s.HW:][:s.Cg*s.HW]
		dyg := dy[(n*s.K+g*s.Kg)*s.PQ:][:s.Kg*s.PQ]
		if j.shifted {
			c.padInput(wk.xpad, xg)
			c.padGradient(wk.dypad, dyg)
			c.shiftedProduct(wk, wk, g, beta, dw, i0, i1, j0, j1)
			beta = 1
			continue
		}
		wk.denseA = engine.Dense{Data: dyg, Stride: s.PQ}
		wk.g = engine.Gemm{M: s.Kg, N: s.CRSg, K: s.PQ, Alpha: 1,
			A:    &wk.denseA,
			Beta: beta,
			C:    dw[g*s.Kg*s.CRSg:][:s.Kg*s.CRSg],
			Ldc:  s.CRSg}
		if c.pointwise || c.subsample {
			xs := xg
			if c.subsample {
				xs = c.subsampled(wk, xg, nil)
			}
			wk.dense = engine.Dense{Data: xs, Stride: s.PQ, Trans: true}
			wk.g.B = &wk.dense
		} else {
			c.setIm2col(wk, (*engine.Im2col)(&wk.imT), xg, nil)
			wk.g.B = &wk.imT
			if c.imRows {
				col := wk.panel[:s.CRSg*s.PQ]
				(*engine.Im2col)(&wk.imT).Rows(col)
				wk.dense = engine.Dense{Data: col, Stride: s.PQ, Trans: true}
				wk.g.B = &wk.dense
			}
		}
		wk.g.RunBlock(wk.gemm, i0, i1, j0, j1)
		beta = 1
	}
}

// itemT is item for a layer planned filterT: block blk of group g's dWᵀ,
// summed over the images in the worker's panel, then stored transposed.
func (j *filterJob) itemT(wk *worker, g, blk int) {
	c := j.st.c
	s := &c.s
	i0, i1, j0, j1 := split(s.Cg, s.Kg, j.blocks, blk)
	panel := wk.panel[:s.Cg*s.Kg]
	for n := range s.N {
		xg := j.x[(n*s.C+g*s.Cg)*s.HW:][:s.Cg*s.HW]
		if c.subsample {
			xg = c.subsampled(wk, xg, nil)
		}
		wk.denseA = engine.Dense{Data: xg, Stride: s.PQ}
		wk.dense = engine.Dense{Data: j.dy[(n*s.K+g*s.Kg)*s.PQ:][:s.Kg*s.PQ], Stride: s.PQ, Trans: true}
		wk.g = engine.Gemm{M: s.Cg, N: s.Kg, K: s.PQ, Alpha: 1, A: &wk.denseA, B: &wk.dense,
			Beta: float32(min(n, 1)), C: panel, Ldc: s.Kg}
		wk.g.RunBlock(wk.gemm, i0, i1, j0, j1)
	}
	dw := j.dw[g*s.Kg*s.Cg:][:s.Kg*s.Cg]
	for k := j0; k < j1; k++ {
		row := dw[k*s.Cg:][:s.Cg]
		for ci := i0; ci < i1; ci++ {
			v := panel[ci*s.Kg+k]
			if c.accumulate {
				v += row[ci]
			}
			row[ci] = v
		}
	}
}

// filterBlocks is how many blocks each group's dW is cut into: one per
// thread when there are fewer groups than threads, else one.
func (c *Conv2D) filterBlocks() int {
	if c.parallel() && c.s.Groups < c.threads {
		return c.threads
	}
	return 1
}

// split returns block b of an m×n matrix cut into blocks, at tile
// boundaries. It cuts the longer side: each block packs all of the operand
// along the other side, so that one should be the smaller. Fewer than two
// slivers of columns are not cut: 49 would split 48 + 1.
func split(m, n, blocks, b int) (i0, i1, j0, j1 int) {
	mr, nr := engine.Tile()
	tm, tn := (m+mr-1)/mr, (n+nr-1)/nr
	if (m > n || n < 2*nr) && tm >= blocks || tn < blocks {
		return min(b*tm/blocks*mr, m), min((b+1)*tm/blocks*mr, m), 0, n
	}
	return 0, m, min(b*tn/blocks*nr, n), min((b+1)*tn/blocks*nr, n)
}

// backwardFilterShared is the Shifted form with the threads splitting dW:
// the threads pad each image and group once, into worker 0's buffers, each
// a share of the channels and of dY's rows, then multiply their blocks of
// dW from the shared copies.
func (st *callState) backwardFilterShared(dw, dy, x []float32) {
	c := st.c
	s := &c.s
	for g := 0; g < s.Groups; g++ {
		for n := 0; n < s.N; n++ {
			st.filterPad = filterPadJob{st: st, x: x[(n*s.C+g*s.Cg)*s.HW:][:s.Cg*s.HW],
				dy: dy[(n*s.K+g*s.Kg)*s.PQ:][:s.Kg*s.PQ]}
			st.group.Run(c.threads, &st.filterPad)
			beta := float32(1)
			if n == 0 && !c.accumulate {
				beta = 0
			}
			st.filterShared = filterSharedJob{st: st, dw: dw, g: g, beta: beta}
			st.group.Run(c.threads, &st.filterShared)
		}
	}
	st.filterPad, st.filterShared = filterPadJob{}, filterSharedJob{}
}

// filterPadJob is the padding of one image and group in
// backwardFilterShared. Part t pads a share of x's channels and of dY's
// rows into worker 0's buffers.
type filterPadJob struct {
	st    *callState
	x, dy []float32 // the image and group's x and dY
}

func (j *filterPadJob) Do(t int) {
	c := j.st.c
	s, w0, xg, dyg := &c.s, &j.st.workers[0], j.x, j.dy
	end := c.padChannels(w0.xpad, xg, t*s.Cg/c.threads, (t+1)*s.Cg/c.threads)
	if t == c.threads-1 {
		clear(w0.xpad[end:])
	}
	rows := s.Kg * s.P
	c.padGradientRows(w0.dypad, dyg, t*rows/c.threads, (t+1)*rows/c.threads)
}

// filterSharedJob is the product of one image and group in
// backwardFilterShared. Part t adds (beta = 1) or writes (beta = 0) its
// block of group g's dW from worker 0's padded copies.
type filterSharedJob struct {
	st   *callState
	dw   []float32
	g    int
	beta float32
}

func (j *filterSharedJob) Do(t int) {
	c := j.st.c
	i0, i1, j0, j1 := split(c.s.Kg, c.s.CRSg, c.threads, t)
	c.shiftedProduct(&j.st.workers[t], &j.st.workers[0], j.g, j.beta, j.dw, i0, i1, j0, j1)
}

// shiftedProduct adds (beta = 1) or writes (beta = 0) block [i0, i1) ×
// [j0, j1) of group g's dW from the padded copies in src.
func (c *Conv2D) shiftedProduct(wk, src *worker, g int, beta float32, dw []float32, i0, i1, j0, j1 int) {
	s := &c.s
	wk.denseA = engine.Dense{Data: src.dypad, Stride: s.P * c.wpad}
	wk.shifted = engine.Shifted{X: src.xpad, Off: c.shifted}
	wk.g = engine.Gemm{M: s.Kg, N: s.CRSg, K: s.P * c.wpad, Alpha: 1, A: &wk.denseA,
		B: &wk.shifted, Beta: beta, C: dw[g*s.Kg*s.CRSg:][:s.Kg*s.CRSg], Ldc: s.CRSg}
	wk.g.RunBlock(wk.gemm, i0, i1, j0, j1)
}

// biasGrad sums dy over images and positions.
func (c *Conv2D) biasGrad(dbias, dy []float32) { sumChannels(dbias, dy, c.s.N, c.s.PQ, c.accumulate) }

// sumChannels sets dst[k], or adds to it when accumulating, the sum of
// channel k of src (n × len(dst) planes of plane floats), in float64 and in
// a fixed order, so that it is the same on every thread count.
func sumChannels(dst, src []float32, n, plane int, accumulate bool) {
	for k := range dst {
		sum := 0.0
		if accumulate {
			sum = float64(dst[k])
		}
		for i := 0; i < n; i++ {
			for _, v := range src[(i*len(dst)+k)*plane:][:plane] {
				sum += float64(v)
			}
		}
		dst[k] = float32(sum)
	}
}

// planShifted sets up the Shifted form of backward-filter's column matrix
// (not for a pointwise or a depthwise stride-1 layer, nor one whose
// backward-filter is direct (fewchan.go): they have better ones). The
// input is zero-padded to H'×W' and, at stride (sh, sw), split
// into sh·sw phase planes per channel, plane (a, b) holding the padded rows
// a, a+sh, … and columns b, b+sw, …, Hs×Ws in size. Output position (p, q)
// of tap (c, r, s) then reads plane (r·DilationH mod sh, s·DilationW mod
// sw) at row p + ⌊r·DilationH/sh⌋ and column q + ⌊s·DilationW/sw⌋: with
// positions numbered p·Ws + q, every column of the matrix is a contiguous
// run. The Ws − Q positions q ≥ Q of each row are computed too, with dY
// padded by zeros there ((Ws − Q)/Q more flops), so that packing is a
// transpose of runs, with no padding tests. An Inf in the input can then
// meet one of those zeros and give a NaN that the plain route would not.
func (c *Conv2D) planShifted() {
	s := &c.s
	ws := (s.W + s.PadLeft + s.PadRight + s.StrideW - 1) / s.StrideW
	hs := (s.H + s.PadTop + s.PadBottom + s.StrideH - 1) / s.StrideH
	// Past a fifth more positions per row, the extra flops cost more than
	// the contiguous packing saves, unless a SIMD GEMM would gather its
	// column matrix a float at a time (too large to write out first:
	// planImRows), scalarGather an element, against 2·Kg·(W'−Q)/Q extra
	// flops an element here (DeepLab's atrous 3×3, Z29: 128 extra flops,
	// 1.13–1.21× faster; on the generic kernels, whose flops are scalar
	// too, 0.81–0.88×).
	wide := 5*ws > 6*s.Q
	if wide && engine.Native() && s.CRSg*s.PQ > maxImRows {
		wide = 2*float64(s.Kg)*float64(ws-s.Q)/float64(s.Q) > scalarGather
	}
	if c.pointwise || c.subsample || c.stencil != nil || c.few != nil && c.few.filter || wide ||
		s.Cg*s.StrideH*s.StrideW*hs*ws > maxCopy || s.Kg*s.P*ws > maxCopy {
		return
	}
	c.useShifted()
}

// useShifted builds the Shifted form.
func (c *Conv2D) useShifted() {
	s := &c.s
	var end int
	c.shifted, end = shiftedOffsets(s)
	c.usePadded(end)
	c.dypadLen = max(c.dypadLen, s.Kg*s.P*c.wpad)
}

// usePadded makes padInput write the padded phase planes of planShifted,
// into an xpad of at least n floats.
func (c *Conv2D) usePadded(n int) {
	s := &c.s
	_, c.wpad = phasePlanes(s)
	// In padded coordinates tap r reads row phase r·DilationH mod sh.
	c.shiftedPhases = phasesRead(taps(s.R, s.DilationH, 0), taps(s.S, s.DilationW, 0), s.StrideH, s.StrideW)
	c.xpadLen = max(c.xpadLen, n)
}

// shiftedOffsets returns where each tap (c, r, s)'s run starts in the
// padded phase planes of one image and group (planShifted), and the end
// of the furthest run, P·W' positions long.
func shiftedOffsets(s *shape) (off []int, end int) {
	hs, ws := phasePlanes(s)
	plane := hs * ws
	off = make([]int, 0, s.CRSg)
	end = s.Cg * s.StrideH * s.StrideW * plane
	for ci := range s.Cg {
		for r := range s.R {
			a, ur := r*s.DilationH%s.StrideH, r*s.DilationH/s.StrideH
			for t := range s.S {
				b, us := t*s.DilationW%s.StrideW, t*s.DilationW/s.StrideW
				o := ((ci*s.StrideH+a)*s.StrideW+b)*plane + ur*ws + us
				off = append(off, o)
				end = max(end, o+s.P*ws)
			}
		}
	}
	return off, end
}

// planImRows sets c.imRows for a layer whose backward-filter multiplies by
// im2col(X)ᵀ (neither Shifted, pointwise nor depthwise stride-1) and whose
// column matrix is small: it is then written out first, a tap at a time
// over all channels, and packed from there by the transposing kernel,
// rather than gathered element by element into the B slivers, which reads
// x a float at a time. The values, and so the result, are the same either
// way.
func (c *Conv2D) planImRows() {
	s := &c.s
	c.imRows = !c.pointwise && !c.subsample && c.stencil == nil && c.shifted == nil && s.CRSg*s.PQ <= maxImRows
}

// planFilterT sets c.filterT for a 1×1 layer whose dW fills the register
// tile better transposed: dWᵀ (C/G × K/G) = X · dYᵀ, with both operands
// read in place, summed over the images in a panel and stored transposed.
func (c *Conv2D) planFilterT() {
	s := &c.s
	c.filterT = (c.pointwise || c.subsample) && s.Kg*s.Cg <= maxCopy &&
		transposeGains(s.Kg, s.Cg, s.PQ, engine.DenseTileFit(s.Kg, s.Cg))
	if c.filterT {
		c.panel = max(c.panel, s.Kg*s.Cg)
	}
}

// maxImRows is the most floats of a column matrix that planImRows writes
// out per worker: 1 MiB, which stays in L2 while it is packed.
const maxImRows = 1 << 18
