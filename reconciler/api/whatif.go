package api

import "time"

// WhatIfRequest is the body of POST /v1/groups/{id}/whatif: a proposed
// configuration replayed over a window of the group's recorded samples.
type WhatIfRequest struct {
	// Since and Until bound the window (Until defaults to now); it may
	// not be longer than pesd's metric history (--metric-history).
	Since *time.Time `json:"since"`
	Until *time.Time `json:"until,omitempty"`
	// Triggers replace the group's triggers in the replay; absent, the
	// group's current triggers are replayed.
	Triggers []TriggerSpec `json:"triggers,omitempty"`
	// Group changes the group's settings in the replay (policy, period,
	// min/max, cooldown, predictive) as a PATCH would.
	Group *GroupPatch `json:"group,omitempty"`
}

// WhatIf answers a backtest: what the proposal would have recorded over
// the window, and a summary of it beside what really happened.
type WhatIf struct {
	Since    time.Time      `json:"since"`
	Until    time.Time      `json:"until"`
	Periods  []Period       `json:"periods"`
	Changes  []ChangeDetail `json:"changes"`
	Events   []Event        `json:"events"`
	Replayed WhatIfSummary  `json:"replayed"`
	Recorded WhatIfSummary  `json:"recorded"`
	// BootTime is the sim boot time the replay used, from the group's
	// observed launches.
	BootTime string `json:"boot_time"`
	// Samples is how many samples were replayed.
	Samples int `json:"samples"`
	// Queried is how many of them came from Prometheus range queries of
	// the group's metric sources, over the times pesd kept none of theirs.
	Queried int `json:"queried"`
}

// WhatIfSummary sums up a record over a backtest's window.
type WhatIfSummary struct {
	Changes      int     `json:"changes"`
	PeakQuantity int     `json:"peak_quantity"`
	MeanQuantity float64 `json:"mean_quantity"`
	NodeHours    float64 `json:"node_hours"`
	// Suppressed and Ignored count the firings the periods' decision
	// records suppressed and ignored.
	Suppressed int `json:"suppressed"`
	Ignored    int `json:"ignored"`
	// ForecastClamps counts the forecast clamps of the periods' decision
	// records: firings predictive governing held to its forecast range
	// (under forecast_only, recorded without being applied).
	ForecastClamps int `json:"forecast_clamps"`
	// Notifications counts the firings of notify triggers. They request
	// no capacity: live, each is sent to its receiver, whose answer (an
	// instruction in reply) decides the change. A replay sends none, so
	// what the receivers would have answered is not in its changes.
	Notifications int `json:"notifications"`
	// Cost is what the nodes' time over the window cost at the group's
	// billing rates, totalled as GET /v1/groups/{id}/costs totals it;
	// Cost and Currency are absent when the group has no billing.
	Cost     string `json:"cost,omitempty"`
	Currency string `json:"currency,omitempty"`
}
