package main

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/simdconv/simdconv/kernels"
)

// The shapes of LeNet-5 on 28×28 inputs: the first convolution pads by 2 so
// that the second sees 14×14 and leaves 16×5×5 = 400 features.
const (
	c1Out, c1Side   = 6, imageSide       // conv1: 1→6, 5×5, pad 2: 28×28
	p1Side          = c1Side / 2         // 14×14 after pooling
	c2Out, c2Side   = 16, p1Side - 5 + 1 // conv2: 6→16, 5×5: 10×10
	p2Side          = c2Side / 2         // 5×5 after pooling
	fc1In           = c2Out * p2Side * p2Side
	fc1Out, fc2Out  = 120, 84
	convSize, kSide = 5 * 5, 5
)

// params holds one tensor per weight and bias, in PyTorch's layouts, as views
// into one flat slice so that an SGD step is one loop.
type params struct {
	conv1W, conv1B, conv2W, conv2B []float32
	fc1W, fc1B, fc2W, fc2B         []float32
	fc3W, fc3B                     []float32
}

// layout lists the tensors of params in order, each with its name, its
// length and the fan-in of its layer, which sets its initial scale.
var layout = [...]struct {
	name        string
	size, fanIn int
}{
	{"conv1.w", c1Out * 1 * convSize, 1 * convSize}, {"conv1.b", c1Out, 1 * convSize},
	{"conv2.w", c2Out * c1Out * convSize, c1Out * convSize}, {"conv2.b", c2Out, c1Out * convSize},
	{"fc1.w", fc1Out * fc1In, fc1In}, {"fc1.b", fc1Out, fc1In},
	{"fc2.w", fc2Out * fc1Out, fc1Out}, {"fc2.b", fc2Out, fc1Out},
	{"fc3.w", classes * fc2Out, fc2Out}, {"fc3.b", classes, fc2Out},
}

// paramCount is the total length of the tensors of layout.
var paramCount = func() (n int) {
	for _, l := range layout {
		n += l.size
	}
	return n
}()

// carve cuts flat (paramCount long) into the tensors of layout.
func carve(flat []float32) params {
	var t [len(layout)][]float32
	for i, l := range layout {
		t[i], flat = flat[:l.size:l.size], flat[l.size:]
	}
	return params{t[0], t[1], t[2], t[3], t[4], t[5], t[6], t[7], t[8], t[9]}
}

// convs are the two convolution layers planned for one batch size.
type convs struct{ c1, c2 *kernels.Conv2D }

// LeNet is LeNet-5 with ReLU and max-pooling, with every buffer a training
// step needs for batches of up to maxBatch images.
type LeNet struct {
	flat, flatGrad, velocity []float32 // all parameters, their gradients, SGD's momentum
	w, dw                    params    // views into flat and flatGrad

	maxBatch, threads int
	plans             map[int]convs // by batch size: the last batch of an epoch may be short

	// Activations, in the order of the forward pass: the input, conv1+ReLU,
	// its pooling, conv2+ReLU, its pooling (the 400 features), the hidden
	// layers after their ReLU and the logits; and the labels.
	x, a1, p1, a2, p2, h1, h2, logits []float32
	labels                            []int

	// Gradients with respect to the activations of the same names.
	da1, dp1, da2, dp2, dh1, dh2, dlogits []float32
}

// newLeNet makes a net for batches of up to maxBatch images whose
// convolutions run on threads threads, initialised as PyTorch initialises
// Conv2d and Linear: every weight and bias uniform in ±1/√fan-in (Kaiming
// uniform with a = √5).
func newLeNet(maxBatch, threads int, rng *rand.Rand) *LeNet {
	n := &LeNet{
		flat:     make([]float32, paramCount),
		flatGrad: make([]float32, paramCount),
		velocity: make([]float32, paramCount),
		maxBatch: maxBatch,
		threads:  threads,
		plans:    map[int]convs{},
	}
	n.w, n.dw = carve(n.flat), carve(n.flatGrad)
	off := 0
	for _, l := range layout {
		bound := 1 / math.Sqrt(float64(l.fanIn))
		for i := range l.size {
			n.flat[off+i] = float32((2*rng.Float64() - 1) * bound)
		}
		off += l.size
	}
	buf := func(perImage int) []float32 { return make([]float32, maxBatch*perImage) }
	n.x = buf(imageSize)
	n.a1, n.da1 = buf(c1Out*c1Side*c1Side), buf(c1Out*c1Side*c1Side)
	n.p1, n.dp1 = buf(c1Out*p1Side*p1Side), buf(c1Out*p1Side*p1Side)
	n.a2, n.da2 = buf(c2Out*c2Side*c2Side), buf(c2Out*c2Side*c2Side)
	n.p2, n.dp2 = buf(fc1In), buf(fc1In)
	n.h1, n.dh1 = buf(fc1Out), buf(fc1Out)
	n.h2, n.dh2 = buf(fc2Out), buf(fc2Out)
	n.logits, n.dlogits = buf(classes), buf(classes)
	n.labels = make([]int, maxBatch)
	return n
}

