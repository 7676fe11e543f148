package simdconv

import "fmt"

// A kernelID indexes kernelTable, the table of every kernel of the build
// that the generators write (table_amd64.go, table_arm64.go,
// table_noasm.go) beside the kernels themselves.
type kernelID uint8

// noKernel is row 0 of kernelTable: no kernel, so the generic Go code runs.
const noKernel kernelID = 0

// A family is what a kernel computes; kernels of one family share a
// signature and a call function of the table (callTile, callPack, …).
type family uint8

const (
	famPeak          family = iota // a loop of independent FMAs (per: flops per iteration)
	famSgemm                       // c (+)= A sliver · B sliver, mr × nr
	famSgemmPack                   // famSgemm that packs its A or B sliver as it reads it (packs)
	famSgemmPrefetch               // famSgemm that prefetches the next B sliver's source
	famDirect                      // mr × nr of c from A in place and a packed B sliver
	famDirectDotRows               // famDirect with a dot column, A's rows contiguous
	famDirectDotCols               // famDirect with a dot column, A's columns contiguous
	famPackRows                    // rows of up to nr floats, zero-filled around a window
	famPackSliver                  // an nr-wide implicit-im2col B sliver from a segment table
	famPackT                       // a transposed mr-row A sliver (or 8 B columns)
	famPackTOff                    // famPackT from rows at offsets, up to mr columns
	famStencil                     // y = bias + Σ w[t]·x shifted, nr lanes a vector
	famDots                        // dot products with x shifted (per: taps per call)
	famAddRows                     // dst += src, whole vectors of nr lanes
	famWinogradIn                  // Winograd input transform of a band, nr tiles a vector
	famWinogradOut                 // Winograd output transform of a band, with bias and ReLU
	famWinogradGrad                // Winograd transform of an output gradient's band
	famStencilRows                 // up to mr rows of y = bias + Σ w[t]·x shifted, nr lanes a vector
	famDotsRows                    // up to mr rows × per taps of dot products with x shifted
	famGather2                     // rows of every second float, whole vectors of nr lanes
	famScatter2                    // rows into every second float, whole vectors of nr lanes
	famDwcIn                       // nr channel planes' rows into interleaved positions, zero-padded
	famDwcOut                      // interleaved positions of nr channels back into planes
	famDwcConv1                    // depthwise convolution of nr interleaved channels, column stride 1
	famDwcConv2                    // famDwcConv1 at column stride 2
	famDwcDots                     // a depthwise filter gradient of nr interleaved channels (per: taps per call)
	famIndirect                    // mr positions × up to per vectors of nr channels, x read through pointers
)

// kernelSpec is one row of kernelTable.
type kernelSpec struct {
	name   string
	isa    isaID
	family family
	mr, nr int     // register tile; rows and lanes of the packing kernels
	store  bool    // sets its c tile instead of adding to it
	packs  packing // what a famSgemmPack kernel packs
	edge   bool    // a narrower tile for a panel's last sliver
	rows   int     // famSgemm row edge: only the tile's first rows rows (A still mr a k step)
	study  bool    // generated with -study for benchmarks; never dispatched to
	per    int     // famPeak: flops per iteration; famDots, famDotsRows: taps per call
	needs  feature // CPU features it needs
}

// A feature is a set of CPU features that kernels need; cpuFeatures
// (isa_*.go) reports those of this CPU.
type feature uint16

const (
	featAVX2 feature = 1 << iota
	featFMA
	featPOPCNT
	featAVX512F
	featAVX512VL
)

// packing is what a famSgemmPack kernel packs as it computes.
type packing uint8

const (
	packingNone packing = iota
	packingA            // A's slivers from its rows
	packingAT           // A's slivers from a transposed A
	packingB            // B's slivers from its rows
)

func notCallable(id kernelID) string {
	return fmt.Sprintf("simdconv: kernel %d (%q) called through the wrong call function", id, kernelTable[id].name)
}

// kernelSet is the kernels the driver calls for one ISA, looked up in
// kernelTable by family, form and width; noKernel where the ISA has none.
type kernelSet struct {
	main, store      kernelID       // famSgemm at the ISA's tile: adding, storing
	edges            []kernelID     // famSgemm edge tiles, narrowest first
	rowEdges         [][2]kernelID  // famSgemm row edges of the main tile, by rows, then store; nil if none
	pack             [4][2]kernelID // famSgemmPack by packing, then store
	prefetch         [2]kernelID    // famSgemmPrefetch by store
	direct           kernelID
	dotRows, dotCols kernelID
	packRows         kernelID
	packSliver       kernelID
	packT            []kernelID // by rows
	packTOff         kernelID
	stencil, dots    kernelID
	addRows          kernelID
	winogradIn       kernelID
	winogradOut      kernelID
	winogradGrad     kernelID
	stencilRows      kernelID
	dotsRows         kernelID
	gather2          kernelID
	scatter2         kernelID
	dwcIn, dwcOut    kernelID
	dwcConv          [2]kernelID // by column stride − 1
	dwcDots          kernelID
	indirect         kernelID
	peak             kernelID
}

