package provider

import (
	"context"
	"fmt"
	"reflect"
	"regexp"
	"runtime"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/compare"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/pes-project/terraform-provider-pes/reconciler/api"
	"github.com/pes-project/terraform-provider-pes/reconciler/client"
)

// simGroup is a sim group whose nodes boot fast and whose period is long,
// so only the test harmonizes it.
func simGroup(name string, desired int, extra string) string {
	return fmt.Sprintf(`
resource "pes_node_group" "test" {
  name               = %q
  driver             = "sim"
  desired_quantity   = %d
  max_quantity       = 10
  aggregation_period = "1h"
  sim                = { boot_time = "100ms" }
%s
}
`, name, desired, extra)
}

func TestAccNodeGroup_lifecycle(t *testing.T) {
	const name = "pes_node_group.test"
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				Config: simGroup("acc-lifecycle", 2, `  labels = { team = "blue" }`),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(name, tfjsonpath.New("id"), knownvalue.StringRegexp(regexp.MustCompile(`^[0-9a-f-]{36}$`))),
					statecheck.ExpectKnownValue(name, tfjsonpath.New("desired_quantity"), knownvalue.Int64Exact(2)),
					statecheck.ExpectKnownValue(name, tfjsonpath.New("tenant"), knownvalue.StringExact(api.DefaultTenant)),
					statecheck.ExpectKnownValue(name, tfjsonpath.New("current_desired_quantity"), knownvalue.Int64Exact(2)),
					statecheck.ExpectKnownValue(name, tfjsonpath.New("actual_quantity"), knownvalue.Int64Exact(2)),
					statecheck.ExpectKnownValue(name, tfjsonpath.New("official_quantity"), knownvalue.Int64Exact(2)),
					statecheck.ExpectKnownValue(name, tfjsonpath.New("status"), knownvalue.StringExact(api.GroupActive)),
					statecheck.ExpectKnownValue(name, tfjsonpath.New("aggregation_policy"), knownvalue.StringExact(api.DefaultAggregationPolicy)),
					statecheck.ExpectKnownValue(name, tfjsonpath.New("init_deadline"), knownvalue.StringExact(api.DefaultInitDeadline)),
					statecheck.ExpectKnownValue(name, tfjsonpath.New("lockdown_after_removal"), knownvalue.Bool(api.DefaultLockdownAfterRemoval)),
					statecheck.ExpectKnownValue(name, tfjsonpath.New("harmonize_after_requests"), knownvalue.Int64Exact(0)),
					statecheck.ExpectKnownValue(name, tfjsonpath.New("instructions_silence_triggers"), knownvalue.Bool(false)),
					statecheck.ExpectKnownValue(name, tfjsonpath.New("decreases_outrank_increases"), knownvalue.Bool(false)),
					statecheck.ExpectKnownValue(name, tfjsonpath.New("health_check"), knownvalue.ObjectExact(map[string]knownvalue.Check{
						"type":              knownvalue.StringExact(api.HealthProcess),
						"path":              knownvalue.Null(),
						"port":              knownvalue.Null(),
						"command":           knownvalue.Null(),
						"interval":          knownvalue.StringExact(api.DefaultHealthInterval),
						"failure_threshold": knownvalue.Int64Exact(api.DefaultHealthFailureThreshold),
					})),
					statecheck.ExpectKnownValue(name, tfjsonpath.New("sim").AtMapKey("boot_time"), knownvalue.StringExact("100ms")),
					statecheck.ExpectKnownValue(name, tfjsonpath.New("labels"), knownvalue.MapExact(map[string]knownvalue.Check{
						"team": knownvalue.StringExact("blue"),
					})),
				},
			},
			{
				ResourceName:      name,
				ImportState:       true,
				ImportStateVerify: true,
			},
			{
				// terraform import pes_node_group.test acc-lifecycle
				ResourceName:      name,
				ImportState:       true,
				ImportStateId:     "acc-lifecycle",
				ImportStateVerify: true,
			},
			{
				ResourceName:  name,
				ImportState:   true,
				ImportStateId: "acc-no-such-group",
				ExpectError:   regexp.MustCompile(`(?s)Cannot import node group acc-no-such-group.*group acc-no-such-group not found`),
			},
			{
				Config: simGroup("acc-lifecycle", 3, `
  min_quantity       = 1
  aggregation_policy = "sum"
  cooldown           = "30s"
  labels             = { team = "green", tier = "web" }
  health_check       = { type = "tcp", interval = "1s" }
  lockdown_after_removal        = false
  harmonize_after_requests      = 5
  instructions_silence_triggers = true
  decreases_outrank_increases   = true`),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{
						plancheck.ExpectResourceAction(name, plancheck.ResourceActionUpdate),
					},
					PostApplyPostRefresh: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
				},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(name, tfjsonpath.New("desired_quantity"), knownvalue.Int64Exact(3)),
					statecheck.ExpectKnownValue(name, tfjsonpath.New("actual_quantity"), knownvalue.Int64Exact(3)),
					statecheck.ExpectKnownValue(name, tfjsonpath.New("min_quantity"), knownvalue.Int64Exact(1)),
					statecheck.ExpectKnownValue(name, tfjsonpath.New("aggregation_policy"), knownvalue.StringExact("sum")),
					statecheck.ExpectKnownValue(name, tfjsonpath.New("health_check").AtMapKey("type"), knownvalue.StringExact("tcp")),
					statecheck.ExpectKnownValue(name, tfjsonpath.New("health_check").AtMapKey("interval"), knownvalue.StringExact("1s")),
					statecheck.ExpectKnownValue(name, tfjsonpath.New("labels").AtMapKey("tier"), knownvalue.StringExact("web")),
					statecheck.ExpectKnownValue(name, tfjsonpath.New("lockdown_after_removal"), knownvalue.Bool(false)),
					statecheck.ExpectKnownValue(name, tfjsonpath.New("harmonize_after_requests"), knownvalue.Int64Exact(5)),
					statecheck.ExpectKnownValue(name, tfjsonpath.New("instructions_silence_triggers"), knownvalue.Bool(true)),
					statecheck.ExpectKnownValue(name, tfjsonpath.New("decreases_outrank_increases"), knownvalue.Bool(true)),
				},
				// The new desired quantity is a user instruction from
				// Terraform, applied at once, in the causality record.
				Check: checkLatestInstruction(t, name, "terraform", 3),
			},
			{
				// Nothing changed in configuration: nothing to do.
				Config: simGroup("acc-lifecycle", 3, `
  min_quantity       = 1
  aggregation_policy = "sum"
  cooldown           = "30s"
  labels             = { team = "green", tier = "web" }
  health_check       = { type = "tcp", interval = "1s" }
  lockdown_after_removal        = false
  harmonize_after_requests      = 5
  instructions_silence_triggers = true
  decreases_outrank_increases   = true`),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
				},
			},
		},
	})
}

