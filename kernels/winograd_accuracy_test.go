package kernels

import (
	"flag"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

var accuracyTable = flag.String("winograd-accuracy", "",
	"write the Winograd accuracy table of every 3×3 stride-1 layer of the layer table and the zoo to this file")

// accuracyLayers are the 3×3 stride-1, non-grouped layers of
// ../shared/peers/shapes.csv and zoo_shapes.csv.
var accuracyLayers = []struct {
	name string
	p    Conv2DParams
}{
	{"L2", sq3(1, 64, 56, 56, 64)}, {"L3", sq3(1, 128, 28, 28, 128)}, {"L4", sq3(1, 256, 14, 14, 256)},
	{"L5", sq3(1, 512, 7, 7, 512)}, {"Z18", sq3(1, 3, 224, 224, 64)}, {"Z19", sq3(1, 64, 112, 112, 128)},
	{"Z20", sq3(1, 512, 14, 14, 512)}, {"Z24", sq3(32, 16, 32, 32, 16)}, {"Z26", sq3(32, 32, 16, 16, 32)},
	{"Z27", sq3(64, 3, 32, 32, 16)}, {"Z28", sq3(1, 32, 256, 256, 32)}, {"Z30", sq3(3, 7, 19, 23, 11)},
}

func sq3(n, c, h, w, k int) Conv2DParams {
	return Conv2DParams{N: n, C: c, H: h, W: w, K: k, R: 3, S: 3, PadTop: 1, PadBottom: 1, PadLeft: 1, PadRight: 1}
}

// TestWinogradAccuracy measures, per pass, max |error| / Σ|terms| of
// Winograd and of the direct pass against a float64 reference, on
// unit-normal data, and checks every Winograd output against its bound
// (winoBound). By default it runs the smallest layer, Z30; with
// -winograd-accuracy FILE it runs them all and writes the table to FILE.
func TestWinogradAccuracy(t *testing.T) {
	layers := accuracyLayers[len(accuracyLayers)-1:]
	if *accuracyTable != "" {
		layers = accuracyLayers
	}
	var table strings.Builder
	table.WriteString("| layer | pass | Winograd | direct | Winograd / direct | Winograd's largest error / its bound |\n|---|---|---|---|---|---|\n")
	for i, l := range layers {
		s, err := l.p.validate()
		require.NoError(t, err)
		r := rand.New(rand.NewPCG(uint64(i), 11))
		normal := func(n int) []float32 {
			v := make([]float32, n)
			for j := range v {
				v[j] = float32(r.NormFloat64())
			}
			return v
		}
		x, w, dy := normal(s.xLen), normal(s.wLen), normal(s.yLen)
		wino, err := NewConv2D(l.p, WithAlgorithm(Winograd))
		require.NoError(t, err)
		direct, err := NewConv2D(l.p)
		require.NoError(t, err)
		run := func(c *Conv2D) outputs {
			o := outputs{make([]float32, s.yLen), make([]float32, s.xLen), make([]float32, s.wLen), nil}
			require.NoError(t, c.Forward(o.y, x, w, nil))
			require.NoError(t, c.BackwardData(o.dx, dy, w))
			require.NoError(t, c.BackwardFilter(o.dw, nil, dy, x))
			return o
		}
		ow, od := run(wino), run(direct)
		wt := func(c, k int) []float32 { return w[(k*s.C+c)*9:][:9] }
		fw := func(k, c int) []float32 { return w[(k*s.C+c)*9:][:9] }
		passes := []struct {
			name      string
			want, abs []float64
			bound     []float64
			wino, dir []float32
		}{
			{name: "forward", bound: winoForwardBound(s, x, w), wino: ow.y, dir: od.y},
			{name: "backward-data", bound: winoDataBound(s, dy, w), wino: ow.dx, dir: od.dx},
			{name: "backward-filter", bound: winoFilterBound(s, dy, x), wino: ow.dw, dir: od.dw},
		}
		passes[0].want, passes[0].abs = corr64(x, s.N, s.C, s.K, s.H, s.W, s.PadTop, s.PadLeft, s.P, s.Q, fw, false)
		passes[1].want, passes[1].abs = corr64(dy, s.N, s.K, s.C, s.P, s.Q, 2-s.PadTop, 2-s.PadLeft, s.H, s.W, wt, true)
		passes[2].want, passes[2].abs = filter64(s, dy, x)
		for _, ps := range passes {
			we, de, worst := 0.0, 0.0, 0.0
			for j, v := range ps.want {
				if ps.abs[j] == 0 {
					continue
				}
				e := math.Abs(float64(ps.wino[j]) - v)
				we = max(we, e/ps.abs[j])
				de = max(de, math.Abs(float64(ps.dir[j])-v)/ps.abs[j])
				worst = max(worst, e/ps.bound[j])
			}
			require.LessOrEqual(t, worst, 1.0, "%s %s: an error above its bound", l.name, ps.name)
			fmt.Fprintf(&table, "| %s | %s | %.2e | %.2e | %.1f | %.1e |\n", l.name, ps.name, we, de, we/de, worst)
		}
	}
	t.Log("\n" + table.String())
	if *accuracyTable != "" {
		require.NoError(t, os.WriteFile(*accuracyTable, []byte(table.String()), 0o644))
	}
}

// corr64 is the 3×3 correlation of in (n × cin planes h×w, padded by top
// and left) with the filters g(o, i), rotated by 180° if rotate (backward-
// data's), into n × cout planes p×q, in float64, with Σ|terms| of each
// output.
func corr64(in []float32, n, cin, cout, h, w, top, left, p, q int, g func(o, i int) []float32, rotate bool) (sum, abs []float64) {
	sum, abs = make([]float64, n*cout*p*q), make([]float64, n*cout*p*q)
	for img := range n {
		for o := range cout {
			ys, ya := sum[(img*cout+o)*p*q:][:p*q], abs[(img*cout+o)*p*q:][:p*q]
			for i := range cin {
				plane := in[(img*cin+i)*h*w:][:h*w]
				f := g(o, i)
				for r := range 3 {
					for c := range 3 {
						v := float64(f[3*r+c])
						if rotate {
							v = float64(f[8-3*r-c])
						}
						av := math.Abs(v)
						// Output columns whose input column j = oq + c − left is inside.
						q0, q1 := max(0, left-c), min(q, w+left-c)
						for op := range p {
							ih := op + r - top
							if ih < 0 || ih >= h || q0 >= q1 {
								continue
							}
							src := plane[ih*w+q0+c-left:][:q1-q0]
							dst, dsa := ys[op*q+q0:][:q1-q0], ya[op*q+q0:][:q1-q0]
							for j, x := range src {
								dst[j] += v * float64(x)
								dsa[j] += av * math.Abs(float64(x))
							}
						}
					}
				}
			}
		}
	}
	return sum, abs
}

// filter64 is the filter gradient in float64, with Σ|terms| of each
// element.
func filter64(s shape, dy, x []float32) (sum, abs []float64) {
	sum, abs = make([]float64, s.wLen), make([]float64, s.wLen)
	for k := range s.K {
		for c := range s.C {
			for r := range 3 {
				for t := range 3 {
					q0, q1 := max(0, s.PadLeft-t), min(s.Q, s.W+s.PadLeft-t)
					var v, a float64
					for n := range s.N {
						e := dy[(n*s.K+k)*s.PQ:][:s.PQ]
						plane := x[(n*s.C+c)*s.HW:][:s.HW]
						for p := range s.P {
							ih := p + r - s.PadTop
							if ih < 0 || ih >= s.H || q0 >= q1 {
								continue
							}
							src := plane[ih*s.W+q0+t-s.PadLeft:][:q1-q0]
							for j, xv := range src {
								d := float64(e[p*s.Q+q0+j]) * float64(xv)
								v += d
								a += math.Abs(d)
							}
						}
					}
					sum[(k*s.C+c)*9+3*r+t], abs[(k*s.C+c)*9+3*r+t] = v, a
				}
			}
		}
	}
	return sum, abs
}
