// Package engine is the part of the SIMD layer that package kernels builds
// convolutions from: matrix products whose operands are packed straight
// from tensors (Gemm, with Dense, Im2col, Im2colT and Shifted operands),
// the threaded runner, and the row and stencil helpers of the depthwise
// paths.
//
// The types here are plain descriptions. The code that runs them is the
// driver in package simdconv, which must hold the assembly (the generated
// kernels_*.s sit at the module's top level) and installs itself here when
// it is initialised; package kernels imports simdconv for that. Inside the
// driver every kernel is called directly; only these entry points, once
// per product or row block, go through the installed interface.
package engine

import "unsafe"

// Line is a cache line in floats. Buffers that kernels stream through
// start on a line, so that no 64-byte vector load or store splits across
// two lines: a split costs a second L1 access, and with packed B 32 bytes
// off its line every AVX-512 load of it split.
const Line = 16

// AlignLine returns ws from its first float that starts a cache line,
// skipping at most Line−1 floats.
func AlignLine(ws []float32) []float32 {
	if len(ws) == 0 {
		return ws
	}
	off := int(uintptr(unsafe.Pointer(&ws[0])) % (Line * 4) / 4)
	return ws[(Line-off)%Line:]
}

// Lines rounds n floats up to whole cache lines.
func Lines(n int) int { return (n + Line - 1) / Line * Line }

// Slack is how many floats the stencil helpers may read and write past n
// in each row: their kernels work in whole vectors of up to 16 lanes.
const Slack = 16

// Gemm describes C = Alpha·A·B + Beta·C (+ Bias per row) (then ReLU) with A
// M×K and B K×N. C is row-major with row stride Ldc.
type Gemm struct {
	M, N, K int
	Alpha   float32
	A       ASource
	B       BSource
	Beta    float32
	Bias    []float32 // nil, or M values added to every row of C before the product
	ReLU    bool      // replace each finished C value v by max(v, 0)
	C       []float32
	Ldc     int
}

// An ASource is the A operand of a product: Dense or Im2colT.
type ASource interface{ aSource() }

// A BSource is the B operand of a product: Dense, Im2col, Im2colT or
// Shifted.
type BSource interface{ bSource() }

// Dense is a row-major matrix view. Element (i, j) is Data[i*Stride+j], or
// Data[j*Stride+i] when Trans is set.
type Dense struct {
	Data   []float32
	Stride int
	Trans  bool
}

// Im2col is the column matrix of a convolution's input, never built: row
// (c, r, s) and column p·Q+q is X[c, p·StrideH + OffH[r], q·StrideW +
// OffW[s]], zero outside the H×W plane. OffH and OffW hold each tap's
// offset: r·DilationH − PadTop and s·DilationW − PadLeft.
//
// A layer of column stride sw > 1 is packed fastest from its input split
// into sw phase planes per channel, plane φ holding the columns φ, φ+sw, …:
// then ChanStride is the floats per channel (sw planes), TapPlane[s] the
// offset of tap s's plane within its channel, W the plane width, OffW[s]
// the tap's shift in plane columns, and StrideW is 1. ChanStride 0 means
// H·W and TapPlane nil means 0.
type Im2col struct {
	X                []float32
	C, H, W          int
	P, Q             int
	StrideH, StrideW int
	OffH, OffW       []int
	ChanStride       int
	TapPlane         []int
}

// Im2colT is the transpose of an Im2col: its rows are the output positions
// p·Q+q and its columns the taps (c, r, s). Backward-filter multiplies by it.
type Im2colT Im2col

// Shifted is a K×N matrix whose column j is the run of X that starts at
// Off[j]: B(k, j) = X[Off[j]+k]. Backward-filter's column matrix is one
// when it reads a zero-padded input at positions p·W'+q: column (c, r, s)
// starts at that tap's offset, and every column is a contiguous run.
type Shifted struct {
	X   []float32
	Off []int
}

