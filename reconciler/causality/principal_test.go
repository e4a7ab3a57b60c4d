package causality

import (
	"testing"
	"time"

	"github.com/pes-project/terraform-provider-pes/reconciler/api"
)

// TestPrincipalOnBehalfOf: an instruction sent with the token of
// principal terraform-ci naming the actor terraform is explained as the
// principal's, with the actor after it; an actor that is the principal
// itself is not repeated, and events from before principals read as
// they did.
func TestPrincipalOnBehalfOf(t *testing.T) {
	at := time.Date(2025, 3, 4, 9, 0, 10, 0, time.UTC)
	e := api.Event{ID: "ev-E2", Label: "E2", Type: api.EventUserInstruction, Time: at, Immediate: true,
		Source:  api.Source{Kind: api.SourceUser, Name: "terraform-ci", Principal: "terraform-ci", OnBehalfOf: "terraform"},
		Request: by(3), Status: api.EventApplied}
	for _, tc := range []struct {
		src  api.Source
		want string
	}{
		{e.Source, "Event E2 at 09:00:10: user terraform-ci (on behalf of terraform) asked for +3 at once. It caused no change."},
		{api.Source{Kind: api.SourceUser, Name: "ci", Principal: "ci"}, "Event E2 at 09:00:10: user ci asked for +3 at once. It caused no change."},
		// A name a client wrote without a principal reads as before.
		{api.Source{Kind: api.SourceUser, Name: "alice"}, "Event E2 at 09:00:10: user alice asked for +3 at once. It caused no change."},
	} {
		e.Source = tc.src
		if got := ExplainEvent(e, nil, nil, nil); got != tc.want {
			t.Errorf("%+v:\n got %s\nwant %s", tc.src, got, tc.want)
		}
	}
}
