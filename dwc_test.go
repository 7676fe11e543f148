package simdconv

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/simdconv/simdconv/internal/testutil"
	"github.com/stretchr/testify/require"
)

// dwcISA returns the lanes of the selected ISA's own kernels, failing t if
// an ISA with SIMD kernels has none: every such ISA must have the
// channel-interleaved family.
func dwcISA(t *testing.T) int {
	kid := kernelSets[current].dwcConv[0]
	if current == isaGeneric {
		require.Equal(t, noKernel, kid, "the generic ISA has no channel-interleaved kernels")
		require.Zero(t, driver{}.DwcLanes(16))
		require.Panics(t, func() { driver{}.DwcOut(8, make([]float32, 64), make([]float32, 64), 8, 8) })
		return 0
	}
	require.NotEqual(t, noKernel, kid, "%s has no channel-interleaved kernels", isaNames[current])
	return kernelTable[kid].nr
}

// TestDwcLanes checks the block width chosen for a layer's channels: the
// ISA's own lanes where they divide the channels, else its fallback's
// (AVX-512 takes AVX2's 8), else none.
func TestDwcLanes(t *testing.T) {
	registry.ForEachISA(t, func(t *testing.T) {
		l := dwcISA(t)
		if l == 0 {
			return
		}
		require.Equal(t, l, driver{}.DwcLanes(l))
		require.Equal(t, l, driver{}.DwcLanes(3*l))
		require.Zero(t, driver{}.DwcLanes(3))
		if fb := isaFallback[current]; fb != isaGeneric {
			half := kernelTable[kernelSets[fb].dwcConv[0]].nr
			require.Equal(t, half, driver{}.DwcLanes(l+half), "a block of %s's lanes", isaNames[fb])
			require.NotPanics(t, func() { dwcSet(half, "test") })
		}
	})
}

// TestDwcIn checks the transpose into padded interleaved rows against its
// definition, for widths below, at and past a block of lanes, rows of src
// back to back and further apart, with NaN everywhere around what it may
// read and write (and in the gaps between rows of dst, rows of src and
// planes of src).
func TestDwcIn(t *testing.T) {
	registry.ForEachISA(t, func(t *testing.T) {
		l := dwcISA(t)
		if l == 0 {
			return
		}
		r := rand.New(rand.NewPCG(1, 2))
		for _, cols := range []int{1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 31, 33, 56} {
			for _, pad := range [][2]int{{0, 0}, {1, 1}, {3, 0}, {0, 2}} {
				for _, rr := range [][2]int{{1, 0}, {3, 0}, {3, 2}} {
					rows, ldr := rr[0], cols+rr[1]
					left, right := pad[0], pad[1]
					lds := (rows-1)*ldr + cols + 3
					ldd := (left+cols+right)*l + 5
					src := testutil.NewGuarded(l*lds, nil)
					s := src.Slice()
					for i := range s {
						s[i] = float32(math.NaN())
					}
					for c := range l {
						for row := range rows {
							for j := range cols {
								s[c*lds+row*ldr+j] = r.Float32()
							}
						}
					}
					dst := testutil.NewGuarded((rows-1)*ldd+(left+cols+right)*l, nil)
					d := dst.Slice()
					for i := range d {
						d[i] = float32(math.NaN())
					}
					driver{}.DwcIn(l, d, s, rows, cols, ldr, lds, ldd, left, right)
					src.Check(t)
					dst.Check(t)
					where := fmt.Sprintf("rows=%d cols=%d ldr=%d left=%d right=%d", rows, cols, ldr, left, right)
					for row := range rows {
						for i := range ldd {
							if row == rows-1 && i >= (left+cols+right)*l {
								break
							}
							j, c := i/l, i%l
							got := d[row*ldd+i]
							switch {
							case j >= left+cols+right:
								require.True(t, got != got, "%s: row %d float %d past the row written", where, row, i)
							case j < left || j >= left+cols:
								require.Zero(t, got, "%s: row %d padding position %d lane %d", where, row, j, c)
							default:
								require.Equal(t, s[c*lds+row*ldr+j-left], got, "%s: row %d position %d lane %d", where, row, j, c)
							}
						}
					}
				}
			}
		}
	})
}

