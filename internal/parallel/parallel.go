// Package parallel runs the parts of a job on a pool of long-lived worker
// goroutines without allocating, so that threaded kernels keep the
// zero-allocations-per-call contract.
package parallel

import (
	"fmt"
	"runtime"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"
)

// A Job is split into parts numbered from 0; Do runs one of them. Parts must
// write disjoint memory.
type Job interface {
	Do(part int)
}

// Group runs one job at a time; several Groups may run jobs at once, from
// different goroutines, on the same pool. Keep it next to the state it
// parallelises (for example in a plan), so that its address is stable and
// Run allocates nothing.
type Group struct {
	job Job
	// unclaimed counts the parts 1.. of the run that nobody has claimed
	// yet; the workers and the caller claim them from the last down. A
	// worker's ticket only offers help, so one left over from an earlier
	// run claims a part of the current one, or none (unclaimed ≤ 0).
	unclaimed atomic.Int64
	left      atomic.Int64 // parts 1.. not finished
	done      chan struct{}
	panicked  atomic.Pointer[PartPanic]
}

// A PartPanic is what Run panics with when a part panicked: the first part
// to do so, the value it panicked with and its stack.
type PartPanic struct {
	Part  int
	Value any
	Stack []byte
}

func (p *PartPanic) Error() string {
	return fmt.Sprintf("parallel: part %d panicked: %v\n\n%s", p.Part, p.Value, p.Stack)
}

// Unwrap returns the panic value if it is an error.
func (p *PartPanic) Unwrap() error {
	err, _ := p.Value.(error)
	return err
}

// spin is how long a worker polls for a ticket, and a caller for the end of
// its parts, yielding between polls, before blocking. A goroutine blocked in
// a channel receive is woken through the scheduler, which can take tens of
// microseconds on a virtual machine, as long as a part of a small layer
// takes; a convolution pass makes its parallel calls closer together than
// spin, so its threads stay awake between them.
const spin = 200 * time.Microsecond

var (
	mu      sync.Mutex
	workers int
	tickets = make(chan *Group, 256) // a worker takes one and claims a part
)

// Threads resolves a thread-count option: n < 1 means GOMAXPROCS.
func Threads(n int) int {
	if n < 1 {
		return runtime.GOMAXPROCS(0)
	}
	return n
}

// Run runs job.Do(0), …, job.Do(parts-1) and returns when all have finished.
// Part 0 runs on the calling goroutine, then every part that no worker has
// claimed yet, so a run completes even when the pool is busy with other
// runs or a part itself calls Run. The workers, and the caller while it
// waits, poll for spin before they block, so a thread stays busy for up to
// 200 µs after a call.
//
// If a part panics, the other parts still run, and Run then panics on the
// calling goroutine with a *PartPanic holding the first part to panic; the
// pool and the Group remain usable.
func (g *Group) Run(parts int, job Job) {
	if parts < 1 {
		return
	}
	if parts > 1 {
		g.start(parts, job)
	}
	g.do(job, 0)
	if parts > 1 {
		g.wait()
	}
	if p := g.panicked.Swap(nil); p != nil {
		panic(p)
	}
}

// start publishes a run of parts parts and offers its parts 1.. to the
// workers.
func (g *Group) start(parts int, job Job) {
	if g.done == nil {
		g.done = make(chan struct{}, 1)
	}
	ensureWorkers(parts - 1)
	g.job = job
	g.left.Store(int64(parts - 1))
	g.unclaimed.Store(int64(parts - 1))
	for range parts - 1 {
		select {
		case tickets <- g:
		default: // a full queue: the caller claims those parts itself
		}
	}
}

// wait runs the parts nobody has claimed, then waits for the others.
func (g *Group) wait() {
	for {
		part, ok := g.claim()
		if !ok {
			break
		}
		g.do(g.job, part)
	}
	for t0 := time.Now(); g.left.Load() != 0 && time.Since(t0) < spin; {
		runtime.Gosched()
	}
	<-g.done
	g.job = nil
}

// claim takes a part of the run that nobody has claimed, if one is left.
// The job is read only after a claim, which follows start's publication.
func (g *Group) claim() (part int, ok bool) {
	n := g.unclaimed.Add(-1)
	return int(n) + 1, n >= 0
}

// do runs a part, recording its panic, and counts a claimed part finished;
// the last one wakes the caller, after which g is the caller's again.
func (g *Group) do(job Job, part int) {
	defer func() {
		if r := recover(); r != nil {
			g.panicked.CompareAndSwap(nil, &PartPanic{Part: part, Value: r, Stack: debug.Stack()})
		}
		if part > 0 && g.left.Add(-1) == 0 {
			g.done <- struct{}{}
		}
	}()
	job.Do(part)
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
		g := next()
		if part, ok := g.claim(); ok {
			g.do(g.job, part)
		}
	}
}

// next returns the next ticket, polling for spin before it blocks.
func next() *Group {
	for t0 := time.Now(); time.Since(t0) < spin; {
		select {
		case t := <-tickets:
			return t
		default:
			runtime.Gosched()
		}
	}
	return <-tickets
}
