// Package table writes the generated dispatch table of package simdconv:
// every kernel a generator emits, with what it computes, its tile and the
// CPU features it needs, and one call function per signature that switches
// on the kernel's ID and calls the assembly directly. The driver looks
// kernels up in the table and calls them through those functions, so a
// kernel's name is spelled by its generator only.
package table

import (
	"bytes"
	"fmt"
	"go/format"
	"os"
	"strings"
	"unicode"
)

// A Sig is one Go signature shared by a set of kernels, and the call
// function the table file declares for it.
type Sig struct {
	Call   string // call function, called as Call(id, Args)
	Params string // the kernels' parameter list
	Args   string // Params' names, in order
}

// The signatures, in the order their call functions are written.
var (
	Peak       = &Sig{"callPeak", "n int", "n"}
	Tile       = &Sig{"callTile", "a, b, c []float32, k, ldc int", "a, b, c, k, ldc"}
	Pack       = &Sig{"callPack", "a, b, c []float32, k, ldc int, src []float32, lds int", "a, b, c, k, ldc, src, lds"}
	Prefetch   = &Sig{"callPrefetch", "a, b, c []float32, k, ldc int, pf []float32, lds, rows int", "a, b, c, k, ldc, pf, lds, rows"}
	Direct     = &Sig{"callDirect", "a []float32, rs, ks int, b, c []float32, k, ldc int, lanes uint64", "a, rs, ks, b, c, k, ldc, lanes"}
	DirectDot  = &Sig{"callDirectDot", "a []float32, rs, ks int, b, d, c []float32, k, ldc int, lanes uint64", "a, rs, ks, b, d, c, k, ldc, lanes"}
	PackRows   = &Sig{"callPackRows", "dst, src []float32, rows, lo, dstStride, srcStride int, load, store uint64", "dst, src, rows, lo, dstStride, srcStride, load, store"}
	PackSliver = &Sig{"callPackSliver", "dst, x []float32, tab []int32, kc, t0, taps, segs, c0, chanStride int", "dst, x, tab, kc, t0, taps, segs, c0, chanStride"}
	PackT      = &Sig{"callPackT", "dst, a []float32, lda, ldd, kc int, alpha float32", "dst, a, lda, ldd, kc, alpha"}
	PackTOff   = &Sig{"callPackTOff", "dst, a []float32, offs []int, at, ldd, kc, n int", "dst, a, offs, at, ldd, kc, n"}
	Stencil    = &Sig{"callStencil", "y, x, w []float32, off []int, n, planes, ldy, ldx, ldw int, bias []float32", "y, x, w, off, n, planes, ldy, ldx, ldw, bias"}
	Dots       = &Sig{"callDots", "d, a, x []float32, off []int, n int", "d, a, x, off, n"}
	AddRows    = &Sig{"callAddRows", "dst, src []float32, rows, n, dstStride, srcStride int", "dst, src, rows, n, dstStride, srcStride"}
	// The Winograd band transforms; n is the band's tiles rounded up to 16.
	WinogradBand = &Sig{"callWinogradBand", "dst []float32, dstStride int, src []float32, ld, n int", "dst, dstStride, src, ld, n"}
	WinogradOut  = &Sig{"callWinogradOut", "dst []float32, ld int, src []float32, srcStride, n int, bias float32, relu bool", "dst, ld, src, srcStride, n, bias, relu"}
	// A block of rows ≤ MR of StencilRows and DotsRows; n is rounded up to 16.
	// StencilRows does lines of n outputs, ldyl apart in y and ldxl in x.
	StencilRows = &Sig{"callStencilRows", "y []float32, ldy int, x, w []float32, ldw int, off []int, n, rows int, bias []float32, lines, ldxl, ldyl int", "y, ldy, x, w, ldw, off, n, rows, bias, lines, ldxl, ldyl"}
	// DotsRows sums lines of n, ldal apart in a and ldxl in x, a line's
	// last n mod lanes floats as a vector masked by mask.
	DotsRows = &Sig{"callDotsRows", "d []float32, ldd int, a []float32, lda int, x []float32, off []int, n, rows, lines, ldal, ldxl int, mask []float32", "d, ldd, a, lda, x, off, n, rows, lines, ldal, ldxl, mask"}
	// The channel-interleaved depthwise kernels (dwc.go in package simdconv).
	DwcIn   = &Sig{"callDwcIn", "dst, src []float32, rows, cols, ldr, lds, ldd, left, right int", "dst, src, rows, cols, ldr, lds, ldd, left, right"}
	DwcOut  = &Sig{"callDwcOut", "dst, src []float32, n, ldd int", "dst, src, n, ldd"}
	DwcConv = &Sig{"callDwcConv", "y, x, w []float32, off []int, rows, cols, ldx, ldy, ystep int, bias []float32, relu bool", "y, x, w, off, rows, cols, ldx, ldy, ystep, bias, relu"}
	DwcDots = &Sig{"callDwcDots", "d, a, x []float32, off []int, rows, cols, ldx, stride int", "d, a, x, off, rows, cols, ldx, stride"}
	// Tiles of output positions × channels from x through pointers (indirect.go in package simdconv).
	Indirect = &Sig{"callIndirect", "y []float32, ldy int, ypos []int, x []float32, pos []int, a []float32, lda int, off []int, nv int, bias []float32, add, relu bool", "y, ldy, ypos, x, pos, a, lda, off, nv, bias, add, relu"}
	// Rows moved between a stride of 2 and a stride of 1; n is a multiple of NR.
	Strided2 = &Sig{"callStrided2", "dst, src []float32, rows, n, dstStride, srcStride int", "dst, src, rows, n, dstStride, srcStride"}
)