// TestDwcOut checks the transpose back into planes, for position counts
// that are and are not a multiple of the lanes, inside NaN guard bands and
// with the gaps between the planes of dst left alone.
func TestDwcOut(t *testing.T) {
	registry.ForEachISA(t, func(t *testing.T) {
		l := dwcISA(t)
		if l == 0 {
			return
		}
		r := rand.New(rand.NewPCG(3, 4))
		for _, n := range []int{l, l + 1, 2*l - 1, 2 * l, 49, 196, 3*l + 5} {
			ldd := n + 2
			src := testutil.NewGuarded(n*l, testutil.Rand(r, n*l))
			dst := testutil.NewGuarded((l-1)*ldd+n, nil)
			d := dst.Slice()
			for i := range d {
				d[i] = float32(math.NaN())
			}
			driver{}.DwcOut(l, d, src.Slice(), n, ldd)
			src.Check(t)
			dst.Check(t)
			for c := range l {
				for j := range ldd {
					if c == l-1 && j >= n {
						break
					}
					got := d[c*ldd+j]
					if j >= n {
						require.True(t, got != got, "n=%d: plane %d float %d written", n, c, j)
						continue
					}
					require.Equal(t, src.Slice()[j*l+c], got, "n=%d: plane %d position %d", n, c, j)
				}
			}
		}
		require.Panics(t, func() { driver{}.DwcOut(l, make([]float32, l*l), make([]float32, l*l), l-1, l) }, "n below the lanes")
	})
}

// TestDwcConv checks the interleaved convolution against a float64
// reference at both column strides, for taps 1 to 25, widths around the
// kernel's block of positions, with and without ReLU, writing its outputs
// one and two positions apart, inside NaN guard bands and with the
// positions between left alone; a NaN in one input position must reach
// only the outputs that read it.
func TestDwcConv(t *testing.T) {
	registry.ForEachISA(t, func(t *testing.T) {
		l := dwcISA(t)
		if l == 0 {
			return
		}
		r := rand.New(rand.NewPCG(5, 6))
		for _, stride := range []int{1, 2} {
			for _, taps := range []int{1, 4, 9, 25} {
				for _, cols := range []int{1, 2, 3, 4, 5, 7, 8, 12, 13, 14, 25} {
					for _, relu := range []bool{false, true} {
						checkDwcConv(t, r, l, stride, taps, 3, cols, 1, relu)
					}
					checkDwcConv(t, r, l, stride, taps, 3, cols, 2, false)
				}
			}
		}
	})
}

