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
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/pes-project/terraform-provider-pes/reconciler/driver/kubernetes"
	"github.com/pes-project/terraform-provider-pes/reconciler/driver/kubernetes/kubetest"
)

func kubeGroupConfig(ns string, desired int) string {
	return fmt.Sprintf(`
resource "pes_node_group" "pods" {
  name             = "acc-pods"
  driver           = "kubernetes"
  desired_quantity = %d
  max_quantity     = 10
  program = {
    command = "/bin/worker"
    args    = ["--node", "$${PES_NODE_ID}"]
  }
  health_check = { type = "process", interval = "200ms" }

  kubernetes = {
    namespace = %q
    image     = "example/worker:1"
    resources = {
      requests = { cpu = "100m", memory = "64Mi" }
      limits   = { memory = "128Mi" }
    }
    labels      = { team = "blue" }
    tolerations = [{ key = "dedicated", value = "pes", effect = "NoSchedule" }]
    termination_grace_period = "5s"
  }
}
`, desired, ns)
}

// TestAccNodeGroup_kubernetes creates a kubernetes group against the test
// cluster: its pods run, import reads back the same, and a second plan is
// empty.
func TestAccNodeGroup_kubernetes(t *testing.T) {
	if accKube == nil && accKubeMissing != "" {
		kubetest.SkipOrFail(t, accKubeMissing)
	}
	const name = "pes_node_group.pods"
	ns := "default"
	if accKube != nil {
		ns = accKube.NewNamespace(t)
	}
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				Config: kubeGroupConfig(ns, 3),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(name, tfjsonpath.New("actual_quantity"), knownvalue.Int64Exact(3)),
					statecheck.ExpectKnownValue(name, tfjsonpath.New("kubernetes").AtMapKey("namespace"), knownvalue.StringExact(ns)),
					statecheck.ExpectKnownValue(name, tfjsonpath.New("kubernetes").AtMapKey("tolerations").AtSliceIndex(0).AtMapKey("operator"), knownvalue.StringExact("Equal")),
				},
				Check: func(s *terraform.State) error {
					id := s.RootModule().Resources[name].Primary.ID
					pods, err := accKube.Client.CoreV1().Pods(ns).List(context.Background(), metav1.ListOptions{LabelSelector: kubernetes.LabelGroup + "=" + id})
					if err != nil {
						return err
					}
					if len(pods.Items) != 3 {
						return fmt.Errorf("%d pods of group %s, want 3", len(pods.Items), id)
					}
					p := pods.Items[0]
					if p.Labels["team"] != "blue" || p.Spec.Containers[0].Resources.Requests.Cpu().String() != "100m" {
						return fmt.Errorf("pod %s lacks the group's label or cpu request: labels %v, resources %v", p.Name, p.Labels, p.Spec.Containers[0].Resources)
					}
					return nil
				},
			},
			{
				ResourceName:            name,
				ImportState:             true,
				ImportStateVerify:       true,
				ImportStateVerifyIgnore: []string{"wait_for_capacity"},
			},
			{
				Config: kubeGroupConfig(ns, 3),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
				},
			},
		},
	})
}

// The kubernetes block is checked at plan time, as pesd checks it.
func TestAccNodeGroup_kubernetesPlanTimeErrors(t *testing.T) {
	base := func(block string) string {
		return fmt.Sprintf(`
resource "pes_node_group" "x" {
  name             = "x"
  driver           = "kubernetes"
  desired_quantity = 1
%s
}`, block)
	}
	cases := []struct{ name, config, want string }{
		{"no block", base(""), `(?s)kubernetes\.image.*is required`},
		{"bad quantity", base(`  kubernetes = {
    image     = "x"
    resources = { requests = { cpu = "half" } }
  }`), `(?s)not a Kubernetes quantity`},
		{"request over limit", base(`  kubernetes = {
    image     = "x"
    resources = { requests = { memory = "1Gi" }, limits = { memory = "512Mi" } }
  }`), `(?s)at most the limit 512Mi`},
		{"block on sim", `
resource "pes_node_group" "x" {
  name             = "x"
  driver           = "sim"
  desired_quantity = 1
  kubernetes       = { image = "x" }
}`, `(?s)only applies to driver kubernetes`},
		{"bad namespace", base(`  kubernetes = {
    image     = "x"
    namespace = "Prod"
  }`), `(?s)DNS label`},
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
