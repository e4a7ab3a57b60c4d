package trigger

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/builtin"
	"github.com/expr-lang/expr/conf"
	"github.com/expr-lang/expr/file"
	"github.com/expr-lang/expr/parser"
	"github.com/expr-lang/expr/vm"
)

// MaxWindowLimit is the longest window a condition may ask for; it bounds
// how much history pesd keeps in memory per metric.
const MaxWindowLimit = 24 * time.Hour

// Source is one group's metric samples. The window package satisfies it.
type Source interface {
	// Scan calls fn, oldest first, with the times (Unix nanoseconds) and
	// values of the samples of metric in (from, to]. It may call fn more
	// than once; fn must not keep the slices.
	Scan(metric string, from, to time.Time, fn func(times []int64, values []float64))
	// Last returns the newest value of metric at or before at.
	Last(metric string, at time.Time) (value float64, ok bool)
}

// Result is the outcome of evaluating a condition once.
type Result struct {
	Satisfied bool
	// Observed lists each function value, for people:
	// "avg(cpu_utilization, 2m) = 87.3; last(queue_depth) = no data".
	Observed string
	// Text is the condition with the observed values written in:
	// "avg cpu_utilization 87.3 > 80 over 2m". Empty when data is missing.
	Text string
	// Missing names the metrics with no samples in a window (for rate:
	// fewer than two); the condition is then not satisfied.
	Missing []string
	// Err is set when the expression failed at run time (say, an integer
	// division by zero); the condition is then not satisfied.
	Err error
}

// call is one distinct metric function call of a condition; its value goes
// into slot i of the expression's environment.
type call struct {
	kind       funcKind
	name       string
	metric     string
	window     time.Duration
	windowText string
	quantile   float64
	key        string // identifies equal calls, which share a slot
	label      string // "avg(cpu_utilization, 2m)"
}

// evalEnv is what the compiled expression reads: each metric call was
// rewritten to _v[i], hour() to _hour and weekday() to _weekday. The
// underscore names cannot be reached from a condition because the checker
// rejects every bare name outside metric position.
type evalEnv struct {
	V       []float64 `expr:"_v"`
	Hour    int       `expr:"_hour"`
	Weekday int       `expr:"_weekday"`
}

// Condition is a compiled condition. It is immutable and safe for
// concurrent use.
type Condition struct {
	src     string
	always  bool // an empty condition of a scheduled trigger
	program *vm.Program
	// native decides the usual conditions (comparisons of function
	// values with numbers, joined by and, or, not) without the
	// expression VM, as the VM would; nil for any other.
	native    func(v []float64) bool
	calls     []call
	text      []segment // the condition for people, with value holes
	metrics   []string
	maxWindow time.Duration
}

// evalScratch is the working memory of one evaluation; an Evaluator
// reuses it across conditions.
type evalScratch struct {
	vm      vm.VM
	env     evalEnv
	ok      []bool
	samples []float64 // percentile's copy of the window
}

// reset sizes the scratch for n calls.
func (s *evalScratch) reset(n int) {
	if cap(s.env.V) < n {
		s.env.V, s.ok = make([]float64, n), make([]bool, n)
	}
	s.env.V, s.ok = s.env.V[:n], s.ok[:n]
}

// Compile compiles a condition. An empty condition is an error; see
// CompileScheduled for triggers that have a schedule.
func Compile(src string) (*Condition, error) {
	if strings.TrimSpace(src) == "" {
		return nil, &CompileError{
			Message: "condition is empty",
			Line:    1, Column: 1,
			Hint: "write one such as avg(cpu_utilization, '2m') > 80, or give the trigger a schedule",
		}
	}
	return compile(src)
}

// CompileScheduled compiles the condition of a trigger that has a
// schedule: there an empty condition is allowed and always holds, so the
// trigger fires at every tick.
func CompileScheduled(src string) (*Condition, error) {
	if strings.TrimSpace(src) == "" {
		return &Condition{src: src, always: true}, nil
	}
	return compile(src)
}

// String returns the source of the condition.
func (c *Condition) String() string { return c.src }

// Metrics returns the names of the metrics the condition reads, in order
// of first appearance.
func (c *Condition) Metrics() []string { return append([]string(nil), c.metrics...) }

// MaxWindow returns the longest window the condition reads (0 when it
// reads none, or only last()).
func (c *Condition) MaxWindow() time.Duration { return c.maxWindow }

