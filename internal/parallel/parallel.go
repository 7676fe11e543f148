// Package parallel runs the parts of a job on a pool of long-lived worker
// goroutines without allocating, so that threaded kernels keep the
// zero-allocations-per-call contract.
package parallel

import (
	"runtime"
	"sync"
)

// A Job is split into parts numbered from 0; Do runs one of them. Parts must
// write disjoint memory.
type Job interface {
	Do(part int)
}

// Group runs one job at a time. Keep it next to the state it parallelises
// (for example in a plan), so that its address is stable and Run allocates
// nothing.
type Group struct {
	wg sync.WaitGroup
}

type task struct {
	job  Job
	part int
	wg   *sync.WaitGroup
}

var (
	mu      sync.Mutex
	workers int
	tasks   = make(chan task, 256)
)

// Threads resolves a thread-count option: n < 1 means GOMAXPROCS.
func Threads(n int) int {
	if n < 1 {
		return runtime.GOMAXPROCS(0)
	}
	return n
}

// Run runs job.Do(0), …, job.Do(parts-1) and returns when all have finished.
// Part 0 runs on the calling goroutine.
func (g *Group) Run(parts int, job Job) {
	if parts <= 1 {
		if parts == 1 {
			job.Do(0)
		}
		return
	}
	ensureWorkers(parts - 1)
	g.wg.Add(parts - 1)
	for p := 1; p < parts; p++ {
		tasks <- task{job: job, part: p, wg: &g.wg}
	}
	job.Do(0)
	g.wg.Wait()
}

func ensureWorkers(n int) {
	mu.Lock()
	for workers < n {
		workers++
		go work()
	}
	mu.Unlock()
}

func work() {
	for t := range tasks {
		t.job.Do(t.part)
		t.wg.Done()
	}
}
