package kernels

import "github.com/simdconv/simdconv/internal/engine"

// Im2col writes the column matrix of x for the layer p: for each image n, a
// (C·R·S) × (P·Q) block whose row (c, r, s) and column p·Q+q hold
// x[n, c, p·StrideH + r·DilationH − PadTop, q·StrideW + s·DilationW − PadLeft],
// or 0 in the padding. col holds N·C·R·S·P·Q floats. The convolution passes
// never build this matrix; it is here for users who need it.
func Im2col(col, x []float32, p Conv2DParams) error {
	s, err := p.validate()
	if err != nil {
		return err
	}
	if err := checkLen("Im2col", "x", x, s.xLen, "N·C·H·W"); err != nil {
		return err
	}
	rows, err := product("N·C·R·S", s.N, s.C, s.RS)
	if err != nil {
		return err
	}
	if err := checkLen("Im2col", "col", col, rows*s.PQ, "N·C·R·S·P·Q"); err != nil {
		return err
	}
	im := engine.Im2col{X: x, C: s.N * s.C, H: s.H, W: s.W, P: s.P, Q: s.Q,
		StrideH: s.StrideH, StrideW: s.StrideW,
		OffH: taps(s.R, s.DilationH, -s.PadTop), OffW: taps(s.S, s.DilationW, -s.PadLeft)}
	im.Rows(col)
	return nil
}

// Col2im is the adjoint of Im2col: it sets x to the sum, over every entry of
// col, of that entry at the input position Im2col read it from. Entries that
// Im2col read from the padding are dropped.
func Col2im(x, col []float32, p Conv2DParams) error {
	c, err := NewConv2D(p, WithThreads(1))
	if err != nil {
		return err
	}
	s := c.s
	if err := checkLen("Col2im", "x", x, s.xLen, "N·C·H·W"); err != nil {
		return err
	}
	if err := checkLen("Col2im", "col", col, s.N*s.C*s.RS*s.PQ, "N·C·R·S·P·Q"); err != nil {
		return err
	}
	// Col2im of all channels is col2im of one group holding them all.
	c.s.Cg = s.N * s.C
	if c.subsample { // each entry lands on its own position
		clear(x)
		for ci := range c.s.Cg {
			engine.ScatterRows(x[ci*s.HW:], col[ci*s.PQ:], s.P, s.Q, s.StrideW, s.StrideH*s.W, s.Q)
		}
		return nil
	}
	if c.split == nil {
		clear(x)
		c.col2im(x, col, 0, s.PQ, 0, s.H)
		return nil
	}
	buf := make([]float32, c.s.Cg*s.StrideW*s.H*c.split.w)
	c.col2im(buf, col, 0, s.PQ, 0, s.H)
	c.mergePhases(x, buf, 0, s.H)
	return nil
}
