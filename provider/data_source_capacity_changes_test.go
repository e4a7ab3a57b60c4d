package provider

import (
	"context"
	"regexp"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/pes-project/terraform-provider-pes/reconciler/api"
)

// Two user instructions and a trigger firing in one period, then a
// harmonization: the change it makes is caused by all three, indirectly,
// and the data sources say so both ways (change → causes, event → effects).
func TestAccCapacityChanges_indirectCauses(t *testing.T) {
	var groupID string
	base := simGroup("acc-causality", 2, "") + `
resource "pes_trigger" "queue" {
  group_id  = pes_node_group.test.id
  name      = "queue-high"
  condition = "last(queue_depth) > 100"
  change_by = 1
}
`
	withData := base + `
data "pes_capacity_changes" "added" {
  group_id = pes_node_group.test.id
  type     = "add_nodes"
}

data "pes_capacity_events" "instructions" {
  group_id = pes_node_group.test.id
  type     = "user_instruction"
}

data "pes_capacity_changes" "caused_by_bob" {
  group_id  = pes_node_group.test.id
  caused_by = data.pes_capacity_events.instructions.events[1].id
}

data "pes_capacity_events" "created" {
  group_id = pes_node_group.test.id
  type     = "group_created"
}

data "pes_capacity_changes" "removed" {
  group_id = pes_node_group.test.id
  type     = "remove_nodes"
}

output "explanations" {
  value = [for c in data.pes_capacity_changes.added.changes : c.explanation]
}
`
	const (
		added   = "data.pes_capacity_changes.added"
		events  = "data.pes_capacity_events.instructions"
		byBob   = "data.pes_capacity_changes.caused_by_bob"
		removed = "data.pes_capacity_changes.removed"
		created = "data.pes_capacity_events.created"
	)
	c2 := tfjsonpath.New("changes").AtSliceIndex(1)
	// Event labels depend on how many evaluations recorded missing
	// metrics before the test acted, so only their form is checked.
	eventLabel := regexp.MustCompile(`^E\d+$`)
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				Config: base,
				Check:  captureID("pes_node_group.test", &groupID),
			},
			{
				PreConfig: func() {
					c := testClient(t)
					ctx := context.Background()
					one, three := 1, 3
					if _, err := c.Instruct(ctx, groupID, api.Instruction{Request: api.Request{ChangeBy: &one}, Actor: "alice", Reason: "launch"}); err != nil {
						t.Fatalf("instruct: %v", err)
					}
					if _, err := c.Instruct(ctx, groupID, api.Instruction{Request: api.Request{ChangeBy: &three}, Actor: "bob"}); err != nil {
						t.Fatalf("instruct: %v", err)
					}
					if _, err := c.PushMetrics(ctx, groupID, []api.Sample{{Name: "queue_depth", Value: 500}}); err != nil {
						t.Fatalf("push metrics: %v", err)
					}
					waitForEvent(t, c, groupID, api.EventTriggerFired)
					p, err := c.Harmonize(ctx, groupID)
					if err != nil {
						t.Fatalf("harmonize: %v", err)
					}
					if p.DesiredAfter != 5 || len(p.ChangeIDs) != 1 {
						t.Fatalf("harmonization: desired → %d with changes %v, want → 5 with one change:\n%s", p.DesiredAfter, p.ChangeIDs, p.Summary)
					}
				},
				Config: withData,
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{
						plancheck.ExpectResourceAction("pes_node_group.test", plancheck.ResourceActionNoop),
						plancheck.ExpectResourceAction("pes_trigger.queue", plancheck.ResourceActionNoop),
					},
				},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(added, tfjsonpath.New("changes"), knownvalue.ListSizeExact(2)),
					// C1: the group's creation, directly.
					statecheck.ExpectKnownValue(added, tfjsonpath.New("changes").AtSliceIndex(0), knownvalue.ObjectPartial(map[string]knownvalue.Check{
						"label":       knownvalue.StringExact("C1"),
						"attribution": knownvalue.StringExact(api.AttributionDirect),
						"causes": knownvalue.ListExact([]knownvalue.Check{knownvalue.ObjectPartial(map[string]knownvalue.Check{
							"type":                knownvalue.StringExact(api.EventGroupCreated),
							"attribution":         knownvalue.StringExact(api.AttributionDirect),
							"source_name":         knownvalue.StringExact("admin"),
							"source_principal":    knownvalue.StringExact("admin"),
							"source_on_behalf_of": knownvalue.StringExact("terraform"),
							"decisive":            knownvalue.Bool(false),
						})}),
					})),
					// Terraform created the group: the provider's client names it as
					// the actor, on behalf of which the token's principal (pesd's
					// bootstrap token, admin) asked.
					statecheck.ExpectKnownValue(created, tfjsonpath.New("events"), knownvalue.ListExact([]knownvalue.Check{
						knownvalue.ObjectPartial(map[string]knownvalue.Check{
							"label":               knownvalue.StringExact("E1"),
							"source_kind":         knownvalue.StringExact(api.SourceUser),
							"source_name":         knownvalue.StringExact("admin"),
							"source_principal":    knownvalue.StringExact("admin"),
							"source_on_behalf_of": knownvalue.StringExact("terraform"),
							"description":         knownvalue.StringRegexp(regexp.MustCompile(`(?i)user admin \(on behalf of terraform\) created the group`)),
							"explanation":         knownvalue.NotNull(),
							"effects": knownvalue.ListExact([]knownvalue.Check{knownvalue.ObjectPartial(map[string]knownvalue.Check{
								"label":       knownvalue.StringExact("C1"),
								"attribution": knownvalue.StringExact(api.AttributionDirect),
							})}),
						}),
					})),
					// C2: +3 nodes (2 → 5) caused by all three requests together.
					statecheck.ExpectKnownValue(added, c2, knownvalue.ObjectPartial(map[string]knownvalue.Check{
						"type":            knownvalue.StringExact(api.ChangeAddNodes),
						"amount":          knownvalue.Int64Exact(3),
						"quantity_before": knownvalue.Int64Exact(2),
						"quantity_after":  knownvalue.Int64Exact(5),
						"attribution":     knownvalue.StringExact(api.AttributionIndirect),
						"period_label":    knownvalue.StringExact("H1"),
						"node_ids":        knownvalue.ListSizeExact(3),
						"explanation":     knownvalue.StringRegexp(regexp.MustCompile(`indirectly caused by events E\d+, E\d+ and E\d+`)),
					})),
					statecheck.ExpectKnownValue(added, c2.AtMapKey("causes"), knownvalue.ListExact([]knownvalue.Check{
						knownvalue.ObjectPartial(map[string]knownvalue.Check{
							"label":               knownvalue.StringRegexp(eventLabel),
							"attribution":         knownvalue.StringExact(api.AttributionIndirect),
							"source_kind":         knownvalue.StringExact(api.SourceUser),
							"source_name":         knownvalue.StringExact("admin"),
							"source_principal":    knownvalue.StringExact("admin"),
							"source_on_behalf_of": knownvalue.StringExact("alice"),
							"proposed_quantity":   knownvalue.Int64Exact(3),
							"decisive":            knownvalue.Bool(false),
						}),
						knownvalue.ObjectPartial(map[string]knownvalue.Check{
							"attribution":         knownvalue.StringExact(api.AttributionIndirect),
							"source_name":         knownvalue.StringExact("admin"),
							"source_principal":    knownvalue.StringExact("admin"),
							"source_on_behalf_of": knownvalue.StringExact("bob"),
							"proposed_quantity":   knownvalue.Int64Exact(5),
							// largest took bob's 5: the one decisive cause.
							"decisive": knownvalue.Bool(true),
						}),
						knownvalue.ObjectPartial(map[string]knownvalue.Check{
							"attribution": knownvalue.StringExact(api.AttributionIndirect),
							"type":        knownvalue.StringExact(api.EventTriggerFired),
							"source_kind": knownvalue.StringExact(api.SourceTrigger),
							"source_name": knownvalue.StringExact("queue-high"),
							"observed":    knownvalue.StringRegexp(regexp.MustCompile(`queue_depth 500 > 100`)),
							"decisive":    knownvalue.Bool(false),
						}),
					})),
					// Event → effects, the other way round.
					statecheck.ExpectKnownValue(events, tfjsonpath.New("events"), knownvalue.ListSizeExact(2)),
					statecheck.ExpectKnownValue(events, tfjsonpath.New("events").AtSliceIndex(0), knownvalue.ObjectPartial(map[string]knownvalue.Check{
						"label":               knownvalue.StringRegexp(eventLabel),
						"source_name":         knownvalue.StringExact("admin"),
						"source_principal":    knownvalue.StringExact("admin"),
						"source_on_behalf_of": knownvalue.StringExact("alice"),
						"change_by":           knownvalue.Int64Exact(1),
						"reason":              knownvalue.StringExact("launch"),
						"status":              knownvalue.StringExact(api.EventAggregated),
						"explanation":         knownvalue.NotNull(),
						"effects": knownvalue.ListExact([]knownvalue.Check{knownvalue.ObjectPartial(map[string]knownvalue.Check{
							"label":       knownvalue.StringExact("C2"),
							"attribution": knownvalue.StringExact(api.AttributionIndirect),
						})}),
					})),
					// caused_by filters on an event.
					statecheck.ExpectKnownValue(byBob, tfjsonpath.New("changes"), knownvalue.ListExact([]knownvalue.Check{
						knownvalue.ObjectPartial(map[string]knownvalue.Check{"label": knownvalue.StringExact("C2")}),
					})),
					statecheck.ExpectKnownValue(removed, tfjsonpath.New("changes"), knownvalue.ListSizeExact(0)),
					statecheck.ExpectKnownOutputValueAtPath("explanations", tfjsonpath.New(1),
						knownvalue.StringRegexp(regexp.MustCompile(`(?s)Change C2 \(add 3 nodes, 2 → 5\).*alice.*bob.*queue-high`))),
				},
			},
		},
	})
}

