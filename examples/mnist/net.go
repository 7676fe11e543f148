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
	kSide, convSize = 5, kSide * kSide        // both filters are 5×5
	c1Out, c1Side   = 6, imageSide            // conv1: 1→6, pad 2: 28×28
	p1Side          = c1Side / 2              // 14×14 after pooling
	c2Out, c2Side   = 16, p1Side - kSide + 1  // conv2: 6→16: 10×10
	p2Side          = c2Side / 2              // 5×5 after pooling
	fc1In           = c2Out * p2Side * p2Side // 400
	fc1Out, fc2Out  = 120, 84
)

// Floats per image of each activation.
const (
	a1Size = c1Out * c1Side * c1Side
	p1Size = c1Out * p1Side * p1Side
	a2Size = c2Out * c2Side * c2Side
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

// shard is the slice of a batch, images lo to hi, whose convolutions and
// pooling one member of the team runs, with the gradients of the
// convolutions' weights over its images. The layers are too small for
// kernels to share one pass well between threads, so threads share the batch
// instead and each pass runs on one thread.
type shard struct {
	lo, hi                             int
	convs                              convs
	dconv1W, dconv1B, dconv2W, dconv2B []float32 // shard 0 writes into LeNet.dw
	err                                error
}

// LeNet is LeNet-5 with ReLU and max-pooling, with every buffer a training
// step needs for batches of up to maxBatch images.
type LeNet struct {
	flat, flatGrad, velocity []float32 // all parameters, their gradients, SGD's momentum
	w, dw                    params    // views into flat and flatGrad

	maxBatch int
	plans    map[[2]int]convs // by shard and images: each shard has its own, so no two calls share a plan's workspace
	team     *team
	shards   []shard // one per thread; a batch uses the first min(threads, batch)
	used     int     // shards in the current batch
	// The passes of one shard, as func values made once, for team.run.
	convForward, convBackward func(shard int)

	// Activations, in the order of the forward pass: the input, conv1+ReLU,
	// its pooling, conv2+ReLU, its pooling (the 400 features), the hidden
	// layers after their ReLU and the logits; and the labels.
	x, a1, p1, a2, p2, h1, h2, logits []float32
	labels                            []int

	// Gradients with respect to the activations of the same names.
	da1, dp1, da2, dp2, dh1, dh2, dlogits []float32
}

// newLeNet makes a net for batches of up to maxBatch images that runs on
// threads threads, initialised as PyTorch initialises Conv2d and Linear:
// every weight and bias uniform in ±1/√fan-in (Kaiming uniform with a = √5).
// close releases its threads.
func newLeNet(maxBatch, threads int, rng *rand.Rand) *LeNet {
	n := &LeNet{
		flat:     make([]float32, paramCount),
		flatGrad: make([]float32, paramCount),
		velocity: make([]float32, paramCount),
		maxBatch: maxBatch,
		plans:    map[[2]int]convs{},
		team:     newTeam(threads),
		shards:   make([]shard, threads),
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
	n.shards[0].dconv1W, n.shards[0].dconv1B = n.dw.conv1W, n.dw.conv1B
	n.shards[0].dconv2W, n.shards[0].dconv2B = n.dw.conv2W, n.dw.conv2B
	for i := 1; i < threads; i++ {
		s := &n.shards[i]
		s.dconv1W, s.dconv1B = make([]float32, len(n.dw.conv1W)), make([]float32, len(n.dw.conv1B))
		s.dconv2W, s.dconv2B = make([]float32, len(n.dw.conv2W)), make([]float32, len(n.dw.conv2B))
	}
	n.convForward, n.convBackward = n.forwardShard, n.backwardShard

	buf := func(perImage int) []float32 { return make([]float32, maxBatch*perImage) }
	n.x = buf(imageSize)
	n.a1, n.da1 = buf(a1Size), buf(a1Size)
	n.p1, n.dp1 = buf(p1Size), buf(p1Size)
	n.a2, n.da2 = buf(a2Size), buf(a2Size)
	n.p2, n.dp2 = buf(fc1In), buf(fc1In)
	n.h1, n.dh1 = buf(fc1Out), buf(fc1Out)
	n.h2, n.dh2 = buf(fc2Out), buf(fc2Out)
	n.logits, n.dlogits = buf(classes), buf(classes)
	n.labels = make([]int, maxBatch)
	return n
}

// close ends the goroutines of the net's threads.
func (n *LeNet) close() { n.team.close() }

// split divides a batch between the shards, as evenly as possible, and plans
// their convolutions on first use of each size.
func (n *LeNet) split(batch int) error {
	if batch < 1 || batch > n.maxBatch {
		return fmt.Errorf("batch of %d images, want 1 to %d", batch, n.maxBatch)
	}
	n.used = min(len(n.shards), batch)
	for i := range n.used {
		s := &n.shards[i]
		s.lo, s.hi = batch*i/n.used, batch*(i+1)/n.used
		key := [2]int{i, s.hi - s.lo}
		c, ok := n.plans[key]
		if !ok {
			var err error
			if c, err = planConvs(s.hi - s.lo); err != nil {
				return err
			}
			n.plans[key] = c
		}
		s.convs = c
	}
	return nil
}

// planConvs plans the two convolutions for batch images on one thread.
func planConvs(batch int) (convs, error) {
	opts := []kernels.Option{kernels.WithThreads(1), kernels.WithReLU()}
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
	return convs{c1, c2}, nil
}

// shardErr returns the first error of the shards of the last run.
func (n *LeNet) shardErr() error {
	for i := range n.used {
		if err := n.shards[i].err; err != nil {
			return err
		}
	}
	return nil
}

// part returns the images lo to hi of buf, which holds per floats an image.
func part(buf []float32, per, lo, hi int) []float32 { return buf[lo*per : hi*per] }

// forward runs the net on the first batch images of n.x, leaving every
// activation in n and the logits in n.logits.
func (n *LeNet) forward(batch int) error {
	if err := n.split(batch); err != nil {
		return err
	}
	n.team.run(n.used, n.convForward)
	if err := n.shardErr(); err != nil {
		return err
	}
	dense(n.h1, n.p2, n.w.fc1W, n.w.fc1B, batch, fc1In, fc1Out, true)
	dense(n.h2, n.h1, n.w.fc2W, n.w.fc2B, batch, fc1Out, fc2Out, true)
	dense(n.logits, n.h2, n.w.fc3W, n.w.fc3B, batch, fc2Out, classes, false)
	return nil
}

// forwardShard runs the convolutions and pooling of forward on one shard.
// The convolutions apply the ReLU themselves (WithReLU).
func (n *LeNet) forwardShard(i int) {
	s := &n.shards[i]
	imgs := s.hi - s.lo
	a1, p1 := part(n.a1, a1Size, s.lo, s.hi), part(n.p1, p1Size, s.lo, s.hi)
	a2, p2 := part(n.a2, a2Size, s.lo, s.hi), part(n.p2, fc1In, s.lo, s.hi)
	s.err = s.convs.c1.Forward(a1, part(n.x, imageSize, s.lo, s.hi), n.w.conv1W, n.w.conv1B)
	if s.err != nil {
		return
	}
	maxPool(p1, a1, imgs*c1Out, c1Side, c1Side)
	if s.err = s.convs.c2.Forward(a2, p1, n.w.conv2W, n.w.conv2B); s.err != nil {
		return
	}
	maxPool(p2, a2, imgs*c2Out, c2Side, c2Side)
}

// backward sets n.dw to the gradient of the mean loss over the batch that
// forward ran on, given n.dlogits.
func (n *LeNet) backward(batch int) error {
	denseBackward(n.dh2, n.dw.fc3W, n.dw.fc3B, n.dlogits, n.h2, n.w.fc3W, batch, fc2Out, classes)
	reluBackward(n.dh2[:batch*fc2Out], n.h2)
	denseBackward(n.dh1, n.dw.fc2W, n.dw.fc2B, n.dh2, n.h1, n.w.fc2W, batch, fc1Out, fc2Out)
	reluBackward(n.dh1[:batch*fc1Out], n.h1)
	denseBackward(n.dp2, n.dw.fc1W, n.dw.fc1B, n.dh1, n.p2, n.w.fc1W, batch, fc1In, fc1Out)

	n.team.run(n.used, n.convBackward)
	if err := n.shardErr(); err != nil {
		return err
	}
	for _, s := range n.shards[1:n.used] {
		for _, g := range [...]struct{ sum, part []float32 }{
			{n.dw.conv1W, s.dconv1W}, {n.dw.conv1B, s.dconv1B}, {n.dw.conv2W, s.dconv2W}, {n.dw.conv2B, s.dconv2B},
		} {
			for j, v := range g.part {
				g.sum[j] += v
			}
		}
	}
	return nil
}

// backwardShard runs the convolutions and pooling of backward on one shard.
// The forward outputs a2 and a1 follow their ReLU, so they give its mask.
func (n *LeNet) backwardShard(i int) {
	s := &n.shards[i]
	imgs := s.hi - s.lo
	a1, p1, da1, dp1 := part(n.a1, a1Size, s.lo, s.hi), part(n.p1, p1Size, s.lo, s.hi), part(n.da1, a1Size, s.lo, s.hi), part(n.dp1, p1Size, s.lo, s.hi)
	a2, p2, da2, dp2 := part(n.a2, a2Size, s.lo, s.hi), part(n.p2, fc1In, s.lo, s.hi), part(n.da2, a2Size, s.lo, s.hi), part(n.dp2, fc1In, s.lo, s.hi)
	maxPoolReLUBackward(da2, dp2, a2, p2, imgs*c2Out, c2Side, c2Side)
	if s.err = s.convs.c2.BackwardFilter(s.dconv2W, s.dconv2B, da2, p1); s.err != nil {
		return
	}
	if s.err = s.convs.c2.BackwardData(dp1, da2, n.w.conv2W); s.err != nil {
		return
	}
	maxPoolReLUBackward(da1, dp1, a1, p1, imgs*c1Out, c1Side, c1Side)
	// The input needs no gradient, so conv1 skips BackwardData.
	s.err = s.convs.c1.BackwardFilter(s.dconv1W, s.dconv1B, da1, part(n.x, imageSize, s.lo, s.hi))
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
