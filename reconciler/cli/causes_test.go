package cli

import (
	"context"
	"encoding/json"
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/pes-project/terraform-provider-pes/reconciler/api"
	"github.com/pes-project/terraform-provider-pes/reconciler/cli/clitest"
	"github.com/pes-project/terraform-provider-pes/reconciler/client"
)

// TestCausesInOneCall runs the real API in process: a group created by
// a client WithActor("terraform"), an immediate instruction clamped by
// max_quantity, then the changes with their causes and the events with
// their effects in one request each, which must be what GET of each one
// answers; the CLI shows them and passes --caused-by labels to the API;
// labels are cleared by {}; the delete is by terraform.
func TestCausesInOneCall(t *testing.T) {
	inProcessPesd(t)
	ctx := context.Background()
	c, err := client.New(os.Getenv("PES_ENDPOINT"), clitest.Token, client.WithActor("terraform"))
	if err != nil {
		t.Fatal(err)
	}
	g, err := c.CreateGroup(ctx, api.GroupConfig{Name: "why", Driver: api.DriverSim, Program: api.Program{Command: "w"},
		DesiredQuantity: 2, MaxQuantity: 5, Labels: map[string]string{"team": "web"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Instruct(ctx, g.ID, api.Instruction{Request: api.Request{SetTo: intPtr(9)}, Immediate: true,
		Reason: "launch day", Actor: "alice"}); err != nil {
		t.Fatal(err)
	}

	changes, err := c.ListAllChangesDetailed(ctx, g.ID, client.ChangeFilter{Page: client.Page{Limit: 1}})
	if err != nil {
		t.Fatal(err)
	}
	events, err := c.ListAllEventsDetailed(ctx, g.ID, client.EventFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(changes) != 2 || len(events) != 2 {
		t.Fatalf("%d changes and %d events, want 2 and 2", len(changes), len(events))
	}
	for _, d := range changes {
		one, err := c.GetChange(ctx, d.ID)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(one, d) {
			t.Errorf("%s listed:\n%+v\nalone:\n%+v", d.Label, d, one)
		}
	}
	for _, d := range events {
		one, err := c.GetEvent(ctx, d.ID)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(one, d) {
			t.Errorf("%s listed:\n%+v\nalone:\n%+v", d.Label, d, one)
		}
	}
	for _, want := range []struct{ got, text string }{
		{changes[0].Explanation, "Change C1 (add 2 nodes, 0 → 2) at "},
		// The token is pesd's bootstrap token: the principal admin, on
		// behalf of the actor the client names.
		{changes[0].Explanation, "directly caused by event E1: user admin (on behalf of terraform) created the group with 2 nodes."},
		{changes[1].Explanation, `directly caused by event E2: user admin (on behalf of alice) asked for 9 nodes at once ("launch day"); clamped by max_quantity 5: 9 → 5`},
		{events[0].Explanation, "Event E1 at "},
		{events[0].Source.Principal, "admin"},
		{events[0].Source.OnBehalfOf, "terraform"},
	} {
		if !strings.Contains(want.got, want.text) {
			t.Errorf("%q does not say %q", want.got, want.text)
		}
	}

	code, out, errOut := runCLI("changes", "--group", "why", "--causes")
	if code != ExitOK || !strings.Contains(out, "CAUSES") || !strings.Contains(out, changes[1].Explanation) {
		t.Errorf("pesd changes --causes: exit %d\n%s%s", code, out, errOut)
	}
	code, out, errOut = runCLI("changes", "--group", "why", "--causes", "-o", "json")
	var listed []api.ChangeDetail
	if code != ExitOK || json.Unmarshal([]byte(out), &listed) != nil || !reflect.DeepEqual(listed, changes) {
		t.Errorf("pesd changes --causes -o json: exit %d, want the details\n%s%s", code, out, errOut)
	}

	// --caused-by takes a label, which the API resolves.
	code, out, errOut = runCLI("changes", "--group", "why", "--caused-by", "e2", "-o", "json")
	var caused []api.Change
	if code != ExitOK || json.Unmarshal([]byte(out), &caused) != nil || len(caused) != 1 || caused[0].ID != changes[1].ID {
		t.Errorf("pesd changes --caused-by e2: exit %d, want only %s\n%s%s", code, changes[1].Label, out, errOut)
	}
	code, _, errOut = runCLI("changes", "--group", "why", "--caused-by", "E9")
	if want := "group " + g.ID + " has no event E9 (field caused_by)"; code != ExitError || !strings.Contains(errOut, want) {
		t.Errorf("pesd changes --caused-by E9: exit %d, want %d and %q in:\n%s", code, ExitError, want, errOut)
	}

	// Labels: left alone without labels in the patch, cleared by {}.
	for _, step := range []struct {
		patch api.GroupPatch
		want  int
	}{{api.GroupPatch{MinQuantity: intPtr(1)}, 1}, {api.GroupPatch{Labels: map[string]string{}}, 0}} {
		if _, err := c.UpdateGroup(ctx, g.ID, step.patch); err != nil {
			t.Fatal(err)
		}
		got, err := c.GetGroup(ctx, g.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(got.Labels) != step.want {
			t.Errorf("after %+v: labels %v, want %d", step.patch, got.Labels, step.want)
		}
	}

	// A delete through the client is by its actor too, though it has no
	// body to name one in.
	if err := c.DeleteGroup(ctx, g.ID); err != nil {
		t.Fatal(err)
	}
	deleted, err := c.ListAllEvents(ctx, g.ID, client.EventFilter{Type: api.EventGroupDeleted})
	if err != nil {
		t.Fatal(err)
	}
	if len(deleted) != 1 || deleted[0].Description != "user admin (on behalf of terraform) deleted the group" {
		t.Errorf("deletion events %+v, want one by user admin on behalf of terraform", deleted)
	}
}

func intPtr(n int) *int { return &n }

// TestCLIDecisiveMark: of two instructions aggregated by largest, the CLI
// marks the one the policy chose with a * in the changes table and in
// pesd explain, and only that one.
func TestCLIDecisiveMark(t *testing.T) {
	inProcessPesd(t)
	ctx := context.Background()
	c, err := client.New(os.Getenv("PES_ENDPOINT"), clitest.Token)
	if err != nil {
		t.Fatal(err)
	}
	g, err := c.CreateGroup(ctx, api.GroupConfig{Name: "pick", Driver: api.DriverSim, Program: api.Program{Command: "w"},
		DesiredQuantity: 1, MaxQuantity: 9})
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []int{3, 1} { // E2 asks +3, E3 asks +1: largest takes E2
		if _, err := c.Instruct(ctx, g.ID, api.Instruction{Request: api.Request{ChangeBy: intPtr(n)}}); err != nil {
			t.Fatal(err)
		}
	}
	p, err := c.Harmonize(ctx, g.ID)
	if err != nil || len(p.ChangeIDs) != 1 {
		t.Fatalf("harmonize: %v, changes %v", err, p.ChangeIDs)
	}
	code, out, errOut := runCLI("changes", "--group", "pick", "--causes")
	if code != ExitOK || !strings.Contains(out, "E2*,E3") || strings.Contains(out, "E3*") {
		t.Errorf("pesd changes --causes: exit %d, want E2 marked decisive and E3 not\n%s%s", code, out, errOut)
	}
	code, out, errOut = runCLI("explain", "change", "C2", "--group", "pick")
	if code != ExitOK || !strings.Contains(out, "E2*") || strings.Contains(out, "E3*") || !strings.Contains(out, "* decisive") {
		t.Errorf("pesd explain change C2: exit %d, want E2 marked decisive\n%s%s", code, out, errOut)
	}
}
