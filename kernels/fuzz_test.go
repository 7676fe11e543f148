package kernels

import (
	"testing"

	"github.com/simdconv/simdconv"
	"github.com/simdconv/simdconv/internal/testutil"
	"github.com/stretchr/testify/require"
)

// FuzzConv2D derives a layer from the input, runs all three passes on the
// generic ISA, checks them against the float64 reference, then checks that
// every other ISA agrees with generic. A layer that Winograd fits runs on
// it too, on every ISA, held to its bound.
func FuzzConv2D(f *testing.F) {
	allParallel(f)
	f.Add([]byte{1, 3, 9, 9, 4, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1}, uint64(1))
	f.Add([]byte{2, 4, 12, 10, 6, 3, 2, 2, 3, 2, 0, 1, 3, 2, 1, 2}, uint64(2))
	f.Add([]byte{1, 2, 13, 6, 3, 2, 2, 0, 0, 2, 0, 1, 2, 0, 0, 0}, uint64(3)) // Winograd fits
	f.Fuzz(func(t *testing.T, b []byte, seed uint64) {
		at := func(i int, mod int) int {
			if i < len(b) {
				return int(b[i]) % mod
			}
			return 0
		}
		groups := 1 + at(15, 4)
		p := Conv2DParams{N: 1 + at(0, 3), C: groups * (1 + at(1, 6)), H: 1 + at(2, 16), W: 1 + at(3, 16),
			K: groups * (1 + at(4, 9)), R: 1 + at(5, 5), S: 1 + at(6, 5),
			StrideH: at(7, 4), StrideW: at(8, 4), PadTop: at(9, 4), PadBottom: at(10, 4),
			PadLeft: at(11, 4), PadRight: at(12, 4), DilationH: at(13, 3), DilationW: at(14, 3), Groups: groups}
		if _, err := p.validate(); err != nil {
			t.Skip(err) // an invalid layer has its own tests
		}
		d := newData(t, p, seed)
		prev := simdconv.ISA()
		defer simdconv.SetISA(prev)
		var want [4][]float64
		registry.ForEachISA(t, func(t *testing.T) {
			if d.s.winogradFits() == nil {
				c, err := NewConv2D(p, WithThreads(1+int(seed%3)), WithAlgorithm(Winograd))
				require.NoError(t, err)
				o := runAll(t, c, d)
				checkBound(t, "Winograd forward", refForward(d.s, d.x, d.w, d.bias, false), winoForwardBound(d.s, d.x, d.w), o.y)
				checkBound(t, "Winograd backward-data", refBackwardData(d.s, d.dy, d.w), winoDataBound(d.s, d.dy, d.w), o.dx)
				wantW, _ := refBackwardFilter(d.s, d.dy, d.x)
				checkBound(t, "Winograd backward-filter", wantW, winoFilterBound(d.s, d.dy, d.x), o.dw)
			}
			c, err := NewConv2D(p, WithThreads(1+int(seed%3)))
			require.NoError(t, err)
			if simdconv.ISA() == "generic" {
				runPasses(t, c, d)
			}
			got := [4][]float32{make([]float32, d.s.yLen), make([]float32, d.s.xLen), make([]float32, d.s.wLen), make([]float32, d.s.K)}
			require.NoError(t, c.Forward(got[0], d.x, d.w, d.bias))
			require.NoError(t, c.BackwardData(got[1], d.dy, d.w))
			require.NoError(t, c.BackwardFilter(got[2], got[3], d.dy, d.x))
			if want[0] == nil {
				for i := range got {
					want[i] = testutil.F64(got[i])
				}
				return
			}
			for i, tol := range [][2]float64{pair(d.tolForward()), pair(d.tolData()), pair(d.tolFilter()), pair(d.tolFilter())} {
				testutil.AssertClose(t, want[i], got[i], 2*tol[0], 2*tol[1], "output ", i, " vs the first ISA")
			}
		})
	})
}

func pair(a, b float64) [2]float64 { return [2]float64{a, b} }
