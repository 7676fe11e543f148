package simdconv

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/simdconv/simdconv/internal/testutil"
	"github.com/stretchr/testify/require"
)

// TestIndirect checks Indirect on every ISA that has it against a float64
// reference: every vector count, one to three tiles, reductions from one
// step to a 3×3 filter over 64 channels, vectors up to two blocks and one
// more, each of storing, adding and ReLU. The positions land at places
// shuffled among twice as many: y is NaN-guarded around and NaN at the
// other places and between its vectors' rows, which must stay NaN.
func TestIndirect(t *testing.T) {
	registry.ForEachISA(t, func(t *testing.T) {
		d := driver{}
		mr, l, maxNV := d.IndirectTile()
		if mr == 0 {
			require.Panics(t, func() { d.Indirect(nil, 0, nil, nil, nil, nil, 0, []int{0}, 1, nil, false, false) })
			return
		}
		r := rand.New(rand.NewPCG(21, 22))
		x := testutil.Rand(r, 5000)
		for nv := 1; nv <= 2*maxNV+1; nv++ {
			for _, tiles := range []int{1, 2, 3} {
				for _, steps := range []int{1, 2, 9, 100, 576} {
					for _, mode := range []string{"store", "add", "relu"} {
						where := fmt.Sprintf("nv=%d tiles=%d steps=%d %s", nv, tiles, steps, mode)
						width := nv * l
						pos, off := make([]int, tiles*mr), make([]int, steps)
						for j := range pos {
							pos[j] = r.IntN(2500)
						}
						for i := range off {
							off[i] = r.IntN(2500)
						}
						lda := steps*l + 3
						a := testutil.Rand(r, (nv-1)*lda+steps*l)
						bias := testutil.Rand(r, width)
						places := 2 * len(pos)
						ypos := r.Perm(places)[:len(pos)]
						ldy := places*l + 7
						gy := testutil.NewGuarded((nv-1)*ldy+places*l, nil)
						y := gy.Slice()
						old := testutil.Rand(r, len(y))
						for i := range y {
							y[i] = float32(math.NaN())
						}
						for v := range nv {
							for _, at := range ypos {
								copy(y[v*ldy+at*l:][:l], old[v*ldy+at*l:])
							}
						}
						d.Indirect(y, ldy, ypos, x, pos, a, lda, off, nv, bias, mode == "add", mode == "relu")
						gy.Check(t)
						var want []float64
						var got []float32
						for v := range nv {
							for j := range pos {
								for ln := range l {
									k, at := v*l+ln, v*ldy+ypos[j]*l+ln
									s := float64(bias[k])
									if mode == "add" {
										s = float64(old[at])
									}
									for i, o := range off {
										s += float64(a[v*lda+i*l+ln]) * float64(x[pos[j]+o])
									}
									if mode == "relu" {
										s = max(s, 0)
									}
									want, got = append(want, s), append(got, y[at])
									y[at] = float32(math.NaN()) // checked
								}
							}
						}
						for i, g := range y {
							require.True(t, math.IsNaN(float64(g)), "Indirect wrote y[%d] off its places, %s", i, where)
						}
						rt, at := testutil.Tol(steps + 1)
						testutil.AssertClose(t, want, got, rt, at, "Indirect ", where)
					}
				}
			}
		}
	})
}

