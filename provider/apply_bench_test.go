package provider

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/providerserver"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-go/tftypes"

	"github.com/pes-project/terraform-provider-pes/provider/internal/standin"
	"github.com/pes-project/terraform-provider-pes/reconciler/client"
)

// The apply benchmark's configurations: 50 node groups (sim, boot 0s) and
// 100 triggers on them, against the same graph of terraform_data.
const (
	applyGroups   = 50
	applyTriggers = 100
	applyRounds   = 3
)

const pesConfig = `terraform {
  required_providers {
    pes = { source = "pes-project/pes" }
  }
}

variable "run" { type = string }

resource "pes_node_group" "g" {
  count            = %d
  name             = "apply-${var.run}-${count.index}"
  driver           = "sim"
  desired_quantity = 2
  max_quantity     = 10
  program          = { command = "worker" }
  sim              = { boot_time = "0s" }
}

resource "pes_trigger" "t" {
  count     = %d
  group_id  = pes_node_group.g[count.index %% %d].id
  name      = "t-${count.index}"
  condition = "avg(cpu_utilization, '2m') > 80"
  change_by = 1
}
`

// tinyConfig is the terraform_data graph on the protocol-level stand-in
// with a schema as small as terraform_data's (tinySchemas).
const tinyConfig = `terraform {
  required_providers {
    pes = { source = "pes-project/pes" }
  }
}

variable "run" { type = string }

resource "pes_node_group" "g" {
  count = %d
  input = "apply-${var.run}-${count.index}"
}

resource "pes_trigger" "t" {
  count = %d
  input = pes_node_group.g[count.index %% %d].id
}
`

const dataConfig = `variable "run" { type = string }

resource "terraform_data" "g" {
  count = %d
  input = "apply-${var.run}-${count.index}"
}

resource "terraform_data" "t" {
  count = %d
  input = terraform_data.g[count.index %% %d].id
}
`

