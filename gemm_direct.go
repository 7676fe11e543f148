package simdconv

import "github.com/simdconv/simdconv/internal/engine"

// The direct-A route: a product whose columns fit one B sliver uses each
// element of packed A once, so packing A would only add a copy of it. This
// route reads a dense A in place instead: a large filter multiplied by a
// 7×7 output would spend a good share of its pass packing.

// directKind is how runDirect computes a block of C.
type directKind int

const (
	noDirect directKind = iota
	// direct: one sliver of the direct kernel, wider than the main
	// kernel's; bitwise the same as the packed route.
	direct
	// directDot: a main-kernel sliver plus one column computed as dot
	// products (the 49 positions of a 7×7 output). When A's rows are
	// contiguous the dot column sums in another order, so every block of
	// such a product takes this route, whatever the split over threads.
	directDot
)

// directRoute returns how a block of cols columns of C is computed by the
// direct-A route, if it is: A must be dense with alpha 1 and at least the
// kernel's rows.
func (g *gemm) directRoute(b blocking, cols int) directKind {
	_, ok := g.A.(*engine.Dense)
	switch {
	case !ok || g.Alpha != 1:
		return noDirect
	case b.directDot.nr > 0 && g.N == b.directDot.nr && g.M >= b.directDot.mr:
		return directDot
	case cols > b.nr && cols <= b.direct.nr && g.M >= b.direct.mr:
		return direct
	}
	return noDirect
}

// directTile is the register tile of route k, if it has one.
func (b blocking) directTile(k directKind) (tile, bool) {
	switch k {
	case direct:
		return b.direct, true
	case directDot:
		return b.directDot, true
	}
	return tile{}, false
}

// runDirect computes a block of C with the direct-A kernels. Its k blocks
// are those of runBlocks, so the columns of the main sliver get the same
// bits as there. Since the kernels read whole tiles of A, a block's last
// rows, fewer than a tile, are computed into tmp by a whole tile of rows
// of A: those rows and the next ones, or, at the end of A, the ones before.
func (g *gemm) runDirect(id isaID, b blocking, ws []float32, i0, i1, j0, j1 int) {
	a := g.A.(*engine.Dense)
	kind := g.directRoute(b, j1-j0)
	t, _ := b.directTile(kind)
	rs, ks := a.Stride, 1
	if a.Trans {
		rs, ks = 1, a.Stride
	}
	kstep := g.kstep(b)
	kcMax := min(kstep, g.K)
	// Column jb of C is the tile's column 0; the sliver holds nc columns
	// of B from there, in width lanes, and dBuf the dot column.
	jb, nc, width, dots := j0, j1-j0, t.nr, 0
	if kind == directDot {
		jb, nc, width, dots = 0, t.nr-1, t.nr-1, kcMax
	}
	bBuf := ws[:kcMax*width]
	dBuf := ws[len(bBuf) : len(bBuf)+dots]
	tmp := ws[len(bBuf)+len(dBuf):][:t.mr*t.nr]
	cols := lanes(j0-jb, j1-jb)
	for pc := 0; pc < g.K; pc += kstep {
		kc := min(kstep, g.K-pc)
		packB(g.B, id, bBuf, pc, kc, jb, nc, width)
		if kind == directDot {
			packB(g.B, id, dBuf, pc, kc, width, 1, 1)
		}
		run := func(row int, c []float32, ldc int) {
			if kind == directDot {
				directDotKernel(id, a.Data[row*rs+pc*ks:], rs, ks, bBuf, dBuf, c, kc, ldc, cols)
			} else {
				directKernel(id, a.Data[row*rs+pc*ks:], rs, ks, bBuf, c, kc, ldc, cols)
			}
		}
		for i := i0; i < i1; i += t.mr {
			if i+t.mr <= i1 {
				run(i, g.C[i*g.Ldc+jb:][:(t.mr-1)*g.Ldc+j1-jb], g.Ldc)
				continue
			}
			s := min(i, g.M-t.mr)
			clear(tmp)
			run(s, tmp, t.nr)
			for r := i; r < i1; r++ {
				dst := g.C[r*g.Ldc+j0:][:j1-j0]
				for j, v := range tmp[(r-s)*t.nr+j0-jb:][:j1-j0] {
					dst[j] += v
				}
			}
		}
	}
}
