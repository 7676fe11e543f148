package kernels

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/simdconv/simdconv/internal/testutil"
	"github.com/stretchr/testify/require"
)

func TestNewConvTranspose2DErrors(t *testing.T) {
	ok := ConvTranspose2DParams{N: 1, C: 4, H: 5, W: 5, K: 6, R: 3, S: 3, StrideH: 2, StrideW: 2}
	cases := []struct {
		edit func(p *ConvTranspose2DParams)
		want string
	}{
		{func(p *ConvTranspose2DParams) { p.N = 0 }, "kernels: N = 0, want 1 to 2147483647"},
		{func(p *ConvTranspose2DParams) { p.K = -1 }, "kernels: K = -1, want 1 to 2147483647"},
		{func(p *ConvTranspose2DParams) { p.S = 0 }, "kernels: S = 0, want 1 to 2147483647"},
		{func(p *ConvTranspose2DParams) { p.StrideW = -2 }, "kernels: StrideW = -2, want 0 to 2147483647 (0 means 1)"},
		{func(p *ConvTranspose2DParams) { p.DilationH = math.MaxInt32 + 1 }, "kernels: DilationH = 2147483648, want 0 to"},
		{func(p *ConvTranspose2DParams) { p.Groups = 4 }, "kernels: Groups = 4 must divide C = 4 and K = 6"},
		{func(p *ConvTranspose2DParams) { p.PadH = -1 }, "kernels: PadH = -1, want 0 to"},
		{func(p *ConvTranspose2DParams) { p.OutPadW = -1 }, "kernels: OutPadW = -1, want ≥ 0 and less than StrideW = 2 or DilationW = 1 (as PyTorch)"},
		{func(p *ConvTranspose2DParams) { p.OutPadH = 2 }, "kernels: OutPadH = 2, want ≥ 0 and less than StrideH = 2 or DilationH = 1 (as PyTorch)"},
		{func(p *ConvTranspose2DParams) { p.StrideH, p.OutPadH = 1, 1 }, "kernels: OutPadH = 1, want ≥ 0 and less than StrideH = 1 or DilationH = 1"},
		// PyTorch allows these, but the matching convolution cannot have them.
		{func(p *ConvTranspose2DParams) { p.StrideH, p.DilationH, p.OutPadH = 1, 2, 1 },
			"kernels: OutPadH = 1 ≥ StrideH + PadH = 1 is not supported"},
		{func(p *ConvTranspose2DParams) { p.StrideW, p.DilationW, p.PadW, p.OutPadW = 2, 5, 1, 3 },
			"kernels: OutPadW = 3 ≥ StrideW + PadW = 3 is not supported"},
		{func(p *ConvTranspose2DParams) { p.PadH = 6 }, "kernels: OutH = (H−1)·StrideH − 2·PadH + DilationH·(R−1) + OutPadH + 1 = -1, want 1 to"},
		{func(p *ConvTranspose2DParams) { p.PadW = 7 }, "kernels: OutW = (W−1)·StrideW − 2·PadW + DilationW·(S−1) + OutPadW + 1 = -3, want 1 to"},
		{func(p *ConvTranspose2DParams) { p.W, p.StrideW = 1<<20, 1<<12 }, "kernels: OutW = (W−1)·StrideW − 2·PadW + DilationW·(S−1) + OutPadW + 1 = 4294963203, want 1 to"},
		{func(p *ConvTranspose2DParams) { p.N, p.H, p.W = 1<<12, 1<<10, 1<<10 }, "kernels: N·C·H·W overflows"},
		{func(p *ConvTranspose2DParams) { p.H, p.W, p.StrideH, p.StrideW = 1<<9, 1<<9, 64, 64 }, "kernels: N·K·OutH·OutW overflows"},
		{func(p *ConvTranspose2DParams) { p.C, p.K, p.H, p.W = 1<<16, 1<<16, 1, 1 }, "kernels: C·K/Groups·R·S overflows"},
	}
	for _, c := range cases {
		p := ok
		c.edit(&p)
		_, err := NewConvTranspose2D(p)
		require.ErrorContains(t, err, c.want, "%+v", p)
		_, err = p.Matching()
		require.ErrorContains(t, err, c.want, "%+v", p)
	}
	_, err := NewConvTranspose2D(ok, WithThreads(-1))
	require.ErrorContains(t, err, "WithThreads(-1)")
	_, err = NewConvTranspose2D(ok, nil)
	require.EqualError(t, err, "kernels: option 1 of 1 is nil")
	_, err = NewConvTranspose2D(ok, WithWorkspace(make([]float32, 3)))
	require.ErrorContains(t, err, "len(ws) = 3, want ≥")

	// The edges of PyTorch's rule are accepted.
	for _, edit := range []func(p *ConvTranspose2DParams){
		func(p *ConvTranspose2DParams) { p.OutPadH, p.OutPadW = 1, 1 },
		func(p *ConvTranspose2DParams) { p.StrideH, p.DilationH, p.PadH, p.OutPadH = 1, 3, 1, 1 },
		func(p *ConvTranspose2DParams) { p.StrideW, p.DilationW, p.PadW, p.OutPadW = 2, 4, 1, 2 },
		func(p *ConvTranspose2DParams) { p.PadH, p.PadW = 5, 4 },
	} {
		p := ok
		edit(&p)
		_, err := NewConvTranspose2D(p)
		require.NoError(t, err, "%+v", p)
	}
}

