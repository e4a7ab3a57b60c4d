package trigger

import (
	"strings"

	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/parser/operator"
)

// segment is a piece of a condition's text for people: literal text, then
// the value of a call (slot >= 0) or nothing (slot < 0).
type segment struct {
	lit  string
	slot int
}

// render writes the condition with each function replaced by what it saw,
// for event descriptions: "avg cpu_utilization 87.3 > 80 over 2m".
func (c *Condition) render(s *evalScratch) string {
	var b strings.Builder
	for _, sg := range c.text {
		b.WriteString(sg.lit)
		if sg.slot >= 0 {
			b.WriteString(c.valueText(s, sg.slot))
		}
	}
	return b.String()
}

// textTemplate lays out the text of the condition once, at compile time.
// When every window is the same it is said once, at the end ("... over
// 2m"); otherwise after each value.
func (c *compiler) textTemplate(root ast.Node) []segment {
	var window *call
	shared := true
	for i := range c.calls {
		cl := &c.calls[i]
		switch {
		case cl.kind == fnLast:
			// A trailing window would seem to apply to last() too.
			shared = false
		case cl.windowText == "":
		case window == nil:
			window = cl
		case cl.window != window.window:
			shared = false
		}
	}
	t := &textBuilder{c: c, inlineWindow: !shared}
	t.node(root, 0)
	if shared && window != nil {
		t.b.WriteString(" over " + window.windowText)
	}
	t.flush(-1)
	return t.segs
}

type textBuilder struct {
	c            *compiler
	inlineWindow bool
	b            strings.Builder
	segs         []segment
}

func (t *textBuilder) flush(slot int) {
	t.segs = append(t.segs, segment{lit: t.b.String(), slot: slot})
	t.b.Reset()
}

func (t *textBuilder) node(n ast.Node, outer int) {
	switch n := n.(type) {
	case *ast.BinaryNode:
		p := operator.Binary[n.Operator].Precedence
		paren := p < outer
		if paren {
			t.b.WriteByte('(')
		}
		// The operand on the side the operator does not associate to
		// needs parentheses at equal precedence to keep its meaning.
		left, right := p, p+1
		if operator.Binary[n.Operator].Associativity == operator.Right {
			left, right = p+1, p
		}
		t.node(n.Left, left)
		t.b.WriteString(" " + n.Operator + " ")
		t.node(n.Right, right)
		if paren {
			t.b.WriteByte(')')
		}
	case *ast.UnaryNode:
		t.b.WriteString(n.Operator)
		if n.Operator == "not" {
			t.b.WriteByte(' ')
		}
		t.node(n.Node, operator.Unary[n.Operator].Precedence)
	case *ast.CallNode:
		t.call(n)
	case *ast.StringNode:
		t.b.WriteString("'" + n.Value + "'")
	case *ast.ConditionalNode:
		t.b.WriteByte('(')
		t.node(n.Cond, 0)
		t.b.WriteString(" ? ")
		t.node(n.Exp1, 0)
		t.b.WriteString(" : ")
		t.node(n.Exp2, 0)
		t.b.WriteByte(')')
	default:
		t.b.WriteString(n.String())
	}
}

func (t *textBuilder) call(n *ast.CallNode) {
	i, ok := slotOf(n, t.c.slots)
	if !ok {
		t.b.WriteString(n.String())
		return
	}
	cl := t.c.calls[i]
	switch cl.kind {
	case fnHour, fnWeekday:
		t.b.WriteString(cl.name + " ")
		t.flush(i)
		return
	case fnPercentile:
		t.b.WriteString("p" + formatValue(cl.quantile))
	default:
		t.b.WriteString(cl.name)
	}
	t.b.WriteString(" " + cl.metric + " ")
	t.flush(i)
	if t.inlineWindow && cl.windowText != "" {
		t.b.WriteString(" over " + cl.windowText)
	}
}
