package provider

import (
	"context"
	"regexp"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/pes-project/terraform-provider-pes/reconciler/api"
)

// An immediate instruction beyond max_quantity is clamped: the event
// keeps the requester's reason, and pesd's note of the clamp is in notes,
// apart from it; the explanation says both.
func TestAccCapacityEvents_notesApartFromReason(t *testing.T) {
	var groupID string
	base := simGroup("acc-notes", 1, "")
	withData := base + `
data "pes_capacity_events" "instructions" {
  group_id = pes_node_group.test.id
  type     = "user_instruction"
}
`
	const events = "data.pes_capacity_events.instructions"
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				Config: base,
				Check:  captureID("pes_node_group.test", &groupID),
			},
			{
				PreConfig: func() {
					twenty := 20
					_, err := testClient(t).Instruct(context.Background(), groupID, api.Instruction{
						Request: api.Request{SetTo: &twenty}, Immediate: true, Actor: "alice", Reason: "peak"})
					if err != nil {
						t.Fatalf("instruct: %v", err)
					}
				},
				Config: withData,
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(events, tfjsonpath.New("events"), knownvalue.ListExact([]knownvalue.Check{
						knownvalue.ObjectPartial(map[string]knownvalue.Check{
							"source_name":         knownvalue.StringExact("admin"),
							"source_principal":    knownvalue.StringExact("admin"),
							"source_on_behalf_of": knownvalue.StringExact("alice"),
							"set_to":              knownvalue.Int64Exact(20),
							"proposed_quantity":   knownvalue.Int64Exact(20),
							"status":              knownvalue.StringExact(api.EventApplied),
							"reason":              knownvalue.StringExact("peak"),
							"notes": knownvalue.ListExact([]knownvalue.Check{
								knownvalue.StringRegexp(regexp.MustCompile(`^clamped by max_quantity 10: 20 → 10\b`)),
							}),
							"explanation": knownvalue.StringRegexp(regexp.MustCompile(`(?s)peak.*max_quantity`)),
							"effects": knownvalue.ListExact([]knownvalue.Check{knownvalue.ObjectPartial(map[string]knownvalue.Check{
								"quantity_before": knownvalue.Int64Exact(1),
								"quantity_after":  knownvalue.Int64Exact(10),
								"attribution":     knownvalue.StringExact(api.AttributionDirect),
							})}),
						}),
					})),
				},
			},
		},
	})
}
