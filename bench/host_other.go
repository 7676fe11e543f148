//go:build !linux

package main

import (
	"errors"
	"runtime"
)

// Elsewhere the load of other processes and thread pinning are not read;
// the slowdown report says so.

func sampleHost() (hostSample, bool) { return hostSample{}, false }

func pinThread(int) error {
	return errors.New("pinning threads to CPUs is implemented for Linux only, not " + runtime.GOOS)
}

func allowedCPUs() []int { return nil }