// BenchmarkTerraformApply runs the real Terraform CLI: terraform apply of
// 50 pes_node_group (sim, boot 0s, waiting for capacity) + 100 pes_trigger
// against a real pesd with its default intervals, and of the same graph of
// 150 terraform_data, each in a fresh directory, applyRounds times, and
// reports the median wall time of each and their ratio.
//
// For reference it also applies, in the same rounds, three stand-ins
// that do nothing, and reports each median, its ratio to terraform_data,
// and of its CPU the part that was Terraform's own:
//   - floor: the pes configuration against the framework-based floor
//     (internal/floor: the same schemas, nothing behind them), what
//     Terraform and the plugin framework cost for these schemas alone;
//   - proto: the pes configuration against the protocol-level stand-in
//     (internal/standin) with the same schemas and no framework, what
//     the schemas cost in Terraform and on the wire;
//   - tiny: the terraform_data graph against the protocol-level stand-in
//     with a schema as small as terraform_data's, what being a plugin
//     process at all costs against a built-in resource.
//
// It also reports how many plugin processes Terraform started for one
// apply (plugin-starts, counted by the proto stand-in's processes).
func BenchmarkTerraformApply(b *testing.B) {
	tmp := b.TempDir()
	tf, cliConfig := terraformWithProvider(b, tmp)
	floorConfig := pluginCLIConfig(b, tmp, "floor", "./provider/testdata/floor")
	standinConfig, protoSchemas, tinySchemas := standinCLIConfig(b, tmp)
	// pesd as deployed: its default intervals.
	endpoint, stop, err := startPesd(tmp)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(stop)
	// Terraform's environment for each CLI configuration, with extra.
	tfEnv := func(cliConfig string, extra ...string) []string {
		return append(append(os.Environ(), "TF_CLI_CONFIG_FILE="+cliConfig, "CHECKPOINT_DISABLE=1", "TF_IN_AUTOMATION=1"), extra...)
	}
	env := tfEnv(cliConfig, EnvEndpoint+"="+endpoint, EnvToken+"="+accToken)
	c, err := client.New(endpoint, accToken)
	if err != nil {
		b.Fatal(err)
	}

	cpuLog := filepath.Join(tmp, "plugin-cpu.log")
	floorEnv := tfEnv(floorConfig, standin.EnvCPULog+"="+cpuLog)
	protoEnv := tfEnv(standinConfig, standin.EnvCPULog+"="+cpuLog, standin.EnvSchemas+"="+protoSchemas)
	tinyEnv := tfEnv(standinConfig, standin.EnvCPULog+"="+cpuLog, standin.EnvSchemas+"="+tinySchemas)

	apply := func(env []string, dir, config, run string) (wall, cpu time.Duration) {
		b.Helper()
		if err := os.MkdirAll(dir, 0o755); err != nil {
			b.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "main.tf"), []byte(config), 0o600); err != nil {
			b.Fatal(err)
		}
		cmd := exec.Command(tf, "apply", "-auto-approve", "-input=false", "-no-color", "-var", "run="+run)
		cmd.Dir, cmd.Env = dir, env
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		start := time.Now()
		if err := cmd.Run(); err != nil {
			b.Fatalf("terraform apply in %s: %v\n%s", dir, err, out.String())
		}
		wall = time.Since(start)
		// The CPU of terraform and of the provider plugins it waited for.
		cpu = cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
		return wall, cpu
	}
	// A stand-in's apply: also the part of its CPU that was Terraform's own
	// (the stand-in's processes log theirs), and each process's CPU.
	type reference struct {
		wall, cpu, terraformCPU []time.Duration
		processes               []time.Duration // of the last apply
	}
	applyReference := func(ref *reference, env []string, dir, config, run string) {
		b.Helper()
		if err := os.RemoveAll(cpuLog); err != nil {
			b.Fatal(err)
		}
		w, cpu := apply(env, dir, config, run)
		processes, err := standin.ReadCPULog(cpuLog)
		if err != nil {
			b.Fatal(err)
		}
		var plugin time.Duration
		for _, p := range processes {
			plugin += p
		}
		ref.wall, ref.cpu, ref.terraformCPU = append(ref.wall, w), append(ref.cpu, cpu), append(ref.terraformCPU, cpu-plugin)
		ref.processes = processes
	}
	cleanup := func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		groups, err := c.ListAllGroups(ctx, client.GroupFilter{})
		if err != nil {
			b.Fatal(err)
		}
		for _, g := range groups {
			if err := c.DeleteGroup(ctx, g.ID); err != nil {
				b.Fatal(err)
			}
		}
	}

	var pesWall, dataWall, pesCPU, dataCPU []time.Duration
	var floor, proto, tiny reference
	for b.Loop() {
		for r := range applyRounds {
			run := fmt.Sprintf("%d-%d", b.N, r)
			pes := fmt.Sprintf(pesConfig, applyGroups, applyTriggers, applyGroups)
			w, cpu := apply(env, filepath.Join(tmp, "data-"+run), fmt.Sprintf(dataConfig, applyGroups, applyTriggers, applyGroups), run)
			dataWall, dataCPU = append(dataWall, w), append(dataCPU, cpu)
			w, cpu = apply(env, filepath.Join(tmp, "pes-"+run), pes, run)
			pesWall, pesCPU = append(pesWall, w), append(pesCPU, cpu)
			b.StopTimer()
			applyReference(&floor, floorEnv, filepath.Join(tmp, "floor-"+run), pes, run)
			applyReference(&tiny, tinyEnv, filepath.Join(tmp, "tiny-"+run), fmt.Sprintf(tinyConfig, applyGroups, applyTriggers, applyGroups), run)
			applyReference(&proto, protoEnv, filepath.Join(tmp, "proto-"+run), pes, run)
			cleanup()
			b.StartTimer()
		}
	}
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	pw, dw := median(pesWall), median(dataWall)
	b.ReportMetric(ms(pw), "pes-ms")
	b.ReportMetric(ms(dw), "data-ms")
	b.ReportMetric(ms(median(pesCPU)), "pes-cpu-ms")
	b.ReportMetric(ms(median(dataCPU)), "data-cpu-ms")
	b.ReportMetric(float64(pw)/float64(dw), "ratio")
	for _, r := range []struct {
		name string
		ref  reference
	}{{"floor", floor}, {"proto", proto}, {"tiny", tiny}} {
		w := median(r.ref.wall)
		b.ReportMetric(ms(w), r.name+"-ms")
		b.ReportMetric(ms(median(r.ref.cpu)), r.name+"-cpu-ms")
		b.ReportMetric(float64(w)/float64(dw), r.name+"-ratio")
		b.ReportMetric(ms(median(r.ref.terraformCPU)), r.name+"-terraform-cpu-ms")
	}
	b.ReportMetric(float64(len(proto.processes)), "plugin-starts")
	b.Logf("pes apply %v, terraform_data apply %v, floor apply %v, proto apply %v, tiny apply %v",
		pesWall, dataWall, floor.wall, proto.wall, tiny.wall)
	b.Logf("CPU of each plugin process, in the order they ended: floor %v, proto %v, tiny %v",
		floor.processes, proto.processes, tiny.processes)
}