// Labels can be removed, some or all: without the attribute, or with an
// empty map, the update clears them in pesd and the next plan is empty.
// TestAccNodeGroup_tenant: an admin token names the tenant of a group;
// another name is another group (a replacement), and import reads the
// tenant back.
func TestAccNodeGroup_tenant(t *testing.T) {
	const name = "pes_node_group.test"
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				Config: simGroup("acc-tenant", 1, `  tenant = "acc-payments"`),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(name, tfjsonpath.New("tenant"), knownvalue.StringExact("acc-payments")),
				},
			},
			{ResourceName: name, ImportState: true, ImportStateVerify: true},
			{
				Config: simGroup("acc-tenant", 1, `  tenant = "acc-search"`),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(name, plancheck.ResourceActionDestroyBeforeCreate),
				}},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(name, tfjsonpath.New("tenant"), knownvalue.StringExact("acc-search")),
				},
			},
		},
	})
}

func TestAccNodeGroup_clearLabels(t *testing.T) {
	const name = "pes_node_group.test"
	step := func(labels string, want map[string]string, inState knownvalue.Check) resource.TestStep {
		return resource.TestStep{
			Config: simGroup("acc-clear-labels", 1, labels),
			ConfigPlanChecks: resource.ConfigPlanChecks{
				PostApplyPostRefresh: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
			},
			ConfigStateChecks: []statecheck.StateCheck{statecheck.ExpectKnownValue(name, tfjsonpath.New("labels"), inState)},
			Check:             checkLabelsInPesd(t, name, want),
		}
	}
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			step(`  labels = { team = "blue", tier = "web" }`, map[string]string{"team": "blue", "tier": "web"},
				knownvalue.MapSizeExact(2)),
			step("", nil, knownvalue.Null()),
			step(`  labels = { tier = "web" }`, map[string]string{"tier": "web"},
				knownvalue.MapExact(map[string]knownvalue.Check{"tier": knownvalue.StringExact("web")})),
			step(`  labels = {}`, nil, knownvalue.MapSizeExact(0)),
		},
	})
}

