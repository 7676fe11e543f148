// Command gorgonia trains a small convnet in gorgonia on random
// MNIST-shaped batches and prints the time per batch, on gonum's BLAS by
// default or, with -simd, on simdconv's drop-in. gorgonia's convolution is
// im2col followed by a BLAS Sgemm, so the drop-in speeds up both passes.
//
//	go run . -simd -batch 64 -steps 10
package main

import (
	"flag"
	"fmt"
	"log"
	"os"
	"runtime"
	"runtime/pprof"
	"slices"
	"time"

	"gorgonia.org/gorgonia"

	"github.com/simdconv/simdconv"
	"github.com/simdconv/simdconv/gonum"
)

func main() {
	simd := flag.Bool("simd", false, "run gorgonia's BLAS calls on simdconv's drop-in")
	batch := flag.Int("batch", 64, "images per batch")
	steps := flag.Int("steps", 10, "timed training steps")
	warmup := flag.Int("warmup", 3, "untimed training steps before them, while buffers and caches settle")
	seed := flag.Uint64("seed", 1, "seed of the weights and the data")
	cpuprofile := flag.String("cpuprofile", "", "write a CPU profile of the run to this file")
	flag.Parse()
	if *batch < 1 || *steps < 1 || *warmup < 0 {
		log.Fatalf("-batch = %d and -steps = %d must be at least 1, -warmup = %d at least 0", *batch, *steps, *warmup)
	}

	blas := "gonum"
	if *simd {
		gorgonia.Use(simdgonum.Implementation{})
		blas = "simdconv (" + simdconv.ISA() + ")"
	}
	res, err := profile(*cpuprofile, func() (run, error) { return train(*batch, *warmup+*steps, *seed) })
	if err != nil {
		log.Fatal(err)
	}
	times := slices.Clone(res.times[*warmup:])
	slices.Sort(times)
	fmt.Printf("BLAS %s, batch %d, GOMAXPROCS %d: %d steps, median %v per batch (min %v, max %v); loss %.4f → %.4f\n",
		blas, *batch, runtime.GOMAXPROCS(0), len(times), times[len(times)/2].Round(time.Microsecond),
		times[0].Round(time.Microsecond), times[len(times)-1].Round(time.Microsecond),
		res.losses[0], res.losses[len(res.losses)-1])
}

// profile calls f, under the CPU profiler if path is not empty.
func profile(path string, f func() (run, error)) (run, error) {
	if path == "" {
		return f()
	}
	out, err := os.Create(path)
	if err != nil {
		return run{}, err
	}
	defer out.Close()
	if err := pprof.StartCPUProfile(out); err != nil {
		return run{}, err
	}
	defer pprof.StopCPUProfile()
	return f()
}