func TestAccCapacityChanges_planTimeErrors(t *testing.T) {
	cases := []struct {
		name   string
		config string
		want   string
	}{
		{"bad since", `data "pes_capacity_changes" "x" {
  group_id = "g"
  since    = "yesterday"
}`, `(?s)Invalid time.*since`},
		{"bad change type", `data "pes_capacity_changes" "x" {
  group_id = "g"
  type     = "grow"
}`, `(?s)type.*value must be one of`},
		{"bad event type", `data "pes_capacity_events" "x" {
  group_id = "g"
  type     = "scaled"
}`, `(?s)type.*value must be one of`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			resource.ParallelTest(t, resource.TestCase{
				ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
				Steps: []resource.TestStep{{
					Config:      tc.config,
					PlanOnly:    true,
					ExpectError: regexp.MustCompile(tc.want),
				}},
			})
		})
	}
}

// An unreachable pesd gets a diagnostic that says what to do.
func TestAccProvider_pesdNotRunning(t *testing.T) {
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{{
			Config: `
provider "pes" {
  endpoint = "http://127.0.0.1:9"
}

data "pes_node_group" "x" {
  id = "01a1fef4-0000-0000-0000-000000000000"
}
`,
			ExpectError: regexp.MustCompile(`(?s)Is pesd running at.*http://127\.0\.0\.1:9\?.*pesd serve`),
		}},
	})
}
