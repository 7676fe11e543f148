// Package layers is the benchmark layer table, L1 to L10 (the layers of the
// README's speed table), shared by kernels' BenchmarkConv2D and the bench
// program, and the zoo of real networks' layers, Z01 to Z32 (zoo.go). Its
// names are stable: the history in results/ depends on them.
package layers

import "github.com/simdconv/simdconv/kernels"

// Layer is one shape of the table. Peer figures are not kept here: they
// belong to the machine that measured them, so the bench program reads them
// from results/peers/.
type Layer struct {
	Name, Note string
	Params     kernels.Conv2DParams
}

// Table lists L1 to L10.
var Table = []Layer{
	{"L1", "ResNet stem", sq(1, 3, 224, 64, 7, 2, 3, 1, 1)},
	{"L2", "", sq(1, 64, 56, 64, 3, 1, 1, 1, 1)},
	{"L3", "", sq(1, 128, 28, 128, 3, 1, 1, 1, 1)},
	{"L4", "", sq(1, 256, 14, 256, 3, 1, 1, 1, 1)},
	{"L5", "", sq(1, 512, 7, 512, 3, 1, 1, 1, 1)},
	{"L6", "pointwise", sq(1, 256, 56, 64, 1, 1, 0, 1, 1)},
	{"L7", "small-batch training", sq(8, 32, 28, 64, 5, 1, 2, 1, 1)},
	{"L8", "MNIST first layer", sq(32, 1, 28, 32, 3, 1, 0, 1, 1)},
	{"L9", "depthwise", sq(1, 256, 28, 256, 3, 1, 1, 1, 256)},
	{"L10", "dilated", sq(1, 64, 56, 64, 3, 1, 2, 2, 1)},
}

// sq is a layer with square input, filter, stride, padding and dilation.
func sq(n, c, hw, k, rs, stride, pad, dil, groups int) kernels.Conv2DParams {
	return kernels.Conv2DParams{N: n, C: c, H: hw, W: hw, K: k, R: rs, S: rs,
		StrideH: stride, StrideW: stride, PadTop: pad, PadBottom: pad, PadLeft: pad, PadRight: pad,
		DilationH: dil, DilationW: dil, Groups: groups}
}
