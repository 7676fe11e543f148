package kernels

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/simdconv/simdconv/internal/testutil"
	"github.com/stretchr/testify/require"
)

// TestSplitPhases checks splitPhases against its definition, element by
// element, for strides, paddings and plane sizes around the input's, with
// some planes not needed (those it clears), into a NaN-filled buffer with a
// guard band past the planes.
func TestSplitPhases(t *testing.T) {
	r := rand.New(rand.NewPCG(4, 4))
	for _, tc := range [][8]int{
		// c, h, w, sh, sw, top, left, extra columns
		{2, 5, 7, 1, 2, 0, 0, 0},
		{1, 6, 9, 2, 2, 1, 1, 1},
		{3, 4, 5, 3, 2, 2, 3, 2},
		{1, 7, 3, 1, 3, 0, 4, 0},
		{2, 3, 10, 2, 4, 0, 1, 3},
		{2, 13, 1, 1, 3, 0, 0, 0}, // phases 1 and 2 of a one-column row are empty
		// column stride 2 with padding on either side, on rows shorter
		// than a vector (left to the Go loop) and on rows the kernels
		// take (64 wide)
		{3, 14, 14, 2, 2, 1, 1, 0},
		{2, 9, 11, 2, 2, 2, 0, 1},
		{2, 8, 13, 3, 2, 0, 3, 0},
		{1, 5, 1, 1, 2, 0, 1, 2},
		{2, 6, 64, 2, 2, 1, 1, 0},
		{1, 4, 63, 1, 2, 0, 0, 0},
	} {
		c, h, w, sh, sw, top, left, extra := tc[0], tc[1], tc[2], tc[3], tc[4], tc[5], tc[6], tc[7]
		hs := (h + top + sh - 1) / sh
		ws := (w+left+sw-1)/sw + extra
		x := testutil.Rand(r, c*h*w)
		need := make([]bool, sh*sw)
		for i := range need {
			need[i] = i%3 != 1
		}
		n := c * sh * sw * hs * ws
		dst := testutil.NewGuarded(n, nil)
		for i := range dst.Slice() {
			dst.Slice()[i] = float32(math.NaN())
		}
		require.Equal(t, n, splitPhases(dst.Slice(), x, c, h, w, sh, sw, top, left, hs, ws, need))
		dst.Check(t)
		got, at := dst.Slice(), 0
		for ci := range c {
			for a := range sh {
				for b := range sw {
					for i := range hs {
						for j := range ws {
							want := float32(0)
							y, z := i*sh+a-top, j*sw+b-left
							if need[a*sw+b] && y >= 0 && y < h && z >= 0 && z < w {
								want = x[(ci*h+y)*w+z]
							}
							require.Equal(t, want, got[at], fmt.Sprintf("%v: channel %d plane (%d, %d) at (%d, %d)", tc, ci, a, b, i, j))
							at++
						}
					}
				}
			}
		}
	}
}

// TestPhasesRead checks which phase planes a 1×1 layer at stride 2 and a
// dilated 3×3 one read.
func TestPhasesRead(t *testing.T) {
	require.Equal(t, []bool{true, false, false, false}, phasesRead([]int{0}, []int{0}, 2, 2))
	require.Equal(t, []bool{true, false, false, false, false, false}, phasesRead([]int{0, 2, 4}, []int{0, 3, 6}, 2, 3))
	require.Equal(t, []bool{true, true, true, false, false, false}, phasesRead([]int{0, 2, 4}, []int{0, 4, 8}, 2, 3))
	require.Equal(t, []bool{false, true}, phasesRead([]int{0}, []int{-1, 1}, 1, 2))
}
