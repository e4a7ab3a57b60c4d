package causality

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/pes-project/terraform-provider-pes/reconciler/api"
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
	cents := (micros + 5_000) / 10_000
	s := fmt.Sprintf("%d.%02d", cents/100, cents%100)
	switch currency {
	case "USD", "":
		return "$" + s
	case "EUR":
		return "€" + s
	case "GBP":
		return "£" + s
	}
	return currency + " " + s
}

// ChangeCost is the sentence an explanation of a change ends with when
// its group has billing: "C7 (add 5 nodes, 7 → 12) has cost 41.5
// node-hours ($10.38) so far."
func ChangeCost(c api.Change, seconds, micros int64, currency string, final bool, billed bool) string {
	when := "so far"
	if final {
		when = "in all"
	}
	s := fmt.Sprintf("%s (%s) has cost %s node-hours", c.Label, DescribeChange(c, nil), roundHours(seconds))
	if billed {
		s += " (" + Money(micros, currency) + ")"
	}
	return s + " " + when + "."
}

// roundHours is node-hours to two decimals, without trailing zeros.
func roundHours(seconds int64) string {
	s := strconv.FormatFloat(float64(seconds)/3600, 'f', 2, 64)
	s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	return s
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
	head := label
	switch {
	case by == api.CostsByCause && cause != nil:
		head += ": " + DescribeEvent(*cause)
	case by == api.CostsByChange && change != nil:
		head += ": " + DescribeChange(*change, nil)
	}
	s := head + ": " + roundHours(seconds) + " node-hours"
	if billed {
		s += " (" + Money(micros, currency) + ")"
	}
	if changes != 1 {
		return s + fmt.Sprintf(" over %d changes", changes)
	}
	return s + " over 1 change"
}
