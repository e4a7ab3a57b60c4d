package engine

import "time"

// Crash-loop backoff: a group whose nodes keep failing early (their
// program cannot start, or exits in its first seconds) is relaunched at
// once after the first failure, then after 1 s, 2 s, 4 s … up to
// BackoffMax; after
// DegradedAfter failures in a row its status says degraded.
const (
	BackoffBase = time.Second
	BackoffMax  = 5 * time.Minute
	// EarlyFailure is how long after its launch a node's failure counts
	// as early; a node ready for that long ends the run.
	EarlyFailure  = 10 * time.Second
	DegradedAfter = 5
)

// CrashLoop is a group's run of early node failures.
type CrashLoop struct {
	Failures    int       // in a row
	LastFailure time.Time // of the last one
	LastExit    string    // how it ended, as the driver said
}

// Backoff is the wait before the next launch after n early failures in a
// row: none after one (a node that fails once is replaced at once, as
// ever), then BackoffBase doubled each time, at most BackoffMax.
func Backoff(n int) time.Duration {
	if n <= 1 {
		return 0
	}
	d := BackoffBase
	for i := 2; i < n; i++ {
		d *= 2
		if d >= BackoffMax {
			return BackoffMax
		}
	}
	return d
}

// FailedEarly says whether a node launched at launchedAt and failed at
// failedAt failed early, counting toward the run.
func FailedEarly(launchedAt, failedAt time.Time) bool {
	return failedAt.Sub(launchedAt) < EarlyFailure
}

// Fail adds a failure at now.
func (c CrashLoop) Fail(now time.Time, exit string) CrashLoop {
	return CrashLoop{Failures: c.Failures + 1, LastFailure: now, LastExit: exit}
}

// NextLaunch is when the group may launch again; zero when it may now.
func (c CrashLoop) NextLaunch() time.Time {
	if c.Failures == 0 {
		return time.Time{}
	}
	return c.LastFailure.Add(Backoff(c.Failures))
}

// Hold says whether a launch at now waits for the backoff.
func (c CrashLoop) Hold(now time.Time) bool {
	return Backoff(c.Failures) > 0 && now.Before(c.NextLaunch())
}

// Degraded says whether the run is long enough to call the group
// degraded.
func (c CrashLoop) Degraded() bool { return c.Failures >= DegradedAfter }