var sigs = []*Sig{Peak, Tile, Pack, Prefetch, Direct, DirectDot, PackRows, PackSliver, PackT, PackTOff, Stencil, Dots, AddRows,
	WinogradBand, WinogradOut, StencilRows, DotsRows, Strided2, DwcIn, DwcOut, DwcConv, DwcDots, Indirect}

// A Family is what a kernel computes; Const is its name in package
// simdconv (a value of type family, declared in kernel.go).
type Family struct {
	Const string
	Sig   *Sig
}

// The families the driver knows.
var (
	FamPeak          = Family{"famPeak", Peak}
	FamSgemm         = Family{"famSgemm", Tile}
	FamSgemmPack     = Family{"famSgemmPack", Pack}
	FamSgemmPrefetch = Family{"famSgemmPrefetch", Prefetch}
	FamDirect        = Family{"famDirect", Direct}
	FamDirectDotRows = Family{"famDirectDotRows", DirectDot}
	FamDirectDotCols = Family{"famDirectDotCols", DirectDot}
	FamPackRows      = Family{"famPackRows", PackRows}
	FamPackSliver    = Family{"famPackSliver", PackSliver}
	FamPackT         = Family{"famPackT", PackT}
	FamPackTOff      = Family{"famPackTOff", PackTOff}
	FamStencil       = Family{"famStencil", Stencil}
	FamDots          = Family{"famDots", Dots}
	FamAddRows       = Family{"famAddRows", AddRows}
	FamWinogradIn    = Family{"famWinogradIn", WinogradBand}
	FamWinogradOut   = Family{"famWinogradOut", WinogradOut}
	FamWinogradGrad  = Family{"famWinogradGrad", WinogradBand}
	FamStencilRows   = Family{"famStencilRows", StencilRows}
	FamDotsRows      = Family{"famDotsRows", DotsRows}
	FamGather2       = Family{"famGather2", Strided2}
	FamScatter2      = Family{"famScatter2", Strided2}
	FamDwcIn         = Family{"famDwcIn", DwcIn}
	FamDwcOut        = Family{"famDwcOut", DwcOut}
	FamDwcConv1      = Family{"famDwcConv1", DwcConv}
	FamDwcConv2      = Family{"famDwcConv2", DwcConv}
	FamDwcDots       = Family{"famDwcDots", DwcDots}
	FamIndirect      = Family{"famIndirect", Indirect}
)

