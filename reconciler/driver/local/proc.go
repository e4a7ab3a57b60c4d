package local

import (
	"bytes"
	"fmt"
	"os"
	"strconv"
)

// clockTicks is USER_HZ, the unit of the times in /proc/<pid>/stat. Linux
// fixes it at 100 for user space on every architecture Go supports.
const clockTicks = 100

// procStat is what pesd reads from /proc/<pid>/stat.
type procStat struct {
	State     byte   // field 3: R, S, D, Z, ...
	Pgrp      int    // field 5
	Session   int    // field 6
	CPUTicks  uint64 // fields 14 + 15: utime + stime
	StartTime uint64 // field 22: start time in ticks after boot
}

// readStat parses /proc/<pid>/stat. The command name (field 2) may hold
// spaces and parentheses, so fields are counted from the last ')'.
func readStat(pid int) (procStat, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return procStat{}, err
	}
	return parseStat(b)
}

func parseStat(b []byte) (procStat, error) {
	i := bytes.LastIndexByte(b, ')')
	if i < 0 || i+2 > len(b) {
		return procStat{}, fmt.Errorf("malformed /proc stat: %q", b)
	}
	f := bytes.Fields(b[i+1:]) // f[0] is field 3
	if len(f) < 20 {
		return procStat{}, fmt.Errorf("malformed /proc stat: %d fields after the name", len(f))
	}
	field := func(n int) (uint64, error) { return strconv.ParseUint(string(f[n-3]), 10, 64) }
	var s procStat
	s.State = f[0][0]
	pgrp, err1 := strconv.Atoi(string(f[5-3]))
	sess, err2 := strconv.Atoi(string(f[6-3]))
	utime, err3 := field(14)
	stime, err4 := field(15)
	start, err5 := field(22)
	for _, err := range []error{err1, err2, err3, err4, err5} {
		if err != nil {
			return procStat{}, fmt.Errorf("malformed /proc stat: %w", err)
		}
	}
	s.Pgrp, s.Session, s.CPUTicks, s.StartTime = pgrp, sess, utime+stime, start
	return s, nil
}

// readRSS returns the resident set size of pid in bytes, from
// /proc/<pid>/statm (its second field, in pages).
func readRSS(pid int) (uint64, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/statm")
	if err != nil {
		return 0, err
	}
	f := bytes.Fields(b)
	if len(f) < 2 {
		return 0, fmt.Errorf("malformed /proc statm: %q", b)
	}
	pages, err := strconv.ParseUint(string(f[1]), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("malformed /proc statm: %w", err)
	}
	return pages * uint64(os.Getpagesize()), nil
}

// alive reports whether pid is the process that started at startTime and
// has not exited. A zombie has exited; a different start time is another
// process that reused the pid.
func alive(pid int, startTime uint64) bool {
	s, err := readStat(pid)
	return err == nil && s.StartTime == startTime && s.State != 'Z' && s.State != 'X'
}
