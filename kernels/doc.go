// Package kernels computes 2-D convolution layers on the CPU, for training
// and inference: the forward pass, the gradient with respect to the input
// (backward-data), and the gradients with respect to the filter and the bias
// (backward-filter), in float32, on SIMD code chosen at run time (package
// simdconv) and without cgo.
//
// # What it computes
//
// Activations are NCHW and filters OIHW (PyTorch's layouts), all contiguous
// row-major []float32: x is N×C×H×W, w is K×(C/G)×R×S and y is N×K×P×Q,
// with G the groups. "Convolution" is cross-correlation, as in every
// deep-learning framework. With g = k/(K/G) the group of output channel k,
//
//	i(p,r) = p·StrideH + r·DilationH − PadTop
//	j(q,s) = q·StrideW + s·DilationW − PadLeft
//
// and x read as 0 outside the image, the passes compute
//
//	y[n,k,p,q]         = bias[k] + Σ_{c,r,s} x[n, g·C/G+c, i(p,r), j(q,s)] · w[k,c,r,s]
//	dx[n,g·C/G+c,i,j]  = Σ_{k in g; p,q,r,s with i(p,r) = i, j(q,s) = j} dy[n,k,p,q] · w[k,c,r,s]
//	dw[k,c,r,s]        = Σ_{n,p,q} dy[n,k,p,q] · x[n, g·C/G+c, i(p,r), j(q,s)]
//	dbias[k]           = Σ_{n,p,q} dy[n,k,p,q]
//
// with P = ⌊(H + PadTop + PadBottom − DilationH·(R−1) − 1)/StrideH⌋ + 1 and
// Q likewise. So dx is the full convolution of dy with the filter rotated by
// 180°, and dw is x correlated with dy as the filter.
//
// # Using a plan
//
// NewConv2D validates a layer's Conv2DParams once and plans all three passes
// for that shape; the resulting *Conv2D is then called for every batch:
//
//	conv, err := kernels.NewConv2D(kernels.Conv2DParams{N: 8, C: 64, H: 56, W: 56, K: 64, R: 3, S: 3,
//		PadTop: 1, PadBottom: 1, PadLeft: 1, PadRight: 1}, kernels.WithThreads(2))
//	…
//	err = conv.Forward(y, x, w, bias)           // bias may be nil
//	err = conv.BackwardData(dx, dy, w)          // dx is overwritten
//	err = conv.BackwardFilter(dw, dbias, dy, x) // dbias may be nil
//
// OutH and OutW give P and Q. Options:
//   - WithThreads(n): the threads a pass uses; 0 (the default) means
//     GOMAXPROCS, 1 runs on the calling goroutine only; more than the
//     machine's CPUs are clamped to their number.
//   - WithWorkspace(ws): run in the caller's memory, at least
//     WorkspaceSize(p, opts...) floats, instead of a workspace of the plan's
//     own. A workspace sized for n threads serves any plan of n or fewer.
//   - WithAccumulate(): BackwardFilter adds into dw and dbias (BLAS beta = 1),
//     for gradient accumulation over several batches.
//   - WithReLU(): Forward applies max(·, 0) to its output.
//
// Each pass picks its method from the shape when the plan is made: matrix
// products packed straight from the tensors; a stencil for depthwise
// layers; and, for few input channels per group (an RGB stem, MNIST,
// LeNet), rows of shifted multiply-adds over padded planes, without the
// products' packing, where a cost model finds them cheaper.
//
// # Guarantees
//
//   - Validation: NewConv2D rejects a bad shape (a size out of range, a
//     group count that does not divide C and K, an empty output, a tensor of
//     more than 2³¹−1 floats), a nil option and an instruction set chosen by
//     SIMDCONV_ISA that this machine cannot run, with an error naming the
//     parameter and its value. Each pass checks its slices first and returns
//     an error naming the argument, the expected length and the actual one,
//     without writing anything.
//   - Outputs never overlap: a pass refuses an output that shares memory
//     with another argument, and an argument inside the WithWorkspace
//     workspace, with an error that names both and wraps ErrOverlap.
//   - Concurrency: a *Conv2D may be used by any number of goroutines at
//     once, every pass, and each call gives bitwise the results it would
//     give alone. Calls on one plan take workspaces the plan keeps, one per
//     call that overlapped another; with WithWorkspace they take turns, and
//     two plans sharing a workspace must not run at the same time.
//   - A pass writes nothing but its outputs and its workspace. In steady
//     state it allocates nothing (testing.AllocsPerRun is 0).
//   - The workspace holds per-thread panels and copies of at most 16 MiB
//     each, plus the rearranged filter: a layer whose copies of x would be
//     larger reads x in place.
//   - Results are bitwise identical for every thread count: threads split
//     the outputs, never a sum. Instruction sets may differ in the last bits,
//     since they block the sums differently.
//   - Special values stay local: each pass computes its sums in float32,
//     the padding as explicit zeros, and a NaN or an infinity in x or dy
//     reaches exactly the outputs whose sums above read it.
//   - No cgo. Building with the purego tag leaves out all assembly.
//
// ConvTranspose2D is PyTorch's ConvTranspose2d on the same passes, their
// roles exchanged: its Forward is a convolution's BackwardData.
//
// # Helpers
//
// Correlate2D ("valid" cross-correlation) and FullConv2D (a true
// convolution in "full" mode) work on one h×w plane and one r×s filter, the
// textbook operations that Forward and BackwardData generalise. Im2col
// writes a layer's column matrix and Col2im is its adjoint, for users who
// need them; the passes never build that matrix. Each helper plans its
// layer on every call, so, unlike the passes, they allocate.
package kernels
