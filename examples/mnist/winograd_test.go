package main

import (
	"flag"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"strings"
	"testing"

	"github.com/simdconv/simdconv"
	"github.com/simdconv/simdconv/kernels"
)

var winogradCurve = flag.String("winograd-curve", "", "write TestWinogradLossCurve's loss curves to this file")

// net3 is a 3×3 variant of the example's net, small enough to train in a
// test: conv 1→8 3×3 pad 1, ReLU, max-pool, conv 8→16 3×3 pad 1, ReLU,
// max-pool, 784→10. Both convolutions are 3×3 stride-1 layers that
// Winograd fits.
type net3 struct {
	c1, c2                      *kernels.Conv2D
	w                           [6][]float32 // conv1 w, b, conv2 w, b, fc w, b
	dw, vel                     [6][]float32
	x, a1, p1, a2, p2, logits   []float32
	da1, dp1, da2, dp2, dlogits []float32
	labels                      []int
	batch                       int
}

const (
	n3c1, n3c2 = 8, 16
	n3fc       = n3c2 * 7 * 7
)

func newNet3(batch int, algo kernels.Algorithm, seed uint64) (*net3, error) {
	conv := func(c, side, k int) (*kernels.Conv2D, error) {
		return kernels.NewConv2D(kernels.Conv2DParams{N: batch, C: c, H: side, W: side, K: k, R: 3, S: 3,
			PadTop: 1, PadBottom: 1, PadLeft: 1, PadRight: 1}, kernels.WithReLU(), kernels.WithAlgorithm(algo))
	}
	n := &net3{batch: batch}
	var err error
	if n.c1, err = conv(1, imageSide, n3c1); err != nil {
		return nil, err
	}
	if n.c2, err = conv(n3c1, 14, n3c2); err != nil {
		return nil, err
	}
	rng := rand.New(rand.NewPCG(seed, 3))
	for i, l := range []struct{ size, fanIn int }{
		{n3c1 * 9, 9}, {n3c1, 9}, {n3c2 * n3c1 * 9, n3c1 * 9}, {n3c2, n3c1 * 9}, {classes * n3fc, n3fc}, {classes, n3fc},
	} {
		bound := 1 / math.Sqrt(float64(l.fanIn))
		n.w[i], n.dw[i], n.vel[i] = make([]float32, l.size), make([]float32, l.size), make([]float32, l.size)
		for j := range n.w[i] {
			n.w[i][j] = float32((2*rng.Float64() - 1) * bound)
		}
	}
	buf := func(per int) []float32 { return make([]float32, batch*per) }
	n.x = buf(imageSize)
	n.a1, n.da1 = buf(n3c1*imageSize), buf(n3c1*imageSize)
	n.p1, n.dp1 = buf(n3c1*14*14), buf(n3c1*14*14)
	n.a2, n.da2 = buf(n3c2*14*14), buf(n3c2*14*14)
	n.p2, n.dp2 = buf(n3fc), buf(n3fc)
	n.logits, n.dlogits = buf(classes), buf(classes)
	n.labels = make([]int, batch)
	return n, nil
}

// step trains on the batch in n.x and n.labels (SGD with momentum) and
// returns its mean loss.
func (n *net3) step(lr, momentum float32) (float64, error) {
	b := n.batch
	if err := n.c1.Forward(n.a1, n.x, n.w[0], n.w[1]); err != nil {
		return 0, err
	}
	maxPool(n.p1, n.a1, b*n3c1, imageSide, imageSide)
	if err := n.c2.Forward(n.a2, n.p1, n.w[2], n.w[3]); err != nil {
		return 0, err
	}
	maxPool(n.p2, n.a2, b*n3c2, 14, 14)
	dense(n.logits, n.p2, n.w[4], n.w[5], b, n3fc, classes, false)
	loss, _ := softmaxCrossEntropy(n.dlogits, n.logits, n.labels)

	denseBackward(n.dp2, n.dw[4], n.dw[5], n.dlogits, n.p2, n.w[4], b, n3fc, classes)
	maxPoolReLUBackward(n.da2, n.dp2, n.a2, n.p2, b*n3c2, 14, 14)
	if err := n.c2.BackwardFilter(n.dw[2], n.dw[3], n.da2, n.p1); err != nil {
		return 0, err
	}
	if err := n.c2.BackwardData(n.dp1, n.da2, n.w[2]); err != nil {
		return 0, err
	}
	maxPoolReLUBackward(n.da1, n.dp1, n.a1, n.p1, b*n3c1, imageSide, imageSide)
	if err := n.c1.BackwardFilter(n.dw[0], n.dw[1], n.da1, n.x); err != nil {
		return 0, err
	}
	for i := range n.w {
		for j, g := range n.dw[i] {
			v := momentum*n.vel[i][j] + g
			n.vel[i][j] = v
			n.w[i][j] -= lr * v
		}
	}
	return loss / float64(b), nil
}

