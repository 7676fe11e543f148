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
func BenchmarkConv2D(b *testing.B) { benchLayers(b, layers.Table) }

// BenchmarkConv2DZoo is BenchmarkConv2D on the zoo's layers of real
// networks (layers.Zoo).
func BenchmarkConv2DZoo(b *testing.B) { benchLayers(b, layers.Zoo) }

// BenchmarkConv2DWinograd times every pass of the 3×3 stride-1 layers of
// the layer table and the zoo that Winograd fits, with
// WithAlgorithm(Winograd), beside BenchmarkConv2D's and
// BenchmarkConv2DZoo's direct passes. GFLOP/s counts the direct pass's
// FLOPs, 2·N·K·(C/G)·R·S·P·Q, so the two compare as speeds.
func BenchmarkConv2DWinograd(b *testing.B) {
	var fit []layers.Layer
	for _, l := range append(layers.Table[:len(layers.Table):len(layers.Table)], layers.Zoo...) {
		if _, err := kernels.NewConv2D(l.Params, kernels.WithAlgorithm(kernels.Winograd)); err == nil {
			fit = append(fit, l)
		}
	}
	benchLayers(b, fit, kernels.WithAlgorithm(kernels.Winograd))
}

// benchLayers times every pass of ls on every ISA at one and two threads.
func benchLayers(b *testing.B, ls []layers.Layer, opts ...kernels.Option) {
	for _, l := range ls {
		for _, pass := range []string{"forward", "backward-data", "backward-filter"} {
			for _, isa := range simdconv.ISAs() {
				for _, threads := range []int{1, 2} {
					b.Run(fmt.Sprintf("layer=%s/pass=%s/isa=%s/threads=%d", l.Name, pass, isa, threads), func(b *testing.B) {
						benchConv(b, l.Params, pass, isa, threads, opts...)
					})
				}
			}
		}
	}
}

func benchConv(b *testing.B, p kernels.Conv2DParams, pass, isa string, threads int, opts ...kernels.Option) {
	prev := simdconv.ISA()
	defer simdconv.SetISA(prev)
	require.NoError(b, simdconv.SetISA(isa))
	c, err := kernels.NewConv2D(p, append([]kernels.Option{kernels.WithThreads(threads)}, opts...)...)
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

// BenchmarkDepthwiseStrided times the stride-2 depthwise layers of
// ../shared/peers/zoo_shapes.csv (MobileNetV2 Z10 and Z11, EfficientNet-B0's
// 5×5 Z15), every pass, at one thread, on every ISA.
func BenchmarkDepthwiseStrided(b *testing.B) {
	for _, z := range []struct {
		name              string
		c, hw, r, padding int
	}{{"Z10", 96, 112, 3, 1}, {"Z11", 192, 28, 3, 1}, {"Z15", 240, 28, 5, 2}} {
		p := kernels.Conv2DParams{N: 1, C: z.c, H: z.hw, W: z.hw, K: z.c, R: z.r, S: z.r, Groups: z.c,
			StrideH: 2, StrideW: 2, PadTop: z.padding, PadBottom: z.padding, PadLeft: z.padding, PadRight: z.padding}
		for _, pass := range []string{"forward", "backward-data", "backward-filter"} {
			for _, isa := range simdconv.ISAs() {
				b.Run(fmt.Sprintf("layer=%s/pass=%s/isa=%s", z.name, pass, isa), func(b *testing.B) {
					benchConv(b, p, pass, isa, 1)
				})
			}
		}
	}
}

// BenchmarkFewChannels times the layers of ../shared/peers/zoo_shapes.csv
// with few input channels (LeNet's Z22 and Z23, a CIFAR stem Z27, the
// stems of VGG, Z18, and MobileNetV2, Z08), every pass, at one thread, on
// every ISA.
func BenchmarkFewChannels(b *testing.B) {
	for _, z := range []struct {
		name                        string
		n, c, hw, k, r, stride, pad int
	}{{"Z22", 64, 1, 28, 6, 5, 1, 2}, {"Z23", 64, 6, 14, 16, 5, 1, 0}, {"Z27", 64, 3, 32, 16, 3, 1, 1},
		{"Z18", 1, 3, 224, 64, 3, 1, 1}, {"Z08", 1, 3, 224, 32, 3, 2, 1}} {
		p := kernels.Conv2DParams{N: z.n, C: z.c, H: z.hw, W: z.hw, K: z.k, R: z.r, S: z.r, StrideH: z.stride, StrideW: z.stride,
			PadTop: z.pad, PadBottom: z.pad, PadLeft: z.pad, PadRight: z.pad}
		for _, pass := range []string{"forward", "backward-data", "backward-filter"} {
			for _, isa := range simdconv.ISAs() {
				b.Run(fmt.Sprintf("layer=%s/pass=%s/isa=%s", z.name, pass, isa), func(b *testing.B) {
					benchConv(b, p, pass, isa, 1)
				})
			}
		}
	}
}
