// Command amd64 generates the AVX2 and AVX-512 microkernels of package
// simdconv with avo: kernels_amd64.s, its Go stubs kernels_amd64.go, and the
// tile-shape constants tiles_amd64.go.
//
// Each kernel family has one generator function parameterised by tile shape
// (genPeak, genSgemmAVX2, genSgemmAVX512, genSgemmDirectAVX512, genPackRowsAVX2,
// genPackRowsAVX512, genPackSliverAVX512, genPackTAVX2, genPackTOffAVX2,
// genStencil, genDots, genAddRows); main calls them in a loop over the
// shapes below. Regenerate with `cd asm && go generate ./...`.
package main

//go:generate go run . -out ../../kernels_amd64.s -stubs ../../kernels_amd64.go -pkg simdconv -tiles ../../tiles_amd64.go

import (
	"flag"
	"fmt"
	"log"
	"os"

	. "github.com/mmcloughlin/avo/build"
)

// tile is an MR×NR register tile of a GEMM microkernel.
type tile struct{ mr, nr int }

func (t tile) String() string { return fmt.Sprintf("%dx%d", t.mr, t.nr) }

// avx2Tile is the only AVX2 shape: 6×16 uses 12 of the 16 ymm registers for
// accumulators.
var avx2Tile = tile{6, 16}

// avx512Candidates are the AVX-512 shapes emitted and benchmarked
// (BenchmarkMicrokernel); see results/avx512-tile-choice.md.
var avx512Candidates = []tile{{12, 32}, {8, 48}, {14, 32}}

// avx512Winner is the candidate also emitted in every form of mainForms,
// under the names the driver dispatches to. In cache all candidates run at
// 97-101% of the FMA peak (results/avx512-tile-choice.md), so the
// convolutions decide: their M is the channel count, a multiple of 8 in
// most networks, which 8 rows tile without waste where 12 waste up to a
// third of a sliver (L2 forward and backward-data +10%, layer geomean
// +5.7%).
var avx512Winner = tile{8, 48}

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
	avx512Edges = []tile{{avx512Winner.mr, 16}, {avx512Winner.mr, 32}}
)

// Peak-FLOPS loops: independent accumulator chains. Zen 5 has two FMA pipes
// with 4-cycle latency, so at least 8 chains are needed to keep them busy.
const (
	peakChainsAVX2   = 12
	peakChainsAVX512 = 24
)

var tilesOut = flag.String("tiles", "", "write the Go tile-shape constants to `file`")

func sgemmName(t tile, isa string) string { return fmt.Sprintf("sgemm%s%s", t, isa) }

func main() {
	flag.Parse()
	ConstraintExpr("gc,!purego") // old-style syntax: comma is AND; printed as //go:build gc && !purego

	avx2Flops := genPeak("peakAVX2", 8, peakChainsAVX2)
	avx512Flops := genPeak("peakAVX512", 16, peakChainsAVX512)

	genSgemmAVX2(sgemmName(avx2Tile, "AVX2"), avx2Tile.mr, avx2Tile.nr, sgemmForm{})
	for _, t := range avx512Candidates {
		genSgemmAVX512(sgemmName(t, "AVX512"), t.mr, t.nr, sgemmForm{})
	}
	for _, f := range mainForms {
		genSgemmAVX2("sgemm"+f.name+"AVX2", avx2Tile.mr, avx2Tile.nr, f.form)
		genSgemmAVX512("sgemm"+f.name+"AVX512", avx512Winner.mr, avx512Winner.nr, f.form)
	}
	for _, t := range avx2Edges {
		genSgemmAVX2(sgemmName(t, "AVX2"), t.mr, t.nr, sgemmForm{})
	}
	for _, t := range avx512Edges {
		genSgemmAVX512(sgemmName(t, "AVX512"), t.mr, t.nr, sgemmForm{})
	}

	genSgemmDirectAVX512("sgemmDirectAVX512", directTile.mr, directTile.nr, plain)
	genSgemmDirectAVX512("sgemmDirectDotRowsAVX512", directDotTile.mr, directDotTile.nr, dotRows)
	genSgemmDirectAVX512("sgemmDirectDotColsAVX512", directDotTile.mr, directDotTile.nr, dotCols)

	genPackRowsAVX2("packRowsAVX2", avx2Tile.nr)
	genPackRowsAVX512("packRowsAVX512", avx512Winner.nr)
	genPackSliverAVX512("packSliverAVX512", avx512Winner.nr)
	genPackTAVX2("packT6AVX2", 6) // avx2's 6-row A slivers
	genPackTAVX2("packT8AVX2", 8) // avx512's 8-row A slivers; B slivers 8 columns at a time
	genPackTOffAVX2("packTOff8AVX2")

	genStencil("stencilAVX2", 8)
	genStencil("stencilAVX512", 16)
	genDots("dotsAVX2", 8)
	genDots("dotsAVX512", 16)
	genAddRows("addRowsAVX2", 8)
	genAddRows("addRowsAVX512", 16)

	if *tilesOut != "" {
		src, err := tilesFile(avx2Flops, avx512Flops)
		if err != nil {
			log.Fatal(err)
		}
		if err := os.WriteFile(*tilesOut, src, 0o644); err != nil {
			log.Fatal(err)
		}
	}

	Generate()
}
