package kernels

import "github.com/simdconv/simdconv/internal/engine"

// A small filter gradient over a long reduction (a stem's 64×147 over
// 12 880 positions, MNIST's 32×9 over 32 images) gains nothing from cutting
// dW between the threads: each block is a sliver or two of the tile, and
// each thread packs all of the other operand. Such a layer cuts the
// reduction instead, into a fixed number of chunks of output rows over the
// images; each chunk's product goes into a partial dW of its own, and the
// partials are summed in chunk order. The chunks depend on the shape alone,
// never on the thread count, so the sum is the same on every thread count.

// maxChunks is the most chunks a reduction is cut into: enough for the
// threads of common machines, few enough that the partials stay small.
const maxChunks = 8

// planChunks sets c.chunks for a layer on the Shifted form whose dW is
// small beside its reduction: a chunk keeps a reduction of at least four
// times dW's longer side, so that its partial costs less than a fifth of
// its product. Grouped layers keep the split of dW.
func (c *Conv2D) planChunks() {
	s := &c.s
	if c.shifted == nil || s.Groups != 1 {
		return
	}
	rows := s.N * s.P
	n := min(maxChunks, rows, rows*c.wpad/(4*max(s.Kg, s.CRSg)))
	if n < 2 {
		return
	}
	c.chunks = n
}

// chunkJob is BackwardFilter on the chunked route: part t takes a
// contiguous range of the chunks, so that an image split between chunks is
// padded once by each thread that reads it.
type chunkJob struct {
	st       *callState
	dy, x    []float32
	partials []float32 // c.chunks partial dWs
	parts    int
}

func (j *chunkJob) Do(t int) {
	chunks, wk := j.st.c.chunks, &j.st.workers[t]
	wk.xpadImage = -1
	for ch := t * chunks / j.parts; ch < (t+1)*chunks/j.parts; ch++ {
		j.chunk(wk, ch)
	}
}

// chunk computes chunk ch's partial dW on worker wk.
func (j *chunkJob) chunk(wk *worker, ch int) {
	c := j.st.c
	s, rows := &c.s, c.s.N*c.s.P
	part := j.partials[ch*s.wLen:][:s.wLen]
	beta := float32(0)
	for r0, r1 := ch*rows/c.chunks, (ch+1)*rows/c.chunks; r0 < r1; {
		n, p0 := r0/s.P, r0%s.P
		p1 := min(s.P, p0+r1-r0)
		if wk.xpadImage != n {
			c.padInput(wk.xpad, j.x[n*s.C*s.HW:][:s.C*s.HW])
			wk.xpadImage = n
		}
		dyn := j.dy[n*s.K*s.PQ:][:s.K*s.PQ]
		for k := range s.K {
			c.padGradientRows(wk.dypad, dyn, k*s.P+p0, k*s.P+p1)
		}
		// Positions p·W' + q of rows [p0, p1): a window of A's and B's k.
		k0, kn := p0*c.wpad, (p1-p0)*c.wpad
		wk.denseA = engine.Dense{Data: wk.dypad[k0:], Stride: s.P * c.wpad}
		wk.shifted = engine.Shifted{X: wk.xpad[k0:], Off: c.shifted}
		wk.g = engine.Gemm{M: s.K, N: s.CRSg, K: kn, Alpha: 1, A: &wk.denseA,
			B: &wk.shifted, Beta: beta, C: part, Ldc: s.CRSg}
		wk.g.Run(wk.gemm)
		beta = 1
		r0 += p1 - p0
	}
}

// backwardFilterChunks is BackwardFilter on the chunked route, for an x
// that is all finite.
func (st *callState) backwardFilterChunks(dw, dy, x []float32) {
	c := st.c
	parts := 1
	if c.parallel() {
		parts = min(c.threads, c.chunks)
	}
	st.chunk = chunkJob{st: st, dy: dy, x: x, partials: st.partials, parts: parts}
	st.group.Run(parts, &st.chunk)
	st.chunk = chunkJob{}
	for i := range dw {
		sum := float32(0)
		if c.accumulate {
			sum = dw[i]
		}
		for ch := range c.chunks {
			sum += st.partials[ch*len(dw)+i]
		}
		dw[i] = sum
	}
}
