package provider

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/pes-project/terraform-provider-pes/reconciler/api"
	"github.com/pes-project/terraform-provider-pes/reconciler/client"
)

// importLawRuns imports six runs of programType following t = 30s +
// 0.6s·size/n + 2s·n (noise sd 2s) at 2 to 32 nodes.
func importLawRuns(t *testing.T, c *client.Client, programType string, size float64) {
	t.Helper()
	rng := rand.New(rand.NewPCG(11, 5))
	var runs []map[string]any
	for _, n := range []int{2, 4, 8, 16, 24, 32} {
		runs = append(runs, map[string]any{"label": fmt.Sprintf("law-%d", n), "input_size": size, "nodes_mean": n,
			"wall_seconds": 30 + 0.6*size/float64(n) + 2*float64(n) + rng.NormFloat64()*2})
	}
	b, _ := json.Marshal(runs)
	if _, err := c.ImportRuns(context.Background(), programType, strings.NewReader(string(b))); err != nil {
		t.Fatalf("import runs: %v", err)
	}
}

// TestAccExecution_recommended: the data source answers the
// recommendation from imported runs; an execution with node_quantity =
// "recommended" sizes its group to it at start, in a change whose
// explanation cites it; the group's declared quantity then plans empty.
// Without history the data source says so.
func TestAccExecution_recommended(t *testing.T) {
	const x, data = "pes_execution.rec", "data.pes_execution_recommendation.r"
	config := `
resource "pes_node_group" "test" {
  name               = "acc-rec"
  driver             = "sim"
  desired_quantity   = 2
  max_quantity       = 40
  aggregation_period = "1h"
  sim                = { boot_time = "100ms" }
}

data "pes_execution_recommendation" "r" {
  program_type = "acc-law"
  input_size   = 500
  deadline     = "2m"
}

data "pes_execution_recommendation" "none" {
  program_type = "acc-never-ran"
  input_size   = 500
}

resource "pes_execution" "rec" {
  group_id            = pes_node_group.test.id
  program_type        = "acc-law"
  node_quantity       = "recommended"
  deadline            = "2m"
  input               = { items = [for i in range(500) : jsonencode(i)], items_per_job = 50 }
  sim_item_duration   = "1ms"
  wait_for_completion = false
}
`
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		PreCheck:                 func() { importLawRuns(t, testClient(t), "acc-law", 500) },
		Steps: []resource.TestStep{
			{
				Config: config,
				ConfigStateChecks: []statecheck.StateCheck{
					// t(n) = 30 + 300/n + 2n meets 120s from n = 4.
					statecheck.ExpectKnownValue(data, tfjsonpath.New("node_quantity"), knownvalue.Int64Exact(4)),
					statecheck.ExpectKnownValue(data, tfjsonpath.New("status"), knownvalue.StringExact(api.RecommendationOK)),
					statecheck.ExpectKnownValue(data, tfjsonpath.New("criterion"), knownvalue.StringExact(api.CriterionCheapestWithinDeadline)),
					statecheck.ExpectKnownValue(data, tfjsonpath.New("runs"), knownvalue.Int64Exact(6)),
					statecheck.ExpectKnownValue(data, tfjsonpath.New("run_labels").AtSliceIndex(0), knownvalue.StringExact("law-2")),
					statecheck.ExpectKnownValue("data.pes_execution_recommendation.none", tfjsonpath.New("status"), knownvalue.StringExact(api.RecommendationNotEnoughRuns)),
					statecheck.ExpectKnownValue("data.pes_execution_recommendation.none", tfjsonpath.New("node_quantity"), knownvalue.Null()),
					statecheck.ExpectKnownValue(x, tfjsonpath.New("recommended_node_quantity"), knownvalue.Int64Exact(4)),
					statecheck.ExpectKnownValue(x, tfjsonpath.New("warnings"), knownvalue.ListSizeExact(0)),
				},
				Check: func(s *terraform.State) error {
					id, err := stateID(s, x)
					if err != nil {
						return err
					}
					c := testClient(t)
					ctx := context.Background()
					ex, err := c.GetExecution(ctx, id)
					if err != nil {
						return err
					}
					g, err := c.GetGroup(ctx, ex.GroupID)
					if err != nil {
						return err
					}
					if g.DesiredQuantity != 4 {
						return fmt.Errorf("group desired %d, want the recommended 4", g.DesiredQuantity)
					}
					chs, err := c.ListAllChangesDetailed(ctx, ex.GroupID, client.ChangeFilter{CausedBy: ex.Events[0]})
					if err != nil {
						return err
					}
					want := "set to 4 by the recommendation from 6 prior runs of acc-law"
					if len(chs) != 1 || !strings.Contains(chs[0].Explanation, want) {
						return fmt.Errorf("changes caused by %s: %+v; want one explained with %q", ex.Events[0], chs, want)
					}
					return nil
				},
			},
			{
				// The group's declared 2 is not fought over: the live 4 is
				// the recommendation's.
				Config: config,
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
				},
			},
		},
	})
}