func (*Dense) aSource()   {}
func (*Im2colT) aSource() {}
func (*Dense) bSource()   {}
func (*Im2col) bSource()  {}
func (*Im2colT) bSource() {}
func (*Shifted) bSource() {}

// Run computes g on the calling goroutine. ws must hold Workspace(M, N, K)
// floats. The caller has validated every slice against the sizes in g.
func (g *Gemm) Run(ws []float32) { driver.RunBlock(g, ws, 0, g.M, 0, g.N) }

// RunBlock computes only rows [i0, i1) and columns [j0, j1) of C, on the
// calling goroutine. Blocks of C computed separately get the same values,
// bit for bit, as when the whole of C is computed at once.
func (g *Gemm) RunBlock(ws []float32, i0, i1, j0, j1 int) { driver.RunBlock(g, ws, i0, i1, j0, j1) }

// Engine runs one product at a time on several threads. Keep one per plan:
// its first Run allocates the runner, later ones allocate nothing.
type Engine struct{ r Runner }

// Run computes g on len(ws) threads, each with its own workspace of
// Workspace(M, N, K) floats. The threads compute disjoint blocks of C with
// the same reduction order, so the result does not depend on their number.
func (e *Engine) Run(g *Gemm, ws [][]float32) {
	if e.r == nil {
		e.r = driver.NewRunner()
	}
	e.r.Run(g, ws)
}

// Rows writes the whole column matrix, row after row, into dst
// (C·len(OffH)·len(OffW) × P·Q floats).
func (m *Im2col) Rows(dst []float32) { driver.Im2colRows(m, dst) }

// Workspace returns the floats of workspace that a product of the given
// size needs on each thread, for whichever ISA is selected.
func Workspace(m, n, k int) int { return driver.Workspace(m, n, k) }

// Tile returns the register tile (rows, columns) of the selected ISA's
// microkernel. Callers that split a product into blocks align the blocks
// to it for speed; any split is correct.
func Tile() (mr, nr int) { return driver.Tile() }

// TileFit returns the share of the register tiles of an m×n product, on
// the selected ISA, that holds real rows and columns of C: 1 when the
// tiles divide m and n, less where edge tiles are partly empty. It is for
// an A that is packed; DenseTileFit is for a Dense A.
func TileFit(m, n int) float64 { return driver.TileFit(m, n) }

// DenseTileFit is TileFit for a product whose A is a Dense matrix and whose
// alpha is 1, which takes the direct-A tiles where the ISA has them.
func DenseTileFit(m, n int) float64 { return driver.DenseTileFit(m, n) }

// ISAError returns why the SIMDCONV_ISA environment variable could not be
// honoured (an unknown ISA, or one this CPU or build cannot run), or nil.
// The best ISA runs meanwhile; a successful simdconv.SetISA clears the
// error. Planning a convolution returns it, so that a choice that did not
// take effect is never mistaken for one that did.
func ISAError() error { return driver.ISAError() }

// StencilPlane is one plane of a depthwise pass at stride 1: the H×W plane
// src, placed at row Top and column Left of a zero plane Hp×Wp, is read at
// the tap offsets Off; the Rows×Cols result, computed at row stride Wp, is
// written to dst.
type StencilPlane struct {
	H, W, Top, Left, Hp, Wp int
	Rows, Cols              int
	Off                     []int
}

// MaxPlanes bounds the planes of one StencilPlane.Run.
const MaxPlanes = 256

// Run sets, for c < planes, dst[c·Rows·Cols + i·Cols + j] = bias[c] + Σ_t
// w[c·len(Off) + t]·padded_c[Off[t] + i·Wp + j], then max(·, 0) if relu:
// planes ≤ MaxPlanes consecutive planes of src, filters and outputs, in
// one call into the driver (bias nil: 0). pad holds the padded planes, Hp·Wp
// floats apart, and the taps' reach past them, panel (planes−1)·Rows·Wp
// plus Rows·Wp rounded up to Slack; both are overwritten.
func (p *StencilPlane) Run(dst, src, w, bias []float32, planes int, relu bool, pad, panel []float32) {
	driver.StencilPlane(p, dst, src, w, bias, planes, relu, pad, panel)
}

