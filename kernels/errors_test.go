package kernels

import (
	"math"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestNewConv2DErrors(t *testing.T) {
	ok := Conv2DParams{N: 1, C: 4, H: 8, W: 8, K: 6, R: 3, S: 3}
	cases := []struct {
		edit func(p *Conv2DParams)
		want string
	}{
		{func(p *Conv2DParams) { p.N = 0 }, "N = 0, want 1 to"},
		{func(p *Conv2DParams) { p.C = -3 }, "C = -3, want 1 to"},
		{func(p *Conv2DParams) { p.R = 0 }, "R = 0, want 1 to"},
		{func(p *Conv2DParams) { p.StrideW = -1 }, "StrideW = -1, want 0 to"},
		{func(p *Conv2DParams) { p.PadLeft = -2 }, "PadLeft = -2, want 0 to"},
		{func(p *Conv2DParams) { p.Groups = 4 }, "Groups = 4 must divide C = 4 and K = 6"},
		{func(p *Conv2DParams) { p.R, p.H = 9, 8 }, "empty output"},
		{func(p *Conv2DParams) { p.DilationH = 5 }, "empty output"},
		{func(p *Conv2DParams) { p.N, p.C, p.H, p.W = 1<<20, 1<<10, 64, 64 }, "N·C·H·W overflows"},
		{func(p *Conv2DParams) { p.H = math.MaxInt32 + 1 }, "H = 2147483648, want 1 to"},
		{func(p *Conv2DParams) { p.C, p.K, p.H, p.W, p.R, p.S = 1<<16, 1<<16, 3, 3, 3, 3 }, "K·C/Groups·R·S overflows"},
	}
	for _, c := range cases {
		p := ok
		c.edit(&p)
		_, err := NewConv2D(p)
		require.ErrorContains(t, err, c.want, "%+v", p)
	}
	_, err := NewConv2D(ok, WithThreads(-1))
	require.ErrorContains(t, err, "WithThreads(-1)")
	_, err = NewConv2D(ok, WithWorkspace(make([]float32, 3)))
	require.ErrorContains(t, err, "len(ws) = 3, want ≥")
	_, err = NewConv2D(ok, WithWorkspace(nil))
	require.ErrorContains(t, err, "ws is nil")
}

func TestLengthErrors(t *testing.T) {
	c, err := NewConv2D(Conv2DParams{N: 2, C: 4, H: 8, W: 8, K: 6, R: 3, S: 3})
	require.NoError(t, err)
	x, w, y := make([]float32, 2*4*64), make([]float32, 6*4*9), make([]float32, 2*6*36)
	short := make([]float32, 5)
	require.EqualError(t, c.Forward(short, x, w, nil), "kernels: Forward: len(y) = 5, want 432 (N·K·P·Q)")
	require.EqualError(t, c.Forward(y, nil, w, nil), "kernels: Forward: x is nil, want 512 floats (N·C·H·W)")
	require.EqualError(t, c.Forward(y, x, w[1:], nil), "kernels: Forward: len(w) = 215, want 216 (K·C/Groups·R·S)")
	require.EqualError(t, c.Forward(y, x, w, short), "kernels: Forward: len(bias) = 5, want 6 (K)")
	require.EqualError(t, c.BackwardData(x[:511], y, w), "kernels: BackwardData: len(dx) = 511, want 512 (N·C·H·W)")
	require.EqualError(t, c.BackwardData(x, y, nil), "kernels: BackwardData: w is nil, want 216 floats (K·C/Groups·R·S)")
	require.EqualError(t, c.BackwardFilter(w, short, y, x), "kernels: BackwardFilter: len(dbias) = 5, want 6 (K)")
	require.EqualError(t, c.BackwardFilter(w, nil, y[2:], x), "kernels: BackwardFilter: len(dy) = 430, want 432 (N·K·P·Q)")
	// Over-long slices are refused too: the plan's shape is exact.
	long := make([]float32, 2*6*36+1)
	require.EqualError(t, c.Forward(long, x, w, nil), "kernels: Forward: len(y) = 433, want 432 (N·K·P·Q)")
	require.EqualError(t, c.BackwardData(x, long, w), "kernels: BackwardData: len(dy) = 433, want 432 (N·K·P·Q)")
	require.EqualError(t, c.BackwardFilter(long[:6*4*9+1], nil, y, x), "kernels: BackwardFilter: len(dw) = 217, want 216 (K·C/Groups·R·S)")
	// Nothing was written by the failed calls.
	for _, b := range [][]float32{x, w, y, short, long} {
		for _, v := range b {
			require.Zero(t, v)
		}
	}
	require.Error(t, FullConv2D(make([]float32, 3), make([]float32, 4), 2, 2, make([]float32, 4), 2, 2))
	require.Error(t, Correlate2D(make([]float32, 1), make([]float32, 4), 2, 2, make([]float32, 9), 3, 3))
	require.Error(t, Im2col(make([]float32, 3), make([]float32, 512), Conv2DParams{N: 2, C: 4, H: 8, W: 8, K: 6, R: 3, S: 3}))
}