// Eval evaluates the condition at now against src. hour() and weekday()
// read now in UTC.
func (c *Condition) Eval(now time.Time, src Source) Result {
	s := new(evalScratch)
	res := c.eval(now, src, s)
	c.describe(&res, s)
	return res
}

// describe fills in the texts of a result from the scratch eval left;
// the Evaluator only pays for them when it reports.
func (c *Condition) describe(res *Result, s *evalScratch) {
	if c.always {
		return
	}
	res.Observed = c.observed(s)
	if len(res.Missing) == 0 && res.Err == nil {
		res.Text = c.render(s)
	}
}

// eval decides; the texts are left to describe.
func (c *Condition) eval(now time.Time, src Source, s *evalScratch) Result {
	if c.always {
		return Result{Satisfied: true}
	}
	s.reset(len(c.calls))
	var res Result
	for i := range c.calls {
		cl := &c.calls[i]
		switch cl.kind {
		case fnHour, fnWeekday:
			s.ok[i] = true
			continue
		}
		s.env.V[i], s.ok[i] = aggregate(cl, now, src, &s.samples)
		if !s.ok[i] && !contains(res.Missing, cl.metric) {
			res.Missing = append(res.Missing, cl.metric)
		}
	}
	utc := now.UTC()
	s.env.Hour, s.env.Weekday = utc.Hour(), int(utc.Weekday())
	if len(res.Missing) > 0 {
		return res
	}
	if c.native != nil {
		res.Satisfied = c.native(s.env.V)
		return res
	}
	out, err := s.vm.Run(c.program, &s.env)
	if err != nil {
		res.Err = fmt.Errorf("evaluate %q: %w", c.src, err)
		return res
	}
	res.Satisfied, _ = out.(bool)
	return res
}

func (c *Condition) observed(s *evalScratch) string {
	var b strings.Builder
	for i := range c.calls {
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(c.calls[i].label)
		b.WriteString(" = ")
		b.WriteString(c.valueText(s, i))
	}
	return b.String()
}

func (c *Condition) valueText(s *evalScratch, i int) string {
	switch {
	case c.calls[i].kind == fnHour:
		return strconv.Itoa(s.env.Hour)
	case c.calls[i].kind == fnWeekday:
		return strconv.Itoa(s.env.Weekday)
	case !s.ok[i] && c.calls[i].kind == fnRate:
		return "not enough samples"
	case !s.ok[i]:
		return "no data"
	}
	return formatValue(s.env.V[i])
}

// formatValue writes a value short enough to read in an event log.
func formatValue(v float64) string {
	switch {
	case math.IsInf(v, 0) || math.IsNaN(v):
		return strconv.FormatFloat(v, 'g', -1, 64)
	case v == math.Trunc(v) && math.Abs(v) < 1e15:
		return strconv.FormatInt(int64(v), 10)
	case math.Abs(v) >= 1:
		return strconv.FormatFloat(math.Round(v*100)/100, 'f', -1, 64)
	}
	return strconv.FormatFloat(v, 'g', 3, 64)
}

func contains(xs []string, x string) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}

// compiler holds the state of one Compile.
type compiler struct {
	src   string
	calls []call
	slots map[string]int
	cond  *Condition
}

// MaxConditionLength bounds the source of a condition.
const MaxConditionLength = 4096

func compile(src string) (*Condition, error) {
	if n := len(src); n > MaxConditionLength {
		return nil, &CompileError{
			Message: fmt.Sprintf("condition is %d bytes long, more than %d", n, MaxConditionLength),
			Line:    1, Column: 1,
			Hint: "split it into several triggers",
		}
	}
	cfg := conf.CreateNew()
	for _, name := range funcNames() {
		cfg.Functions[name] = &builtin.Function{Name: name, Func: unreachable}
	}
	// Builtins such as len() or now() have no place in a condition; with
	// them disabled they parse as calls and get "unknown function".
	for name := range cfg.Builtins {
		cfg.Disabled[name] = true
	}
	tree, err := parser.ParseWithConfig(src, cfg)
	if err != nil {
		return nil, syntaxError(src, err)
	}
	c := &compiler{src: src, slots: map[string]int{}, cond: &Condition{src: src}}
	if err := c.check(tree.Node); err != nil {
		return nil, err
	}
	cond := c.cond
	cond.calls = c.calls
	cond.text = c.textTemplate(tree.Node)

	opts := []expr.Option{
		expr.Env(evalEnv{}),
		expr.AsBool(),
		expr.DisableAllBuiltins(),
		expr.Patch(rewriter{c}),
	}
	for _, name := range funcNames() {
		opts = append(opts, expr.Function(name, unreachable))
	}
	opts = append(opts, expr.Function(divFunc, divide, new(func(float64, float64) float64)))
	prog, err := expr.Compile(src, opts...)
	if err != nil {
		return nil, typeError(src, err)
	}
	cond.program = prog
	cond.native = c.native(tree.Node)
	return cond, nil
}