// TestIndirectPanics checks that Indirect refuses operands outside its
// contract before touching memory.
func TestIndirectPanics(t *testing.T) {
	registry.ForEachISA(t, func(t *testing.T) {
		d := driver{}
		mr, l, _ := d.IndirectTile()
		if mr == 0 {
			require.Panics(t, func() { d.Indirect(nil, 0, nil, nil, nil, nil, 0, []int{0}, 1, nil, false, false) })
			return
		}
		x := make([]float32, 100)
		pos, off := make([]int, mr), []int{0, 10}
		for j := range pos {
			pos[j] = 2 * j
		}
		a, bias := make([]float32, 2*l), make([]float32, l)
		y, ypos := make([]float32, mr*l), make([]int, mr)
		for j := range ypos {
			ypos[j] = mr - 1 - j
		}
		at := func(j, place int) []int {
			ypos := slices.Clone(ypos)
			ypos[j] = place
			return ypos
		}
		call := func(y []float32, ypos []int, x []float32, pos []int, a []float32, off []int, nv int, bias []float32, add bool) func() {
			return func() { d.Indirect(y, mr*l, ypos, x, pos, a, 2*l, off, nv, bias, add, false) }
		}
		require.NotPanics(t, call(y, ypos, x, pos, a, off, 1, bias, false))
		require.NotPanics(t, call(y, ypos, x, pos, a, off, 1, nil, true))
		require.Panics(t, call(y, ypos, x, pos, a, off, 1, nil, false), "no bias to store")
		require.Panics(t, call(y[:len(y)-1], ypos, x, pos, a, off, 1, bias, false), "short y")
		require.Panics(t, call(y, ypos[1:], x, pos, a, off, 1, bias, false), "a place short")
		require.Panics(t, call(y, at(2, mr), x, pos, a, off, 1, bias, false), "a place past ldy")
		require.Panics(t, call(y, at(0, -1), x, pos, a, off, 1, bias, false), "a place before y")
		require.Panics(t, call(y, at(1, math.MaxInt/2), x, pos, a, off, 1, bias, false), "a place that wraps")
		require.Panics(t, call(y, ypos, x, pos, a[:2*l-1], off, 1, bias, false), "short a")
		require.Panics(t, call(y, ypos[:mr-1], x, pos[:mr-1], a, off, 1, bias, false), "part of a tile")
		require.Panics(t, call(y, ypos, x, pos, a, nil, 1, bias, false), "no steps")
		require.Panics(t, call(y, ypos, x, pos, a, off, 0, bias, false), "no vectors")
		require.Panics(t, call(y, ypos, x[:10+2*(mr-1)], pos, a, off, 1, bias, false), "reads past x")
		require.Panics(t, call(y, ypos, x, pos, a, []int{-1, 10}, 1, bias, false), "reads before x")
		require.Panics(t, call(y, ypos, x, pos, a, []int{0, math.MaxInt - 5}, 1, bias, false), "offsets that wrap")
	})
}

// BenchmarkIndirect times Indirect alone on ResNet's 3×3 stride-2 layer
// at batch 8 (Z32): 64 channels of a zero-padded 16×16 plane, an output of
// 7×7 positions, 64 output channels. GFLOP/s counts the tiles' real
// positions.
func BenchmarkIndirect(b *testing.B) {
	for _, name := range ISAs() {
		b.Run("isa="+name, func(b *testing.B) { benchIndirect(b, name) })
	}
}

func benchIndirect(b *testing.B, isa string) {
	prev := ISA()
	defer SetISA(prev)
	require.NoError(b, SetISA(isa))
	{
		d := driver{}
		mr, l, _ := d.IndirectTile()
		if mr == 0 {
			b.Skip("no indirect kernel")
		}
		const c, hw, pq, k = 64, 16, 7, 64
		nv := k / l
		var pos, off []int
		for p := range pq * pq {
			pos = append(pos, 2*(p/pq)*hw+2*(p%pq))
		}
		real := len(pos)
		for len(pos)%mr != 0 {
			pos = append(pos, pos[len(pos)-1])
		}
		for ci := range c {
			for t := range 9 {
				off = append(off, ci*hw*hw+t/3*hw+t%3)
			}
		}
		r := rand.New(rand.NewPCG(1, 2))
		x, a := testutil.Rand(r, c*hw*hw), testutil.Rand(r, len(off)*nv*l)
		y, bias := make([]float32, nv*len(pos)*l), make([]float32, nv*l)
		ypos := make([]int, len(pos))
		for j := range ypos {
			ypos[j] = j
		}
		b.ResetTimer()
		for range b.N {
			d.Indirect(y, len(pos)*l, ypos, x, pos, a, len(off)*l, off, nv, bias, false, false)
		}
		b.ReportMetric(2*float64(real*len(off)*nv*l)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
	}
}
