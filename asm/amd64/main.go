// Command amd64 generates the AVX2 and AVX-512 kernels of package simdconv
// with avo: kernels_amd64.s, their Go declarations kernels_amd64.go, and
// the dispatch table table_amd64.go (package asm/internal/table) that the
// driver indexes, and the CPUID stub the cache detection reads.
//
// Each kernel family has one generator function parameterised by tile
// shape; main calls each once per shape and records the kernel in the
// table. Regenerate with `cd asm && go generate ./...`; -study adds the
// candidate tiles of results/avx512-tile-choice.md, for benchmarks only.
package main

//go:generate go run . -out ../../kernels_amd64.s -stubs ../../kernels_amd64.go -pkg simdconv -table ../../table_amd64.go

import (
	"flag"
	"fmt"
	"log"

	. "github.com/mmcloughlin/avo/build"

	"github.com/simdconv/simdconv/asm/internal/table"
)

// tile is an MR×NR register tile of a GEMM microkernel.
type tile struct{ mr, nr int }

func (t tile) String() string { return fmt.Sprintf("%dx%d", t.mr, t.nr) }

// avx2Tile is the only AVX2 shape: 6×16 uses 12 of the 16 ymm registers for
// accumulators.
var avx2Tile = tile{6, 16}

// avx512Tile is the AVX-512 tile. In cache every candidate of
// avx512Study runs near the FMA peak, so the convolutions decide: their M
// is the channel count, a multiple of 8 in most networks, which 8 rows tile
// without waste where 12 waste up to a third of a sliver
// (results/avx512-tile-choice.md).
var avx512Tile = tile{8, 48}

// avx512Study are the other AVX-512 shapes of the tile study.
var avx512Study = []tile{{12, 32}, {14, 32}}

// mainForms are the forms of the main tile that the driver dispatches to,
// by the name sgemm<name><ISA>.
var mainForms = []struct {
	name string
	form sgemmForm
}{
	{"", sgemmForm{}},
	{"Store", sgemmForm{store: true}},
	{"PackB", sgemmForm{packB: true}},
	{"PackBStore", sgemmForm{packB: true, store: true}},
	{"Prefetch", sgemmForm{prefetch: true}},
	{"PrefetchStore", sgemmForm{prefetch: true, store: true}},
	{"PackA", sgemmForm{packA: true}},
	{"PackAStore", sgemmForm{packA: true, store: true}},
	{"PackAT", sgemmForm{packAT: true}},
	{"PackATStore", sgemmForm{packAT: true, store: true}},
}

// Edge kernels: narrower tiles of the same height for the last, partial
// sliver of a panel, so that a product of 196 columns computes 4·48 + 16
// rather than 5·48 (the 5th sliver would be 92% zeros).
var (
	avx2Edges   = []tile{{avx2Tile.mr, 8}}
	avx512Edges = []tile{{avx512Tile.mr, 16}, {avx512Tile.mr, 32}}
)

// Row edges: for rows below mr, a kernel of the main tile that computes
// only the first rows rows, for a block's last rows. Without them M = 9
// (a 3×3 filter of one channel, backward-data's Wᵀ·dY) runs 6 + 3 rows on
// AVX2 as two whole tiles, and 8 + 1 on AVX-512, the second tile at a
// ninth of its FMAs' worth. Adding and storing forms, as for the main
// tile (NEON has no storing kernels: its products clear c first).

// Peak-FLOPS loops: independent accumulator chains. Two FMA pipes with a
// 4-cycle latency need at least 8 chains to stay busy.
const (
	peakChainsAVX2   = 12
	peakChainsAVX512 = 24
)

// The CPU features of each kind of kernel, as package simdconv names them.
var (
	needsAVX2     = []string{"featAVX2", "featFMA"}
	needsAVX512   = []string{"featAVX512F"}
	needsAVX512VL = []string{"featAVX512F", "featAVX512VL"} // AVX-512 on ymm registers
)

var (
	tableOut = flag.String("table", "", "write the Go dispatch table to `file`")
	study    = flag.Bool("study", false, "also emit the tile-study candidates")
)

// kernels is the table, in the order the kernels are emitted.
var kernels []table.Kernel

