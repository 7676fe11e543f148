// Package layers is the benchmark layer table, L1 to L10 (the layers of the
// README's speed table), shared by kernels' BenchmarkConv2D and the bench
// program. Its names are stable: the history in results/ depends on them.
package layers

import "github.com/simdconv/simdconv/kernels"

// Layer is one shape of the table with the fastest peer library's
// single-thread GFLOP/s for {forward, backward-data, backward-filter},
// measured on an AMD Zen 5 (family 26), not on the machine that runs the
// benchmark; results/peers-zen4.md has the peers rerun on the Zen 4 of results/.
type Layer struct {
	Name, Note string
	Params     kernels.Conv2DParams
	Peer       [3]float64
}

// Table lists L1 to L10.
var Table = []Layer{
	{"L1", "ResNet stem", sq(1, 3, 224, 64, 7, 2, 3, 1, 1), [3]float64{235, 123, 194}},
	{"L2", "", sq(1, 64, 56, 64, 3, 1, 1, 1, 1), [3]float64{246, 251, 240}},
	{"L3", "", sq(1, 128, 28, 128, 3, 1, 1, 1, 1), [3]float64{245, 249, 237}},
	{"L4", "", sq(1, 256, 14, 256, 3, 1, 1, 1, 1), [3]float64{220, 221, 211}},
	{"L5", "", sq(1, 512, 7, 512, 3, 1, 1, 1, 1), [3]float64{201, 163, 201}},
	{"L6", "pointwise", sq(1, 256, 56, 64, 1, 1, 0, 1, 1), [3]float64{258, 254, 212}},
	{"L7", "small-batch training", sq(8, 32, 28, 64, 5, 1, 2, 1, 1), [3]float64{266, 269, 257}},
	{"L8", "MNIST first layer", sq(32, 1, 28, 32, 3, 1, 0, 1, 1), [3]float64{155, 108, 121}},
	{"L9", "depthwise", sq(1, 256, 28, 256, 3, 1, 1, 1, 256), [3]float64{59, 54, 62}},
	{"L10", "dilated", sq(1, 64, 56, 64, 3, 1, 2, 2, 1), [3]float64{246, 250, 242}},
}

// sq is a layer with square input, filter, stride, padding and dilation.
func sq(n, c, hw, k, rs, stride, pad, dil, groups int) kernels.Conv2DParams {
	return kernels.Conv2DParams{N: n, C: c, H: hw, W: hw, K: k, R: rs, S: rs,
		StrideH: stride, StrideW: stride, PadTop: pad, PadBottom: pad, PadLeft: pad, PadRight: pad,
		DilationH: dil, DilationW: dil, Groups: groups}
}
