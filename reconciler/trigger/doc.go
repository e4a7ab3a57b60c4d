// Package trigger is the condition language of pes triggers (SPEC §2.5,
// §2.6) and the evaluation of triggers against a group's metric windows.
//
// A condition is an expression in the expr language
// (github.com/expr-lang/expr) over window functions of metrics:
//
//	avg(cpu_utilization, '2m') > 80 and last('queue_depth') > 100
//
// The functions, each over the samples of the window (now-w, now] of every
// node of the group:
//
//	avg(m, w) min(m, w) max(m, w) sum(m, w)  the mean, least, greatest, total
//	count(m, w)                              the number of samples
//	percentile(m, q, w)                      q from 0 to 100, interpolated between ranks
//	rate(m, w)                               per-second trend: the least-squares slope
//	last(m)                                  the newest sample at or before now
//	hour() weekday()                         now in UTC; weekday 0 is Sunday
//
// m is a metric name, bare (cpu_utilization) or quoted ('queue depth');
// w is a quoted Go duration ('90s', '5m') of at most 24h; q is a number.
// Conditions combine them with comparisons, arithmetic, and, or, not.
//
// Compile checks a condition once: functions, arity, metric names, window
// durations and a boolean result, with errors that point at the line and
// column and say what to write instead. A bare name in metric position is
// turned into a string at compile time, so any pushed metric works without
// being declared.
//
// Every metric function has literal arguments, so a compiled condition is a
// fixed list of window lookups plus an expression over their values. Eval
// computes the lookups in Go against a Source and runs the expression on
// the values. A lookup over a metric with no samples in its window (for
// rate, fewer than two) leaves the whole condition unsatisfied, whatever
// the rest says, and names the metric: count() of an empty window is
// missing data too, not 0, so that no trigger scales in on silence.
//
// An Evaluator keeps per-trigger state between evaluation passes: how long
// the condition has held (for "for"), whether the trigger fired in the
// current aggregation period, whether missing data was reported in it, and
// when its schedule last ticked.
//
// The package is pure Go with no I/O, so the Terraform provider imports it
// to validate conditions at plan time.
package trigger
