package kernels_test

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/simdconv/simdconv"
	"github.com/simdconv/simdconv/internal/layers"
	"github.com/simdconv/simdconv/internal/testutil"
	"github.com/simdconv/simdconv/kernels"
	"github.com/stretchr/testify/require"
)

// BenchmarkConv2D times every pass of the layer table on every ISA, at one
// and two threads. FLOPs are 2·N·K·(C/G)·R·S·P·Q for every pass.
func BenchmarkConv2D(b *testing.B) {
	for _, l := range layers.Table {
		for _, pass := range []string{"forward", "backward-data", "backward-filter"} {
			for _, isa := range simdconv.ISAs() {
				for _, threads := range []int{1, 2} {
					b.Run(fmt.Sprintf("layer=%s/pass=%s/isa=%s/threads=%d", l.Name, pass, isa, threads), func(b *testing.B) {
						benchConv(b, l.Params, pass, isa, threads)
					})
				}
			}
		}
	}
}

func benchConv(b *testing.B, p kernels.Conv2DParams, pass, isa string, threads int) {
	prev := simdconv.ISA()
	defer simdconv.SetISA(prev)
	require.NoError(b, simdconv.SetISA(isa))
	c, err := kernels.NewConv2D(p, kernels.WithThreads(threads))
	require.NoError(b, err)
	p = c.Params()
	pq := c.OutH() * c.OutW()
	r := rand.New(rand.NewPCG(1, 2))
	x := testutil.Rand(r, p.N*p.C*p.H*p.W)
	w := testutil.Rand(r, p.K*p.C/p.Groups*p.R*p.S)
	y := testutil.Rand(r, p.N*p.K*pq)
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
	flops := 2 * float64(p.N*p.K*p.C/p.Groups*p.R*p.S) * float64(pq)
	b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
}
