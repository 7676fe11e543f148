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
			require.Equal(t, c.route == routeFull, got.BackwardData == "full" || got.BackwardData == "full-t", p)
			require.Equal(t, c.forwardT && c.stencil == nil && (c.few == nil || !c.few.forward), got.Forward == "gemm-t", p)
		}
		for _, want := range []string{"F gemm", "F rows", "D full", "D gemm-col2im", "D rows", "W gemm", "W rows"} {
			require.True(t, seen[want], "no test shape takes %s", want)
		}
	})
	require.Equal(t, "forward gemm, backward-data full, backward-filter shifted", Paths{"gemm", "full", "shifted"}.String())
}
