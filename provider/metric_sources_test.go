package provider

import (
	"context"
	"fmt"
	"regexp"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"
)

// TestAccNodeGroup_metricSources: a group with a Prometheus metric source
// and a target-tracking trigger over it apply, plan empty a second time,
// import, and removing the sources clears them in pesd.
func TestAccNodeGroup_metricSources(t *testing.T) {
	const group = "pes_node_group.test"
	sources := `  metric_sources = [
    { name = "rps", prometheus = { address = "http://127.0.0.1:9", query = "sum(rate(http_requests_total{job=\"web\"}[1m]))" } },
    { name = "queue", prometheus = { query = "max(queue_depth)" } },
  ]`
	withTarget := simGroup("acc-sources", 1, sources) + `
resource "pes_trigger" "test" {
  group_id = pes_node_group.test.id
  name     = "rps-target"
  target   = { metric = "rps", value = 100 }
}
`
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				Config: withTarget,
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(group, tfjsonpath.New("metric_sources").AtSliceIndex(0).AtMapKey("prometheus").AtMapKey("query"),
						knownvalue.StringExact(`sum(rate(http_requests_total{job="web"}[1m]))`)),
					statecheck.ExpectKnownValue(group, tfjsonpath.New("metric_sources").AtSliceIndex(1).AtMapKey("prometheus").AtMapKey("address"),
						knownvalue.Null()),
					statecheck.ExpectKnownValue("pes_trigger.test", tfjsonpath.New("target").AtMapKey("metric"), knownvalue.StringExact("rps")),
				},
				Check: checkSourcesInPesd(t, group, 2),
			},
			{
				Config: withTarget,
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
				},
			},
			{
				ResourceName:            group,
				ImportState:             true,
				ImportStateVerify:       true,
				ImportStateVerifyIgnore: []string{"wait_for_capacity", "timeouts"},
			},
			{
				Config: simGroup("acc-sources", 1, ""),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(group, tfjsonpath.New("metric_sources"), knownvalue.Null()),
				},
				Check: checkSourcesInPesd(t, group, 0),
			},
		},
	})
}

func checkSourcesInPesd(t *testing.T, name string, want int) resource.TestCheckFunc {
	return func(s *terraform.State) error {
		id, err := stateID(s, name)
		if err != nil {
			return err
		}
		g, err := testClient(t).GetGroup(context.Background(), id)
		if err != nil {
			return err
		}
		if len(g.MetricSources) != want {
			return fmt.Errorf("pesd has %d metric sources, want %d", len(g.MetricSources), want)
		}
		return nil
	}
}

func TestAccNodeGroup_metricSourcesPlanTimeErrors(t *testing.T) {
	for _, tc := range []struct {
		name, sources, want string
	}{
		{"bad name", `[{ name = "req rate", prometheus = { query = "up" } }]`, `metric_sources\[0\]\.name`},
		{"twice", `[{ name = "a", prometheus = { query = "up" } }, { name = "a", prometheus = { query = "up" } }]`, `named twice`},
		{"empty query", `[{ name = "a", prometheus = { query = " " } }]`, `prometheus\.query.*is required`},
		{"bad address", `[{ name = "a", prometheus = { address = "prometheus:9090", query = "up" } }]`, `prometheus\.address.*http\(s\) URL`},
		{"bad PromQL", `[{ name = "a", prometheus = { query = "sum(rate(x[1m])" } }]`, `metric_sources\[0\]\.prometheus\.query.*is not\s+valid\s+PromQL:\s+line\s+1,\s+column\s+16:\s+unclosed\s+left\s+parenthesis`},
		{"range vector", `[{ name = "a", prometheus = { query = "x[5m]" } }]`, `prometheus\.query.*range\s+vector`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resource.ParallelTest(t, resource.TestCase{
				ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
				Steps: []resource.TestStep{{
					Config:      simGroup("acc-bad-sources", 1, "  metric_sources = "+tc.sources),
					PlanOnly:    true,
					ExpectError: regexp.MustCompile("(?s)" + tc.want),
				}},
			})
		})
	}
}