// TestAccExecution_warning is acceptance 3 through the real Terraform
// CLI: an execution whose group is too small for its deadline is created,
// and terraform apply shows the warning pesd recorded as an event.
func TestAccExecution_warning(t *testing.T) {
	if os.Getenv("TF_ACC") == "" {
		t.Skip("acceptance test: set TF_ACC=1 (make testacc)")
	}
	t.Parallel()
	c := testClient(t)
	importLawRuns(t, c, "acc-warn", 500)
	tmp := t.TempDir()
	tf, cliConfig := terraformWithProvider(t, tmp)
	dir := filepath.Join(tmp, "config")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	config := `terraform {
  required_providers {
    pes = { source = "pes-project/pes" }
  }
}

resource "pes_node_group" "small" {
  name               = "acc-warn"
  driver             = "sim"
  desired_quantity   = 1
  max_quantity       = 40
  aggregation_period = "1h"
  sim                = { boot_time = "100ms" }
}

resource "pes_execution" "late" {
  group_id            = pes_node_group.small.id
  program_type        = "acc-warn"
  deadline            = "2m"
  input               = { items = [for i in range(500) : jsonencode(i)], items_per_job = 50 }
  sim_item_duration   = "1ms"
  wait_for_completion = false
}
`
	if err := os.WriteFile(filepath.Join(dir, "main.tf"), []byte(config), 0o644); err != nil {
		t.Fatal(err)
	}
	run := func(args ...string) string {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, tf, args...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "TF_CLI_CONFIG_FILE="+cliConfig, "CHECKPOINT_DISABLE=1", "TF_IN_AUTOMATION=1",
			EnvEndpoint+"="+accPesd.endpoint, EnvToken+"="+accPesd.token)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("terraform %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return string(out)
	}
	out := run("apply", "-auto-approve", "-no-color", "-input=false")
	defer run("destroy", "-auto-approve", "-no-color", "-input=false")
	t.Logf("terraform apply:\n%s", out)
	out = strings.Join(strings.Fields(out), " ") // Terraform wraps the detail
	for _, want := range []string{
		"Warning: Execution predicted to miss its deadline",
		"1 node is predicted to take",
		"past its deadline in 2m; recommended: 4 nodes",
		"pesd recorded it as event E",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("terraform apply does not say %q", want)
		}
	}
	g, err := c.FindGroup(context.Background(), "acc-warn", false)
	if err != nil {
		t.Fatal(err)
	}
	evs, err := c.ListAllEvents(context.Background(), g.ID, client.EventFilter{Type: api.EventExecutionWarning})
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != 1 || !strings.Contains(out, "event "+evs[0].Label+" of the group") {
		t.Fatalf("warning events %+v; want the one the warning names", evs)
	}
	t.Logf("event %s: %s", evs[0].Label, evs[0].Description)
}

// TestAccExecution_recommendedValidation: plan-time errors name the
// attribute.
func TestAccExecution_recommendedValidation(t *testing.T) {
	cases := []struct{ name, config, want string }{
		{"recommended without a type", `resource "pes_execution" "x" {
  group_id      = "g"
  input         = { items = ["1"] }
  node_quantity = "recommended"
}`, `(?s)needs a program type.*node_quantity`},
		{"a number of nodes", `resource "pes_execution" "x" {
  group_id      = "g"
  program_type  = "t"
  input         = { items = ["1"] }
  node_quantity = "12"
}`, `(?s)node_quantity.*value must be one of`},
		{"a deadline that is no duration", `resource "pes_execution" "x" {
  group_id     = "g"
  program_type = "t"
  input        = { items = ["1"] }
  deadline     = "tomorrow"
}`, `(?s)deadline`},
		{"a negative input size", `data "pes_execution_recommendation" "x" {
  program_type = "t"
  input_size   = -1
}`, `(?s)input_size.*at least`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			resource.ParallelTest(t, resource.TestCase{
				ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
				Steps:                    []resource.TestStep{{Config: tc.config, PlanOnly: true, ExpectError: regexp.MustCompile(tc.want)}},
			})
		})
	}
}
