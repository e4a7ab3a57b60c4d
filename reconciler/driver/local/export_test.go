package local

// ReadStat exposes /proc/<pid>/stat to the tests, which use it to kill only
// the processes they started and to check sessions.
func ReadStat(pid int) (state byte, pgrp, session int, startTime uint64, err error) {
	s, err := readStat(pid)
	return s.State, s.Pgrp, s.Session, s.StartTime, err
}
