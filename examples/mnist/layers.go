package main

import (
	"math"

	"github.com/simdconv/simdconv"
)

// maxPool writes to out the 2×2, stride-2 max-pool of planes h×w planes of in
// (h and w even).
func maxPool(out, in []float32, planes, h, w int) {
	oh, ow := h/2, w/2
	for p := range planes {
		src := in[p*h*w : (p+1)*h*w]
		dst := out[p*oh*ow : (p+1)*oh*ow]
		for i := range oh {
			r0 := src[2*i*w : 2*i*w+w]
			r1 := src[(2*i+1)*w : (2*i+2)*w]
			d := dst[i*ow : (i+1)*ow]
			for j := range d {
				d[j] = max(r0[2*j], r0[2*j+1], r1[2*j], r1[2*j+1])
			}
		}
	}
}

// maxPoolReLUBackward is the backward pass of a ReLU followed by maxPool:
// given in, the ReLU's output, out = maxPool(in) and dout, it overwrites din.
// Each window's gradient goes to its first maximum in row-major order, as in
// PyTorch, and only when that maximum is positive, because the ReLU passes no
// gradient where its output is 0.
func maxPoolReLUBackward(din, dout, in, out []float32, planes, h, w int) {
	oh, ow := h/2, w/2
	for p := range planes {
		x := in[p*h*w : (p+1)*h*w]
		dx := din[p*h*w : (p+1)*h*w]
		for i := range oh {
			x0, x1 := x[2*i*w:2*i*w+w], x[(2*i+1)*w:(2*i+2)*w]
			d0, d1 := dx[2*i*w:2*i*w+w], dx[(2*i+1)*w:(2*i+2)*w]
			o := out[(p*oh+i)*ow : (p*oh+i+1)*ow]
			do := dout[(p*oh+i)*ow : (p*oh+i+1)*ow]
			for j, m := range o {
				g := do[j]
				if !(m > 0) {
					g = 0 // also when m is NaN, which matches no position
				}
				// The first position holding the maximum, by conditional
				// moves rather than branches, which ties on a blank
				// background would mispredict.
				k := 3
				if x1[2*j] == m {
					k = 2
				}
				if x0[2*j+1] == m {
					k = 1
				}
				if x0[2*j] == m {
					k = 0
				}
				var win [4]float32
				win[k&3] = g
				d0[2*j], d0[2*j+1], d1[2*j], d1[2*j+1] = win[0], win[1], win[2], win[3]
			}
		}
	}
}

// dense sets y (batch×out) to x·wᵀ + bias, with x batch×in and w out×in
// (PyTorch's Linear), then to max(y, 0) if relu.
func dense(y, x, w, bias []float32, batch, in, out int, relu bool) {
	for i := range batch {
		copy(y[i*out:(i+1)*out], bias)
	}
	simdconv.Sgemm(false, true, batch, out, in, 1, x[:batch*in], in, w, in, 1, y[:batch*out], out)
	if relu {
		for i, v := range y[:batch*out] {
			y[i] = max(v, 0)
		}
	}
}

// denseBackward is the backward pass of dense without its ReLU: given the
// gradient dy of y, it overwrites dw = dyᵀ·x and dbias = Σ_rows dy and, when dx
// is not nil, dx = dy·w.
func denseBackward(dx, dw, dbias, dy, x, w []float32, batch, in, out int) {
	dy = dy[:batch*out]
	simdconv.Sgemm(true, false, out, in, batch, 1, dy, out, x[:batch*in], in, 0, dw, in)
	clear(dbias)
	for i := range batch {
		for j, g := range dy[i*out : (i+1)*out] {
			dbias[j] += g
		}
	}
	if dx != nil {
		simdconv.Sgemm(false, false, batch, in, out, 1, dy, out, w, in, 0, dx[:batch*in], in)
	}
}

// reluBackward zeroes the gradients dy where the ReLU output y is 0.
func reluBackward(dy, y []float32) {
	for i, v := range y[:len(dy)] {
		if !(v > 0) {
			dy[i] = 0
		}
	}
}

// softmaxCrossEntropy returns the summed cross-entropy of the softmax of each
// row of logits (batch×classes) against labels, and how many rows have their
// largest logit at the label. When dlogits is not nil it sets it to the
// gradient of the mean loss over the batch: (softmax − onehot)/batch.
func softmaxCrossEntropy(dlogits, logits []float32, labels []int) (loss float64, correct int) {
	batch := len(labels)
	for i, label := range labels {
		row := logits[i*classes : (i+1)*classes]
		best := 0
		for j, v := range row {
			if v > row[best] {
				best = j
			}
		}
		if best == label {
			correct++
		}
		// Subtract the largest logit so that exp cannot overflow.
		top := float64(row[best])
		var sum float64
		for _, v := range row {
			sum += math.Exp(float64(v) - top)
		}
		loss += math.Log(sum) - (float64(row[label]) - top)
		if dlogits != nil {
			d := dlogits[i*classes : (i+1)*classes]
			for j, v := range row {
				p := math.Exp(float64(v)-top) / sum
				if j == label {
					p--
				}
				d[j] = float32(p / float64(batch))
			}
		}
	}
	return loss, correct
}
