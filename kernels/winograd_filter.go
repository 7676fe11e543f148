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
	s, g, ts := &c.s, &c.wino.fwd, c.wino.ts
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
			wk.denseA = engine.Dense{Data: st.wino.m[p*s.K*ts:][:s.K*ts], Stride: ts}
			wk.dense = engine.Dense{Data: st.wino.v[p*s.C*ts:][:s.C*ts], Stride: ts, Trans: true}
			wk.g = engine.Gemm{M: s.K, N: s.C, K: (j.b1 - j.b0) * g.tw, Alpha: 1, A: &wk.denseA, B: &wk.dense,
				Beta: beta, C: st.wino.u[p*s.K*s.C:][:s.K*s.C], Ldc: s.C}
			wk.g.Run(wk.gemm)
		}
	case phaseOutput:
		winoFilterInverse(j.dw, st.wino.u, s.K, s.C, lo(s.K), hi(s.K), c.accumulate)
	}
}

// grad transforms dY's channel k of the block's bands into E.
func (j *winoFilterJob) grad(wk *worker, k int) {
	g, ts := &j.st.c.wino.fwd, j.st.c.wino.ts
	ld := 4 * engine.WinogradLanes(g.tw)
	band := wk.wbandOut[:4*ld]
	for b := j.b0; b < j.b1; b++ {
		n, ti := b/g.th, b%g.th
		rows := min(4, g.p-4*ti)
		engine.CopyRows(band, j.dy[((n*g.cout+k)*g.p+4*ti)*g.q:], rows, ld, 0, g.q, ld, g.q)
		clear(band[rows*ld:])
		engine.WinogradGrad(j.st.wino.m[k*ts+(b-j.b0)*g.tw:], g.cout*ts, band, ld, g.tw)
	}
}

// winoFilterInverse sets, or adds to with accumulate, dw[k][c] = Gᵀ M G
// for rows [k0, k1) of the sums M_p (K×C at m[p·K·C:]), in float64. As
// winoFilterTransform, it copies runs of the 36 planes into a local block
// first rather than read all 36 at once.
func winoFilterInverse(dw, m []float32, kn, cn, k0, k1 int, accumulate bool) {
	plane := kn * cn
	var block [36][winoFilterRun]float32
	for k := k0; k < k1; k++ {
		for c0 := 0; c0 < cn; c0 += winoFilterRun {
			run := min(winoFilterRun, cn-c0)
			for p := range block {
				copy(block[p][:run], m[p*plane+k*cn+c0:][:run])
			}
			for i := range run {
				// t = M G (6×3), then Gᵀ t.
				var t [6][3]float64
				for xi := range t {
					b := block[6*xi:][:6]
					t[xi][0], t[xi][1], t[xi][2] = winoGT(float64(b[0][i]), float64(b[1][i]), float64(b[2][i]),
						float64(b[3][i]), float64(b[4][i]), float64(b[5][i]))
				}
				out := dw[(k*cn+c0+i)*9:][:9]
				for s := range 3 {
					var col [3]float64
					col[0], col[1], col[2] = winoGT(t[0][s], t[1][s], t[2][s], t[3][s], t[4][s], t[5][s])
					for r, v := range col {
						if accumulate {
							v += float64(out[3*r+s])
						}
						out[3*r+s] = float32(v)
					}
				}
			}
		}
	}
}

// winoGT is Gᵀ m, the adjoint of winoG.
func winoGT(m0, m1, m2, m3, m4, m5 float64) (r0, r1, r2 float64) {
	const sixth, twelfth, n24 = 1. / 6, 1. / 12, 1. / 24
	s12, d12 := m1+m2, m2-m1
	s34, d34 := m3+m4, m3-m4
	return m0*0.25 - s12*sixth + s34*n24, d12*sixth + d34*twelfth, (s34-s12)*sixth + m5
}