// A Kernel is one row of the table.
type Kernel struct {
	Name   string
	ISA    string // isaID constant of package simdconv, e.g. "isaAVX512"
	Family Family
	MR, NR int    // the register tile; rows and lanes for the packing kernels; famDwcIn: the narrowest row
	Store  bool   // sets its c tile instead of adding to it
	Packs  string // packing constant of a famSgemmPack kernel, e.g. "packingAT"
	Edge   bool   // a narrower tile for a panel's last sliver
	Rows   int    // famSgemm row edge: only the first Rows rows of the MR×NR tile, A still MR floats a k step
	Study  bool   // a tile generated for study: benchmarks run it, the driver never does
	Per    int    // famPeak: flops per iteration; famDots, famDotsRows, famDwcDots: taps per call; famIndirect: most vectors
	Needs  []string
}

// File renders the table file: header is the generated-code line,
// constraint the build constraint (without "//go:build ").
func File(header, constraint string, ks []Kernel) ([]byte, error) {
	var b bytes.Buffer
	fmt.Fprintf(&b, "%s\n\n//go:build %s\n\npackage simdconv\n\n", header, constraint)
	if len(ks) > 0 {
		b.WriteString("// IDs of the kernels, indexes of kernelTable.\nconst (\n")
		for i, k := range ks {
			if i == 0 {
				fmt.Fprintf(&b, "%s kernelID = iota + 1\n", constName(k.Name))
			} else {
				fmt.Fprintf(&b, "%s\n", constName(k.Name))
			}
		}
		b.WriteString(")\n\n")
	}
	b.WriteString("// kernelTable is every kernel of this build: what it computes, its tile\n")
	b.WriteString("// and the CPU features it needs. Row 0 is noKernel.\n")
	fmt.Fprintf(&b, "var kernelTable = [...]kernelSpec{\nnoKernel: {},\n")
	for _, k := range ks {
		fmt.Fprintf(&b, "%s: {%s},\n", constName(k.Name), k.fields())
	}
	b.WriteString("}\n")
	for _, s := range sigs {
		fmt.Fprintf(&b, "\n// %s calls kernel id, one of signature func(%s).\n", s.Call, s.Params)
		fmt.Fprintf(&b, "func %s(id kernelID, %s) {\n", s.Call, s.Params)
		var cases []Kernel
		for _, k := range ks {
			if k.Family.Sig == s {
				cases = append(cases, k)
			}
		}
		if len(cases) == 0 {
			b.WriteString("panic(notCallable(id))\n}\n")
			continue
		}
		b.WriteString("switch id {\n")
		for _, k := range cases {
			fmt.Fprintf(&b, "case %s:\n%s(%s)\n", constName(k.Name), k.Name, s.Args)
		}
		b.WriteString("default:\npanic(notCallable(id))\n}\n}\n")
	}
	return format.Source(b.Bytes())
}

// Write renders the table file to path.
func Write(path, header, constraint string, ks []Kernel) error {
	src, err := File(header, constraint, ks)
	if err != nil {
		return err
	}
	return os.WriteFile(path, src, 0o644)
}

func (k Kernel) fields() string {
	f := []string{fmt.Sprintf("name: %q", k.Name), "isa: " + k.ISA, "family: " + k.Family.Const}
	if k.MR != 0 || k.NR != 0 {
		f = append(f, fmt.Sprintf("mr: %d, nr: %d", k.MR, k.NR))
	}
	if k.Store {
		f = append(f, "store: true")
	}
	if k.Packs != "" {
		f = append(f, "packs: "+k.Packs)
	}
	if k.Edge {
		f = append(f, "edge: true")
	}
	if k.Rows != 0 {
		f = append(f, fmt.Sprintf("rows: %d", k.Rows))
	}
	if k.Study {
		f = append(f, "study: true")
	}
	if k.Per != 0 {
		f = append(f, fmt.Sprintf("per: %d", k.Per))
	}
	if len(k.Needs) > 0 {
		f = append(f, "needs: "+strings.Join(k.Needs, " | "))
	}
	return strings.Join(f, ", ")
}

// constName is the ID constant of kernel name: sgemmAVX2 → kSgemmAVX2.
func constName(name string) string {
	r := []rune(name)
	r[0] = unicode.ToUpper(r[0])
	return "k" + string(r)
}