// native builds Condition.native for node, or returns nil when node is
// more than comparisons of function values and numbers joined by and,
// or and not.
func (c *compiler) native(node ast.Node) func(v []float64) bool {
	switch n := node.(type) {
	case *ast.BoolNode:
		b := n.Value
		return func([]float64) bool { return b }
	case *ast.UnaryNode:
		if n.Operator != "not" && n.Operator != "!" {
			return nil
		}
		x := c.native(n.Node)
		if x == nil {
			return nil
		}
		return func(v []float64) bool { return !x(v) }
	case *ast.BinaryNode:
		switch n.Operator {
		case "and", "&&", "or", "||":
			l, r := c.native(n.Left), c.native(n.Right)
			if l == nil || r == nil {
				return nil
			}
			if n.Operator == "and" || n.Operator == "&&" {
				return func(v []float64) bool { return l(v) && r(v) }
			}
			return func(v []float64) bool { return l(v) || r(v) }
		}
		return c.nativeComparison(n)
	}
	return nil
}

// nativeComparison is native for a comparison of two operands, each a
// function value or a number (the VM compares them as float64 too).
func (c *compiler) nativeComparison(n *ast.BinaryNode) func(v []float64) bool {
	_, lconst := numberLiteral(n.Left)
	_, rconst := numberLiteral(n.Right)
	if lconst && rconst {
		return nil // two integers compare exactly in the VM, not as float64
	}
	l, r := c.nativeOperand(n.Left), c.nativeOperand(n.Right)
	if l == nil || r == nil {
		return nil
	}
	switch n.Operator {
	case "<":
		return func(v []float64) bool { return l(v) < r(v) }
	case "<=":
		return func(v []float64) bool { return l(v) <= r(v) }
	case ">":
		return func(v []float64) bool { return l(v) > r(v) }
	case ">=":
		return func(v []float64) bool { return l(v) >= r(v) }
	case "==":
		return func(v []float64) bool { return l(v) == r(v) }
	case "!=":
		return func(v []float64) bool { return l(v) != r(v) }
	}
	return nil
}

// nativeOperand is a function value (its slot) or a number literal,
// negated or not; nil for anything else.
func (c *compiler) nativeOperand(node ast.Node) func(v []float64) float64 {
	switch n := node.(type) {
	case *ast.IntegerNode, *ast.FloatNode:
		x, _ := numberLiteral(n)
		return func([]float64) float64 { return x }
	case *ast.UnaryNode:
		if n.Operator != "-" {
			return nil
		}
		if x, ok := numberLiteral(n.Node); ok {
			return func([]float64) float64 { return -x }
		}
	case *ast.CallNode:
		i, ok := slotOf(n, c.slots)
		if !ok {
			return nil
		}
		switch c.calls[i].kind {
		case fnHour, fnWeekday:
			return nil // integers, read from the environment
		}
		return func(v []float64) float64 { return v[i] }
	}
	return nil
}

// divFunc is what a / b runs as (rewriter).
const divFunc = "_div"

// ErrDivisionByZero is the run-time error of a condition that divides by
// zero: the condition is not satisfied, and the trigger's event says so.
var ErrDivisionByZero = errors.New("division by zero")

func divide(params ...any) (any, error) {
	a, b := toFloat(params[0]), toFloat(params[1])
	if b == 0 {
		return nil, ErrDivisionByZero
	}
	return a / b, nil
}

func toFloat(v any) float64 {
	switch x := v.(type) {
	case float64:
		return x
	case int:
		return float64(x)
	}
	return math.NaN()
}

// unreachable stands in for the condition functions while parsing: every
// call is rewritten to a precomputed value before the program is built.
func unreachable(...any) (any, error) {
	return nil, errors.New("trigger: condition function called directly")
}

