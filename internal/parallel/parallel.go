// Package parallel runs the parts of a job on a pool of long-lived worker
// goroutines without allocating, so that threaded kernels keep the
// zero-allocations-per-call contract.
package parallel

import (
	"runtime"
	"sync"
	"sync/atomic"
	"time"
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
	wg      sync.WaitGroup
	pending atomic.Int64 // parts not yet finished by the workers
}

type task struct {
	job  Job
	part int
	g    *Group
}

// spin is how long a worker polls for a task, and a caller for the end of
// its parts, yielding between polls, before blocking. A goroutine blocked in
// a channel receive or a WaitGroup is woken through the scheduler, which
// can take tens of microseconds on a virtual machine, as long as a part of
// a small layer takes; a convolution pass makes its parallel calls closer
// together than spin, so its threads stay awake between them.
const spin = 200 * time.Microsecond

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
// Part 0 runs on the calling goroutine. The workers, and the caller while
// it waits, poll for spin before they block, so a thread stays busy for up
// to 200 µs after a call.
func (g *Group) Run(parts int, job Job) {
	if parts <= 1 {
		if parts == 1 {
			job.Do(0)
		}
		return
	}
	ensureWorkers(parts - 1)
	g.wg.Add(parts - 1)
	g.pending.Store(int64(parts - 1))
	for p := 1; p < parts; p++ {
		tasks <- task{job: job, part: p, g: g}
	}
	job.Do(0)
	for t0 := time.Now(); g.pending.Load() != 0 && time.Since(t0) < spin; {
		runtime.Gosched()
	}
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
	for {
		t := next()
		t.job.Do(t.part)
		t.g.pending.Add(-1)
		t.g.wg.Done()
	}
}

// next returns the next task, polling for spin before it blocks.
func next() task {
	for t0 := time.Now(); time.Since(t0) < spin; {
		select {
		case t := <-tasks:
			return t
		default:
			runtime.Gosched()
		}
	}
	return <-tasks
}
