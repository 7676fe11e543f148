package main

import (
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
)

// realData loads the MNIST training and test sets once for all tests.
var realData = sync.OnceValues(func() ([2]*dataset, error) {
	dir, err := dataDir()
	if err != nil {
		return [2]*dataset{}, err
	}
	tr, te, err := load(dir, 0)
	return [2]*dataset{tr, te}, err
})

// firstImages returns the first trainN training and testN test images.
func firstImages(t testing.TB, trainN, testN int) (train, test *dataset) {
	sets, err := realData()
	if err != nil {
		t.Fatal(err)
	}
	tr, te := sets[0], sets[1]
	return &dataset{tr.images[:trainN], tr.labels[:trainN]}, &dataset{te.images[:testN], te.labels[:testN]}
}

// TestTrainingLearns trains one epoch on 2000 real images and checks that
// the loss on them falls and that the test accuracy is far above chance.
// Batches of 32 give it 63 steps: the first few dozen steps from the
// initialisation barely move the loss.
func TestTrainingLearns(t *testing.T) {
	tr, te := firstImages(t, 2000, 1000)
	rng := rand.New(rand.NewPCG(1, 0))
	cfg := config{epochs: 1, batch: 32, threads: 2, lr: 0.05, momentum: 0.9, decay: 1}
	n := newLeNet(cfg.batch, cfg.threads, rng)
	defer n.close()
	before, _, err := evaluate(n, tr, cfg.batch)
	if err != nil {
		t.Fatal(err)
	}
	res, err := train(n, tr, te, cfg, rng, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	after, _, err := evaluate(n, tr, cfg.batch)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("loss on the training images %.3f → %.3f, test accuracy %.1f%%", before, after, 100*res[0].accuracy)
	if !(after < 0.75*before) {
		t.Errorf("the loss on the training images went from %.3f to %.3f, want below three quarters", before, after)
	}
	if res[0].accuracy < 0.5 {
		t.Errorf("test accuracy %.3f after one epoch on 2000 images, want at least 0.5", res[0].accuracy)
	}
}

// TestMaxPoolReLUBackward checks the rule for ties, which the blank
// background makes common: the gradient goes to the first maximum only, and
// nowhere when the maximum is 0.
func TestMaxPoolReLUBackward(t *testing.T) {
	in := []float32{
		2, 2, 0, 0, 1, 3,
		2, 2, 0, 0, 3, 1,
	}
	out := make([]float32, 3)
	maxPool(out, in, 1, 2, 6)
	din := slices.Repeat([]float32{-1}, len(in))
	maxPoolReLUBackward(din, []float32{10, 20, 30}, in, out, 1, 2, 6)
	want := []float32{
		10, 0, 0, 0, 0, 30,
		0, 0, 0, 0, 0, 0,
	}
	if !slices.Equal(din, want) {
		t.Errorf("got %v, want %v", din, want)
	}
}

// TestGradient compares the gradient of the whole net, as initialised, on
// one random image with central finite differences of the loss along
// directions in each parameter tensor. The net is smooth only between the
// kinks of its ReLUs and max-pools, so a difference counts only when neither
// end of its step crosses one; the step shrinks until one does not. The loss
// is computed in float32, so the tolerance allows for its rounding divided by
// the step.
func TestGradient(t *testing.T) {
	const batch = 1
	rng := rand.New(rand.NewPCG(2, 0))
	n := newLeNet(batch, 1, rng)
	defer n.close()
	for i := range n.x[:batch*imageSize] {
		n.x[i] = float32(rng.NormFloat64())
	}
	for i := range n.labels {
		n.labels[i] = rng.IntN(classes)
	}
	if _, _, err := n.step(batch); err != nil {
		t.Fatal(err)
	}
	grad := append([]float32(nil), n.flatGrad...)
	at := kinks(n, batch)
	// loss returns the loss and whether the net is on the same side of every
	// kink as at the start.
	loss := func() (float64, bool) {
		if err := n.forward(batch); err != nil {
			t.Fatal(err)
		}
		l, _ := softmaxCrossEntropy(nil, n.logits, n.labels[:batch])
		return l / batch, slices.Equal(kinks(n, batch), at)
	}
	off := 0
	for _, l := range layout {
		w := n.flat[off : off+l.size]
		orig := append([]float32(nil), w...)
		eps, checked := 1e-2, false
		for ; eps > 1e-6 && !checked; eps /= 2 {
			for range 4 {
				dir := direction(grad[off:off+l.size], rng)
				var analytic float64
				for i, d := range dir {
					analytic += d * float64(grad[off+i])
				}
				shift := func(s float64) {
					for i := range w {
						w[i] = orig[i] + float32(s*dir[i])
					}
				}
				shift(eps)
				up, same := loss()
				shift(-eps)
				down, same2 := loss()
				if !same || !same2 {
					continue
				}
				numeric := (up - down) / (2 * eps)
				// The loss carries a rounding error of a few 1e-8.
				if math.Abs(numeric-analytic) > 0.01*math.Abs(analytic)+1e-7/eps {
					t.Errorf("%s: directional derivative %.6f by finite differences (step %.2g), %.6f by backward", l.name, numeric, eps, analytic)
				}
				checked = true
				break
			}
		}
		copy(w, orig)
		if !checked {
			t.Errorf("%s: every step crossed a kink", l.name)
		}
		off += l.size
	}
}

// direction returns a unit vector half along g and half random: along g the
// derivative is largest, so it stands out of the rounding, and the random
// half tests the components of g one at a time.
func direction(g []float32, rng *rand.Rand) []float64 {
	var gg float64
	for _, v := range g {
		gg += float64(v) * float64(v)
	}
	dir := make([]float64, len(g))
	var dd float64
	for i, v := range g {
		dir[i] = float64(v)/math.Sqrt(gg) + rng.NormFloat64()/math.Sqrt(float64(len(g)))
		dd += dir[i] * dir[i]
	}
	for i := range dir {
		dir[i] /= math.Sqrt(dd)
	}
	return dir
}

// kinks returns on which side of each of its kinks the net is after forward:
// the masks of its ReLUs and the position of each max-pool window's maximum.
func kinks(n *LeNet, batch int) []byte {
	var k []byte
	for _, a := range [][]float32{n.a1[:batch*c1Out*c1Side*c1Side], n.a2[:batch*c2Out*c2Side*c2Side], n.h1[:batch*fc1Out], n.h2[:batch*fc2Out]} {
		for _, v := range a {
			k = append(k, b2u(v > 0))
		}
	}
	for _, pool := range []struct {
		in           []float32
		planes, side int
	}{{n.a1, batch * c1Out, c1Side}, {n.a2, batch * c2Out, c2Side}} {
		for p := range pool.planes {
			x := pool.in[p*pool.side*pool.side:]
			for i := 0; i < pool.side; i += 2 {
				for j := 0; j < pool.side; j += 2 {
					win := []float32{x[i*pool.side+j], x[i*pool.side+j+1], x[(i+1)*pool.side+j], x[(i+1)*pool.side+j+1]}
					k = append(k, byte(slices.Index(win, slices.Max(win))))
				}
			}
		}
	}
	return k
}

func b2u(b bool) byte {
	if b {
		return 1
	}
	return 0
}

// TestStepAllocs checks that a training step allocates nothing once the
// convolutions are planned.
func TestStepAllocs(t *testing.T) {
	n := newLeNet(64, 2, rand.New(rand.NewPCG(3, 0)))
	defer n.close()
	allocs := testing.AllocsPerRun(10, func() {
		if _, _, err := n.step(64); err != nil {
			t.Fatal(err)
		}
		n.sgd(0.01, 0.9)
	})
	if allocs != 0 {
		t.Errorf("a training step allocates %v times, want 0", allocs)
	}
}

func BenchmarkStep(b *testing.B) {
	for _, threads := range []int{1, 2} {
		b.Run(fmt.Sprintf("batch=64/threads=%d", threads), func(b *testing.B) {
			tr, _ := firstImages(b, 64, 1)
			n := newLeNet(64, threads, rand.New(rand.NewPCG(4, 0)))
			defer n.close()
			idx := make([]int, 64)
			for i := range idx {
				idx[i] = i
			}
			tr.gather(n.x, n.labels, idx)
			if _, _, err := n.step(64); err != nil { // plans the convolutions
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				if _, _, err := n.step(64); err != nil {
					b.Fatal(err)
				}
				n.sgd(0.01, 0.9)
			}
			b.ReportMetric(float64(b.N*64)/b.Elapsed().Seconds(), "images/s")
		})
	}
}

// BenchmarkLayers times each part of a training step on a batch of 64 real
// images on one thread, to show where a step's time goes.
func BenchmarkLayers(b *testing.B) {
	const batch = 64
	tr, _ := firstImages(b, batch, 1)
	n := newLeNet(batch, 1, rand.New(rand.NewPCG(5, 0)))
	defer n.close()
	idx := make([]int, batch)
	for i := range idx {
		idx[i] = i
	}
	tr.gather(n.x, n.labels, idx)
	if _, _, err := n.step(batch); err != nil {
		b.Fatal(err)
	}
	c := n.shards[0].convs
	for _, l := range []struct {
		name string
		f    func() error
	}{
		{"conv1/forward", func() error { return c.c1.Forward(n.a1, n.x, n.w.conv1W, n.w.conv1B) }},
		{"conv1/backward-filter", func() error { return c.c1.BackwardFilter(n.dw.conv1W, n.dw.conv1B, n.da1, n.x) }},
		{"conv2/forward", func() error { return c.c2.Forward(n.a2, n.p1, n.w.conv2W, n.w.conv2B) }},
		{"conv2/backward-data", func() error { return c.c2.BackwardData(n.dp1, n.da2, n.w.conv2W) }},
		{"conv2/backward-filter", func() error { return c.c2.BackwardFilter(n.dw.conv2W, n.dw.conv2B, n.da2, n.p1) }},
		{"pool1/forward", func() error { maxPool(n.p1, n.a1, batch*c1Out, c1Side, c1Side); return nil }},
		{"pool1/backward", func() error {
			maxPoolReLUBackward(n.da1, n.dp1, n.a1, n.p1, batch*c1Out, c1Side, c1Side)
			return nil
		}},
		{"pool2/forward", func() error { maxPool(n.p2, n.a2, batch*c2Out, c2Side, c2Side); return nil }},
		{"pool2/backward", func() error {
			maxPoolReLUBackward(n.da2, n.dp2, n.a2, n.p2, batch*c2Out, c2Side, c2Side)
			return nil
		}},
		{"dense/forward", func() error {
			dense(n.h1, n.p2, n.w.fc1W, n.w.fc1B, batch, fc1In, fc1Out, true)
			dense(n.h2, n.h1, n.w.fc2W, n.w.fc2B, batch, fc1Out, fc2Out, true)
			dense(n.logits, n.h2, n.w.fc3W, n.w.fc3B, batch, fc2Out, classes, false)
			return nil
		}},
		{"dense/backward", func() error {
			denseBackward(n.dh2, n.dw.fc3W, n.dw.fc3B, n.dlogits, n.h2, n.w.fc3W, batch, fc2Out, classes)
			reluBackward(n.dh2[:batch*fc2Out], n.h2)
			denseBackward(n.dh1, n.dw.fc2W, n.dw.fc2B, n.dh2, n.h1, n.w.fc2W, batch, fc1Out, fc2Out)
			reluBackward(n.dh1[:batch*fc1Out], n.h1)
			denseBackward(n.dp2, n.dw.fc1W, n.dw.fc1B, n.dh1, n.p2, n.w.fc1W, batch, fc1In, fc1Out)
			return nil
		}},
		{"softmax", func() error { softmaxCrossEntropy(n.dlogits, n.logits, n.labels); return nil }},
		{"sgd", func() error { n.sgd(0, 0.9); return nil }},
	} {
		b.Run(l.name, func(b *testing.B) {
			for b.Loop() {
				if err := l.f(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