// check walks the parse tree: it accepts only what a condition may
// contain, records each metric call, and returns the first error.
func (c *compiler) check(node ast.Node) error {
	switch n := node.(type) {
	case *ast.NilNode, *ast.IntegerNode, *ast.FloatNode, *ast.BoolNode, *ast.StringNode:
		return nil
	case *ast.IdentifierNode:
		return c.unknownName(n)
	case *ast.UnaryNode:
		return c.check(n.Node)
	case *ast.BinaryNode:
		if !allowedOperator(n.Operator) {
			return c.errorAt(n, fmt.Sprintf("operator %q is not supported in conditions", n.Operator),
				"use comparisons (> >= < <= == !=), arithmetic (+ - * / % **), and, or, not")
		}
		if (n.Operator == "/" || n.Operator == "%") && constantZero(n.Right) {
			return c.errorAt(n, "division by zero: the divisor is the constant 0",
				"divide by a metric or a non-zero number")
		}
		if err := c.check(n.Left); err != nil {
			return err
		}
		return c.check(n.Right)
	case *ast.ConditionalNode:
		for _, m := range []ast.Node{n.Cond, n.Exp1, n.Exp2} {
			if err := c.check(m); err != nil {
				return err
			}
		}
		return nil
	case *ast.CallNode:
		return c.checkCall(n)
	case *ast.BuiltinNode:
		return c.unknownFunction(n, n.Name)
	case *ast.VariableDeclaratorNode:
		return c.errorAt(n, "variables (let) are not supported in conditions", "write the expression out")
	case *ast.MemberNode:
		// Point at the start of "a.b", not at the dot.
		return c.errorAt(n.Node, "field and index access are not supported in conditions",
			"read metrics through functions such as avg(cpu_utilization, '2m')")
	case *ast.ChainNode, *ast.SliceNode:
		return c.errorAt(n, "field and index access are not supported in conditions",
			"read metrics through functions such as avg(cpu_utilization, '2m')")
	}
	return c.errorAt(node, "this kind of expression is not supported in conditions",
		"use metric functions, numbers, comparisons, arithmetic, and, or, not")
}

func allowedOperator(op string) bool {
	switch op {
	case "and", "or", "&&", "||", "==", "!=", "<", ">", "<=", ">=",
		"+", "-", "*", "/", "%", "**", "^":
		return true
	}
	return false
}

func (c *compiler) unknownName(n *ast.IdentifierNode) error {
	if f, ok := lookupFunc(n.Value); ok {
		return c.errorAt(n, fmt.Sprintf("%s is a function", n.Value), "call it: "+f.usage)
	}
	return c.errorAt(n, fmt.Sprintf("unknown name %q", n.Value),
		fmt.Sprintf("read a metric through a function, e.g. avg(%s, '2m') or last(%s)", n.Value, n.Value))
}

func (c *compiler) unknownFunction(n ast.Node, name string) error {
	hint := "functions are " + strings.Join(funcNames(), ", ")
	if near := nearest(name, funcNames()); near != "" {
		hint = fmt.Sprintf("did you mean %q?", near)
	}
	return c.errorAt(n, fmt.Sprintf("unknown function %q", name), hint)
}

func (c *compiler) checkCall(n *ast.CallNode) error {
	id, ok := n.Callee.(*ast.IdentifierNode)
	if !ok {
		return c.errorAt(n, "only the condition functions can be called", "functions are "+strings.Join(funcNames(), ", "))
	}
	f, ok := lookupFunc(id.Value)
	if !ok {
		return c.unknownFunction(n, id.Value)
	}
	if len(n.Arguments) != len(f.params) {
		return c.errorAt(n, fmt.Sprintf("%s takes %s, got %d", f.name, describeParams(f.params), len(n.Arguments)),
			"write it as "+f.usage)
	}
	cl := call{kind: f.kind, name: f.name}
	for i, p := range f.params {
		arg := n.Arguments[i]
		switch p {
		case pMetric:
			name, ok := metricName(arg)
			if !ok {
				return c.argErrorAt(arg, fmt.Sprintf("the first argument of %s must be a metric name", f.name),
					"write the name bare (cpu_utilization) or quoted if it has other characters ('http.requests-total')")
			}
			if name == "" {
				return c.argErrorAt(arg, "metric name is empty", "write it as "+f.usage)
			}
			cl.metric = name
		case pWindow:
			s, ok := arg.(*ast.StringNode)
			if !ok {
				return c.argErrorAt(arg, fmt.Sprintf("the window of %s must be a quoted duration", f.name), "write it as "+f.usage)
			}
			d, err := time.ParseDuration(strings.TrimSpace(s.Value))
			switch {
			case err != nil:
				return c.argErrorAt(arg, fmt.Sprintf("window %q is not a duration", s.Value), `use a Go duration such as "2m" or "90s"`)
			case d <= 0:
				return c.argErrorAt(arg, fmt.Sprintf("window %q must be longer than zero", s.Value), `use a Go duration such as "2m" or "90s"`)
			case d > MaxWindowLimit:
				return c.argErrorAt(arg, fmt.Sprintf("window %q is longer than %s", s.Value, "24h"), "use a window of at most 24h")
			}
			cl.window, cl.windowText = d, strings.TrimSpace(s.Value)
		case pQuantile:
			q, ok := numberLiteral(arg)
			if !ok || q < 0 || q > 100 {
				return c.argErrorAt(arg, "the percentile must be a number from 0 to 100", "write it as "+f.usage)
			}
			cl.quantile = q
		}
	}
	c.record(cl)
	return nil
}

