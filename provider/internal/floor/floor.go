// Package floor is the floor of BenchmarkTerraformApply: a provider that
// serves exactly this provider's schemas (taken from its own resources
// and data sources, so they cannot drift) through the plugin framework,
// and does nothing behind them. Create and Update echo the plan, with
// every value left unknown filled with a constant (standin.Known, as the
// protocol-level stand-ins do); Read keeps the state; Delete forgets it.
// An apply against it costs what Terraform and the plugin framework cost
// for these schemas, which no work inside the provider can go below.
//
// It is built into a binary of its own (provider/testdata/floor) that
// links what the provider links, so a process start costs what the
// provider's does.
package floor

import (
	"context"
	"os"

	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/provider"
	"github.com/hashicorp/terraform-plugin-framework/resource"

	pes "github.com/pes-project/terraform-provider-pes/provider"
	"github.com/pes-project/terraform-provider-pes/provider/internal/standin"
)

// Main serves the floor, the way the provider is served (pes.Serve),
// until Terraform stops it, then logs its CPU to standin.EnvCPULog, so
// the benchmark can tell Terraform's own CPU from the plugin's.
func Main() error {
	if err := pes.Serve(context.Background(), func() provider.Provider { return floorProvider{pes.New("floor")()} }, false); err != nil {
		return err
	}
	return standin.LogCPU(os.Getenv(standin.EnvCPULog))
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
	resp.State.Raw = standin.Known(req.Plan.Raw)
}

func (floorResource) Read(context.Context, resource.ReadRequest, *resource.ReadResponse) {}

func (floorResource) Update(_ context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	resp.State.Raw = standin.Known(req.Plan.Raw)
}

func (floorResource) Delete(context.Context, resource.DeleteRequest, *resource.DeleteResponse) {}

type floorDataSource struct{ datasource.DataSource }

func (floorDataSource) Read(_ context.Context, req datasource.ReadRequest, resp *datasource.ReadResponse) {
	resp.State.Raw = standin.Known(req.Config.Raw)
}