// checkLabelsInPesd checks the labels pesd holds for the group, read
// behind Terraform's back.
func checkLabelsInPesd(t *testing.T, name string, want map[string]string) resource.TestCheckFunc {
	return func(s *terraform.State) error {
		id, err := stateID(s, name)
		if err != nil {
			return err
		}
		g, err := testClient(t).GetGroup(context.Background(), id)
		if err != nil {
			return err
		}
		if len(g.Labels) != len(want) || (len(want) > 0 && !reflect.DeepEqual(g.Labels, want)) {
			return fmt.Errorf("pesd has labels %v, want %v", g.Labels, want)
		}
		return nil
	}
}

// checkLatestInstruction checks that the group's latest user instruction
// came from the acceptance tests' token (pesd's bootstrap token, the
// principal admin) on behalf of actor, set the quantity to want, and
// acted at once.
func checkLatestInstruction(t *testing.T, name, actor string, want int) resource.TestCheckFunc {
	return func(s *terraform.State) error {
		id, err := stateID(s, name)
		if err != nil {
			return err
		}
		events, err := testClient(t).ListAllEvents(context.Background(), id, client.EventFilter{Type: api.EventUserInstruction})
		if err != nil {
			return err
		}
		if len(events) == 0 {
			return fmt.Errorf("no user instruction recorded for group %s", id)
		}
		sortEvents(events)
		e := events[len(events)-1]
		switch {
		case e.Source.Kind != api.SourceUser || e.Source.Principal != api.BootstrapPrincipal || e.Source.OnBehalfOf != actor:
			return fmt.Errorf("instruction %s came from %+v, want user %s on behalf of %q", e.Label, e.Source, api.BootstrapPrincipal, actor)
		case e.Request == nil || e.Request.SetTo == nil || *e.Request.SetTo != want:
			return fmt.Errorf("instruction %s asked for %+v, want set_to %d", e.Label, e.Request, want)
		case e.Status != api.EventApplied:
			return fmt.Errorf("instruction %s is %s, want applied (immediate)", e.Label, e.Status)
		}
		return nil
	}
}

// A trigger moves the live desired quantity; the declared one stays, and
// the plan stays empty: no drift fight.
func TestAccNodeGroup_triggerScaleLeavesPlanEmpty(t *testing.T) {
	const name = "pes_node_group.test"
	var groupID string
	config := simGroup("acc-trigger-scale", 2, "") + `
resource "pes_trigger" "queue" {
  group_id  = pes_node_group.test.id
  name      = "queue-high"
  condition = "last(queue_depth) > 10"
  change_by = 3
}
`
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				Config: config,
				Check:  captureID(name, &groupID),
			},
			{
				PreConfig: func() {
					c := testClient(t)
					ctx := context.Background()
					if _, err := c.PushMetrics(ctx, groupID, []api.Sample{{Name: "queue_depth", Value: 50}}); err != nil {
						t.Fatalf("push metrics: %v", err)
					}
					waitForEvent(t, c, groupID, api.EventTriggerFired)
					p, err := c.Harmonize(ctx, groupID)
					if err != nil {
						t.Fatalf("harmonize: %v", err)
					}
					if p.DesiredAfter != 5 {
						t.Fatalf("harmonization: desired %d → %d, want → 5:\n%s", p.DesiredBefore, p.DesiredAfter, p.Summary)
					}
				},
				Config: config,
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
				},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(name, tfjsonpath.New("desired_quantity"), knownvalue.Int64Exact(2)),
					statecheck.ExpectKnownValue(name, tfjsonpath.New("current_desired_quantity"), knownvalue.Int64Exact(5)),
					statecheck.ExpectKnownValue(name, tfjsonpath.New("official_quantity"), knownvalue.Int64Exact(5)),
				},
			},
		},
	})
}