func describeParams(ps []param) string {
	if len(ps) == 0 {
		return "no arguments"
	}
	names := make([]string, len(ps))
	for i, p := range ps {
		names[i] = [...]string{"metric", "percentile", "window"}[p]
	}
	word := "arguments"
	if len(ps) == 1 {
		word = "argument"
	}
	return fmt.Sprintf("%d %s (%s)", len(ps), word, strings.Join(names, ", "))
}

func metricName(n ast.Node) (string, bool) {
	switch a := n.(type) {
	case *ast.IdentifierNode:
		return a.Value, true
	case *ast.StringNode:
		return strings.TrimSpace(a.Value), true
	}
	return "", false
}

func numberLiteral(n ast.Node) (float64, bool) {
	switch a := n.(type) {
	case *ast.IntegerNode:
		return float64(a.Value), true
	case *ast.FloatNode:
		return a.Value, true
	}
	return 0, false
}

// record gives a call its slot, sharing it with an equal earlier call.
func (c *compiler) record(cl call) {
	cl.key, cl.label = callKey(cl)
	if _, ok := c.slots[cl.key]; ok {
		return
	}
	c.slots[cl.key] = len(c.calls)
	c.calls = append(c.calls, cl)
	switch cl.kind {
	case fnHour, fnWeekday:
	default:
		if !contains(c.cond.metrics, cl.metric) {
			c.cond.metrics = append(c.cond.metrics, cl.metric)
		}
		c.cond.maxWindow = max(c.cond.maxWindow, cl.window)
	}
}

// callKey returns the identity of a call and its label for people.
func callKey(cl call) (key, label string) {
	switch cl.kind {
	case fnHour, fnWeekday:
		label = cl.name + "()"
	case fnLast:
		label = fmt.Sprintf("last(%s)", cl.metric)
	case fnPercentile:
		label = fmt.Sprintf("percentile(%s, %s, %s)", cl.metric, formatValue(cl.quantile), cl.windowText)
	default:
		label = fmt.Sprintf("%s(%s, %s)", cl.name, cl.metric, cl.windowText)
	}
	// The window's value, not its spelling, decides equality: '2m' and
	// '120s' are one lookup.
	return fmt.Sprintf("%d\x00%s\x00%d\x00%g", cl.kind, cl.metric, cl.window, cl.quantile), label
}

// slotOf returns the slot of a checked call node.
func slotOf(n *ast.CallNode, slots map[string]int) (int, bool) {
	id, ok := n.Callee.(*ast.IdentifierNode)
	if !ok {
		return 0, false
	}
	f, ok := lookupFunc(id.Value)
	if !ok || len(n.Arguments) != len(f.params) {
		return 0, false
	}
	cl := call{kind: f.kind, name: f.name}
	for i, p := range f.params {
		switch p {
		case pMetric:
			cl.metric, _ = metricName(n.Arguments[i])
		case pWindow:
			s, _ := n.Arguments[i].(*ast.StringNode)
			if s == nil {
				return 0, false
			}
			cl.window, _ = time.ParseDuration(strings.TrimSpace(s.Value))
		case pQuantile:
			cl.quantile, _ = numberLiteral(n.Arguments[i])
		}
	}
	key, _ := callKey(cl)
	i, ok := slots[key]
	return i, ok
}

// rewriter replaces each checked call with the value it reads from the
// environment.
type rewriter struct{ c *compiler }

