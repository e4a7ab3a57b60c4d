// Package trigger is the condition language of pes triggers (SPEC §2.5,
// §2.6) and the evaluation of triggers against a group's metric windows.
//
// A condition is an expression in the expr language
// (github.com/expr-lang/expr) over window functions of metrics:
//
//	avg(cpu_utilization, '2m') > 80 and last('queue_depth') > 100
//
// Compile checks a condition once: functions, arity, metric names, window
// durations and a boolean result, with errors that point at the line and
// column and say what to write instead. Metric names may be written bare or
// quoted; a bare name in metric position is turned into a string at compile
// time, so any pushed metric works without being declared.
//
// Every metric function has literal arguments, so a compiled condition is a
// fixed list of window lookups plus an expression over their values. Eval
// computes the lookups in Go against a Source and runs the expression on
// the values; a lookup over a metric with no samples in its window leaves
// the condition unsatisfied and names the metric (no silent scale-in on
// missing data).
//
// An Evaluator keeps per-trigger state between evaluation passes: how long
// the condition has held (for "for"), whether the trigger fired in the
// current aggregation period, whether missing data was reported in it, and
// when its schedule last ticked.
//
// The package is pure Go with no I/O, so the Terraform provider imports it
// to validate conditions at plan time.
package trigger
