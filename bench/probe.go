package main

import (
	"errors"
	"fmt"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// probe is what bench measures when more threads ran slower than one: how
// two CPUs of this guest disturb each other.
type probe struct {
	cpus [2]int
	// spin is each CPU's spin-loop rate with the other spinning too, over
	// its rate alone: below 1 something else shares the CPUs.
	spin [2]float64
	// pingPong is the one-way time of a cache line between the two CPUs,
	// what each hand-over of data between two threads costs: the median and
	// the best of the reps, which differ when a thread waits for its CPU.
	pingPong, pingPongBest time.Duration
	err                    error // why there are no figures
}

// Probe lengths: long enough for a stable median, short next to the table.
const (
	probeSpinTime  = 100 * time.Millisecond
	probeReps      = 3
	pingPongRounds = 20000
)

// runProbe measures the first two CPUs this process may use.
func runProbe() probe {
	cpus := allowedCPUs()
	if len(cpus) < 2 {
		return probe{err: fmt.Errorf("fewer than two CPUs to pin threads to (%d)", len(cpus))}
	}
	p := probe{cpus: [2]int{cpus[0], cpus[1]}}
	var alone, both [2][]float64
	var lat []time.Duration
	for range probeReps {
		for i := range 2 {
			r, err := spinRates(p.cpus[i:i+1], probeSpinTime)
			if err != nil {
				return probe{err: err}
			}
			alone[i] = append(alone[i], r[0])
		}
		r, err := spinRates(p.cpus[:], probeSpinTime)
		if err != nil {
			return probe{err: err}
		}
		both[0], both[1] = append(both[0], r[0]), append(both[1], r[1])
		d, err := pingPong(p.cpus, pingPongRounds)
		if err != nil {
			return probe{err: err}
		}
		lat = append(lat, d)
	}
	for i := range 2 {
		p.spin[i] = median(both[i]) / median(alone[i])
	}
	p.pingPong, p.pingPongBest = median(lat), slices.Min(lat)
	return p
}

// onCPUs runs f(i) at once on one goroutine per CPU, each locked to a thread
// pinned to cpus[i]. If any pinning fails, none runs f. The goroutines exit
// locked, so the runtime ends their pinned threads.
func onCPUs(cpus []int, f func(i int)) error {
	errs := make([]error, len(cpus))
	var pinned, done sync.WaitGroup
	start := make(chan bool)
	for i, c := range cpus {
		pinned.Add(1)
		done.Add(1)
		go func() {
			defer done.Done()
			runtime.LockOSThread()
			errs[i] = pinThread(c)
			pinned.Done()
			if <-start {
				f(i)
			}
		}()
	}
	pinned.Wait()
	err := errors.Join(errs...)
	for range cpus {
		start <- err == nil
	}
	done.Wait()
	return err
}

// spinSink keeps the spin loop's result alive.
var spinSink atomic.Uint64

// spinRates runs an integer spin loop on each of cpus at once for d and
// returns each one's iterations per millisecond.
func spinRates(cpus []int, d time.Duration) ([]float64, error) {
	rates := make([]float64, len(cpus))
	err := onCPUs(cpus, func(i int) {
		const chunk = 1 << 12
		x, n := uint64(i), 0
		t0 := time.Now()
		for time.Since(t0) < d {
			for range chunk {
				x = x*6364136223846793005 + 1442695040888963407
			}
			n += chunk
		}
		rates[i] = float64(n) / (float64(time.Since(t0)) / float64(time.Millisecond))
		spinSink.Add(x)
	})
	return rates, err
}

// pingPong bounces a counter between the two CPUs rounds times and returns
// the time of one hand-over.
func pingPong(cpus [2]int, rounds int) (time.Duration, error) {
	var ball struct {
		_ [64]byte // a cache line of its own
		n atomic.Int64
		_ [64]byte
	}
	var el time.Duration
	err := onCPUs(cpus[:], func(i int) {
		t0 := time.Now()
		for r := range int64(rounds) {
			if i == 0 {
				ball.n.Store(2*r + 1)
				for ball.n.Load() != 2*r+2 {
				}
			} else {
				for ball.n.Load() != 2*r+1 {
				}
				ball.n.Store(2*r + 2)
			}
		}
		if i == 0 {
			el = time.Since(t0)
		}
	})
	return el / time.Duration(2*rounds), err
}
