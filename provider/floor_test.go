package provider

import (
	"context"
	"fmt"
	"math/big"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/provider"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-go/tftypes"
)

// The floor of BenchmarkTerraformApply: a provider that serves exactly
// this provider's schemas (taken from its own resources and data sources,
// so they cannot drift) and does nothing behind them. Create and Update
// echo the plan, with every value left unknown filled with a constant;
// Read keeps the state; Delete forgets it. An apply against it costs
// what Terraform and the plugin framework cost for these schemas, which
// no work inside the provider can go below.
//
// The test binary serves it when Terraform starts it with envFloor set
// (see TestMain), under the provider's name. envFloor names a file to
// which each floor process, when Terraform stops it, appends the CPU it
// used in milliseconds, so the benchmark can tell Terraform's own CPU
// from the plugin's.
const envFloor = "PES_BENCH_FLOOR_PROVIDER"

// serveFloor runs the floor as the plugin process and reports whether it
// was asked to.
func serveFloor() bool {
	cpuLog := os.Getenv(envFloor)
	if cpuLog == "" {
		return false
	}
	if err := Serve(context.Background(), func() provider.Provider { return floorProvider{New("floor")()} }, false); err != nil {
		fmt.Fprintln(os.Stderr, "floor provider:", err)
		os.Exit(1)
	}
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err == nil {
		if f, err := os.OpenFile(cpuLog, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o600); err == nil {
			fmt.Fprintln(f, time.Duration(ru.Utime.Nano()+ru.Stime.Nano()).Milliseconds())
			f.Close()
		}
	}
	return true
}

// floorPluginCPU is the CPU the floor processes logged to cpuLog.
func floorPluginCPU(cpuLog string) (time.Duration, error) {
	b, err := os.ReadFile(cpuLog)
	if err != nil {
		return 0, err
	}
	var sum time.Duration
	for _, f := range strings.Fields(string(b)) {
		ms, err := strconv.Atoi(f)
		if err != nil {
			return 0, fmt.Errorf("%s: %w", cpuLog, err)
		}
		sum += time.Duration(ms) * time.Millisecond
	}
	return sum, nil
}

// The floor's types embed the real ones as interfaces, so they take the
// real Metadata and Schema and none of the optional interfaces (Configure,
// ModifyPlan, ValidateConfig...) of the real types.
type floorProvider struct{ provider.Provider }

func (floorProvider) Configure(context.Context, provider.ConfigureRequest, *provider.ConfigureResponse) {
}

func (p floorProvider) Resources(ctx context.Context) []func() resource.Resource {
	var out []func() resource.Resource
	for _, f := range p.Provider.Resources(ctx) {
		out = append(out, func() resource.Resource { return floorResource{f()} })
	}
	return out
}

func (p floorProvider) DataSources(ctx context.Context) []func() datasource.DataSource {
	var out []func() datasource.DataSource
	for _, f := range p.Provider.DataSources(ctx) {
		out = append(out, func() datasource.DataSource { return floorDataSource{f()} })
	}
	return out
}

type floorResource struct{ resource.Resource }

func (floorResource) Create(_ context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	resp.State.Raw = known(req.Plan.Raw)
}

func (floorResource) Read(context.Context, resource.ReadRequest, *resource.ReadResponse) {}

func (floorResource) Update(_ context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	resp.State.Raw = known(req.Plan.Raw)
}

func (floorResource) Delete(context.Context, resource.DeleteRequest, *resource.DeleteResponse) {}

type floorDataSource struct{ datasource.DataSource }

func (floorDataSource) Read(_ context.Context, req datasource.ReadRequest, resp *datasource.ReadResponse) {
	resp.State.Raw = known(req.Config.Raw)
}

// floorIDs makes each filled-in string distinct, as IDs are.
var floorIDs atomic.Int64

// known replaces every unknown part of v with a plausible constant of its
// type: a distinct ID-like string, 0, false, an empty collection, an
// object of such constants.
func known(v tftypes.Value) tftypes.Value {
	out, err := tftypes.Transform(v, func(_ *tftypes.AttributePath, v tftypes.Value) (tftypes.Value, error) {
		if v.IsKnown() {
			return v, nil
		}
		return constantOf(v.Type()), nil
	})
	if err != nil {
		panic(err) // the plan's own value: its types are consistent
	}
	return out
}

func constantOf(t tftypes.Type) tftypes.Value {
	switch {
	case t.Is(tftypes.String):
		return tftypes.NewValue(t, fmt.Sprintf("floor-%016x", floorIDs.Add(1)))
	case t.Is(tftypes.Number):
		return tftypes.NewValue(t, new(big.Float))
	case t.Is(tftypes.Bool):
		return tftypes.NewValue(t, false)
	case t.Is(tftypes.List{}), t.Is(tftypes.Set{}):
		return tftypes.NewValue(t, []tftypes.Value{})
	case t.Is(tftypes.Map{}):
		return tftypes.NewValue(t, map[string]tftypes.Value{})
	case t.Is(tftypes.Object{}):
		attrs := map[string]tftypes.Value{}
		for name, at := range t.(tftypes.Object).AttributeTypes {
			attrs[name] = constantOf(at)
		}
		return tftypes.NewValue(t, attrs)
	}
	return tftypes.NewValue(t, nil)
}
