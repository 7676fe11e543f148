package kernels

// ConvTranspose2D is a validated transposed convolution layer, PyTorch's
// ConvTranspose2d: the adjoint of a convolution, which spreads each input
// value over the output through the filter. With g = c/(C/G) the group of
// input channel c, k < K/G an output channel of that group, and
//
//	i(p,r) = p·StrideH + r·DilationH − PadH
//	j(q,s) = q·StrideW + s·DilationW − PadW
//
// its passes compute
//
//	y[n, g·K/G+k, i, j] = bias[g·K/G+k] + Σ_{c in g; p,q,r,s with i(p,r) = i, j(q,s) = j} x[n,c,p,q] · w[c,k,r,s]
//	dx[n,c,p,q]         = Σ_{k,r,s} dy[n, g·K/G+k, i(p,r), j(q,s)] · w[c,k,r,s]
//	dw[c,k,r,s]         = Σ_{n,p,q} x[n,c,p,q] · dy[n, g·K/G+k, i(p,r), j(q,s)]
//	dbias[g·K/G+k]      = Σ_{n,i,j} dy[n, g·K/G+k, i, j]
//
// with dy read as 0 outside the output. These are the passes of the
// matching convolution (ConvTranspose2DParams.Matching) with their roles
// exchanged: Forward is its BackwardData, BackwardData its Forward, and
// BackwardFilter its BackwardFilter with x and dy swapped. The layer runs on
// a *Conv2D of that convolution and keeps its contract: each pass checks its
// slices and their overlap first, is safe for concurrent use, gives the
// same bits on every thread count and allocates nothing in steady state.
type ConvTranspose2D struct {
	p    ConvTranspose2DParams // with defaults filled in
	conv *Conv2D               // the matching convolution
	relu bool                  // Forward applies max(·, 0) after the bias

	outHW            int // OutH·OutW
	xLen, yLen, wLen int // the convolution's yLen, xLen and wLen
}

// NewConvTranspose2D validates p and the options once and plans the three
// passes on the matching convolution. The error names the offending
// parameter or option and its value. The options are those of NewConv2D:
// WithThreads, WithWorkspace (of WorkspaceSize(p.Matching()) floats),
// WithAccumulate for BackwardFilter's dw and dbias, WithReLU for
// Forward's output, and WithAlgorithm, whose Winograd fits a layer whose
// matching convolution it fits.
func NewConvTranspose2D(p ConvTranspose2DParams, opts ...Option) (*ConvTranspose2D, error) {
	m, err := p.Matching()
	if err != nil {
		return nil, err
	}
	conv, err := NewConv2D(m, opts...)
	if err != nil {
		return nil, err
	}
	// The convolution's ReLU would act on its Forward, which is this
	// layer's BackwardData: the layer applies it itself.
	t := &ConvTranspose2D{conv: conv, relu: conv.relu}
	conv.relu = false
	s := conv.s
	t.p = p
	t.p.StrideH, t.p.StrideW, t.p.DilationH, t.p.DilationW, t.p.Groups = s.StrideH, s.StrideW, s.DilationH, s.DilationW, s.Groups
	t.outHW, t.xLen, t.yLen, t.wLen = s.HW, s.yLen, s.xLen, s.wLen
	return t, nil
}

// OutH returns the output height, (H−1)·StrideH − 2·PadH + DilationH·(R−1)
// + OutPadH + 1.
func (t *ConvTranspose2D) OutH() int { return t.conv.s.H }

// OutW returns the output width, (W−1)·StrideW − 2·PadW + DilationW·(S−1)
// + OutPadW + 1.
func (t *ConvTranspose2D) OutW() int { return t.conv.s.W }

// Params returns the layer's parameters with defaults filled in.
func (t *ConvTranspose2D) Params() ConvTranspose2DParams { return t.p }

// WorkspaceSize is the number of float32s of workspace the layer uses:
// that of the matching convolution's plan.
func (t *ConvTranspose2D) WorkspaceSize() int { return t.conv.WorkspaceSize() }