func checkDwcConv(t *testing.T, r *rand.Rand, l, stride, taps, rows, cols, ystep int, relu bool) {
	t.Helper()
	// Taps in a k×k square over rows of width wx positions.
	k := int(math.Ceil(math.Sqrt(float64(taps))))
	wx := (cols-1)*stride + k + 1
	ldx := (stride*1 + k) * wx * l / k // rows far enough apart that taps stay in
	ldx = max(ldx, wx*l)
	off := make([]int, taps)
	for t := range taps {
		off[t] = (t/k*wx + t%k) * l
	}
	xlen := (rows-1)*ldx + off[taps-1] + ((cols-1)*stride+1)*l
	x := testutil.NewGuarded(xlen, testutil.Rand(r, xlen))
	nanAt := -1
	if taps > 1 && cols > 2 {
		nanAt = xlen / 2
		x.Slice()[nanAt] = float32(math.NaN())
	}
	w := testutil.NewGuarded(taps*l, testutil.Rand(r, taps*l))
	bias := testutil.NewGuarded(l, testutil.Rand(r, l))
	ldy := (cols*ystep + 1) * l
	y := testutil.NewGuarded((rows-1)*ldy+((cols-1)*ystep+1)*l, nil)
	for i := range y.Slice() {
		y.Slice()[i] = float32(math.NaN())
	}
	driver{}.DwcConv(l, y.Slice(), x.Slice(), w.Slice(), off, rows, cols, ldx, stride, ldy, ystep, bias.Slice(), relu)
	x.Check(t)
	w.Check(t)
	bias.Check(t)
	y.Check(t)
	rt, atol := testutil.Tol(taps)
	where := fmt.Sprintf("stride=%d taps=%d cols=%d ystep=%d relu=%v", stride, taps, cols, ystep, relu)
	written := map[int]bool{}
	for p := range rows {
		for q := range cols {
			for c := range l {
				want, reads := float64(bias.Slice()[c]), false
				for t, o := range off {
					i := p*ldx + q*stride*l + o + c
					reads = reads || i == nanAt
					want += float64(w.Slice()[t*l+c]) * float64(x.Slice()[i])
				}
				if relu && !reads {
					want = max(want, 0)
				}
				at := p*ldy + q*ystep*l + c
				written[at] = true
				got := y.Slice()[at]
				if reads {
					require.True(t, got != got, "%s: (%d, %d) lane %d reads the NaN", where, p, q, c)
					continue
				}
				require.False(t, got != got, "%s: (%d, %d) lane %d: a NaN it does not read", where, p, q, c)
				require.InDelta(t, want, float64(got), atol+rt*math.Abs(want), "%s: (%d, %d) lane %d", where, p, q, c)
			}
		}
	}
	for i, v := range y.Slice() {
		if !written[i] {
			require.True(t, v != v, "%s: float %d of y between the outputs written", where, i)
		}
	}
}

// TestDwcDots checks the interleaved filter gradient against a float64
// reference at column strides 1 and 2, for tap counts up to past one
// kernel call, added to what d holds, inside NaN guard bands.
func TestDwcDots(t *testing.T) {
	registry.ForEachISA(t, func(t *testing.T) {
		l := dwcISA(t)
		if l == 0 {
			return
		}
		r := rand.New(rand.NewPCG(7, 8))
		for _, stride := range []int{1, 2} {
			for _, taps := range []int{1, 3, 9, 25, 30} {
				for _, cols := range []int{1, 5, 12} {
					rows := 3
					k := int(math.Ceil(math.Sqrt(float64(taps))))
					wx := (cols-1)*stride + k
					ldx := (k + 1) * wx * l
					off := make([]int, taps)
					for t := range taps {
						off[t] = (t/k*wx + t%k) * l
					}
					xlen := (rows-1)*ldx + off[taps-1] + ((cols-1)*stride+1)*l
					x := testutil.NewGuarded(xlen, testutil.Rand(r, xlen))
					a := testutil.NewGuarded(rows*cols*l, testutil.Rand(r, rows*cols*l))
					d := testutil.NewGuarded(taps*l, testutil.Rand(r, taps*l))
					want := make([]float64, taps*l)
					for i, v := range d.Slice() {
						want[i] = float64(v)
					}
					driver{}.DwcDots(l, d.Slice(), a.Slice(), x.Slice(), off, rows, cols, ldx, stride)
					x.Check(t)
					a.Check(t)
					d.Check(t)
					for tp, o := range off {
						for c := range l {
							for p := range rows {
								for q := range cols {
									want[tp*l+c] += float64(a.Slice()[(p*cols+q)*l+c]) * float64(x.Slice()[p*ldx+q*stride*l+o+c])
								}
							}
						}
					}
					rt, at := testutil.Tol(rows * cols)
					testutil.AssertClose(t, want, d.Slice(), rt, at, fmt.Sprintf("stride=%d taps=%d cols=%d", stride, taps, cols))
				}
			}
		}
	})
}
