package provider

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"
)

func TestAccTrigger_lifecycle(t *testing.T) {
	const name = "pes_trigger.test"
	group := simGroup("acc-trigger", 1, "")
	updated := group + `
resource "pes_trigger" "test" {
  group_id  = pes_node_group.test.id
  name      = "cpu-low"
  condition = "avg(cpu_utilization, '5m') < 10\n  and last(nodes_ready) > 1"
  for       = "10m"
  set_to    = 1
  priority  = 70
  enabled   = false
}
`
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				Config: group + `
resource "pes_trigger" "test" {
  group_id  = pes_node_group.test.id
  name      = "cpu-high"
  condition = "avg(cpu_utilization, '2m') > 80"
  for       = "1m"
  change_by = 4
}
`,
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(name, tfjsonpath.New("id"), knownvalue.NotNull()),
					statecheck.ExpectKnownValue(name, tfjsonpath.New("condition"), knownvalue.StringExact("avg(cpu_utilization, '2m') > 80")),
					statecheck.ExpectKnownValue(name, tfjsonpath.New("change_by"), knownvalue.Int64Exact(4)),
					statecheck.ExpectKnownValue(name, tfjsonpath.New("set_to"), knownvalue.Null()),
					statecheck.ExpectKnownValue(name, tfjsonpath.New("priority"), knownvalue.Int64Exact(50)),
					statecheck.ExpectKnownValue(name, tfjsonpath.New("immediate"), knownvalue.Bool(false)),
					statecheck.ExpectKnownValue(name, tfjsonpath.New("enabled"), knownvalue.Bool(true)),
					statecheck.ExpectKnownValue(name, tfjsonpath.New("schedule"), knownvalue.Null()),
				},
			},
			{
				ResourceName:      name,
				ImportState:       true,
				ImportStateVerify: true,
			},
			{
				// terraform import pes_trigger.test acc-trigger/cpu-high
				ResourceName:      name,
				ImportState:       true,
				ImportStateId:     "acc-trigger/cpu-high",
				ImportStateVerify: true,
			},
			{
				Config: updated,
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectResourceAction(name, plancheck.ResourceActionUpdate)},
				},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(name, tfjsonpath.New("name"), knownvalue.StringExact("cpu-low")),
					statecheck.ExpectKnownValue(name, tfjsonpath.New("change_by"), knownvalue.Null()),
					statecheck.ExpectKnownValue(name, tfjsonpath.New("set_to"), knownvalue.Int64Exact(1)),
					statecheck.ExpectKnownValue(name, tfjsonpath.New("for"), knownvalue.StringExact("10m")),
					statecheck.ExpectKnownValue(name, tfjsonpath.New("priority"), knownvalue.Int64Exact(70)),
					statecheck.ExpectKnownValue(name, tfjsonpath.New("enabled"), knownvalue.Bool(false)),
				},
			},
			{
				Config: updated,
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
				},
			},
			{
				// A scheduled trigger needs no condition; removing for works.
				Config: group + `
resource "pes_trigger" "test" {
  group_id          = pes_node_group.test.id
  name              = "morning"
  schedule          = "0 8 * * 1-5"
  change_by_percent = 50
  immediate         = true
}
`,
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(name, tfjsonpath.New("condition"), knownvalue.StringExact("true")),
					statecheck.ExpectKnownValue(name, tfjsonpath.New("schedule"), knownvalue.StringExact("0 8 * * 1-5")),
					statecheck.ExpectKnownValue(name, tfjsonpath.New("for"), knownvalue.Null()),
					statecheck.ExpectKnownValue(name, tfjsonpath.New("change_by_percent"), knownvalue.Float64Exact(50)),
					statecheck.ExpectKnownValue(name, tfjsonpath.New("set_to"), knownvalue.Null()),
					statecheck.ExpectKnownValue(name, tfjsonpath.New("immediate"), knownvalue.Bool(true)),
				},
			},
		},
	})
}