// Dots sets d[c·len(off)+t] = Σ_{i<Rows·Wp} dyPadded_c[i]·padded_c[off[t]+i]
// for c < planes and t < len(off): the filter gradients of planes ≤
// MaxPlanes consecutive planes, src padded as Run pads it and dy (Rows×Cols
// a plane) written at row stride Wp, zero past its columns, into dyPad,
// Rows·Wp rounded up to Slack apart. pad and dyPad are overwritten.
func (p *StencilPlane) Dots(d, src, dy []float32, off []int, planes int, pad, dyPad []float32) {
	driver.StencilDots(p, d, src, dy, off, planes, pad, dyPad)
}

// Stencil sets y[i] = bias + Σ_t w[t]·x[off[t]+i] for i < n, writing y up
// to n rounded up to Slack, for an x laid out by the caller (a strided
// depthwise layer's phase planes).
func Stencil(y, x, w []float32, off []int, n int, bias float32) {
	driver.Stencil(y, x, w, off, n, bias)
}

// StencilPlanes is Stencil on planes ≤ MaxPlanes planes in turn, at
// strides ldy, ldx and ldw in y, x and w, with bias[c] for plane c (bias
// nil: 0). A plane writes y up to n rounded up to Slack, which the next
// plane overwrites where ldy is shorter; n ≤ ldy.
func StencilPlanes(y, x, w []float32, off []int, n, planes, ldy, ldx, ldw int, bias []float32) {
	driver.StencilPlanes(y, x, w, off, n, planes, ldy, ldx, ldw, bias)
}

// ShiftedDots sets d[t] = Σ_{i<n} a[i]·x[off[t]+i] for t < len(off); a
// holds n rounded up to Slack floats, zero past n.
func ShiftedDots(d, a, x []float32, off []int, n int) { driver.ShiftedDots(d, a, x, off, n) }

// ShiftedDotsPlanes is ShiftedDots on planes planes in turn, at strides
// ldd, lda and ldx in d, a and x.
func ShiftedDotsPlanes(d, a, x []float32, off []int, n, planes, ldd, lda, ldx int) {
	driver.ShiftedDotsPlanes(d, a, x, off, n, planes, ldd, lda, ldx)
}

// L2 returns the bytes of L2 cache of one core, as this CPU reports it (or
// a common size where it does not): the blocks of work that stay in L2,
// such as Winograd's transformed tiles, are sized from it.
func L2() int { return driver.L2() }

// Native reports whether the selected ISA runs SIMD kernels, rather than
// the generic Go ones, whose multiply-adds are scalar.
func Native() bool { return driver.Native() }

// RowsLanes is the lanes of the selected ISA's StencilRows kernel's
// vectors, 0 where StencilRows runs in Go.
func RowsLanes() int { return driver.RowsLanes() }

// StencilRows sets y[k·ldy+i] = bias[k] + Σ_t w[t·m+k]·x[off[t]+i] for
// k < m and i < n, bias nil meaning zeros: m output channels of a layer
// with few input channels, whose (channel, tap) pairs are the shifts off
// of zero-padded input planes x, and w holds each shift's m weights side
// by side. Each row of y is written up to n rounded up to Slack, and x is
// read that far past every offset.
func StencilRows(y []float32, ldy int, x, w []float32, off []int, n, m int, bias []float32) {
	driver.StencilRows(y, ldy, x, w, off, n, m, bias)
}

// StencilLines is StencilRows on lines of n outputs, ldyl apart in each
// row of y, from x ldxl further on a line: y[k·ldy+j·ldyl+i] = bias[k] +
// Σ_t w[t·m+k]·x[off[t]+j·ldxl+i] for j < lines. Lines are written in
// order, each up to n rounded up to Slack, so a line may run into the
// next one's start, which that line overwrites: a layer's output rows, Q
// apart, straight from padded rows W' ≥ Q apart.
func StencilLines(y []float32, ldy, ldyl int, x []float32, ldxl int, w []float32, off []int, n, lines, m int, bias []float32) {
	driver.StencilLines(y, ldy, ldyl, x, ldxl, w, off, n, lines, m, bias)
}

