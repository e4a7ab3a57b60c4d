package provider

import (
	"fmt"
	"regexp"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/pes-project/terraform-provider-pes/reconciler/api"
)

// TestAccExecution_lifecycle: a quick execution is created and waited
// for; a long one is created, suspended (then an empty plan), resumed and
// waited for to completion; destroy cancels what still runs.
func TestAccExecution_lifecycle(t *testing.T) {
	const long, quick = "pes_execution.long", "pes_execution.quick"
	config := func(suspended, wait bool) string {
		return simGroup("acc-exec", 2, "") + fmt.Sprintf(`
resource "pes_execution" "quick" {
  group_id          = pes_node_group.test.id
  name              = "quick"
  input             = { items = [for i in range(4) : jsonencode(i)] }
  sim_item_duration = "100ms"
}

resource "pes_execution" "long" {
  group_id            = pes_node_group.test.id
  name                = "long"
  program_type        = "sum"
  input               = { items = [for i in range(20) : jsonencode({ n = i })], items_per_job = 1 }
  sim_item_duration   = "1s"
  max_parallel        = 1 # 20s: time to suspend it mid-run
  suspended           = %t
  wait_for_completion = %t
  depends_on          = [pes_execution.quick]
}

data "pes_executions" "all" {
  group_id   = pes_node_group.test.id
  depends_on = [pes_execution.long]
}
`, suspended, wait)
	}
	var id string
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				Config: config(false, false),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(quick, tfjsonpath.New("status"), knownvalue.StringExact(api.ExecutionCompleted)),
					statecheck.ExpectKnownValue(quick, tfjsonpath.New("jobs_succeeded"), knownvalue.Int64Exact(4)),
					statecheck.ExpectKnownValue(quick, tfjsonpath.New("output"), knownvalue.NotNull()),
					statecheck.ExpectKnownValue(long, tfjsonpath.New("label"), knownvalue.StringRegexp(regexp.MustCompile(`^X[0-9]+$`))),
					statecheck.ExpectKnownValue(long, tfjsonpath.New("job_count"), knownvalue.Int64Exact(20)),
					statecheck.ExpectKnownValue(long, tfjsonpath.New("status"), knownvalue.StringExact(api.ExecutionRunning)),
				},
				Check: captureID(long, &id),
			},
			{
				Config: config(true, false),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectResourceAction(long, plancheck.ResourceActionUpdate)},
				},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(long, tfjsonpath.New("status"), knownvalue.StringExact(api.ExecutionSuspended)),
					statecheck.ExpectKnownValue(long, tfjsonpath.New("suspended"), knownvalue.Bool(true)),
				},
			},
			{
				Config: config(true, false),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
				},
			},
			{
				Config: config(false, true),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(long, tfjsonpath.New("status"), knownvalue.StringExact(api.ExecutionCompleted)),
					statecheck.ExpectKnownValue(long, tfjsonpath.New("jobs_succeeded"), knownvalue.Int64Exact(20)),
					statecheck.ExpectKnownValue(long, tfjsonpath.New("suspended"), knownvalue.Bool(false)),
				},
				Check: func(s *terraform.State) error {
					if got, _ := stateID(s, long); got != id {
						return fmt.Errorf("the execution was replaced (%s → %s); suspend and resume must update it", id, got)
					}
					return nil
				},
			},
			{
				// The data source, read after the resume.
				Config: config(false, true),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue("data.pes_executions.all", tfjsonpath.New("executions"), knownvalue.ListSizeExact(2)),
					statecheck.ExpectKnownValue("data.pes_executions.all", tfjsonpath.New("executions").AtSliceIndex(1).AtMapKey("status"),
						knownvalue.StringExact(api.ExecutionCompleted)),
					statecheck.ExpectKnownValue("data.pes_executions.all", tfjsonpath.New("executions").AtSliceIndex(1).AtMapKey("jobs"),
						knownvalue.ListSizeExact(20)),
				},
			},
		},
	})
}