// TestAccTrigger_target: a target-tracking trigger with its defaults
// resolved, switched to another target, and an empty plan after.
func TestAccTrigger_target(t *testing.T) {
	const name = "pes_trigger.test"
	group := simGroup("acc-target", 1, "")
	second := group + `
resource "pes_trigger" "test" {
  group_id = pes_node_group.test.id
  name     = "cpu-target"
  target = {
    metric                 = "cpu_utilization"
    value                  = 70
    tolerance              = 0
    window                 = "90s"
    scale_in_stabilization = "0s"
  }
}
`
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				Config: group + `
resource "pes_trigger" "test" {
  group_id = pes_node_group.test.id
  name     = "cpu-target"
  target = {
    metric = "cpu_utilization"
    value  = 60
  }
}
`,
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(name, tfjsonpath.New("target").AtMapKey("value"), knownvalue.Float64Exact(60)),
					statecheck.ExpectKnownValue(name, tfjsonpath.New("target").AtMapKey("tolerance"), knownvalue.Float64Exact(0.1)),
					statecheck.ExpectKnownValue(name, tfjsonpath.New("target").AtMapKey("window"), knownvalue.StringExact("1m")),
					statecheck.ExpectKnownValue(name, tfjsonpath.New("target").AtMapKey("scale_in_stabilization"), knownvalue.StringExact("5m")),
					statecheck.ExpectKnownValue(name, tfjsonpath.New("change_by"), knownvalue.Null()),
					statecheck.ExpectKnownValue(name, tfjsonpath.New("condition"), knownvalue.StringExact("true")),
				},
			},
			{
				ResourceName:      name,
				ImportState:       true,
				ImportStateVerify: true,
			},
			{
				Config: second,
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectResourceAction(name, plancheck.ResourceActionUpdate)},
				},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(name, tfjsonpath.New("target").AtMapKey("tolerance"), knownvalue.Float64Exact(0)),
					statecheck.ExpectKnownValue(name, tfjsonpath.New("target").AtMapKey("window"), knownvalue.StringExact("90s")),
				},
			},
			{
				Config: second,
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
				},
			},
		},
	})
}

// A notify trigger keeps its write-only secret in the state (pesd never
// returns it) and plans empty after apply; pesd refuses a host outside
// its allowed list with a 400 naming notify.url.
func TestAccTrigger_notify(t *testing.T) {
	const name = "pes_trigger.test"
	group := simGroup("acc-notify", 1, "")
	notify := func(url string) string {
		return group + fmt.Sprintf(`
resource "pes_trigger" "test" {
  group_id  = pes_node_group.test.id
  name      = "ask"
  condition = "last(queue_depth) > 10"
  notify = {
    url    = %q
    secret = "s3cret"
  }
}
`, url)
	}
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				Config: notify("http://127.0.0.1:9/hook"),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(name, tfjsonpath.New("notify").AtMapKey("url"), knownvalue.StringExact("http://127.0.0.1:9/hook")),
					statecheck.ExpectKnownValue(name, tfjsonpath.New("notify").AtMapKey("secret"), knownvalue.StringExact("s3cret")),
					statecheck.ExpectKnownValue(name, tfjsonpath.New("change_by"), knownvalue.Null()),
				},
			},
			{
				Config: notify("http://127.0.0.1:9/hook"),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
				},
			},
			{
				Config:      notify("http://192.0.2.7:9000/hook"),
				ExpectError: regexp.MustCompile(`(?s)notify.url.*neither loopback nor allowed`),
			},
		},
	})
}