func TestConvTranspose2DLengthErrors(t *testing.T) {
	// OutH = OutW = (5−1)·2 − 2·1 + (3−1) + 1 + 1 = 10.
	p := ConvTranspose2DParams{N: 2, C: 4, H: 5, W: 5, K: 6, R: 3, S: 3,
		StrideH: 2, StrideW: 2, PadH: 1, PadW: 1, OutPadH: 1, OutPadW: 1, Groups: 2}
	c, err := NewConvTranspose2D(p)
	require.NoError(t, err)
	p.DilationH, p.DilationW = 1, 1
	require.Equal(t, p, c.Params(), "defaults filled in")
	require.Equal(t, [2]int{10, 10}, [2]int{c.OutH(), c.OutW()})
	x, w, y := make([]float32, 2*4*25), make([]float32, 4*3*9), make([]float32, 2*6*100)
	short := make([]float32, 5)
	for _, tc := range []struct {
		err  error
		want string
	}{
		{c.Forward(short, x, w, nil), "kernels: ConvTranspose2D.Forward: len(y) = 5, want 1200 (N·K·OutH·OutW)"},
		{c.Forward(y, x[1:], w, nil), "kernels: ConvTranspose2D.Forward: len(x) = 199, want 200 (N·C·H·W)"},
		{c.Forward(y, x, nil, nil), "kernels: ConvTranspose2D.Forward: w is nil, want 108 floats (C·K/Groups·R·S)"},
		{c.Forward(y, x, w, short), "kernels: ConvTranspose2D.Forward: len(bias) = 5, want 6 (K)"},
		{c.BackwardData(append(x, 0), y, w), "kernels: ConvTranspose2D.BackwardData: len(dx) = 201, want 200 (N·C·H·W)"},
		{c.BackwardData(x, y[:1199], w), "kernels: ConvTranspose2D.BackwardData: len(dy) = 1199, want 1200 (N·K·OutH·OutW)"},
		{c.BackwardData(x, y, w[:100]), "kernels: ConvTranspose2D.BackwardData: len(w) = 100, want 108 (C·K/Groups·R·S)"},
		{c.BackwardFilter(nil, nil, y, x), "kernels: ConvTranspose2D.BackwardFilter: dw is nil, want 108 floats (C·K/Groups·R·S)"},
		{c.BackwardFilter(w, short, y, x), "kernels: ConvTranspose2D.BackwardFilter: len(dbias) = 5, want 6 (K)"},
		{c.BackwardFilter(w, nil, x, x), "kernels: ConvTranspose2D.BackwardFilter: len(dy) = 200, want 1200 (N·K·OutH·OutW)"},
		{c.BackwardFilter(w, nil, y, y), "kernels: ConvTranspose2D.BackwardFilter: len(x) = 1200, want 200 (N·C·H·W)"},
	} {
		require.EqualError(t, tc.err, tc.want)
	}
	// Nothing was written by the failed calls.
	for _, b := range [][]float32{x, w, y, short} {
		require.Equal(t, make([]float32, len(b)), b)
	}
}