// DotsRows sets d[k·len(off)+t] = Σ_{i<n} a[k·lda+i]·x[off[t]+i] for k < m
// and t < len(off): the filter gradient of m output channels over the
// shifts off, with a the output gradient's rows at row stride lda, each
// holding n rounded up to Slack floats, zero past n.
func DotsRows(d, a []float32, lda, m int, x []float32, off []int, n int) {
	driver.DotsRows(d, a, lda, m, x, off, n)
}

// DotsLines sets d[k·len(off)+t] = Σ_{j<lines} Σ_{i<n} a[k·lda+j·ldal+i]·
// x[off[t]+j·ldxl+i] for k < m and t < len(off): DotsRows on lines of n,
// ldal apart in a's rows and ldxl in x, with no zeros between them: a
// layer's output-gradient rows, Q apart, against padded rows W' apart. x
// must be finite along each line's n.
func DotsLines(d, a []float32, lda, ldal, m int, x []float32, ldxl int, off []int, n, lines int) {
	driver.DotsLines(d, a, lda, ldal, m, x, ldxl, off, n, lines)
}

// AllFinite reports whether x holds neither a NaN nor an infinity.
func AllFinite(x []float32) bool { return driver.AllFinite(x) }

// CopyRows sets dst[r*dstStride+j] = src[r*srcStride+j-lo] for lo ≤ j < hi
// and 0 for the other j < n, in each of rows rows.
func CopyRows(dst, src []float32, rows, n, lo, hi, dstStride, srcStride int) {
	driver.CopyRows(dst, src, rows, n, lo, hi, dstStride, srcStride)
}

// AddRows adds src's rows of n floats to dst's.
func AddRows(dst, src []float32, rows, n, dstStride, srcStride int) {
	driver.AddRows(dst, src, rows, n, dstStride, srcStride)
}

// GatherRows sets dst[r*dstStride+j] = src[r*srcStride+j*step] for r < rows
// and j < n: rows of every step-th float, as a stride-step layer reads them.
func GatherRows(dst, src []float32, rows, n, step, dstStride, srcStride int) {
	driver.GatherRows(dst, src, rows, n, step, dstStride, srcStride)
}

// ScatterRows sets dst[r*dstStride+j*step] = src[r*srcStride+j] for r < rows
// and j < n, leaving the floats between as they are. The caller owns them:
// they may be read and written back.
func ScatterRows(dst, src []float32, rows, n, step, dstStride, srcStride int) {
	driver.ScatterRows(dst, src, rows, n, step, dstStride, srcStride)
}

// WinogradLanes is the tiles that the Winograd band functions read and
// write for a band of tiles: tiles rounded up to Slack, a whole vector of
// tiles for every ISA. Transformed bands need rows this long.
func WinogradLanes(tiles int) int { return (tiles + Slack - 1) / Slack * Slack }

// WinogradBand is the floats that each input row of a band of tiles must
// hold for WinogradInput: the 4·WinogradLanes(tiles) + 2 columns its tiles
// read, and two more that a vector load may touch.
func WinogradBand(tiles int) int { return 4*WinogradLanes(tiles) + 4 }

// WinogradNative reports whether the selected ISA runs the Winograd band
// functions on SIMD kernels rather than the generic Go code, which is tens
// of times slower.
func WinogradNative() bool { return driver.WinogradNative() }

// WinogradInput writes the F(4×4, 3×3) input transform Bᵀ d B of each 6×6
// tile d of a band: tile t is rows src[i·ld:] (i < 6) at columns 4t…4t+5,
// and point p = 6ξ+ν of it goes to dst[p·dstStride + t]. src holds 6 rows
// of WinogradBand(tiles) floats, dst 36 of WinogradLanes(tiles); both are
// read and written that far.
func WinogradInput(dst []float32, dstStride int, src []float32, ld, tiles int) {
	driver.WinogradInput(dst, dstStride, src, ld, tiles)
}

