package kernels

import "github.com/simdconv/simdconv/internal/engine"

// Backward-filter on Winograd F(4×4, 3×3). The forward tile is Y = Aᵀ[(G g
// Gᵀ) ⊙ (Bᵀ d B)]A, linear in g, so its adjoint gives each tile's share of
// the filter gradient:
//
//	dW[k,c] = Gᵀ [ Σ_tiles (A e Aᵀ) ⊙ (Bᵀ d B) ] G
//
// with e the 4×4 tile of dY[k] (zero past P and Q) and d the 6×6 tile of
// x[c] that the forward pass reads. The sum is a product per point, M_p
// (K×C) += E_p (K×tiles) · V_pᵀ, block after block; the threads split the
// points, never the tiles, so every M_p is summed in the same order on any
// thread count.

// winoFilterJob is a BackwardFilter call on Winograd. Its sums M_p take
// the place of U, the dY tiles' transforms E that of M.
type winoFilterJob struct {
	st     *callState
	dw     []float32
	dy, x  []float32
	phase  winoPhase
	b0, b1 int
	parts  int
}

func (st *callState) winoFilter(dw, dy, x []float32) {
	c := st.c
	g := &c.wino.fwd
	j := &st.wino.filt
	*j = winoFilterJob{st: st, dw: dw, dy: dy, x: x, parts: st.winoParts()}
	for j.b0 = 0; j.b0 < g.bands(); j.b0 = j.b1 {
		j.b1 = min(j.b0+g.blockBands, g.bands())
		for _, ph := range []winoPhase{phaseInput, phaseGemm} {
			j.phase = ph
			st.runParts(j, j.parts)
		}
	}
	j.phase = phaseOutput
	st.runParts(j, j.parts)
	*j = winoFilterJob{}
}

func (j *winoFilterJob) Do(part int) {
	st := j.st
	c, wk := st.c, &st.workers[part]
	s, g, wp := &c.s, &c.wino.fwd, c.wino
	ts := wp.ts
	lo := func(n int) int { return part * n / j.parts }
	hi := func(n int) int { return (part + 1) * n / j.parts }
	switch j.phase {
	case phaseInput: // x's channels, then dY's
		for ch := lo(s.C + s.K); ch < hi(s.C+s.K); ch++ {
			if ch < s.C {
				st.winoInput(wk, g, j.x, j.b0, j.b1, ch)
			} else {
				j.grad(wk, ch-s.C)
			}
		}
	case phaseGemm:
		beta := float32(1)
		if j.b0 == 0 {
			beta = 0
		}
		for p := lo(36); p < hi(36); p++ {
			wk.denseA = engine.Dense{Data: st.wino.m[p*wp.point(s.K):][:s.K*ts], Stride: ts}
			wk.dense = engine.Dense{Data: st.wino.v[p*wp.point(s.C):][:s.C*ts], Stride: ts, Trans: true}
			wk.g = engine.Gemm{M: s.K, N: s.C, K: (j.b1 - j.b0) * g.bandTiles(), Alpha: 1, A: &wk.denseA, B: &wk.dense,
				Beta: beta, C: st.wino.u[p*wp.us:][:s.K*s.C], Ldc: s.C}
			wk.g.Run(wk.gemm)
		}
	case phaseOutput:
		st.winoFilterInverse(wk, j.dw, s.K*s.C, lo(s.K*s.C), hi(s.K*s.C))
	}
}

// grad transforms dY's channel k of the block's bands into E. The spare
// tile of an image's run reads zeros, so its E is zero and adds nothing to
// the sums.
func (j *winoFilterJob) grad(wk *worker, k int) {
	g, ts := &j.st.c.wino.fwd, j.st.c.wino.ts
	bt := g.bandTiles()
	ld := 4 * engine.WinogradLanes(bt)
	g.strips(j.b0, j.b1, func(n0, n1, t0, t1, i int) {
		strip := wk.wbandOut[:4*(t1-t0)*ld]
		rows := min(4*t1, g.p) - 4*t0
		for n := n0; n < n1; n++ {
			engine.CopyRows(strip[(n-n0)*4*g.seg:], j.dy[((n*g.cout+k)*g.p+4*t0)*g.q:], rows,
				g.runWidth(n-n0, n1-n0, ld), 0, g.q, ld, g.q)
		}
		clear(strip[rows*ld:])
		for t := t0; t < t1; t++ {
			engine.WinogradGrad(j.st.wino.m[k*ts+(i+t-t0)*bt:], j.st.c.wino.point(g.cout), strip[4*(t-t0)*ld:], ld, bt)
		}
	})
}

// winoFilterInverse sets, or adds to with accumulate, rows [i0, i1) of dw
// seen as K·C × 9: dw[k][c] = Gᵀ M[k][c] G, which is Mᵀ (K·C × 36, from
// the sums M_p at u[p·us:]) times winoGG (36×9).
func (st *callState) winoFilterInverse(wk *worker, dw []float32, kc, i0, i1 int) {
	beta := float32(0)
	if st.c.accumulate {
		beta = 1
	}
	us := st.c.wino.us
	wk.denseA = engine.Dense{Data: st.wino.u[:36*us], Stride: us, Trans: true}
	wk.dense = engine.Dense{Data: winoGG[:], Stride: 9}
	wk.g = engine.Gemm{M: kc, N: 9, K: 36, Alpha: 1, A: &wk.denseA, B: &wk.dense, Beta: beta, C: dw, Ldc: 9}
	wk.g.RunBlock(wk.gemm, i0, i1, 0, 9)
}