// A group deleted behind Terraform's back is dropped from the state with a
// warning and planned for creation, without an error. Renaming replaces.
func TestAccNodeGroup_deletedOutsideTerraform(t *testing.T) {
	const name = "pes_node_group.test"
	var firstID string
	config := simGroup("acc-deleted", 1, "")
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				Config: config,
				Check:  captureID(name, &firstID),
			},
			{
				PreConfig: func() {
					if err := testClient(t).DeleteGroup(context.Background(), firstID); err != nil {
						t.Fatalf("delete group: %v", err)
					}
				},
				Config: config,
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectResourceAction(name, plancheck.ResourceActionCreate)},
				},
				Check: func(s *terraform.State) error {
					id, err := stateID(s, name)
					if err != nil {
						return err
					}
					if id == firstID {
						return fmt.Errorf("group was not recreated: still %s", id)
					}
					return nil
				},
			},
			{
				// A new name is a new group.
				Config: simGroup("acc-deleted-renamed", 1, ""),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectResourceAction(name, plancheck.ResourceActionDestroyBeforeCreate)},
				},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(name, tfjsonpath.New("name"), knownvalue.StringExact("acc-deleted-renamed")),
				},
			},
		},
	})
}

// When nodes never become ready, create fails at the timeout with the
// group's latest events in the error, and the group stays in the state.
func TestAccNodeGroup_capacityTimeoutShowsEvents(t *testing.T) {
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				Config: `
resource "pes_node_group" "test" {
  name             = "acc-timeout"
  driver           = "sim"
  desired_quantity = 1
  init_deadline    = "1h"
  sim              = { boot_time = "100ms", init_failures = 1 }
  timeouts {
    create = "2s"
  }
}
`,
				ExpectError: regexp.MustCompile(`(?s)did not reach its desired quantity.*0 of 1 nodes ready.*Latest events:.*E1 .*group_created`),
			},
		},
	})
}

