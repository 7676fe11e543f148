package kernels

import (
	"testing"

	"github.com/simdconv/simdconv/internal/engine"
	"github.com/stretchr/testify/require"
)

// TestPaths pins the paths that follow from a layer's kind rather than from
// a cost model, on every ISA, and checks that the cost models' choices are
// reported as they run: Paths reads the same plan fields the passes branch on.
func TestPaths(t *testing.T) {
	sq := func(n, c, hw, k, rs, stride, pad, groups int) Conv2DParams {
		return Conv2DParams{N: n, C: c, H: hw, W: hw, K: k, R: rs, S: rs, StrideH: stride, StrideW: stride,
			PadTop: pad, PadBottom: pad, PadLeft: pad, PadRight: pad, Groups: groups}
	}
	same := func(p string) Paths { return Paths{p, p, p} }
	layers := []struct {
		name      string
		p         Conv2DParams
		opts      []Option
		want, dwc Paths // dwc: on an ISA with the interleaved depthwise kernels
	}{
		{"pointwise", sq(1, 256, 56, 64, 1, 1, 0, 1), nil, same("gemm-x"), same("gemm-x")},
		{"strided 1×1", sq(1, 64, 56, 128, 1, 2, 0, 1), nil, same("gemm-sub"), same("gemm-sub")},
		{"depthwise", sq(1, 256, 28, 256, 3, 1, 1, 256), nil, same("stencil"), same("dwc")},
		{"depthwise s2", sq(1, 96, 112, 96, 3, 2, 1, 96), nil, same("stencil"), same("dwc")},
		{"channel multiplier", sq(1, 8, 20, 16, 3, 1, 1, 8), nil, same("stencil"), same("stencil")},
		{"Winograd", sq(1, 64, 56, 64, 3, 1, 1, 1), []Option{WithAlgorithm(Winograd)}, same("winograd"), same("winograd")},
	}
	registry.ForEachISA(t, func(t *testing.T) {
		for _, l := range layers {
			c, err := NewConv2D(l.p, l.opts...)
			require.NoError(t, err)
			want := l.want
			if engine.DwcLanes(l.p.C) > 0 {
				want = l.dwc
			}
			require.Equal(t, want, c.Paths(), l.name)
		}
		// The cost models' choices, as the plan records them.
		c, err := NewConv2D(sq(64, 1, 28, 6, 5, 1, 2, 1)) // LeNet's first layer (Z22)
		require.NoError(t, err)
		require.Equal(t, fewPasses(c) == "FDW", c.Paths() == same("rows"))
		seen := map[string]bool{}
		for _, p := range testShapes {
			c, err := NewConv2D(p)
			require.NoError(t, err)
			got := c.Paths()
			seen["F "+got.Forward], seen["D "+got.BackwardData], seen["W "+got.BackwardFilter] = true, true, true
			require.Equal(t, c.few != nil && c.few.forward, got.Forward == "rows", p)
			require.Equal(t, c.ind != nil, got.Forward == "indirect", p)
			require.Equal(t, c.route == routeFull, got.BackwardData == "full" || got.BackwardData == "full-t", p)
			require.Equal(t, c.forwardT && c.stencil == nil && (c.few == nil || !c.few.forward), got.Forward == "gemm-t", p)
		}
		for _, want := range []string{"F gemm", "F rows", "D gemm-col2im", "D rows", "W gemm", "W rows"} {
			require.True(t, seen[want], "no test shape takes %s", want)
		}
		// With SIMD the indirect route costs less than the full one on
		// every test shape but a depthwise one that amd64 does not
		// interleave; conv_test.go runs the full route on each shape.
		if mr, _, _ := engine.IndirectTile(); mr > 0 && engine.Native() {
			require.True(t, seen["F indirect"], "no test shape takes F indirect")
			require.True(t, seen["D indirect"], "no test shape takes D indirect")
		} else {
			require.True(t, seen["D full"], "no test shape takes D full")
		}
	})
	require.Equal(t, "forward gemm, backward-data full, backward-filter shifted", Paths{"gemm", "full", "shifted"}.String())
}

// TestShiftedWide checks planShifted's rule for rows padded by more than a
// fifth: the Shifted form for DeepLab's atrous layer (Z29), whose column
// matrix a SIMD GEMM would gather a float at a time (the generic one keeps
// the GEMM), and the GEMM for a 7×7 ResNet layer (L5), whose column matrix
// it writes out first.
func TestShiftedWide(t *testing.T) {
	atrous := Conv2DParams{N: 1, C: 256, H: 32, W: 32, K: 256, R: 3, S: 3, DilationH: 4, DilationW: 4,
		PadTop: 4, PadBottom: 4, PadLeft: 4, PadRight: 4}
	registry.ForEachISA(t, func(t *testing.T) {
		c, err := NewConv2D(atrous)
		require.NoError(t, err)
		require.Equal(t, engine.Native(), c.shifted != nil, "atrous")
	})
	small := Conv2DParams{N: 1, C: 512, H: 7, W: 7, K: 512, R: 3, S: 3, PadTop: 1, PadBottom: 1, PadLeft: 1, PadRight: 1}
	c, err := NewConv2D(small)
	require.NoError(t, err)
	require.Nil(t, c.shifted, "7×7")
	require.True(t, c.imRows, "7×7")
}
