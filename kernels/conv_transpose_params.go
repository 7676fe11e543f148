package kernels

import "fmt"

// ConvTranspose2DParams describes a 2-D transposed convolution layer,
// PyTorch's torch.nn.ConvTranspose2d, on NCHW data. The input is N×C×H×W,
// the filter C×(K/Groups)×R×S (PyTorch's layout for a transposed
// convolution) and the output N×K×OutH×OutW, all contiguous row-major
// float32, with
//
//	OutH = (H−1)·StrideH − 2·PadH + DilationH·(R−1) + OutPadH + 1
//
// and OutW likewise.
type ConvTranspose2DParams struct {
	N, C, H, W int // input batch, channels, height and width
	K, R, S    int // output channels, filter height and width

	StrideH, StrideW     int // 0 means 1
	PadH, PadW           int // rows cropped from the top and bottom, columns from the left and right
	OutPadH, OutPadW     int // rows added at the bottom, columns at the right; less than the stride or the dilation
	DilationH, DilationW int // 0 means 1
	Groups               int // 0 means 1; C and K must be divisible by it
}

// Matching returns the parameters of the convolution that the layer is the
// transpose of: its input is the layer's output (N×K×OutH×OutW), its output
// the layer's input (N×C×H×W), and its filter, K'×(C'/Groups)×R×S with
// K' = C and C' = K, is the layer's filter as it lies in memory. It fails
// as NewConvTranspose2D does. WorkspaceSize(Matching()) sizes a workspace
// for WithWorkspace.
//
// The matching convolution pads the top by PadH and the bottom by
// PadH − OutPadH, or 0 if that is negative: the output padding rows are
// either under the bottom padding or past the last window. When OutPadH ≥
// StrideH + PadH, which PyTorch allows if DilationH > OutPadH, the
// convolution would need a negative bottom padding, and the layer is
// refused.
func (p ConvTranspose2DParams) Matching() (Conv2DParams, error) {
	if err := checkFields(
		[]field{{"StrideH", &p.StrideH}, {"StrideW", &p.StrideW}, {"DilationH", &p.DilationH}, {"DilationW", &p.DilationW}, {"Groups", &p.Groups}},
		[]field{{"N", &p.N}, {"C", &p.C}, {"H", &p.H}, {"W", &p.W}, {"K", &p.K}, {"R", &p.R}, {"S", &p.S}},
		p.C, p.K, &p.Groups); err != nil {
		return Conv2DParams{}, err
	}
	outH, err := transposedSize("H", "R", p.H, p.R, p.StrideH, p.PadH, p.OutPadH, p.DilationH)
	if err != nil {
		return Conv2DParams{}, err
	}
	outW, err := transposedSize("W", "S", p.W, p.S, p.StrideW, p.PadW, p.OutPadW, p.DilationW)
	if err != nil {
		return Conv2DParams{}, err
	}
	// The lengths of x, y and w in the layer's names: the convolution
	// would report them in its own.
	for _, z := range []struct {
		name string
		f    []int
	}{
		{"N·C·H·W", []int{p.N, p.C, p.H, p.W}},
		{"N·K·OutH·OutW", []int{p.N, p.K, outH, outW}},
		{"C·K/Groups·R·S", []int{p.C, p.K / p.Groups, p.R, p.S}},
	} {
		if _, err := product(z.name, z.f...); err != nil {
			return Conv2DParams{}, err
		}
	}
	return Conv2DParams{N: p.N, C: p.K, H: outH, W: outW, K: p.C, R: p.R, S: p.S,
		StrideH: p.StrideH, StrideW: p.StrideW,
		PadTop: p.PadH, PadBottom: max(p.PadH-p.OutPadH, 0),
		PadLeft: p.PadW, PadRight: max(p.PadW-p.OutPadW, 0),
		DilationH: p.DilationH, DilationW: p.DilationW, Groups: p.Groups}, nil
}

// transposedSize validates the parameters of one dimension, dim "H" with
// filter "R" or "W" with "S", and returns its output size (in−1)·stride −
// 2·pad + dilation·(taps−1) + outPad + 1. stride and dilation are at most
// limit, so no term overflows an int64.
func transposedSize(dim, filter string, in, taps, stride, pad, outPad, dilation int) (int, error) {
	if pad < 0 || pad > limit {
		return 0, fmt.Errorf("kernels: Pad%s = %d, want 0 to %d", dim, pad, limit)
	}
	if outPad < 0 || outPad >= max(stride, dilation) {
		return 0, fmt.Errorf("kernels: OutPad%s = %d, want ≥ 0 and less than Stride%s = %d or Dilation%s = %d (as PyTorch)",
			dim, outPad, dim, stride, dim, dilation)
	}
	if outPad >= stride+pad {
		return 0, fmt.Errorf("kernels: OutPad%s = %d ≥ Stride%s + Pad%s = %d is not supported: the matching convolution would need a negative padding",
			dim, outPad, dim, dim, stride+pad)
	}
	out := int64(in-1)*int64(stride) - 2*int64(pad) + int64(dilation)*int64(taps-1) + int64(outPad) + 1
	if out < 1 || out > limit {
		return 0, fmt.Errorf("kernels: Out%s = (%s−1)·Stride%s − 2·Pad%s + Dilation%s·(%s−1) + OutPad%s + 1 = %d, want 1 to %d",
			dim, dim, dim, dim, dim, filter, dim, out, limit)
	}
	return int(out), nil
}
