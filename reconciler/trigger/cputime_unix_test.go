//go:build unix

package trigger_test

import (
	"syscall"
	"time"
)

// processCPU returns the CPU time (user and system) the process has used,
// so benchmarks can report cost apart from waiting for a busy machine.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return -1
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
