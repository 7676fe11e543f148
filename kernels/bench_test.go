package kernels

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/simdconv/simdconv"
	"github.com/simdconv/simdconv/internal/testutil"
	"github.com/stretchr/testify/require"
)

// Layers is the benchmark table of DESIGN §6. Its names are stable: the
// history in results/ depends on them.
var Layers = []struct {
	Name string
	P    Conv2DParams
}{
	{"L1", sq(1, 3, 224, 64, 7, 2, 3, 1, 1)},
	{"L2", sq(1, 64, 56, 64, 3, 1, 1, 1, 1)},
	{"L3", sq(1, 128, 28, 128, 3, 1, 1, 1, 1)},
	{"L4", sq(1, 256, 14, 256, 3, 1, 1, 1, 1)},
	{"L5", sq(1, 512, 7, 512, 3, 1, 1, 1, 1)},
	{"L6", sq(1, 256, 56, 64, 1, 1, 0, 1, 1)},
	{"L7", sq(8, 32, 28, 64, 5, 1, 2, 1, 1)},
	{"L8", sq(32, 1, 28, 32, 3, 1, 0, 1, 1)},
	{"L9", sq(1, 256, 28, 256, 3, 1, 1, 1, 256)},
	{"L10", sq(1, 64, 56, 64, 3, 1, 2, 2, 1)},
}

// sq is a layer with square input, filter, stride, padding and dilation.
func sq(n, c, hw, k, rs, stride, pad, dil, groups int) Conv2DParams {
	return Conv2DParams{N: n, C: c, H: hw, W: hw, K: k, R: rs, S: rs, StrideH: stride, StrideW: stride,
		PadTop: pad, PadBottom: pad, PadLeft: pad, PadRight: pad, DilationH: dil, DilationW: dil, Groups: groups}
}

func BenchmarkConv2D(b *testing.B) {
	for _, l := range Layers {
		for _, pass := range []string{"forward", "backward-data", "backward-filter"} {
			for _, isa := range simdconv.ISAs() {
				for _, threads := range []int{1, 2} {
					b.Run(fmt.Sprintf("layer=%s/pass=%s/isa=%s/threads=%d", l.Name, pass, isa, threads), func(b *testing.B) {
						benchConv(b, l.P, pass, isa, threads)
					})
				}
			}
		}
	}
}

func benchConv(b *testing.B, p Conv2DParams, pass, isa string, threads int) {
	prev := simdconv.ISA()
	defer simdconv.SetISA(prev)
	require.NoError(b, simdconv.SetISA(isa))
	c, err := NewConv2D(p, WithThreads(threads))
	require.NoError(b, err)
	s := c.s
	r := rand.New(rand.NewPCG(1, 2))
	x, w, y := testutil.Rand(r, s.xLen), testutil.Rand(r, s.wLen), testutil.Rand(r, s.yLen)
	call := map[string]func() error{
		"forward":         func() error { return c.Forward(y, x, w, nil) },
		"backward-data":   func() error { return c.BackwardData(x, y, w) },
		"backward-filter": func() error { return c.BackwardFilter(w, nil, y, x) },
	}[pass]
	require.NoError(b, call())
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		_ = call()
	}
	flops := 2 * float64(s.N*s.K*s.CRSg) * float64(s.PQ)
	b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
}