// Forward computes y, N×K×OutH×OutW, from x (N×C×H×W), w (C×K/Groups×R×S)
// and bias (nil or K long): each input value times the filter, added into
// the output at stride (StrideH, StrideW), cropped by the padding, plus the
// bias. With WithReLU, y is max(·, 0) of that. y is overwritten.
//
// It is the matching convolution's BackwardData, with x as its dy, and one
// more pass over y for the bias and ReLU.
func (t *ConvTranspose2D) Forward(y, x, w, bias []float32) error {
	if err := checkArgs("ConvTranspose2D.Forward", t.conv.ws,
		arg{name: "y", x: y, want: t.yLen, what: "N·K·OutH·OutW", out: true},
		arg{name: "x", x: x, want: t.xLen, what: "N·C·H·W"},
		arg{name: "w", x: w, want: t.wLen, what: "C·K/Groups·R·S"},
		arg{name: "bias", x: bias, want: t.p.K, what: "K", optional: true}); err != nil {
		return err
	}
	if err := t.conv.BackwardData(y, x, w); err != nil {
		return err
	}
	t.addBias(y, bias)
	return nil
}

// addBias adds bias[k] to every output of channel k, when bias is not nil,
// then applies the ReLU if the layer has one.
func (t *ConvTranspose2D) addBias(y, bias []float32) {
	if bias == nil && !t.relu {
		return
	}
	for i := 0; i < len(y); i += t.outHW {
		plane := y[i:][:t.outHW]
		if bias != nil {
			b := bias[i/t.outHW%t.p.K]
			for j := range plane {
				plane[j] += b
			}
		}
		if t.relu {
			for j, v := range plane {
				plane[j] = max(v, 0)
			}
		}
	}
}

// BackwardData computes dx (N×C×H×W), the gradient of the loss with
// respect to the input, from dy (N×K×OutH×OutW) and w: the correlation of
// dy with the filter at stride (StrideH, StrideW), the padding read as
// zeros. dx is overwritten.
//
// It is the matching convolution's Forward, with dy as its x and no bias.
func (t *ConvTranspose2D) BackwardData(dx, dy, w []float32) error {
	if err := checkArgs("ConvTranspose2D.BackwardData", t.conv.ws,
		arg{name: "dx", x: dx, want: t.xLen, what: "N·C·H·W", out: true},
		arg{name: "dy", x: dy, want: t.yLen, what: "N·K·OutH·OutW"},
		arg{name: "w", x: w, want: t.wLen, what: "C·K/Groups·R·S"}); err != nil {
		return err
	}
	return t.conv.Forward(dx, dy, w, nil)
}

// BackwardFilter computes the filter gradient dw (C×K/Groups×R×S) from dy
// (N×K×OutH×OutW) and x (N×C×H×W): dy correlated with x as the filter,
// summed over the images, and, when dbias is not nil, the bias gradient
// dbias[k] = Σ_{n,i,j} dy[n,k,i,j]. With WithAccumulate both are added to
// what dw and dbias hold.
//
// dw is the matching convolution's BackwardFilter with dy as its x and x as
// its dy: that convolution's filter is this layer's, as it lies in memory.
// The bias, which the convolution's output does not have, is summed here.
func (t *ConvTranspose2D) BackwardFilter(dw, dbias, dy, x []float32) error {
	if err := checkArgs("ConvTranspose2D.BackwardFilter", t.conv.ws,
		arg{name: "dw", x: dw, want: t.wLen, what: "C·K/Groups·R·S", out: true},
		arg{name: "dbias", x: dbias, want: t.p.K, what: "K", optional: true, out: true},
		arg{name: "dy", x: dy, want: t.yLen, what: "N·K·OutH·OutW"},
		arg{name: "x", x: x, want: t.xLen, what: "N·C·H·W"}); err != nil {
		return err
	}
	if err := t.conv.BackwardFilter(dw, nil, x, dy); err != nil {
		return err
	}
	if dbias != nil {
		sumChannels(dbias, dy, t.p.N, t.outHW, t.conv.accumulate)
	}
	return nil
}
