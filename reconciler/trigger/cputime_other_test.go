//go:build !unix

package trigger_test

import "time"

func processCPU() time.Duration { return -1 }
