package provider

import (
	"context"
	"regexp"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/pes-project/terraform-provider-pes/reconciler/api"
	"github.com/pes-project/terraform-provider-pes/reconciler/client"
)

// TestAccCapacityCosts_byCauseAndActor reads a billed group's costs by
// cause and by actor: the group's creation by terraform (through the admin
// token) is behind all of
// its node time, and a second plan is empty although the figures grow
// with every read (an output of them would change with each plan, as any
// output of a clock-bound read does; a fixed until keeps it still).
func TestAccCapacityCosts_byCauseAndActor(t *testing.T) {
	const (
		group   = "pes_node_group.test"
		byCause = "data.pes_capacity_costs.by_cause"
		byActor = "data.pes_capacity_costs.by_actor"
	)
	billing := `  billing = { price_per_node_hour = "3600", increment = "1s" }`
	base := simGroup("acc-costs", 2, billing)
	withData := base + `
data "pes_capacity_costs" "by_cause" {
  group_id = pes_node_group.test.id
}

data "pes_capacity_costs" "by_actor" {
  group_id = pes_node_group.test.id
  by       = "actor"
}
`
	money := regexp.MustCompile(`^[1-9][0-9]*\.[0-9]{6}$`) // $1 a node-second: some whole seconds have passed
	row := tfjsonpath.New("rows").AtSliceIndex(0)
	var groupID string
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				Config: base,
				Check:  captureID(group, &groupID),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(group, tfjsonpath.New("billing"), knownvalue.ObjectExact(map[string]knownvalue.Check{
						"price_per_node_hour": knownvalue.StringExact("3600"),
						"currency":            knownvalue.StringExact("USD"),
						"increment":           knownvalue.StringExact("1s"),
						"minimum":             knownvalue.StringExact("0s"),
					})),
				},
			},
			{
				PreConfig: func() {
					// A whole node-second has passed: the cost is not 0.
					waitFor(t, "a node-second billed", 20*time.Second, func() (bool, error) {
						c, err := testClient(t).Costs(context.Background(), groupID, client.CostsFilter{})
						return c.TotalNodeSeconds > 0, err
					})
				},
				Config: withData,
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(byCause, tfjsonpath.New("currency"), knownvalue.StringExact("USD")),
					statecheck.ExpectKnownValue(byCause, tfjsonpath.New("total_cost"), knownvalue.StringRegexp(money)),
					statecheck.ExpectKnownValue(byCause, tfjsonpath.New("rows"), knownvalue.ListSizeExact(1)),
					statecheck.ExpectKnownValue(byCause, row, knownvalue.ObjectPartial(map[string]knownvalue.Check{
						"label":       knownvalue.StringExact("E1"),
						"type":        knownvalue.StringExact(api.EventGroupCreated),
						"name":        knownvalue.StringExact("admin"),
						"cost":        knownvalue.StringRegexp(money),
						"change_ids":  knownvalue.ListSizeExact(1),
						"description": knownvalue.StringRegexp(regexp.MustCompile(`^E1: user admin \(on behalf of terraform\) created the group with 2 nodes: [0-9.]+ node-hours \(\$[0-9.]+\) over 1 change$`)),
					})),
					statecheck.ExpectKnownValue(byActor, row, knownvalue.ObjectPartial(map[string]knownvalue.Check{
						"key":   knownvalue.StringExact("user:admin/terraform"),
						"label": knownvalue.StringExact("user admin (on behalf of terraform)"),
						"type":  knownvalue.StringExact(api.SourceUser),
					})),
				},
			},
			{
				Config: withData,
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{
						plancheck.ExpectResourceAction(group, plancheck.ResourceActionNoop),
						plancheck.ExpectEmptyPlan(),
					},
				},
			},
		},
	})
}