func TestAccNodeGroup_planTimeErrors(t *testing.T) {
	group := func(body string) string {
		return fmt.Sprintf("resource \"pes_node_group\" \"test\" {\n  name = \"acc-invalid\"\n  driver = \"sim\"\n%s\n}\n", body)
	}
	cases := []struct {
		name   string
		config string
		want   string
	}{
		{"bad duration", group(`  desired_quantity = 1
  aggregation_period = "soon"`), `(?s)Invalid duration.*aggregation_period.*not a duration`},
		{"duration too short", group(`  desired_quantity = 1
  aggregation_period = "10ms"`), `(?s)aggregation_period.*must be at least 1s`},
		{"bad enum", group(`  desired_quantity = 1
  aggregation_policy = "biggest"`), `(?s)aggregation_policy.*value must be one of.*"biggest"`},
		{"negative harmonize_after_requests", group(`  desired_quantity = 1
  harmonize_after_requests = -1`), `(?s)harmonize_after_requests.*between 0 and 10000, got: -1`},
		{"bad driver", `resource "pes_node_group" "test" {
  name = "acc-invalid"
  driver = "docker"
  desired_quantity = 1
}`, `(?s)driver.*value must be one of`},
		{"min above max", group(`  desired_quantity = 2
  min_quantity = 5
  max_quantity = 3`), `(?s)min_quantity.*must be ≤ max_quantity \(5 > 3\)`},
		{"desired above max", group(`  desired_quantity = 30
  max_quantity = 20`), `(?s)desired_quantity.*must be between min_quantity 0 and max_quantity 20; got 30`},
		{"desired below min", group(`  desired_quantity = 1
  min_quantity = 2`), `(?s)desired_quantity.*must be between min_quantity 2`},
		{"bad name", group(`  desired_quantity = 1`) + `resource "pes_node_group" "other" {
  name = "Not_A_Label"
  driver = "sim"
  desired_quantity = 1
}`, `(?s)name.*lowercase DNS label`},
		{"path on tcp check", group(`  desired_quantity = 1
  health_check = { type = "tcp", path = "/" }`), `(?s)health_check\.path.*only applies to type http`},
		{"sim on local group", `resource "pes_node_group" "test" {
  name = "acc-invalid"
  driver = "local"
  program = { command = "sleep", args = ["60"] }
  desired_quantity = 1
  sim = { boot_time = "1s" }
}`, `(?s)sim.*only applies to driver sim`},
		{"local without program", `resource "pes_node_group" "test" {
  name = "acc-invalid"
  driver = "local"
  desired_quantity = 1
}`, `(?s)program\.command.*is required`},
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

// One test with the local driver: real processes with an http health check.
func TestAccNodeGroup_local(t *testing.T) {
	const name = "pes_node_group.test"
	config := `
resource "pes_node_group" "test" {
  name               = "acc-local"
  driver             = "local"
  program            = { command = "python3", args = ["-m", "http.server", "--bind", "127.0.0.1", "$${PES_PORT}"] }
  desired_quantity   = 1
  aggregation_period = "1h"
  health_check       = { type = "http", interval = "200ms" }
}
`
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				Config: config,
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(name, tfjsonpath.New("actual_quantity"), knownvalue.Int64Exact(1)),
					statecheck.ExpectKnownValue(name, tfjsonpath.New("health_check").AtMapKey("path"), knownvalue.StringExact("/")),
					statecheck.ExpectKnownValue(name, tfjsonpath.New("sim"), knownvalue.Null()),
					statecheck.ExpectKnownValue(name, tfjsonpath.New("program").AtMapKey("args").AtSliceIndex(4), knownvalue.StringExact("${PES_PORT}")),
					// Unset: sized to pesd's host, which is this machine.
					statecheck.ExpectKnownValue(name, tfjsonpath.New("max_quantity"),
						knownvalue.Int64Exact(int64(api.DefaultLocalMaxQuantity(runtime.NumCPU())))),
				},
				Check: func(s *terraform.State) error {
					id, err := stateID(s, name)
					if err != nil {
						return err
					}
					nodes, err := testClient(t).ListNodes(context.Background(), id, client.NodeFilter{})
					if err != nil {
						return err
					}
					ready := 0
					for _, n := range nodes {
						if n.State == api.NodeReady {
							ready++
						}
					}
					if ready != 1 {
						return fmt.Errorf("%d ready nodes, want 1: %+v", ready, nodes)
					}
					return nil
				},
			},
			{
				ResourceName:      name,
				ImportState:       true,
				ImportStateVerify: true,
			},
			{
				// The max_quantity pesd chose makes no diff.
				Config: config,
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
				},
			},
		},
	})
}

// A sim group without max_quantity keeps DefaultMaxQuantity, a change
// elsewhere leaves the chosen bound alone, and a replacement by a local
// group gets a host-sized one.
func TestAccNodeGroup_maxQuantityDefault(t *testing.T) {
	const name = "pes_node_group.test"
	config := func(policy string) string {
		return fmt.Sprintf(`
resource "pes_node_group" "test" {
  name               = "acc-default-max"
  driver             = "sim"
  desired_quantity   = 1
  aggregation_period = "1h"
  aggregation_policy = %q
  sim                = { boot_time = "100ms" }
}
`, policy)
	}
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				Config: config("largest"),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(name, tfjsonpath.New("max_quantity"), knownvalue.Int64Exact(api.DefaultMaxQuantity)),
				},
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PostApplyPostRefresh: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
				},
			},
			{
				Config: config("sum"),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{
						plancheck.ExpectResourceAction(name, plancheck.ResourceActionUpdate),
						plancheck.ExpectKnownValue(name, tfjsonpath.New("max_quantity"), knownvalue.Int64Exact(api.DefaultMaxQuantity)),
					},
					PostApplyPostRefresh: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
				},
			},
			{
				// A new driver replaces the group, and pesd chooses its
				// bound again: host-sized for local.
				Config: `
resource "pes_node_group" "test" {
  name               = "acc-default-max"
  driver             = "local"
  program            = { command = "sleep", args = ["3600"] }
  desired_quantity   = 1
  aggregation_period = "1h"
  aggregation_policy = "sum"
}
`,
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{
						plancheck.ExpectResourceAction(name, plancheck.ResourceActionDestroyBeforeCreate),
						plancheck.ExpectUnknownValue(name, tfjsonpath.New("max_quantity")),
					},
					PostApplyPostRefresh: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
				},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(name, tfjsonpath.New("max_quantity"),
						knownvalue.Int64Exact(int64(api.DefaultLocalMaxQuantity(runtime.NumCPU())))),
				},
			},
		},
	})
}

