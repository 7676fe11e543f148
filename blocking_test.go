package simdconv

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"
)

// cacheConfigs are the caches of real cores, and what a hypervisor may
// report instead.
var cacheConfigs = map[string]caches{
	"Sapphire Rapids":      cachesFromLeaves(leaf4SapphireRapids),
	"Zen 4":                cachesFromLeaves(leaf1dZen4),
	"Zen 5":                cachesFromLeaves(leaf1dZen5),
	"KVM on Zen 5, legacy": cachesFromAMDLegacy(0x300c0140, 0x04006140, 0x0fe09140, 0),
	"Neoverse N1":          {l1d: cache{64 << 10, 4, 1}, l2: cache{1 << 20, 8, 1}, l3: cache{32 << 20, 16, 64}},
	"Apple M1 P-core":      {l1d: cache{128 << 10, 8, 1}, l2: cache{12 << 20, 12, 4}},
	"nothing reported":     {},
	"direct-mapped L1d":    {l1d: cache{32 << 10, 1, 1}, l2: cache{256 << 10, 4, 1}},
	"tiny":                 {l1d: cache{1 << 10, 2, 1}, l2: cache{4 << 10, 1, 1}, l3: cache{8 << 10, 1, 1}},
	"huge":                 {l1d: cache{1 << 30, 1 << 20, 1}, l2: cache{1 << 40, 3, 0}, l3: cache{1 << 40, 0, 1}},
}

// blockingTiles are the tiles of every ISA, and the AVX-512 tiles of the
// tile study.
var blockingTiles = []tile{{genericMR, genericNR}, {6, 16}, {8, 48}, {8, 12}, {12, 32}, {14, 32}}

// TestCacheBlocks checks the derived blocking's invariants on every cache
// configuration and tile: multiples of 8, mr and nr, blocks within their
// caches unless a bound stops them, and a workspace that covers the
// blocking of every product and of every block of it.
func TestCacheBlocks(t *testing.T) {
	for name, c := range cacheConfigs {
		c = c.sane()
		for _, u := range uarchs {
			for _, tl := range blockingTiles {
				b := cacheBlocks(c, &u, tl.mr, tl.nr)
				where := func(what string) string { return fmt.Sprintf("%s, %s, %v: %s", name, u.name, tl, what) }
				require.True(t, minKC <= b.kc && b.kc <= b.wideKC && b.wideKC <= b.bigKC && b.bigKC <= maxKC, where("kc bounds"))
				if b.kc > minKC {
					require.LessOrEqual(t, 4*b.kc*(tl.mr+tl.nr), c.l1d.size, where("A and B slivers in L1d"))
				}
				if b.mc > tl.mr {
					require.LessOrEqual(t, 4*b.mc*b.bigKC, c.l2.size/u.l2Part, where("A block in L2"))
				}
				for _, m := range []int{1, b.mc, b.mc + 1, 4 * b.mc} {
					for _, n := range []int{1, b.nr + 1, b.nc + 1, bigC} {
						p := b.forProduct(m, n)
						require.Zero(t, p.kc%8, where("kc a multiple of 8"))
						require.True(t, p.mc >= tl.mr && p.mc%tl.mr == 0, where("mc a multiple of mr"))
						require.True(t, p.nc >= tl.nr && p.nc%tl.nr == 0, where("nc a multiple of nr"))
						if p.nc > tl.nr {
							require.LessOrEqual(t, 4*p.kc*p.nc, c.l3Share()/u.l3Part, where("B panel in the L3 share"))
						}
						w := p.panelWidth(n)
						require.True(t, w%tl.nr == 0 && w <= p.nc+tl.nr && w <= roundUp(n, tl.nr), where("panel width"))
						require.LessOrEqual(t, ceilDiv(n, w), ceilDiv(n, p.nc), where("panels"))
						for _, k := range []int{1, 100, p.kc + 1, 5000} {
							ws := b.workspace(m, n, k)
							require.GreaterOrEqual(t, ws, p.blockWorkspace(m, n, k), where("workspace"))
							require.GreaterOrEqual(t, ws, p.blockWorkspace((m+1)/2, (n+1)/2, k), where("workspace of a block"))
						}
					}
				}
			}
		}
	}
}

// TestCacheBlocksThisCPU pins what the blocking is made of: this CPU's
// sane caches and row.
func TestCacheBlocksThisCPU(t *testing.T) {
	require.Equal(t, blockings, buildBlockings(thisCPU.caches.sane(), uarchOf(thisCPU)))
	require.Equal(t, thisCaches.l3Share()/4, bigC)
}

// TestSgemmCacheConfigs runs products across every block boundary on the
// blockings of the smallest and the largest caches, with bigC lowered so
// that the longest kc runs too, on a workspace of gemmWorkspace's size.
func TestSgemmCacheConfigs(t *testing.T) {
	defer func(bs [numISA]blocking, c int) { blockings, bigC = bs, c }(blockings, bigC)
	for _, name := range []string{"tiny", "huge", "Sapphire Rapids"} {
		blockings, bigC = buildBlockings(cacheConfigs[name].sane(), thisUarch), 1
		registry.ForEachISA(t, func(t *testing.T) {
			b := tileOf(current)
			r := rand.New(rand.NewPCG(9, 10))
			for _, s := range [][3]int{{b.mc + b.mr + 1, b.nr + 5, b.bigKC + 9}, {b.mr + 1, b.nc + b.nr + 1, b.kc + 3}, {7, 53, 300}} {
				checkSgemm(t, r, false, false, s[0], s[1], s[2], 1, 1, 0)
				checkSgemm(t, r, true, true, s[0], s[1], s[2], 0, -0.5, 1)
			}
		})
	}
}