// convsFor returns the convolutions planned for batch images, planning them
// on first use.
func (n *LeNet) convsFor(batch int) (convs, error) {
	if c, ok := n.plans[batch]; ok {
		return c, nil
	}
	opts := []kernels.Option{kernels.WithThreads(n.threads), kernels.WithReLU()}
	c1, err := kernels.NewConv2D(kernels.Conv2DParams{N: batch, C: 1, H: imageSide, W: imageSide,
		K: c1Out, R: kSide, S: kSide, PadTop: 2, PadBottom: 2, PadLeft: 2, PadRight: 2}, opts...)
	if err != nil {
		return convs{}, fmt.Errorf("conv1: %w", err)
	}
	c2, err := kernels.NewConv2D(kernels.Conv2DParams{N: batch, C: c1Out, H: p1Side, W: p1Side,
		K: c2Out, R: kSide, S: kSide}, opts...)
	if err != nil {
		return convs{}, fmt.Errorf("conv2: %w", err)
	}
	n.plans[batch] = convs{c1, c2}
	return n.plans[batch], nil
}

// forward runs the net on the first batch images of n.x, leaving every
// activation in n and the logits in n.logits.
func (n *LeNet) forward(batch int) error {
	c, err := n.convsFor(batch)
	if err != nil {
		return err
	}
	// The convolutions apply the ReLU themselves (WithReLU).
	if err := c.c1.Forward(n.a1[:batch*c1Out*c1Side*c1Side], n.x[:batch*imageSize], n.w.conv1W, n.w.conv1B); err != nil {
		return err
	}
	maxPool(n.p1, n.a1, batch*c1Out, c1Side, c1Side)
	if err := c.c2.Forward(n.a2[:batch*c2Out*c2Side*c2Side], n.p1[:batch*c1Out*p1Side*p1Side], n.w.conv2W, n.w.conv2B); err != nil {
		return err
	}
	maxPool(n.p2, n.a2, batch*c2Out, c2Side, c2Side)
	dense(n.h1, n.p2, n.w.fc1W, n.w.fc1B, batch, fc1In, fc1Out, true)
	dense(n.h2, n.h1, n.w.fc2W, n.w.fc2B, batch, fc1Out, fc2Out, true)
	dense(n.logits, n.h2, n.w.fc3W, n.w.fc3B, batch, fc2Out, classes, false)
	return nil
}

// backward sets n.dw to the gradient of the mean loss over the batch that
// forward ran on, given n.dlogits.
func (n *LeNet) backward(batch int) error {
	c, err := n.convsFor(batch)
	if err != nil {
		return err
	}
	denseBackward(n.dh2, n.dw.fc3W, n.dw.fc3B, n.dlogits, n.h2, n.w.fc3W, batch, fc2Out, classes)
	reluBackward(n.dh2[:batch*fc2Out], n.h2)
	denseBackward(n.dh1, n.dw.fc2W, n.dw.fc2B, n.dh2, n.h1, n.w.fc2W, batch, fc1Out, fc2Out)
	reluBackward(n.dh1[:batch*fc1Out], n.h1)
	denseBackward(n.dp2, n.dw.fc1W, n.dw.fc1B, n.dh1, n.p2, n.w.fc1W, batch, fc1In, fc1Out)

	// The forward outputs a2 and a1 follow their ReLU, so they give its mask.
	da2 := n.da2[:batch*c2Out*c2Side*c2Side]
	maxPoolReLUBackward(da2, n.dp2, n.a2, n.p2, batch*c2Out, c2Side, c2Side)
	p1 := n.p1[:batch*c1Out*p1Side*p1Side]
	if err := c.c2.BackwardFilter(n.dw.conv2W, n.dw.conv2B, da2, p1); err != nil {
		return err
	}
	if err := c.c2.BackwardData(n.dp1[:len(p1)], da2, n.w.conv2W); err != nil {
		return err
	}
	da1 := n.da1[:batch*c1Out*c1Side*c1Side]
	maxPoolReLUBackward(da1, n.dp1, n.a1, n.p1, batch*c1Out, c1Side, c1Side)
	// The input needs no gradient, so conv1 skips BackwardData.
	return c.c1.BackwardFilter(n.dw.conv1W, n.dw.conv1B, da1, n.x[:batch*imageSize])
}

// step runs forward and backward on the first batch images of n.x with the
// labels of n.labels and returns the summed loss and the correct predictions.
func (n *LeNet) step(batch int) (loss float64, correct int, err error) {
	if err := n.forward(batch); err != nil {
		return 0, 0, err
	}
	loss, correct = softmaxCrossEntropy(n.dlogits[:batch*classes], n.logits, n.labels[:batch])
	return loss, correct, n.backward(batch)
}

// sgd applies one step of SGD with momentum as PyTorch does it (no dampening,
// no weight decay): v = momentum·v + grad, then w −= lr·v.
func (n *LeNet) sgd(lr, momentum float32) {
	for i, g := range n.flatGrad {
		v := momentum*n.velocity[i] + g
		n.velocity[i] = v
		n.flat[i] -= lr * v
	}
}