// TestConvTranspose2DOverlap checks that every pass refuses an output that
// shares memory with another argument or with the workspace of
// WithWorkspace, naming both, and writes nothing.
func TestConvTranspose2DOverlap(t *testing.T) {
	p := ConvTranspose2DParams{N: 2, C: 4, H: 4, W: 4, K: 3, R: 3, S: 3, StrideH: 2, StrideW: 2, PadH: 1, PadW: 1, OutPadH: 1, OutPadW: 1}
	m, err := p.Matching()
	require.NoError(t, err)
	n, err := WorkspaceSize(m, WithThreads(1))
	require.NoError(t, err)
	ws := make([]float32, n)
	c, err := NewConvTranspose2D(p, WithThreads(1), WithWorkspace(ws))
	require.NoError(t, err)
	xLen, yLen, wLen, k := 2*4*16, 2*3*64, 4*3*9, 3
	buf := func(n int) []float32 { return testutil.Rand(rand.New(rand.NewPCG(uint64(n), 1)), n) }
	x, w, bias, dy := buf(xLen), buf(wLen), buf(k), buf(yLen)
	big := buf(2 * yLen)
	cases := []struct {
		name, want string
		call       func() error
	}{
		{"y over x", "y overlaps x", func() error { return c.Forward(big[:yLen], big[yLen-1:][:xLen], w, bias) }},
		{"x inside y", "y overlaps x", func() error { return c.Forward(big[:yLen], big[10:][:xLen], w, bias) }},
		{"y over w", "y overlaps w", func() error { return c.Forward(big[:yLen], x, big[yLen/2:][:wLen], bias) }},
		{"y over bias", "y overlaps bias", func() error { return c.Forward(big[:yLen], x, w, big[3:][:k]) }},
		{"dx inside dy", "dx overlaps dy", func() error { return c.BackwardData(big[5:][:xLen], big[:yLen], w) }},
		{"dx over w", "dx overlaps w", func() error { return c.BackwardData(big[:xLen], dy, big[xLen-5:][:wLen]) }},
		{"dw inside dy", "dw overlaps dy", func() error { return c.BackwardFilter(big[1:][:wLen], nil, big[:yLen], x) }},
		{"dw inside x", "dw overlaps x", func() error { return c.BackwardFilter(big[7:][:wLen], nil, dy, big[:xLen]) }},
		{"dbias inside dw", "dw overlaps dbias", func() error { return c.BackwardFilter(big[:wLen], big[2:][:k], dy, x) }},
		{"dbias inside dy", "dbias overlaps dy", func() error { return c.BackwardFilter(w, big[yLen-k:][:k], big[:yLen], x) }},
		{"y in the workspace", "y overlaps the workspace", func() error { return c.Forward(ws[:yLen], x, w, bias) }},
		{"x in the workspace", "x overlaps the workspace", func() error { return c.Forward(big[:yLen], ws[len(ws)-xLen:], w, bias) }},
		{"dy in the workspace", "dy overlaps the workspace", func() error { return c.BackwardData(big[:xLen], ws[:yLen], w) }},
		{"dbias in the workspace", "dbias overlaps the workspace", func() error { return c.BackwardFilter(big[:wLen], ws[:k], dy, x) }},
	}
	for _, tc := range cases {
		before := append([]float32(nil), big...)
		wsBefore := append([]float32(nil), ws...)
		err := tc.call()
		require.ErrorIs(t, err, ErrOverlap, tc.name)
		require.ErrorContains(t, err, "kernels: ConvTranspose2D.", tc.name)
		require.ErrorContains(t, err, tc.want, tc.name)
		require.Equal(t, before, big, "%s: an argument was written", tc.name)
		require.Equal(t, wsBefore, ws, "%s: the workspace was written", tc.name)
	}
	// Adjacent, not overlapping: accepted.
	require.NoError(t, c.Forward(big[:yLen], big[yLen:][:xLen], w, bias))
	require.NoError(t, c.BackwardFilter(big[:wLen], big[wLen:][:k], dy, x))
}
