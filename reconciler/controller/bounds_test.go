package controller

import (
	"strings"
	"testing"
	"time"

	"github.com/pes-project/terraform-provider-pes/reconciler/api"
)

// TestPatchBoundsMoveLiveDesired: a PATCH whose min/max no longer hold
// the live desired quantity moves it at once, as an immediate set_to of
// the patch's actor with reason "bounds changed", and the change it
// makes is attributed directly to that event.
func TestPatchBoundsMoveLiveDesired(t *testing.T) {
	tests := []struct {
		name        string
		desired     int
		patch       api.GroupPatch
		wantDesired int
		wantChange  string // type of the change the bounds event caused; "" for no event
		wantAmount  int
		wantReason  string
	}{
		{"max below desired", 6, api.GroupPatch{MaxQuantity: ptr(4), Actor: "terraform"}, 4, api.ChangeRemoveNodes, 2,
			"bounds changed: max_quantity 10 → 4"},
		{"min above desired", 2, api.GroupPatch{MinQuantity: ptr(5), Actor: "terraform"}, 5, api.ChangeAddNodes, 3,
			"bounds changed: min_quantity 0 → 5"},
		{"looser bounds", 6, api.GroupPatch{MaxQuantity: ptr(20), MinQuantity: ptr(1)}, 6, "", 0, ""},
		{"bounds still hold", 6, api.GroupPatch{MaxQuantity: ptr(6)}, 6, "", 0, ""},
		{"with a new desired quantity", 6, api.GroupPatch{MaxQuantity: ptr(4), DesiredQuantity: ptr(3), Actor: "alice"}, 4, api.ChangeRemoveNodes, 2,
			"bounds changed: max_quantity 10 → 4"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			g := h.createGroup(api.GroupConfig{Name: "bounded", DesiredQuantity: tt.desired, MaxQuantity: 10, Sim: &api.SimConfig{BootTime: "1s"}})
			h.runTo(2*time.Second, nil)
			got, err := h.c.UpdateGroup(h.ctx, g.ID, tt.patch)
			if err != nil {
				t.Fatal(err)
			}
			if got.DesiredQuantity != tt.wantDesired || h.group(g.ID).DesiredQuantity != tt.wantDesired {
				t.Errorf("live desired %d (stored %d), want %d", got.DesiredQuantity, h.group(g.ID).DesiredQuantity, tt.wantDesired)
			}
			var bounds []api.Event
			for _, e := range eventsOfType(h.events(g.ID), api.EventUserInstruction) {
				if strings.HasPrefix(e.Reason, "bounds changed") {
					bounds = append(bounds, e)
				}
			}
			if tt.wantChange == "" {
				if len(bounds) != 0 {
					t.Errorf("bounds events %v, want none", labelsOf(bounds))
				}
				return
			}
			if len(bounds) != 1 {
				t.Fatalf("bounds events %v, want one", labelsOf(bounds))
			}
			e := bounds[0]
			if e.Source.Kind != api.SourceUser || e.Source.Name != tt.patch.Actor || e.Request == nil || e.Request.SetTo == nil ||
				*e.Request.SetTo != tt.wantDesired || e.Status != api.EventApplied || !e.Immediate || e.Reason != tt.wantReason {
				t.Errorf("bounds event %+v, want %s's immediate set_to %d applied with reason %q", e, tt.patch.Actor, tt.wantDesired, tt.wantReason)
			}
			if got.OfficialQuantity != tt.wantDesired {
				t.Errorf("official %d, want %d", got.OfficialQuantity, tt.wantDesired)
			}
			nx := nexusOf(t, h, e.NexusID)
			if nx.Attribution != api.AttributionDirect || len(nx.ChangeIDs) != 1 {
				t.Fatalf("nexus %+v, want direct to one change", nx)
			}
			cd, err := h.hist().ExplainChange(h.ctx, nx.ChangeIDs[0])
			if err != nil {
				t.Fatal(err)
			}
			if cd.Type != tt.wantChange || cd.Amount != tt.wantAmount {
				t.Errorf("change %s %d, want %s %d", cd.Type, cd.Amount, tt.wantChange, tt.wantAmount)
			}
			if !strings.Contains(cd.Explanation, "directly caused by event "+e.Label) || !strings.Contains(cd.Explanation, tt.wantReason) {
				t.Errorf("explanation %q, want it direct from %s with %q", cd.Explanation, e.Label, tt.wantReason)
			}
			if tt.patch.DesiredQuantity != nil {
				// The patch's own instruction waits for the harmonization.
				ins := eventsOfType(h.events(g.ID), api.EventUserInstruction)
				last := ins[len(ins)-1]
				if last.ID == e.ID || last.Status != api.EventAggregated || *last.Request.SetTo != *tt.patch.DesiredQuantity {
					t.Errorf("the patch's desired_quantity is %+v, want an aggregated set_to %d after the bounds event", last, *tt.patch.DesiredQuantity)
				}
			}
		})
	}
}