// kernelSets holds each ISA's kernels. An ISA takes its fallback's kernels
// of a family it has none of (AVX-512 uses AVX2's transposing packs).
// AVX-512's GEMM kernels are those of the tile this CPU's uarch row picks.
var kernelSets = buildKernelSets()

// isaFallback is the ISA whose kernels an ISA borrows; every CPU of the
// first can run the second.
var isaFallback = [numISA]isaID{isaAVX512: isaAVX2}

func buildKernelSets() (sets [numISA]kernelSet) {
	tiles := [numISA]tile{isaAVX512: avx512Tile()}
	for _, isa := range []isaID{isaAVX2, isaNEON, isaAVX512} { // fallbacks first
		s := &sets[isa]
		if fb := isaFallback[isa]; fb != isaGeneric {
			*s = sets[fb]
			s.main, s.store, s.edges, s.rowEdges = noKernel, noKernel, nil, nil
			s.pack, s.prefetch = [4][2]kernelID{}, [2]kernelID{}
			s.packT = append([]kernelID(nil), s.packT...)
		}
		single := s.singles()
		for i := range kernelTable {
			id, k := kernelID(i), &kernelTable[i]
			if id == noKernel || k.isa != isa || k.study || !k.ofTile(tiles[isa]) {
				continue
			}
			st := 0
			if k.store {
				st = 1
			}
			switch k.family {
			case famSgemm:
				switch {
				case k.edge:
					s.edges = insertByWidth(s.edges, id)
				case k.rows > 0:
					if s.rowEdges == nil {
						s.rowEdges = make([][2]kernelID, k.mr)
					}
					s.rowEdges[k.rows][st] = id
				case k.store:
					s.store = id
				default:
					s.main = id
				}
			case famSgemmPack:
				s.pack[k.packs][st] = id
			case famSgemmPrefetch:
				s.prefetch[st] = id
			case famPackT:
				s.packT = append(s.packT, id)
			default:
				*single[k.family] = id
			}
		}
	}
	return sets
}

// height is the number of rows of c that a tile kernel computes.
func (k *kernelSpec) height() int {
	if k.rows > 0 {
		return k.rows
	}
	return k.mr
}

// ofTile reports whether k is of main tile t (any tile if t is zero): a
// GEMM kernel of another tile (or an edge kernel of another height) is
// not.
func (k *kernelSpec) ofTile(t tile) bool {
	switch {
	case t == tile{}:
		return true
	case k.family == famSgemm && k.edge:
		return k.mr == t.mr
	case k.family == famSgemm || k.family == famSgemmPack || k.family == famSgemmPrefetch:
		return k.mr == t.mr && k.nr == t.nr
	}
	return true
}

// singles maps each family of which an ISA has one kernel to the field of
// s that holds it.
func (s *kernelSet) singles() map[family]*kernelID {
	return map[family]*kernelID{
		famDirect: &s.direct, famDirectDotRows: &s.dotRows, famDirectDotCols: &s.dotCols,
		famPackRows: &s.packRows, famPackSliver: &s.packSliver, famPackTOff: &s.packTOff,
		famStencil: &s.stencil, famDots: &s.dots, famAddRows: &s.addRows, famPeak: &s.peak,
		famWinogradIn: &s.winogradIn, famWinogradOut: &s.winogradOut, famWinogradGrad: &s.winogradGrad,
		famStencilRows: &s.stencilRows, famDotsRows: &s.dotsRows,
		famGather2: &s.gather2, famScatter2: &s.scatter2,
		famDwcIn: &s.dwcIn, famDwcOut: &s.dwcOut, famDwcConv1: &s.dwcConv[0], famDwcConv2: &s.dwcConv[1], famDwcDots: &s.dwcDots,
		famIndirect: &s.indirect,
	}
}

func insertByWidth(ids []kernelID, id kernelID) []kernelID {
	i := 0
	for i < len(ids) && kernelTable[ids[i]].nr < kernelTable[id].nr {
		i++
	}
	return append(ids[:i], append([]kernelID{id}, ids[i:]...)...)
}

// isaNeeds is the features an ISA's kernels need, all of them together.
func isaNeeds(isa isaID) (needs feature, any bool) {
	for _, k := range kernelTable[1:] {
		if k.isa == isa {
			needs, any = needs|k.needs, true
		}
	}
	return needs, any
}