// WinogradOutput writes Aᵀ m A + bias (then max(·, 0) if relu) of the 6×6
// tiles m[p] = src[p·srcStride + t] as 4×4 tiles: rows dst[i·ld:] (i < 4),
// columns 4t…4t+3, for 4·WinogradLanes(tiles) columns.
func WinogradOutput(dst []float32, ld int, src []float32, srcStride, tiles int, bias float32, relu bool) {
	driver.WinogradOutput(dst, ld, src, srcStride, tiles, bias, relu)
}

// WinogradGrad writes A e Aᵀ of each 4×4 tile e of a band (rows src[i·ld:],
// i < 4, columns 4t…4t+3) to dst[p·dstStride + t]: an output gradient's
// tiles, for the filter gradient Gᵀ[(A e Aᵀ) ⊙ (Bᵀ d B)]G.
func WinogradGrad(dst []float32, dstStride int, src []float32, ld, tiles int) {
	driver.WinogradGrad(dst, dstStride, src, ld, tiles)
}

// DwcLanes is the channels a block of the channel-interleaved depthwise
// kernels for a layer of the given channels, a multiple of it, or 0 if the
// selected ISA has none that fit. A block of L channels lays a plane out
// position by position, a position's L channels side by side. The Dwc
// functions take L first.
func DwcLanes(channels int) int { return driver.DwcLanes(channels) }

// DwcIn writes rows of L channel planes into interleaved rows: for r <
// rows, row r of dst (ldd floats apart) holds left zero positions, then
// position j < cols with src[l·lds + r·ldr + j] in lane l, then right
// zero positions, L floats a position. A plane's rows are ldr apart: cols
// for a plane of rows·cols, more for rows of a longer one (a filter's
// taps of one channel for each output channel).
func DwcIn(l int, dst, src []float32, rows, cols, ldr, lds, ldd, left, right int) {
	driver.DwcIn(l, dst, src, rows, cols, ldr, lds, ldd, left, right)
}

// DwcOut writes n ≥ L interleaved positions back into L planes:
// dst[l·ldd + j] = src[j·L + l].
func DwcOut(l int, dst, src []float32, n, ldd int) { driver.DwcOut(l, dst, src, n, ldd) }

// DwcConv is a depthwise convolution of L interleaved channels: for p <
// rows and q < cols, output position y[p·ldy + q·ystep·L:] is bias + Σ_t
// w[t·L:]·x[p·ldx + q·stride·L + off[t]:], lane by lane (then max(·, 0)
// if relu), at column stride 1 or 2.
func DwcConv(l int, y, x, w []float32, off []int, rows, cols, ldx, stride, ldy, ystep int, bias []float32, relu bool) {
	driver.DwcConv(l, y, x, w, off, rows, cols, ldx, stride, ldy, ystep, bias, relu)
}

// DwcDots adds to d[t·L:], for each tap t, Σ_{p<rows, q<cols}
// a[(p·cols + q)·L:]·x[p·ldx + q·stride·L + off[t]:], lane by lane: the
// filter gradient of L interleaved channels, a the output gradient.
func DwcDots(l int, d, a, x []float32, off []int, rows, cols, ldx, stride int) {
	driver.DwcDots(l, d, a, x, off, rows, cols, ldx, stride)
}

