package main

import (
	"fmt"
	"math"
	"math/rand/v2"
	"time"

	G "gorgonia.org/gorgonia"
	nnops "gorgonia.org/gorgonia/ops/nn"
	"gorgonia.org/tensor"
)

// convnet is a small MNIST classifier: two 3×3 convolutions (32 and 64
// channels) with ReLU and 2×2 max pooling, a dense layer of 128 and a
// softmax over 10 classes, trained by plain SGD on a cross-entropy loss.
// It has no dropout, so that two runs from the same seed compute the same
// thing whichever BLAS they use.
type convnet struct {
	g              *G.ExprGraph
	x, y           *G.Node // images, one-hot labels
	w0, w1, w2, w3 *G.Node
	loss           *G.Node
}

func newConvnet(batch int, r *rand.Rand) (*convnet, error) {
	g := G.NewGraph()
	m := &convnet{
		g:  g,
		x:  G.NewTensor(g, tensor.Float32, 4, G.WithShape(batch, 1, 28, 28), G.WithName("x")),
		y:  G.NewMatrix(g, tensor.Float32, G.WithShape(batch, 10), G.WithName("y")),
		w0: weight(g, r, "w0", 32, 1, 3, 3),
		w1: weight(g, r, "w1", 64, 32, 3, 3),
		w2: weight(g, r, "w2", 64*7*7, 128),
		w3: weight(g, r, "w3", 128, 10),
	}
	h, err := convBlock(m.x, m.w0)
	if err != nil {
		return nil, err
	}
	if h, err = convBlock(h, m.w1); err != nil {
		return nil, err
	}
	if h, err = G.Reshape(h, tensor.Shape{batch, 64 * 7 * 7}); err != nil {
		return nil, err
	}
	if h, err = G.Mul(h, m.w2); err != nil {
		return nil, err
	}
	if h, err = nnops.Rectify(h); err != nil {
		return nil, err
	}
	if h, err = G.Mul(h, m.w3); err != nil {
		return nil, err
	}
	if h, err = G.SoftMax(h); err != nil {
		return nil, err
	}
	if h, err = G.Log(h); err != nil {
		return nil, err
	}
	if h, err = G.HadamardProd(h, m.y); err != nil {
		return nil, err
	}
	if h, err = G.Sum(h, 1); err != nil {
		return nil, err
	}
	if h, err = G.Mean(h); err != nil {
		return nil, err
	}
	if m.loss, err = G.Neg(h); err != nil {
		return nil, err
	}
	if _, err = G.Grad(m.loss, m.learnables()...); err != nil {
		return nil, err
	}
	return m, nil
}

// convBlock is a 3×3 same-padded convolution, ReLU and 2×2 max pooling.
func convBlock(x, w *G.Node) (*G.Node, error) {
	h, err := nnops.Conv2d(x, w, tensor.Shape{3, 3}, []int{1, 1}, []int{1, 1}, []int{1, 1})
	if err != nil {
		return nil, err
	}
	if h, err = nnops.Rectify(h); err != nil {
		return nil, err
	}
	return nnops.MaxPool2D(h, tensor.Shape{2, 2}, []int{0, 0}, []int{2, 2})
}

func (m *convnet) learnables() G.Nodes { return G.Nodes{m.w0, m.w1, m.w2, m.w3} }

// weight is a learnable tensor with He-scaled uniform values drawn from r,
// so that a seed fixes the whole run.
func weight(g *G.ExprGraph, r *rand.Rand, name string, shape ...int) *G.Node {
	fanIn := 1
	for _, d := range shape[1:] {
		fanIn *= d
	}
	if len(shape) == 2 {
		fanIn = shape[0]
	}
	limit := float32(math.Sqrt(6 / float64(fanIn)))
	v := uniform(r, tensor.Shape(shape).TotalSize(), -limit, limit)
	t := tensor.New(tensor.WithShape(shape...), tensor.WithBacking(v))
	return G.NewTensor(g, tensor.Float32, len(shape), G.WithShape(shape...), G.WithName(name), G.WithValue(t))
}

// uniform returns n values drawn uniformly from [lo, hi).
func uniform(r *rand.Rand, n int, lo, hi float32) []float32 {
	v := make([]float32, n)
	for i := range v {
		v[i] = lo + (hi-lo)*r.Float32()
	}
	return v
}

// run is the outcome of a training run: the loss and the time of each step.
type run struct {
	losses []float32
	times  []time.Duration
}

// train runs steps SGD steps on random MNIST-shaped batches (pixels in
// [0, 1), random labels); seed fixes the weights and the data. A step's time
// covers the forward pass, the backward pass and the update, not the making
// of its batch.
func train(batch, steps int, seed uint64) (run, error) {
	r := rand.New(rand.NewPCG(seed, 1))
	m, err := newConvnet(batch, r)
	if err != nil {
		return run{}, fmt.Errorf("building the convnet: %w", err)
	}
	var loss G.Value
	G.Read(m.loss, &loss)
	vm := G.NewTapeMachine(m.g, G.BindDualValues(m.learnables()...))
	defer vm.Close()
	solver := G.NewVanillaSolver(G.WithLearnRate(0.01))

	var out run
	for step := range steps {
		x := tensor.New(tensor.WithShape(batch, 1, 28, 28), tensor.WithBacking(uniform(r, batch*28*28, 0, 1)))
		labels := make([]float32, batch*10)
		for i := range batch {
			labels[i*10+r.IntN(10)] = 1
		}
		if err := G.Let(m.x, x); err != nil {
			return out, err
		}
		if err := G.Let(m.y, tensor.New(tensor.WithShape(batch, 10), tensor.WithBacking(labels))); err != nil {
			return out, err
		}
		start := time.Now()
		if err := vm.RunAll(); err != nil {
			return out, fmt.Errorf("step %d: %w", step, err)
		}
		if err := solver.Step(G.NodesToValueGrads(m.learnables())); err != nil {
			return out, fmt.Errorf("step %d: update: %w", step, err)
		}
		vm.Reset()
		out.times = append(out.times, time.Since(start))
		out.losses = append(out.losses, loss.Data().(float32))
	}
	return out, nil
}
