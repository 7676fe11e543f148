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
//   - WithAlgorithm(a): Direct (the default) computes the defining sums;
//     Winograd computes a 3×3 stride-1 layer with F(4×4, 3×3) (see
//     Winograd below); Auto takes Winograd for each pass that it fits and
//     that a cost model of the shape predicts faster, and Direct for the
//     others.
//
// Each pass picks its method from the shape when the plan is made: matrix
// products packed straight from the tensors; for depthwise layers, blocks
// of a vector's lanes of channels interleaved position by position (a
// stencil per plane where the ISA has no such kernels); and, for few
// input channels per group (an RGB stem, MNIST,
// LeNet), rows of shifted multiply-adds over padded planes, without the
// products' packing, where a cost model finds them cheaper. Paths names
// the method of each pass; go run ./internal/cmd/paths lists them for the
// benchmark layers on this machine.
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
//     larger reads x in place. Winograd adds the transformed filter (36·K·C
//     floats) and one block of transformed tiles (see Winograd below).
//   - Results are bitwise identical for every thread count: threads split
//     the outputs, never a sum. Instruction sets may differ in the last bits,
//     since they block the sums differently.
//   - Special values stay local: each pass computes its sums in float32,
//     the padding as explicit zeros, and a NaN or an infinity in x or dy
//     reaches exactly the outputs whose sums above read it. Winograd
//     spreads one further, within a tile (see Winograd below).
//   - No cgo. Building with the purego tag leaves out all assembly.
//
// # Winograd
//
// WithAlgorithm(Winograd) computes all three passes with Winograd's
// F(4×4, 3×3) (Lavin and Gray, arXiv 1509.09308): 4×4 output tiles from
// 6×6 input tiles at 36 transform points, 2.25 times fewer
// multiplications than the direct sums. It fits layers with R = S = 3,
// stride 1, dilation 1, padding at most 2 on each side and Groups = 1;
// NewConv2D refuses any other layer, naming the parameter. (A grouped
// layer's products per group would be too small to gain.) Backward-data
// is the same correlation of dY, padded by 2 − pad, with the rotated
// filter; backward-filter sums Gᵀ[(A e Aᵀ) ⊙ (Bᵀ d B)]G over the tiles.
//
// Accuracy: the transforms' coefficients grow the rounding errors. With u
// = 2⁻²⁴ and γ_n = n·u/(1 − n·u), an output of a forward tile obeys
//
//	|ŷ − y| ≤ γ_{C+25} · κ_i·κ_j · Σ_c max|w[k,c]| · max|x[c] in the tile's 6×6 window|
//
// with κ = (16, 17, 24, 48) for the tile's rows and columns i, j (at most
// 48² = 2304); backward-data likewise with K in place of C; the filter
// gradient with κ′ = (23⅓, 28⅓, 53⅓), Σ over the tiles of all images of
// max|dy tile|·max|x window|, and γ over those tiles plus 52. The
// constants 25 and 52 count the roundings on a term's way through the
// transforms. On unit-normal data the largest error relative to Σ|terms| is
// 8 to 51 times the direct pass's, 10⁻⁷ to 10⁻⁵ (results/winograd-accuracy.md).
//
// Special values: a NaN or an infinity in x (or dy) reaches every output
// of each 4×4 tile (every channel) whose input window holds it, not just
// the outputs that read it; in backward-filter it reaches every filter of
// its channel.
//
// Threads split the input transform by channel, the 36 products by
// point and the output transform by channel, never the sum over tiles, so
// results stay bitwise identical for every thread count. The tiles of all
// images form one sequence, cut into blocks whose transforms stay in L2;
// the workspace holds the transformed filter, one block's transforms and
// products, and each thread's bands.
//
// Auto predicts each pass's speed-up from the shape (the flops of both
// algorithms and the costs of the transforms and of reading the
// transformed filter, fitted to measurements: results/winograd-speed.md)
// and takes Winograd where it exceeds 1, on an ISA with SIMD band
// transforms only (not on generic).
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
