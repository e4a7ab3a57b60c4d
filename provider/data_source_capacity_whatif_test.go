package provider

import (
	"context"
	"regexp"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/pes-project/terraform-provider-pes/reconciler/api"
)

// TestAccCapacityWhatIf: a proposed immediate trigger, backtested over the
// samples just pushed, would have set the group to 4 with the trigger as
// its cause; the group itself is left as it was.
func TestAccCapacityWhatIf(t *testing.T) {
	var groupID string
	base := simGroup("acc-whatif", 2, "")
	withData := base + `
data "pes_capacity_whatif" "spike" {
  group_id      = pes_node_group.test.id
  since         = "10m"
  triggers_json = jsonencode([{ name = "spike", condition = "last(load) > 5", set_to = 4, immediate = true }])
}

output "replayed_changes" {
  value = data.pes_capacity_whatif.spike.replayed.changes
}
`
	const ds = "data.pes_capacity_whatif.spike"
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{Config: base, Check: captureID("pes_node_group.test", &groupID)},
			{
				PreConfig: func() {
					c := testClient(t)
					at := time.Now().Add(-30 * time.Second).UTC()
					if _, err := c.PushMetrics(context.Background(), groupID, []api.Sample{{Name: "load", Value: 10, Time: &at}}); err != nil {
						t.Fatalf("push: %v", err)
					}
				},
				Config: withData,
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(ds, tfjsonpath.New("samples"), knownvalue.Int64Exact(1)),
					statecheck.ExpectKnownValue(ds, tfjsonpath.New("changes"), knownvalue.ListPartial(map[int]knownvalue.Check{
						0: knownvalue.ObjectPartial(map[string]knownvalue.Check{
							"type":            knownvalue.StringExact(api.ChangeAddNodes),
							"quantity_before": knownvalue.Int64Exact(2),
							"quantity_after":  knownvalue.Int64Exact(4),
							"causes": knownvalue.ListExact([]knownvalue.Check{knownvalue.ObjectPartial(map[string]knownvalue.Check{
								"type":        knownvalue.StringExact(api.EventTriggerFired),
								"source_name": knownvalue.StringExact("spike"),
							})}),
							"explanation": knownvalue.StringRegexp(regexp.MustCompile(`spike`)),
						}),
					})),
					statecheck.ExpectKnownValue(ds, tfjsonpath.New("replayed").AtMapKey("peak_quantity"), knownvalue.Int64Exact(4)),
					statecheck.ExpectKnownValue(ds, tfjsonpath.New("recorded").AtMapKey("peak_quantity"), knownvalue.Int64Exact(2)),
					statecheck.ExpectKnownValue("pes_node_group.test", tfjsonpath.New("desired_quantity"), knownvalue.Int64Exact(2)),
					statecheck.ExpectKnownValue(ds, tfjsonpath.New("queried"), knownvalue.Int64Exact(0)),
					statecheck.ExpectKnownValue(ds, tfjsonpath.New("replayed").AtMapKey("forecast_clamps"), knownvalue.Int64Exact(0)),
					statecheck.ExpectKnownValue(ds, tfjsonpath.New("replayed").AtMapKey("notifications"), knownvalue.Int64Exact(0)),
					statecheck.ExpectKnownValue(ds, tfjsonpath.New("replayed").AtMapKey("cost"), knownvalue.Null()),
					statecheck.ExpectKnownValue(ds, tfjsonpath.New("recorded").AtMapKey("currency"), knownvalue.Null()),
				},
			},
		},
	})
}

// TestAccCapacityWhatIf_cost: a billed group's backtest prices both
// summaries in its currency (the figures are the controller's tests').
func TestAccCapacityWhatIf_cost(t *testing.T) {
	config := simGroup("acc-whatif-cost", 2, `  billing = { price_per_node_hour = "3600", currency = "EUR" }`) + `
data "pes_capacity_whatif" "own" {
  group_id = pes_node_group.test.id
  since    = "10m"
}
`
	const ds = "data.pes_capacity_whatif.own"
	money := knownvalue.StringRegexp(regexp.MustCompile(`^[0-9]+\.[0-9]{6}$`))
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{{
			Config: config,
			ConfigStateChecks: []statecheck.StateCheck{
				statecheck.ExpectKnownValue(ds, tfjsonpath.New("replayed").AtMapKey("cost"), money),
				statecheck.ExpectKnownValue(ds, tfjsonpath.New("replayed").AtMapKey("currency"), knownvalue.StringExact("EUR")),
				statecheck.ExpectKnownValue(ds, tfjsonpath.New("recorded").AtMapKey("cost"), money),
				statecheck.ExpectKnownValue(ds, tfjsonpath.New("recorded").AtMapKey("currency"), knownvalue.StringExact("EUR")),
			},
		}},
	})
}

func TestAccCapacityWhatIf_planTimeErrors(t *testing.T) {
	for _, tc := range []struct{ name, config, want string }{
		{"bad since", `data "pes_capacity_whatif" "x" {
  group_id = "g"
  since    = "yesterday"
}`, `(?s)Invalid since.*duration ago`},
		{"bad triggers", `data "pes_capacity_whatif" "x" {
  group_id      = "g"
  since         = "1h"
  triggers_json = "{"
}`, `(?s)Invalid triggers_json`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resource.ParallelTest(t, resource.TestCase{
				ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
				Steps:                    []resource.TestStep{{Config: tc.config, PlanOnly: true, ExpectError: regexp.MustCompile(tc.want)}},
			})
		})
	}
}
