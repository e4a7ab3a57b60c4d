package causality

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/pes-project/terraform-provider-pes/reconciler/api"
	"github.com/pes-project/terraform-provider-pes/reconciler/engine"
)

// CostRule is the attribution rule of GET /v1/groups/{id}/costs, in
// words (docs/guides/costs.md argues why it is fair).
const CostRule = "Node time runs from launch to termination, billed in whole increments and at least the minimum, at the price in force at each moment. " +
	"A node's time is charged to the change that launched it; a direct change to its one event; a harmonization's change gives each replacement it fulfilled one node, " +
	"and shares every other node equally among the requests that asked for it (the k-th node above the period's start among those that asked for at least k more). " +
	"A replacement is charged to the failure that made the node go."

// Money writes micro-units rounded to the cent, with the currency's
// sign when it has a common one: "$10.38", "EUR 3.10".
func Money(micros int64, currency string) string {
	return string(AppendMoney(nil, micros, currency))
}

// AppendMoney appends Money's text to b (strconv, not fmt: a costs answer
// writes it once a row).
func AppendMoney(b []byte, micros int64, currency string) []byte {
	switch currency {
	case "USD", "":
		b = append(b, '$')
	case "EUR":
		b = append(b, "€"...)
	case "GBP":
		b = append(b, "£"...)
	default:
		b = append(append(b, currency...), ' ')
	}
	cents := (micros + 5_000) / 10_000
	if cents < 0 { // never billed; written as it always was
		return fmt.Appendf(b, "%d.%02d", cents/100, cents%100)
	}
	b = strconv.AppendInt(b, cents/100, 10)
	b = append(b, '.', byte('0'+cents%100/10), byte('0'+cents%10))
	return b
}

// ChangeCost is the sentence an explanation of a change ends with when
// its group has billing: "C7 (add 5 nodes, 7 → 12) has cost 41.5
// node-hours ($10.38) so far."
func ChangeCost(c api.Change, seconds, micros int64, currency string, final bool) string {
	when := "so far"
	if final {
		when = "in all"
	}
	return fmt.Sprintf("%s (%s) has cost %s node-hours (%s) %s.", c.Label, DescribeChange(c, nil), roundHours(seconds),
		Money(micros, currency), when)
}

// roundHours is node-hours to two decimals, without trailing zeros.
func roundHours(seconds int64) string {
	return string(appendHours(nil, seconds))
}

func appendHours(b []byte, seconds int64) []byte {
	start := len(b)
	b = strconv.AppendFloat(b, float64(seconds)/3600, 'f', 2, 64)
	for len(b) > start && b[len(b)-1] == '0' {
		b = b[:len(b)-1]
	}
	if len(b) > start && b[len(b)-1] == '.' {
		b = b[:len(b)-1]
	}
	return b
}

// CostRowLabel and CostRowDescription say what a costs row is: its key
// (a cause, trigger, actor, change or day) for people, and what it cost.
func CostRowLabel(by, key string, cause *api.Event, change *api.Change) string {
	switch by {
	case api.CostsByCause:
		if cause != nil {
			return cause.Label
		}
	case api.CostsByChange:
		if change != nil {
			return change.Label
		}
	case api.CostsByTrigger:
		if cause != nil && cause.Source.Kind == api.SourceTrigger {
			return who(*cause)
		}
		switch key {
		case api.SourceUser:
			return "no trigger: user instructions"
		case api.SourceSystem:
			return "no trigger: pesd (replacements, bounds)"
		}
	case api.CostsByActor:
		if cause != nil {
			return who(*cause)
		}
	case api.CostsByDay:
		return key
	}
	if key == "" {
		return "unattributed"
	}
	return key
}

// CostRowDescription: "E5: trigger cpu-high asked for +4: 12.5
// node-hours ($3.13) over 3 changes".
func CostRowDescription(by, label string, cause *api.Event, change *api.Change, seconds, micros int64, currency string, billed bool, changes int) string {
	return CostRowDescribed(CostRowHead(by, label, cause, change), seconds, micros, currency, billed, changes)
}

// CostRowHead is what a costs row's description says before its figures:
// "E5: trigger cpu-high asked for +4". By cause it depends on the cause
// alone, so a reader may keep it with a settled cause.
func CostRowHead(by, label string, cause *api.Event, change *api.Change) string {
	switch {
	case by == api.CostsByCause && cause != nil:
		return label + ": " + DescribeEvent(*cause)
	case by == api.CostsByChange && change != nil:
		return label + ": " + DescribeChange(*change, nil)
	}
	return label
}

// CostRowDescribed is CostRowDescription after CostRowHead's words.
func CostRowDescribed(head string, seconds, micros int64, currency string, billed bool, changes int) string {
	// Written in one buffer: once a row, and a query can have 100,000.
	var buf [64]byte
	b := append(buf[:0], ": "...)
	b = appendHours(b, seconds)
	b = append(b, " node-hours"...)
	if billed {
		b = append(AppendMoney(append(b, " ("...), micros, currency), ')')
	}
	if changes != 1 {
		b = append(strconv.AppendInt(append(b, " over "...), int64(changes), 10), " changes"...)
	} else {
		b = append(b, " over 1 change"...)
	}
	var sb strings.Builder
	sb.Grow(len(head) + len(b))
	sb.WriteString(head)
	sb.Write(b)
	return sb.String()
}

// ReplacementPaid says why a lost node's replacement was or was not
// deferred once paid time was weighed (engine.Replace): "replaced at
// once, not deferred: web-3's paid time runs until 10:59:00, past the
// harmonization at 10:02:00, so waiting would leave capacity already
// paid for idle and save nothing".
func ReplacementPaid(w engine.PaidWeighed, replacedNow bool, now time.Time) string {
	if replacedNow {
		return fmt.Sprintf("replaced at once, not deferred: %s's paid time runs until %s (%s from now), past the harmonization at %s, "+
			"so waiting would leave capacity already paid for idle and save nothing",
			w.Node, clock(w.PaidUntil), api.FormatDuration(w.PaidUntil.Sub(now)), clock(w.Harmonization))
	}
	return fmt.Sprintf("deferred to save money: %s's paid time ended at %s, before the harmonization at %s; "+
		"a replacement now would be billed at least %s (%s) that the harmonization may make unnecessary",
		w.Node, clock(w.PaidUntil), clock(w.Harmonization), api.FormatDuration(w.MinimumBilled), Money(w.MinimumMicros, w.Currency))
}

// PaidRemovals is the note of a scale-in by closest_to_billing_boundary:
// "closest_to_billing_boundary removed web-3 and web-5: their paid time
// ends in 2m and 4m".
func PaidRemovals(paid []engine.Paid) string {
	if len(paid) == 0 {
		return ""
	}
	names := make([]string, len(paid))
	ends := make([]string, len(paid))
	for i, p := range paid {
		names[i] = p.Name
		ends[i] = api.FormatDuration(p.Left)
	}
	whose := "their paid time ends"
	if len(paid) == 1 {
		whose = "its paid time ends"
	}
	return fmt.Sprintf("%s removed %s: %s in %s, the soonest of the group's ready nodes",
		api.TerminateClosestToBillingBoundary, joinAnd(names), whose, joinAnd(ends))
}
