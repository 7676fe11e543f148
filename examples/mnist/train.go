package main

import (
	"fmt"
	"io"
	"math/rand/v2"
	"time"
)

// config is what a training run is told by its flags.
type config struct {
	epochs, batch, threads int
	lr, momentum           float32
	decay                  float32 // factor of the learning rate after each epoch
	logEvery               int     // batches between progress lines; 0 for none
}

// epochResult is what one epoch measured.
type epochResult struct {
	trainLoss float64       // mean loss over the epoch's training batches
	accuracy  float64       // on the test set, after the epoch
	seconds   time.Duration // training time, without the test
}

// train runs cfg.epochs epochs of SGD over tr, each in a fresh random order
// drawn from rng, and evaluates on te after each, writing progress to out.
func train(n *LeNet, tr, te *dataset, cfg config, rng *rand.Rand, out io.Writer) ([]epochResult, error) {
	order := make([]int, tr.len())
	for i := range order {
		order[i] = i
	}
	batches := (tr.len() + cfg.batch - 1) / cfg.batch
	var results []epochResult
	lr := cfg.lr
	for epoch := 1; epoch <= cfg.epochs; epoch++ {
		rng.Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
		start := time.Now()
		var total, running float64
		runningImages, lastLog := 0, start
		for b := range batches {
			idx := order[b*cfg.batch : min((b+1)*cfg.batch, len(order))]
			tr.gather(n.x, n.labels, idx)
			loss, _, err := n.step(len(idx))
			if err != nil {
				return results, err
			}
			n.sgd(lr, cfg.momentum)
			total += loss
			running += loss
			runningImages += len(idx)
			if cfg.logEvery > 0 && (b+1)%cfg.logEvery == 0 {
				now := time.Now()
				fmt.Fprintf(out, "epoch %d  batch %4d/%d  loss %.4f  %6.0f images/s\n", epoch, b+1, batches,
					running/float64(runningImages), float64(runningImages)/now.Sub(lastLog).Seconds())
				running, runningImages, lastLog = 0, 0, now
			}
		}
		r := epochResult{trainLoss: total / float64(tr.len()), seconds: time.Since(start)}
		testLoss, correct, err := evaluate(n, te, cfg.batch)
		if err != nil {
			return results, err
		}
		r.accuracy = float64(correct) / float64(te.len())
		fmt.Fprintf(out, "epoch %d  done in %.2f s  train loss %.4f  test loss %.4f  test accuracy %.2f%% (%d/%d)\n",
			epoch, r.seconds.Seconds(), r.trainLoss, testLoss, 100*r.accuracy, correct, te.len())
		results = append(results, r)
		lr *= cfg.decay
	}
	return results, nil
}

// evaluate returns the mean loss of the net on te and how many images it
// classifies correctly.
func evaluate(n *LeNet, te *dataset, batch int) (loss float64, correct int, err error) {
	idx := make([]int, batch)
	for start := 0; start < te.len(); start += batch {
		b := min(batch, te.len()-start)
		for i := range b {
			idx[i] = start + i
		}
		te.gather(n.x, n.labels, idx[:b])
		if err := n.forward(b); err != nil {
			return 0, 0, err
		}
		l, c := softmaxCrossEntropy(nil, n.logits, n.labels[:b])
		loss += l
		correct += c
	}
	return loss / float64(te.len()), correct, nil
}