// evaluate returns the accuracy of n on the first images of te, whole
// batches only.
func (n *net3) evaluate(te *dataset) (float64, error) {
	b, correct := n.batch, 0
	idx := make([]int, b)
	for s := 0; s+b <= te.len(); s += b {
		for i := range idx {
			idx[i] = s + i
		}
		te.gather(n.x, n.labels, idx)
		if err := n.c1.Forward(n.a1, n.x, n.w[0], n.w[1]); err != nil {
			return 0, err
		}
		maxPool(n.p1, n.a1, b*n3c1, imageSide, imageSide)
		if err := n.c2.Forward(n.a2, n.p1, n.w[2], n.w[3]); err != nil {
			return 0, err
		}
		maxPool(n.p2, n.a2, b*n3c2, 14, 14)
		dense(n.logits, n.p2, n.w[4], n.w[5], b, n3fc, classes, false)
		_, c := softmaxCrossEntropy(nil, n.logits, n.labels)
		correct += c
	}
	return float64(correct) / float64(te.len()/b*b), nil
}

// TestWinogradLossCurve trains the 3×3 net from the same initialisation on
// the same batches with Direct and with Winograd convolutions, and, as the
// yardstick of a change of rounding alone, with Direct on a second ISA.
// The trajectories agree step by step until the rounding differences,
// amplified by every ReLU and pooling switch they flip, make them
// diverge; what must agree is what the nets learn: the loss averaged over
// windows of 25 steps, within 10 %, and the test accuracy, within 2
// points. With -winograd-curve FILE it writes the curves to FILE.
func TestWinogradLossCurve(t *testing.T) {
	const batch, steps, window = 32, 150, 25
	tr, te := firstImages(t, batch*steps, 1024)
	type run struct {
		name  string
		algo  kernels.Algorithm
		isa   string
		curve []float64
		acc   float64
	}
	runs := []run{{name: "Direct", algo: kernels.Direct, isa: simdconv.ISA()}, {name: "Winograd", algo: kernels.Winograd, isa: simdconv.ISA()}}
	if isa := simdconv.ISAs()[len(simdconv.ISAs())-1]; isa != simdconv.ISA() {
		runs = append(runs, run{name: "Direct", algo: kernels.Direct, isa: isa})
	}
	prev := simdconv.ISA()
	defer simdconv.SetISA(prev)
	for r := range runs {
		if err := simdconv.SetISA(runs[r].isa); err != nil {
			t.Fatal(err)
		}
		n, err := newNet3(batch, runs[r].algo, 1)
		if err != nil {
			t.Fatal(err)
		}
		idx := make([]int, batch)
		for s := range steps {
			for i := range idx {
				idx[i] = s*batch + i
			}
			tr.gather(n.x, n.labels, idx)
			loss, err := n.step(0.05, 0.9)
			if err != nil {
				t.Fatal(err)
			}
			runs[r].curve = append(runs[r].curve, loss)
		}
		if runs[r].acc, err = n.evaluate(te); err != nil {
			t.Fatal(err)
		}
	}
	var out strings.Builder
	out.WriteString("| steps |")
	for _, r := range runs {
		fmt.Fprintf(&out, " %s (%s) |", r.name, r.isa)
	}
	out.WriteString("\n|---|" + strings.Repeat("---|", len(runs)) + "\n")
	mean := func(c []float64, s int) float64 {
		sum := 0.0
		for _, v := range c[s : s+window] {
			sum += v
		}
		return sum / window
	}
	for s := 0; s < steps; s += window {
		fmt.Fprintf(&out, "| %d–%d |", s+1, s+window)
		for _, r := range runs {
			fmt.Fprintf(&out, " %.4f |", mean(r.curve, s))
		}
		out.WriteString("\n")
		d, w := mean(runs[0].curve, s), mean(runs[1].curve, s)
		if math.Abs(w-d) > 0.1*d {
			t.Errorf("steps %d–%d: mean loss %.4f with Winograd, %.4f with Direct: want within 10 %%", s+1, s+window, w, d)
		}
	}
	out.WriteString("| test accuracy |")
	for _, r := range runs {
		fmt.Fprintf(&out, " %.1f %% |", 100*r.acc)
	}
	out.WriteString("\n")
	for _, r := range runs[1:] {
		step := "no step"
		for s := range r.curve {
			if math.Abs(r.curve[s]-runs[0].curve[s]) > 1e-3*runs[0].curve[s] {
				step = fmt.Sprintf("step %d", s+1)
				break
			}
		}
		fmt.Fprintf(&out, "\n%s (%s) first differs from Direct (%s) by more than 10⁻³ of the loss at %s.", r.name, r.isa, runs[0].isa, step)
	}
	out.WriteString("\n")
	t.Log("\n" + out.String())
	if math.Abs(runs[1].acc-runs[0].acc) > 0.02 {
		t.Errorf("test accuracy %.3f with Winograd, %.3f with Direct: want within 2 points", runs[1].acc, runs[0].acc)
	}
	if *winogradCurve != "" {
		if err := os.WriteFile(*winogradCurve, []byte(out.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