// A Driver runs what this package describes; package simdconv installs
// the only one.
type Driver interface {
	RunBlock(g *Gemm, ws []float32, i0, i1, j0, j1 int)
	NewRunner() Runner
	Im2colRows(m *Im2col, dst []float32)
	Workspace(m, n, k int) int
	Tile() (mr, nr int)
	TileFit(m, n int) float64
	DenseTileFit(m, n int) float64
	ISAError() error
	StencilPlane(p *StencilPlane, dst, src, w, bias []float32, planes int, relu bool, pad, panel []float32)
	StencilDots(p *StencilPlane, d, src, dy []float32, off []int, planes int, pad, dyPad []float32)
	Stencil(y, x, w []float32, off []int, n int, bias float32)
	ShiftedDots(d, a, x []float32, off []int, n int)
	StencilPlanes(y, x, w []float32, off []int, n, planes, ldy, ldx, ldw int, bias []float32)
	ShiftedDotsPlanes(d, a, x []float32, off []int, n, planes, ldd, lda, ldx int)
	AllFinite(x []float32) bool
	CopyRows(dst, src []float32, rows, n, lo, hi, dstStride, srcStride int)
	AddRows(dst, src []float32, rows, n, dstStride, srcStride int)
	GatherRows(dst, src []float32, rows, n, step, dstStride, srcStride int)
	ScatterRows(dst, src []float32, rows, n, step, dstStride, srcStride int)
	WinogradInput(dst []float32, dstStride int, src []float32, ld, tiles int)
	WinogradOutput(dst []float32, ld int, src []float32, srcStride, tiles int, bias float32, relu bool)
	WinogradGrad(dst []float32, dstStride int, src []float32, ld, tiles int)
	WinogradNative() bool
	StencilRows(y []float32, ldy int, x, w []float32, off []int, n, m int, bias []float32)
	StencilLines(y []float32, ldy, ldyl int, x []float32, ldxl int, w []float32, off []int, n, lines, m int, bias []float32)
	RowsLanes() int
	Native() bool
	DotsRows(d, a []float32, lda, m int, x []float32, off []int, n int)
	DotsLines(d, a []float32, lda, ldal, m int, x []float32, ldxl int, off []int, n, lines int)
	L2() int
	DwcLanes(channels int) int
	DwcIn(l int, dst, src []float32, rows, cols, ldr, lds, ldd, left, right int)
	DwcOut(l int, dst, src []float32, n, ldd int)
	DwcConv(l int, y, x, w []float32, off []int, rows, cols, ldx, stride, ldy, ystep int, bias []float32, relu bool)
	DwcDots(l int, d, a, x []float32, off []int, rows, cols, ldx, stride int)
	IndirectTile() (mr, lanes, nv int)
	Indirect(y []float32, ldy int, ypos []int, x []float32, pos []int, a []float32, lda int, off []int, nv int, bias []float32, add, relu bool)
}

// IndirectTile is the tile of the selected ISA's indirect kernel: mr
// positions by nv vectors of lanes channels at a time; zeros if it has
// none.
func IndirectTile() (mr, lanes, nv int) { return driver.IndirectTile() }

// Indirect computes tiles of output positions × output channels from x
// read through pointers, a GEMM whose B is never packed. For j <
// len(pos) (a multiple of mr), k < nv·lanes and L = lanes:
//
//	y[(k/L)·ldy + ypos[j]·L + k%L] = s + Σ_t a[(k/L)·lda + t·L + k%L]·x[pos[j] + off[t]]
//
// with s the old value if add, else bias[k], the terms added by fused
// multiply-adds in step order, then max(·, 0) if relu. Each tile of mr
// positions computes all its vectors, nv at a time, before the next. The
// outputs are channel-interleaved, as DwcOut reads them, each position at
// its ypos, so that the positions of a strided layer's sub-pixel phase
// land among the others'. It panics unless the ISA has the kernel and the
// slices hold what it reads and writes.
func Indirect(y []float32, ldy int, ypos []int, x []float32, pos []int, a []float32, lda int, off []int, nv int, bias []float32, add, relu bool) {
	driver.Indirect(y, ldy, ypos, x, pos, a, lda, off, nv, bias, add, relu)
}

// A Runner is the threaded state behind an Engine.
type Runner interface {
	Run(g *Gemm, ws [][]float32)
}

var driver Driver

// Install makes d the driver; package simdconv calls it from its init.
func Install(d Driver) { driver = d }