func TestAccNodeGroupDataSource(t *testing.T) {
	const data = "data.pes_node_group.test"
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{{
			Config: simGroup("acc-data-group", 2, `  labels = { team = "red" }`) + `
data "pes_node_group" "test" {
  id = pes_node_group.test.id
}

data "pes_node_group" "by_name" {
  name       = "acc-data-group"
  depends_on = [pes_node_group.test]
}
`,
			ConfigStateChecks: []statecheck.StateCheck{
				statecheck.CompareValuePairs("pes_node_group.test", tfjsonpath.New("id"), data, tfjsonpath.New("id"), compare.ValuesSame()),
				statecheck.ExpectKnownValue(data, tfjsonpath.New("name"), knownvalue.StringExact("acc-data-group")),
				statecheck.ExpectKnownValue(data, tfjsonpath.New("desired_quantity"), knownvalue.Int64Exact(2)),
				statecheck.ExpectKnownValue(data, tfjsonpath.New("actual_quantity"), knownvalue.Int64Exact(2)),
				statecheck.ExpectKnownValue(data, tfjsonpath.New("labels").AtMapKey("team"), knownvalue.StringExact("red")),
				statecheck.ExpectKnownValue(data, tfjsonpath.New("sim").AtMapKey("boot_time"), knownvalue.StringExact("100ms")),
				statecheck.ExpectKnownValue(data, tfjsonpath.New("status"), knownvalue.StringExact(api.GroupActive)),
				statecheck.ExpectKnownValue(data, tfjsonpath.New("created_at"), knownvalue.NotNull()),
				statecheck.CompareValuePairs("pes_node_group.test", tfjsonpath.New("id"), "data.pes_node_group.by_name", tfjsonpath.New("id"), compare.ValuesSame()),
				statecheck.ExpectKnownValue("data.pes_node_group.by_name", tfjsonpath.New("actual_quantity"), knownvalue.Int64Exact(2)),
			},
		}},
	})
}

// The data source takes exactly one of id and name.
func TestAccNodeGroupDataSource_idOrName(t *testing.T) {
	for _, tc := range []struct{ name, body string }{
		{"both", `id = "x"
  name = "x"`},
		{"neither", ``},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resource.ParallelTest(t, resource.TestCase{
				ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
				Steps: []resource.TestStep{{
					Config:      "data \"pes_node_group\" \"test\" {\n  " + tc.body + "\n}\n",
					PlanOnly:    true,
					ExpectError: regexp.MustCompile(`(?s)Exactly one of these attributes must be configured: \[id,name\]`),
				}},
			})
		})
	}
}

// Every invalid attribute is reported by one validate, not in rounds: an
// attribute validator's (driver, aggregation_policy) and pesd's own checks
// across attributes (min_quantity against max_quantity, a path on a tcp
// check) alike, even when the driver they depend on is itself invalid.
func TestAccNodeGroup_allPlanTimeErrorsAtOnce(t *testing.T) {
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{{
			Config: `
resource "pes_node_group" "test" {
  name               = "acc-four-errors"
  driver             = "docker"
  desired_quantity   = 4
  min_quantity       = 5
  max_quantity       = 3
  aggregation_policy = "biggest"
  health_check       = { type = "tcp", path = "/" }
}
`,
			PlanOnly: true,
			// Terraform lists them in the order of the lines they point at
			// (the health check's at the block: its value is one object).
			ExpectError: regexp.MustCompile(`(?s)` + strings.Join([]string{
				`Error: Invalid node group configuration.*health_check\.path: only applies to type http`,
				`Error: Invalid Attribute Value Match.*driver.*value must be one of`,
				`Error: Invalid node group configuration.*min_quantity: must be ≤ max_quantity \(5 > 3\)`,
				`Error: Invalid Attribute Value Match.*aggregation_policy.*value must be one of.*"biggest"`,
			}, ".*")),
		}},
	})
}