func TestAccTrigger_planTimeErrors(t *testing.T) {
	trig := func(body string) string {
		return fmt.Sprintf(`resource "pes_trigger" "test" {
  group_id = "00000000-0000-0000-0000-000000000000"
  name     = "bad"
%s
}
`, body)
	}
	cases := []struct {
		name   string
		config string
		want   string
	}{
		{"condition syntax", trig(`  condition = "avg(cpu_utilization, '2m') >"
  change_by = 1`), `(?s)Invalid trigger condition.*condition.*line 1, column \d+`},
		{"unknown function", trig(`  condition = "avgg(cpu_utilization, '2m') > 80"
  change_by = 1`), `(?s)Invalid trigger condition.*line 1, column 1:.*Hint:.*avg`},
		{"condition on second line", trig(`  condition = "last(queue_depth) > 10\n  and avg(cpu_utilization, 'soon') > 1"
  change_by = 1`), `(?s)Invalid trigger condition.*line 2, column \d+`},
		{"no condition nor schedule", trig(`  change_by = 1`), `(?s)condition.*is required`},
		{"two request forms", trig(`  condition = "last(queue_depth) > 10"
  change_by = 1
  set_to    = 3`), `(?s)Invalid Attribute Combination.*change_by`},
		{"no request form", trig(`  condition = "last(queue_depth) > 10"`), `(?s)Invalid Attribute Combination`},
		{"change_by zero", trig(`  condition = "last(queue_depth) > 10"
  change_by = 0`), `(?s)change_by.*must not be`},
		{"bad for", trig(`  condition = "last(queue_depth) > 10"
  for       = "forever"
  change_by = 1`), `(?s)Invalid duration.*for`},
		{"target value 0", trig(`  target = { metric = "cpu", value = 0 }`), `(?s)target.value`},
		{"target tolerance", trig(`  target = { metric = "cpu", value = 60, tolerance = 1.5 }`), `(?s)tolerance`},
		{"target and change_by", trig(`  target = { metric = "cpu", value = 60 }
  change_by = 1`), `(?s)Invalid Attribute Combination`},
		{"target with for", trig(`  target = { metric = "cpu", value = 60 }
  for    = "1m"`), `(?s)for.*must be empty for a target-tracking trigger`},
		{"target window", trig(`  target = { metric = "cpu", value = 60, window = "0s" }`), `(?s)target.window.*between 1s`},
		{"notify url", trig(`  condition = "last(queue_depth) > 10"
  notify = { url = "ftp://127.0.0.1/hook", secret = "k" }`), `(?s)notify.url.*http or https`},
		{"notify and change_by", trig(`  condition = "last(queue_depth) > 10"
  change_by = 1
  notify = { url = "http://127.0.0.1/hook", secret = "k" }`), `(?s)Invalid Attribute Combination`},
		{"bad schedule", trig(`  schedule  = "every morning"
  change_by = 1`), `(?s)Invalid schedule.*not a cron expression`},
		{"bad name", trig(`  condition = "last(queue_depth) > 10"
  change_by = 1`) + `resource "pes_trigger" "other" {
  group_id  = "00000000-0000-0000-0000-000000000000"
  name      = "has spaces"
  condition = "last(queue_depth) > 10"
  change_by = 1
}`, `(?s)name.*must use only letters`},
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

// Every invalid attribute of a trigger is reported by one validate.
func TestAccTrigger_allPlanTimeErrorsAtOnce(t *testing.T) {
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{{
			Config: `
resource "pes_trigger" "test" {
  group_id  = "web"
  name      = "cpu high!"
  condition = "avg(cpu_utilization, '2m') >"
  change_by = 0
  priority  = -1
}
`,
			PlanOnly: true,
			ExpectError: regexp.MustCompile(`(?s)` + strings.Join([]string{
				`Error: Invalid trigger configuration.*name: must use only letters, digits`,
				`Error: Invalid trigger condition.*line 1, column \d+`,
				`Error: Invalid trigger configuration.*change_by: must not be 0`,
				`Error: Invalid trigger configuration.*priority: must not be negative`,
			}, ".*")),
		}},
	})
}

// group_id may name the group: the trigger lands in it, and the name is
// kept, so the next plan is empty.
func TestAccTrigger_groupByName(t *testing.T) {
	const name = "pes_trigger.test"
	config := simGroup("acc-trigger-by-name", 1, "") + `
resource "pes_trigger" "test" {
  group_id  = pes_node_group.test.name
  name      = "queue-high"
  condition = "last(queue_depth) > 10"
  change_by = 1
}
`
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				Config: config,
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(name, tfjsonpath.New("group_id"), knownvalue.StringExact("acc-trigger-by-name")),
				},
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PostApplyPostRefresh: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
				},
				Check: func(s *terraform.State) error {
					gid, err := stateID(s, "pes_node_group.test")
					if err != nil {
						return err
					}
					ts, err := testClient(t).ListTriggers(context.Background(), gid)
					if err != nil {
						return err
					}
					if len(ts) != 1 || ts[0].Name != "queue-high" {
						return fmt.Errorf("triggers of the group: %+v, want queue-high", ts)
					}
					return nil
				},
			},
		},
	})
}