func (r rewriter) Visit(node *ast.Node) {
	// a / b becomes _div(a, b), which fails on a zero divisor instead of
	// giving ±Inf or NaN, which compare true with > or <.
	if b, ok := (*node).(*ast.BinaryNode); ok && b.Operator == "/" {
		ast.Patch(node, &ast.CallNode{Callee: &ast.IdentifierNode{Value: divFunc}, Arguments: []ast.Node{b.Left, b.Right}})
		return
	}
	n, ok := (*node).(*ast.CallNode)
	if !ok {
		return
	}
	i, ok := slotOf(n, r.c.slots)
	if !ok {
		return
	}
	switch r.c.calls[i].kind {
	case fnHour:
		ast.Patch(node, &ast.IdentifierNode{Value: "_hour"})
	case fnWeekday:
		ast.Patch(node, &ast.IdentifierNode{Value: "_weekday"})
	default:
		ast.Patch(node, &ast.MemberNode{
			Node:     &ast.IdentifierNode{Value: "_v"},
			Property: &ast.IntegerNode{Value: i},
		})
	}
}

func (c *compiler) errorAt(n ast.Node, msg, hint string) *CompileError {
	line, col := position(c.src, n.Location().From)
	return &CompileError{Message: msg, Line: line, Column: col, Hint: hint}
}

// argErrorAt points at the start of an argument: the parser places a
// node such as a.b or 1 + 2 at its operator.
func (c *compiler) argErrorAt(n ast.Node, msg, hint string) *CompileError {
	v := &leftmost{from: n.Location().From}
	ast.Walk(&n, v)
	line, col := position(c.src, v.from)
	return &CompileError{Message: msg, Line: line, Column: col, Hint: hint}
}

type leftmost struct{ from int }

func (v *leftmost) Visit(n *ast.Node) { v.from = min(v.from, (*n).Location().From) }

// syntaxError turns a parser error into a CompileError.
func syntaxError(src string, err error) error {
	var fe *file.Error
	if !errors.As(err, &fe) {
		return &CompileError{Message: err.Error(), Line: 1, Column: 1}
	}
	from := fe.From
	msg, hint := fe.Message, ""
	// "avg(cpu, 2m)": the lexer stops at a number with letters in it.
	if strings.HasPrefix(msg, "bad number syntax") {
		from = wordStart(src, from)
		msg, hint = "a window must be a quoted duration", "write it as a string, e.g. '2m'"
	}
	line, col := position(src, from)
	ce := &CompileError{Message: msg, Line: line, Column: col, Hint: hint}
	if strings.HasPrefix(fe.Message, "unexpected token EOF") || strings.HasPrefix(fe.Message, "unexpected end") {
		ce.Hint = "the condition ends too early: check for a missing operand or closing parenthesis"
	}
	return ce
}

// wordStart moves a rune offset back to the start of the number or name
// it is in.
func wordStart(src string, offset int) int {
	r := []rune(src)
	offset = min(offset, len(r))
	for offset > 0 && isWordRune(r[offset-1]) {
		offset--
	}
	return offset
}

func isWordRune(r rune) bool {
	return r == '_' || r == '.' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z'
}

// typeError turns an error of the expr checker into a CompileError. The
// check that the result is boolean has no position.
func typeError(src string, err error) error {
	var fe *file.Error
	if errors.As(err, &fe) {
		line, col := position(src, fe.From)
		return &CompileError{Message: fe.Message, Line: line, Column: col}
	}
	msg := err.Error()
	if got, ok := strings.CutPrefix(msg, "expected bool, but got "); ok {
		what := "a " + got + " value"
		switch got {
		case "int", "float64", "int64":
			what = "a number"
		case "string":
			what = "a string"
		}
		return &CompileError{
			Message: "the condition must be true or false, but it is " + what,
			Line:    1, Column: 1,
			Hint: "compare it, e.g. avg(cpu_utilization, '2m') > 80",
		}
	}
	return &CompileError{Message: msg, Line: 1, Column: 1}
}

// constantZero reports whether n is a literal zero (signed or not).
func constantZero(n ast.Node) bool {
	switch x := n.(type) {
	case *ast.IntegerNode:
		return x.Value == 0
	case *ast.FloatNode:
		return x.Value == 0
	case *ast.UnaryNode:
		return (x.Operator == "-" || x.Operator == "+") && constantZero(x.Node)
	}
	return false
}
