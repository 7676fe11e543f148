package main

import (
	"sync"
	"time"

	"github.com/simdconv/simdconv"
)

// peakIters is the PeakLoop length per call: long enough that the clock
// reads between calls cost nothing, short enough to stop close to the limit.
const peakIters = 1 << 16

// measurePeak returns the selected ISA's FMA ceiling in GFLOP/s with threads
// goroutines each running PeakLoop at once. It takes the best rep, not the
// median: a ceiling is only ever lowered by interference. Measuring with
// real goroutines, rather than multiplying the 1-thread figure, shows
// whether the "cores" are really SMT siblings or share a host core.
func measurePeak(threads int, d time.Duration, reps int) float64 {
	best := 0.0
	for range reps {
		var wg sync.WaitGroup
		counts := make([]int, threads)
		start := time.Now()
		for t := range threads {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for time.Since(start) < d {
					counts[t] += simdconv.PeakLoop(peakIters)
				}
			}()
		}
		wg.Wait()
		sec := time.Since(start).Seconds()
		total := 0
		for _, n := range counts {
			total += n
		}
		best = max(best, float64(total)/sec/1e9)
	}
	return best
}