func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}

// terraformWithProvider finds the Terraform CLI (skipping outside CI when
// there is none), builds this provider into tmp and writes a CLI
// configuration whose dev_overrides use it: the real CLI runs the real
// plugin, as users do.
func terraformWithProvider(tb testing.TB, tmp string) (tf, cliConfig string) {
	tb.Helper()
	tf = os.Getenv("TF_ACC_TERRAFORM_PATH")
	if tf == "" {
		tf, _ = exec.LookPath("terraform")
	}
	if tf == "" {
		if os.Getenv("CI") != "" {
			tb.Fatal("no Terraform CLI: set TF_ACC_TERRAFORM_PATH or put terraform on PATH (scripts/ensure-terraform.sh builds one)")
		}
		tb.Skip("no Terraform CLI: set TF_ACC_TERRAFORM_PATH=$(scripts/ensure-terraform.sh)")
	}
	return tf, pluginCLIConfig(tb, tmp, "provider", ".")
}

// pluginCLIConfig builds the package pkg (a path from the module root)
// into a directory of tmp named for it, as the provider is built, and
// writes a CLI configuration whose dev_overrides take the provider from
// there, and returns its path.
func pluginCLIConfig(tb testing.TB, tmp, name, pkg string) string {
	tb.Helper()
	pluginDir := filepath.Join(tmp, name+"-plugins")
	build := exec.Command("go", "build", "-o", filepath.Join(pluginDir, "terraform-provider-pes"), pkg)
	build.Dir = ".." // the module root
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		tb.Fatalf("build %s: %v\n%s", pkg, err, out)
	}
	return devOverride(tb, pluginDir, filepath.Join(tmp, name+"-terraformrc"))
}

// standinCLIConfig builds the protocol-level stand-in (testdata/standin)
// into tmp and writes a CLI configuration whose dev_overrides use it, and the
// two sets of schemas it serves: this provider's own, as its
// GetProviderSchema answers (so they cannot drift), and tinySchemas.
func standinCLIConfig(tb testing.TB, tmp string) (cliConfig, protoSchemas, tinySchemas string) {
	tb.Helper()
	cliConfig = pluginCLIConfig(tb, tmp, "standin", "./provider/testdata/standin")
	resp, err := providerserver.NewProtocol6(New("bench")())().GetProviderSchema(context.Background(), &tfprotov6.GetProviderSchemaRequest{})
	if err != nil {
		tb.Fatal(err)
	}
	if len(resp.Diagnostics) > 0 {
		tb.Fatalf("the provider's schemas: %v", resp.Diagnostics[0])
	}
	protoSchemas, tinySchemas = filepath.Join(tmp, "proto-schemas.json"), filepath.Join(tmp, "tiny-schemas.json")
	if err := standin.FromResponse(resp).WriteFile(protoSchemas); err != nil {
		tb.Fatal(err)
	}
	tiny := standin.Schemas{
		Capabilities: resp.ServerCapabilities,
		Provider:     &tfprotov6.Schema{Block: &tfprotov6.SchemaBlock{}},
		Resources:    map[string]*tfprotov6.Schema{"pes_node_group": tinySchema(), "pes_trigger": tinySchema()},
	}
	if err := tiny.WriteFile(tinySchemas); err != nil {
		tb.Fatal(err)
	}
	return cliConfig, protoSchemas, tinySchemas
}

// tinySchema is as small as terraform_data's: an id, an input, an output
// and triggers_replace (strings here, where terraform_data's are dynamic).
func tinySchema() *tfprotov6.Schema {
	return &tfprotov6.Schema{Block: &tfprotov6.SchemaBlock{Attributes: []*tfprotov6.SchemaAttribute{
		{Name: "id", Type: tftypes.String, Computed: true},
		{Name: "input", Type: tftypes.String, Optional: true},
		{Name: "output", Type: tftypes.String, Computed: true},
		{Name: "triggers_replace", Type: tftypes.String, Optional: true},
	}}}
}

// devOverride writes at path a CLI configuration that takes the provider
// from pluginDir, and returns path.
func devOverride(tb testing.TB, pluginDir, path string) string {
	tb.Helper()
	rc := fmt.Sprintf("disable_checkpoint = true\nprovider_installation {\n  dev_overrides {\n    \"pes-project/pes\" = %q\n  }\n  direct {}\n}\n", pluginDir)
	if err := os.WriteFile(path, []byte(rc), 0o600); err != nil {
		tb.Fatal(err)
	}
	return path
}