// add records k in the table and emits it with gen.
func add(k table.Kernel, gen func(name string)) {
	kernels = append(kernels, k)
	gen(k.Name)
}

func sgemmName(t tile, isa string) string { return fmt.Sprintf("sgemm%s%s", t, isa) }

// rowEdgeName names the row edge computing the first rows rows of tile t:
// sgemm3of6x16AVX2, sgemm3of6x16StoreAVX2.
func rowEdgeName(rows int, t tile, store bool, isa string) string {
	form := ""
	if store {
		form = "Store"
	}
	return fmt.Sprintf("sgemm%dof%s%s%s", rows, t, form, isa)
}

func main() {
	flag.Parse()
	ConstraintExpr("gc,!purego") // old-style syntax: comma is AND; printed as //go:build gc && !purego

	for _, p := range []struct {
		isa, name     string
		lanes, chains int
		needs         []string
	}{
		{"isaAVX2", "peakAVX2", 8, peakChainsAVX2, needsAVX2},
		{"isaAVX512", "peakAVX512", 16, peakChainsAVX512, needsAVX512},
	} {
		add(table.Kernel{Name: p.name, ISA: p.isa, Family: table.FamPeak, Per: p.chains * p.lanes * 2, Needs: p.needs},
			func(name string) { genPeak(name, p.lanes, p.chains) })
	}

	for _, f := range mainForms {
		k := table.Kernel{Family: table.FamSgemm, Store: f.form.store}
		switch {
		case f.form.packA:
			k.Family, k.Packs = table.FamSgemmPack, "packingA"
		case f.form.packAT:
			k.Family, k.Packs = table.FamSgemmPack, "packingAT"
		case f.form.packB:
			k.Family, k.Packs = table.FamSgemmPack, "packingB"
		case f.form.prefetch:
			k.Family = table.FamSgemmPrefetch
		}
		k2, k512 := k, k
		k2.Name, k2.ISA, k2.MR, k2.NR, k2.Needs = "sgemm"+f.name+"AVX2", "isaAVX2", avx2Tile.mr, avx2Tile.nr, needsAVX2
		k512.Name, k512.ISA, k512.MR, k512.NR, k512.Needs = "sgemm"+f.name+"AVX512", "isaAVX512", avx512Tile.mr, avx512Tile.nr, needsAVX512
		add(k2, func(name string) { genSgemmAVX2(name, avx2Tile.mr, avx2Tile.nr, f.form) })
		add(k512, func(name string) { genSgemmAVX512(name, avx512Tile.mr, avx512Tile.nr, f.form) })
	}
	for _, t := range avx2Edges {
		add(table.Kernel{Name: sgemmName(t, "AVX2"), ISA: "isaAVX2", Family: table.FamSgemm, MR: t.mr, NR: t.nr, Edge: true, Needs: needsAVX2},
			func(name string) { genSgemmAVX2(name, t.mr, t.nr, sgemmForm{}) })
	}
	for _, t := range avx512Edges {
		add(table.Kernel{Name: sgemmName(t, "AVX512"), ISA: "isaAVX512", Family: table.FamSgemm, MR: t.mr, NR: t.nr, Edge: true, Needs: needsAVX512},
			func(name string) { genSgemmAVX512(name, t.mr, t.nr, sgemmForm{}) })
	}
	for _, store := range []bool{false, true} {
		for rows := 1; rows < avx2Tile.mr; rows++ {
			add(table.Kernel{Name: rowEdgeName(rows, avx2Tile, store, "AVX2"), ISA: "isaAVX2", Family: table.FamSgemm, MR: avx2Tile.mr, NR: avx2Tile.nr, Rows: rows, Store: store, Needs: needsAVX2},
				func(name string) { genSgemmAVX2(name, avx2Tile.mr, avx2Tile.nr, sgemmForm{rows: rows, store: store}) })
		}
		for rows := 1; rows < avx512Tile.mr; rows++ {
			add(table.Kernel{Name: rowEdgeName(rows, avx512Tile, store, "AVX512"), ISA: "isaAVX512", Family: table.FamSgemm, MR: avx512Tile.mr, NR: avx512Tile.nr, Rows: rows, Store: store, Needs: needsAVX512},
				func(name string) {
					genSgemmAVX512(name, avx512Tile.mr, avx512Tile.nr, sgemmForm{rows: rows, store: store})
				})
		}
	}
	if *study {
		for _, t := range avx512Study {
			add(table.Kernel{Name: sgemmName(t, "AVX512"), ISA: "isaAVX512", Family: table.FamSgemm, MR: t.mr, NR: t.nr, Study: true, Needs: needsAVX512},
				func(name string) { genSgemmAVX512(name, t.mr, t.nr, sgemmForm{}) })
		}
	}

	for _, d := range []struct {
		name string
		fam  table.Family
		t    tile
		mode directMode
	}{
		{"sgemmDirectAVX512", table.FamDirect, directTile, plain},
		{"sgemmDirectDotRowsAVX512", table.FamDirectDotRows, directDotTile, dotRows},
		{"sgemmDirectDotColsAVX512", table.FamDirectDotCols, directDotTile, dotCols},
	} {
		add(table.Kernel{Name: d.name, ISA: "isaAVX512", Family: d.fam, MR: d.t.mr, NR: d.t.nr, Needs: needsAVX512VL},
			func(name string) { genSgemmDirectAVX512(name, d.t.mr, d.t.nr, d.mode) })
	}

	add(table.Kernel{Name: "packRowsAVX2", ISA: "isaAVX2", Family: table.FamPackRows, NR: avx2Tile.nr, Needs: append(needsAVX2, "featPOPCNT")},
		func(name string) { genPackRowsAVX2(name, avx2Tile.nr) })
	add(table.Kernel{Name: "packRowsAVX512", ISA: "isaAVX512", Family: table.FamPackRows, NR: avx512Tile.nr, Needs: append(needsAVX512, "featPOPCNT")},
		func(name string) { genPackRowsAVX512(name, avx512Tile.nr) })
	add(table.Kernel{Name: "packSliverAVX512", ISA: "isaAVX512", Family: table.FamPackSliver, NR: avx512Tile.nr, Needs: needsAVX512},
		func(name string) { genPackSliverAVX512(name, avx512Tile.nr) })
	// The transposing packs are AVX2 code: 6 rows for AVX2's A slivers, 8
	// for AVX-512's (which fall back to AVX2's kernels) and for B slivers
	// 8 columns at a time.
	for _, rows := range []int{6, 8} {
		add(table.Kernel{Name: fmt.Sprintf("packT%dAVX2", rows), ISA: "isaAVX2", Family: table.FamPackT, MR: rows, Needs: needsAVX2},
			func(name string) { genPackTAVX2(name, rows) })
	}
	add(table.Kernel{Name: "packTOff8AVX2", ISA: "isaAVX2", Family: table.FamPackTOff, MR: 8, Needs: needsAVX2},
		func(name string) { genPackTOffAVX2(name) })

	for _, v := range []struct {
		isa, suffix string
		lanes       int
		needs       []string
	}{
		{"isaAVX2", "AVX2", 8, needsAVX2},
		{"isaAVX512", "AVX512", 16, needsAVX512VL},
	} {
		add(table.Kernel{Name: "stencil" + v.suffix, ISA: v.isa, Family: table.FamStencil, NR: v.lanes, Needs: v.needs},
			func(name string) { genStencil(name, v.lanes) })
		add(table.Kernel{Name: "dots" + v.suffix, ISA: v.isa, Family: table.FamDots, NR: v.lanes, Per: maxDotTaps(v.lanes), Needs: v.needs},
			func(name string) { genDots(name, v.lanes) })
		add(table.Kernel{Name: "addRows" + v.suffix, ISA: v.isa, Family: table.FamAddRows, NR: v.lanes, Needs: v.needs},
			func(name string) { genAddRows(name, v.lanes) })
		add(table.Kernel{Name: "dwcIn" + v.suffix, ISA: v.isa, Family: table.FamDwcIn, MR: 1, NR: v.lanes, Needs: v.needs},
			func(name string) { genDwcIn(name, v.lanes) })
		add(table.Kernel{Name: "dwcOut" + v.suffix, ISA: v.isa, Family: table.FamDwcOut, NR: v.lanes, Needs: v.needs},
			func(name string) { genDwcOut(name, v.lanes) })
		for _, f := range []struct {
			stride int
			fam    table.Family
		}{{1, table.FamDwcConv1}, {2, table.FamDwcConv2}} {
			add(table.Kernel{Name: fmt.Sprintf("dwcConv%d%s", f.stride, v.suffix), ISA: v.isa, Family: f.fam, MR: dwcBlock(v.lanes), NR: v.lanes, Needs: v.needs},
				func(name string) { genDwcConv(name, v.lanes, f.stride) })
		}
		add(table.Kernel{Name: "dwcDots" + v.suffix, ISA: v.isa, Family: table.FamDwcDots, NR: v.lanes, Per: dwcDotsTaps(v.lanes), Needs: v.needs},
			func(name string) { genDwcDots(name, v.lanes) })
	}

	for _, v := range []struct {
		isa, suffix string
		ri          rowsISA
		needs       []string
	}{
		{"isaAVX2", "AVX2", rowsAVX2, needsAVX2},
		{"isaAVX512", "AVX512", rowsAVX512, needsAVX512VL},
	} {
		add(table.Kernel{Name: "stencilRows" + v.suffix, ISA: v.isa, Family: table.FamStencilRows, MR: v.ri.mr, NR: v.ri.lanes, Needs: v.needs},
			func(name string) { genStencilRows(name, v.ri) })
		add(table.Kernel{Name: "dotsRows" + v.suffix, ISA: v.isa, Family: table.FamDotsRows, MR: v.ri.dotMR, NR: v.ri.lanes, Per: v.ri.dotNT, Needs: v.needs},
			func(name string) { genDotsRows(name, v.ri) })
	}

	for _, v := range []struct {
		isa, suffix string
		w           winoISA
		needs       []string
	}{
		{"isaAVX2", "AVX2", winoAVX2, needsAVX2},
		{"isaAVX512", "AVX512", winoAVX512(), needsAVX512VL},
	} {
		for _, f := range []struct {
			kind string
			fam  table.Family
			gen  func(name string, w winoISA)
		}{
			{"In", table.FamWinogradIn, genWinogradInput},
			{"Out", table.FamWinogradOut, genWinogradOutput},
			{"Grad", table.FamWinogradGrad, genWinogradGrad},
		} {
			add(table.Kernel{Name: "winograd" + f.kind + v.suffix, ISA: v.isa, Family: f.fam, NR: v.w.lanes, Needs: v.needs},
				func(name string) { f.gen(name, v.w) })
		}
	}

	// Rows between a stride of 2 and of 1: blocks of 8 floats on both ISAs,
	// as n's remainder needs, and on AVX-512 masks for the rest.
	for _, v := range []struct {
		isa   string
		s     stridedISA
		needs []string
	}{
		{"isaAVX2", stridedAVX2(), needsAVX2},
		{"isaAVX512", stridedAVX512(), needsAVX512VL},
	} {
		add(table.Kernel{Name: "gather2" + v.s.suffix, ISA: v.isa, Family: table.FamGather2, NR: v.s.nr, Needs: v.needs},
			func(name string) { genGather2(name, v.s) })
		add(table.Kernel{Name: "scatter2" + v.s.suffix, ISA: v.isa, Family: table.FamScatter2, NR: v.s.nr, Needs: v.needs},
			func(name string) { genScatter2(name, v.s) })
	}

	for _, v := range []struct {
		isa, suffix string
		ii          indirectISA
		needs       []string
	}{
		{"isaAVX2", "AVX2", indirectAVX2, needsAVX2},
		{"isaAVX512", "AVX512", indirectAVX512, needsAVX512},
	} {
		add(table.Kernel{Name: "indirect" + v.suffix, ISA: v.isa, Family: table.FamIndirect, MR: v.ii.mr, NR: v.ii.lanes, Per: v.ii.nv, Needs: v.needs},
			func(name string) { genIndirect(name, v.ii) })
	}

	genCPUID() // not a kernel: no row in the table

	if *tableOut != "" {
		if err := table.Write(*tableOut, "// Code generated by command: go run . (asm/amd64). DO NOT EDIT.", "gc && !purego", kernels); err != nil {
			log.Fatal(err)
		}
	}
	Generate()
}
