package trigger

import (
	"strings"

	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/parser/operator"
)

// text writes the condition with each function replaced by what it saw,
// for event descriptions: "avg cpu_utilization 87.3 > 80 over 2m". When all
// windows are equal the window is said once, at the end; otherwise after
// each value.
func (c *Condition) text(s *evalScratch) string {
	var window *call
	shared, last := true, false
	for i := range c.calls {
		cl := &c.calls[i]
		switch {
		case cl.kind == fnLast:
			last = true
		case cl.windowText == "":
		case window == nil:
			window = cl
		case cl.window != window.window:
			shared = false
		}
	}
	// With last() beside windowed calls a trailing window would seem to
	// apply to last() too.
	shared = shared && !last
	r := renderer{c: c, s: s, inlineWindow: !shared}
	var b strings.Builder
	r.node(&b, c.tree, 0)
	if shared && window != nil {
		b.WriteString(" over ")
		b.WriteString(window.windowText)
	}
	return b.String()
}

type renderer struct {
	c            *Condition
	s            *evalScratch
	inlineWindow bool
}

func (r renderer) node(b *strings.Builder, n ast.Node, outer int) {
	switch n := n.(type) {
	case *ast.BinaryNode:
		p := operator.Binary[n.Operator].Precedence
		paren := p < outer
		if paren {
			b.WriteByte('(')
		}
		r.node(b, n.Left, p)
		b.WriteByte(' ')
		b.WriteString(n.Operator)
		b.WriteByte(' ')
		// Left-associative: a right operand of equal precedence needs
		// parentheses to keep its meaning.
		r.node(b, n.Right, p+1)
		if paren {
			b.WriteByte(')')
		}
	case *ast.UnaryNode:
		b.WriteString(n.Operator)
		if n.Operator == "not" {
			b.WriteByte(' ')
		}
		r.node(b, n.Node, operator.Unary[n.Operator].Precedence)
	case *ast.CallNode:
		r.call(b, n)
	case *ast.StringNode:
		b.WriteString("'" + n.Value + "'")
	case *ast.ConditionalNode:
		b.WriteByte('(')
		r.node(b, n.Cond, 0)
		b.WriteString(" ? ")
		r.node(b, n.Exp1, 0)
		b.WriteString(" : ")
		r.node(b, n.Exp2, 0)
		b.WriteByte(')')
	default:
		b.WriteString(n.String())
	}
}

func (r renderer) call(b *strings.Builder, n *ast.CallNode) {
	i, ok := slotOf(n, r.c.slots)
	if !ok {
		b.WriteString(n.String())
		return
	}
	cl := r.c.calls[i]
	switch cl.kind {
	case fnHour, fnWeekday:
		b.WriteString(cl.name + " " + r.c.valueText(r.s, i))
		return
	case fnPercentile:
		b.WriteString("p" + formatValue(cl.quantile))
	default:
		b.WriteString(cl.name)
	}
	b.WriteByte(' ')
	b.WriteString(cl.metric)
	b.WriteByte(' ')
	b.WriteString(r.c.valueText(r.s, i))
	if r.inlineWindow && cl.windowText != "" {
		b.WriteString(" over " + cl.windowText)
	}
}
