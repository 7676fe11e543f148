package main

import (
	"bufio"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// clockTick is /proc/stat's unit, USER_HZ, which Linux fixes at 100 for
// user space on every architecture.
const clockTick = 10 * time.Millisecond

// sampleHost reads the CPU time of all CPUs from /proc/stat and this
// process's own from getrusage.
func sampleHost() (hostSample, bool) {
	s := hostSample{at: time.Now()}
	f, err := os.Open("/proc/stat")
	if err != nil {
		return s, false
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	if !sc.Scan() {
		return s, false
	}
	// cpu user nice system idle iowait irq softirq steal guest guest_nice;
	// guest time is already in user.
	fields := strings.Fields(sc.Text())
	if len(fields) < 9 || fields[0] != "cpu" {
		return s, false
	}
	var t [8]int64
	for i := range t {
		if t[i], err = strconv.ParseInt(fields[i+1], 10, 64); err != nil {
			return s, false
		}
	}
	s.busy = time.Duration(t[0]+t[1]+t[2]+t[5]+t[6]) * clockTick
	s.steal = time.Duration(t[7]) * clockTick
	var ru unix.Rusage
	if unix.Getrusage(unix.RUSAGE_SELF, &ru) != nil {
		return s, false
	}
	s.self = time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	return s, true
}

// pinThread binds the calling OS thread to one CPU. The caller has locked
// its goroutine to the thread and must exit without unlocking it, so that
// the runtime ends the thread instead of reusing a pinned one.
func pinThread(cpu int) error {
	var set unix.CPUSet
	set.Set(cpu)
	if err := unix.SchedSetaffinity(0, &set); err != nil {
		return fmt.Errorf("pinning to CPU %d: %w", cpu, err)
	}
	return nil
}

// allowedCPUs lists the CPUs this process may run on, ascending.
func allowedCPUs() []int {
	var set unix.CPUSet
	if unix.SchedGetaffinity(0, &set) != nil {
		return nil
	}
	var out []int
	for c := 0; len(out) < set.Count(); c++ {
		if set.IsSet(c) {
			out = append(out, c)
		}
	}
	return out
}
