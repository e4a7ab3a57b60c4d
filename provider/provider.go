// Package provider is the Terraform provider for pes: node groups, capacity
// triggers, and data sources that answer "why did the capacity change?".
// It talks to pesd only through reconciler/client and never links the
// store, so the provider binary builds without cgo.
package provider

import (
	"context"
	"fmt"
	"net/url"
	"os"

	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/provider"
	"github.com/hashicorp/terraform-plugin-framework/provider/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/tfsdk"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/pes-project/terraform-provider-pes/reconciler/client"
)

// Address is the provider's registry address.
const Address = "registry.terraform.io/pes-project/pes"

// DefaultEndpoint is where pesd listens when nothing else is configured
// (the address `pesd serve` documents).
const DefaultEndpoint = "http://127.0.0.1:7400"

// Environment variables read when the provider block leaves a field unset.
const (
	EnvEndpoint = "PES_ENDPOINT"
	EnvToken    = "PES_TOKEN"
	EnvCACert   = client.EnvCACert
)

// terraformActor names Terraform in the causality record: pesd records
// "user terraform created the group", and a change of desired_quantity in
// configuration as a user instruction from terraform.
const terraformActor = "terraform"

// New returns the provider factory providerserver.Serve expects.
func New(version string) func() provider.Provider {
	return func() provider.Provider {
		return &pesProvider{version: version}
	}
}

type pesProvider struct {
	version string
}

type providerModel struct {
	Endpoint types.String `tfsdk:"endpoint"`
	Token    types.String `tfsdk:"token"`
	CACert   types.String `tfsdk:"ca_cert"`
	Insecure types.Bool   `tfsdk:"insecure"`
}

// pesClient is what resources and data sources receive from Configure: the
// API client and the endpoint it talks to, so diagnostics can name it.
type pesClient struct {
	api      *client.Client
	endpoint string
}

var _ provider.Provider = (*pesProvider)(nil)

func (p *pesProvider) Metadata(_ context.Context, _ provider.MetadataRequest, resp *provider.MetadataResponse) {
	resp.TypeName = "pes"
	resp.Version = p.version
}

func (p *pesProvider) Schema(_ context.Context, _ provider.SchemaRequest, resp *provider.SchemaResponse) {
	resp.Schema = schema.Schema{
		MarkdownDescription: "The pes provider declares node groups and capacity triggers in pesd " +
			"and reads back the causality of every capacity change.",
		Attributes: map[string]schema.Attribute{
			"endpoint": schema.StringAttribute{
				MarkdownDescription: "URL of pesd's HTTP API, e.g. `http://127.0.0.1:7400`. " +
					"Falls back to the `PES_ENDPOINT` environment variable, then to `" + DefaultEndpoint + "`.",
				Optional: true,
			},
			"token": schema.StringAttribute{
				MarkdownDescription: "Bearer token: one `pesd tokens create` issued (a `writer` token for a pipeline that applies, " +
					"a `reader` token for one that only reads causality), or the bootstrap token pesd was started with " +
					"(`pesd serve --token-file`). Falls back to the `PES_TOKEN` environment variable.",
				Optional:  true,
				Sensitive: true,
			},
			"ca_cert": schema.StringAttribute{
				MarkdownDescription: "Certificate of the CA that signed pesd's certificate (`pesd serve --tls-cert`), " +
					"as PEM text or the path of a PEM file, for an `https://` endpoint whose CA the system does not trust. " +
					"Falls back to the `" + EnvCACert + "` environment variable.",
				Optional: true,
			},
			"insecure": schema.BoolAttribute{
				MarkdownDescription: "Skip the verification of pesd's certificate. Anyone on the path can then read the token: " +
					"for a throwaway test setup only. Default `false`.",
				Optional: true,
			},
		},
	}
}

func (p *pesProvider) Configure(ctx context.Context, req provider.ConfigureRequest, resp *provider.ConfigureResponse) {
	var cfg providerModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &cfg)...)
	if resp.Diagnostics.HasError() {
		return
	}
	if cfg.Endpoint.IsUnknown() {
		resp.Diagnostics.AddAttributeError(path.Root("endpoint"), "Unknown pesd endpoint",
			"The endpoint depends on a value that is not known until apply. Set it to a known value or use PES_ENDPOINT.")
	}
	if cfg.Token.IsUnknown() {
		resp.Diagnostics.AddAttributeError(path.Root("token"), "Unknown pesd token",
			"The token depends on a value that is not known until apply. Set it to a known value or use PES_TOKEN.")
	}
	if resp.Diagnostics.HasError() {
		return
	}

	endpoint := firstSet(cfg.Endpoint.ValueString(), os.Getenv(EnvEndpoint), DefaultEndpoint)
	token := firstSet(cfg.Token.ValueString(), os.Getenv(EnvToken))
	if err := checkEndpoint(endpoint); err != nil {
		resp.Diagnostics.AddAttributeError(path.Root("endpoint"), "Invalid pesd endpoint",
			fmt.Sprintf("%s. Set endpoint (or %s) to a URL such as %s.", err, EnvEndpoint, DefaultEndpoint))
		return
	}

	opts := []client.Option{client.WithUserAgent("terraform-provider-pes/" + p.version), client.WithActor(terraformActor)}
	if ca := firstSet(cfg.CACert.ValueString(), os.Getenv(EnvCACert)); ca != "" {
		if _, err := client.LoadCACert(ca); err != nil {
			resp.Diagnostics.AddAttributeError(path.Root("ca_cert"), "Invalid CA certificate",
				fmt.Sprintf("%s. Set ca_cert (or %s) to the PEM text or the path of the PEM file of the CA that signed pesd's certificate.", err, EnvCACert))
			return
		}
		opts = append(opts, client.WithCACert(ca))
	}
	if cfg.Insecure.ValueBool() {
		resp.Diagnostics.AddAttributeWarning(path.Root("insecure"), "pesd's certificate is not verified",
			"insecure = true: anyone between Terraform and pesd can read the token and change the answers. "+
				"Give ca_cert instead, the CA that signed pesd's certificate.")
		opts = append(opts, client.WithInsecure(true))
	}
	c, err := client.New(endpoint, token, opts...)
	if err != nil {
		resp.Diagnostics.AddError("Cannot create the pesd client", err.Error())
		return
	}
	ctx = tflog.SetField(ctx, "pes_endpoint", endpoint)
	tflog.Debug(ctx, "configured pes provider")

	data := &pesClient{api: c, endpoint: endpoint}
	resp.ResourceData = data
	resp.DataSourceData = data
}

func (p *pesProvider) Resources(context.Context) []func() resource.Resource {
	return []func() resource.Resource{
		newNodeGroupResource,
		newTriggerResource,
		newExecutionResource,
	}
}

func (p *pesProvider) DataSources(context.Context) []func() datasource.DataSource {
	return []func() datasource.DataSource{
		newCapacityChangesDataSource,
		newCapacityEventsDataSource,
		newCapacityForecastDataSource,
		newCapacityCostsDataSource,
		newCapacityWhatIfDataSource,
		newNodeGroupDataSource,
		newExecutionsDataSource,
		newRecommendationDataSource,
	}
}

func checkEndpoint(s string) error {
	u, err := url.Parse(s)
	if err != nil {
		return fmt.Errorf("%q is not a URL: %w", s, err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return fmt.Errorf("%q must start with http:// or https://", s)
	}
	if u.Host == "" {
		return fmt.Errorf("%q has no host", s)
	}
	return nil
}

func firstSet(vals ...string) string {
	for _, v := range vals {
		if v != "" {
			return v
		}
	}
	return ""
}

// clientFrom turns the value Configure handed over into a *pesClient,
// reporting a provider bug when it is something else.
func clientFrom(data any, diags interface{ AddError(string, string) }) *pesClient {
	if data == nil {
		return nil // provider not configured yet (validation, early plan)
	}
	c, ok := data.(*pesClient)
	if !ok {
		diags.AddError("Unexpected provider data",
			fmt.Sprintf("Expected *pesClient, got %T. This is a bug in the provider; please report it.", data))
		return nil
	}
	return c
}

// dataSourceClient is embedded by every data source: its Configure keeps
// the client the provider hands over.
type dataSourceClient struct {
	c *pesClient
}

func (d *dataSourceClient) Configure(_ context.Context, req datasource.ConfigureRequest, resp *datasource.ConfigureResponse) {
	d.c = clientFrom(req.ProviderData, &resp.Diagnostics)
}

// resourceClient is dataSourceClient for resources.
type resourceClient struct {
	c *pesClient
}

func (r *resourceClient) Configure(_ context.Context, req resource.ConfigureRequest, resp *resource.ConfigureResponse) {
	r.c = clientFrom(req.ProviderData, &resp.Diagnostics)
}

// ready reports whether the provider was configured (c is not nil), and
// when it was not, says what could not be done ("reading a trigger").
func (c *pesClient) ready(diags *diag.Diagnostics, doing string) bool {
	if c == nil {
		diags.AddError("Provider not configured", "The pes provider was not configured before "+doing+".")
		return false
	}
	return true
}

// load reads a configuration, plan or state into a model of type M; false
// when it could not (diags says why).
func load[M any](ctx context.Context, from interface {
	Get(context.Context, any) diag.Diagnostics
}, diags *diag.Diagnostics) (M, bool) {
	var m M
	diags.Append(getModel(ctx, from, &m)...)
	return m, !diags.HasError()
}

// loadUpdate reads the plan and the prior state of an update.
func loadUpdate[M any](ctx context.Context, req resource.UpdateRequest, diags *diag.Diagnostics) (plan, state M, ok bool) {
	plan, planOK := load[M](ctx, req.Plan, diags)
	state, stateOK := load[M](ctx, req.State, diags)
	return plan, state, planOK && stateOK
}

// deleteByID deletes the object whose ID is in the state with del. One
// that is already gone is no error: either way it no longer exists.
func (c *pesClient) deleteByID(ctx context.Context, st tfsdk.State, diags *diag.Diagnostics, what string, del func(context.Context, string) error) {
	var id types.String
	diags.Append(st.GetAttribute(ctx, path.Root("id"), &id)...)
	if diags.HasError() {
		return
	}
	if err := del(ctx, id.ValueString()); err != nil && !client.IsNotFound(err) {
		diags.Append(apiErrorDiag("Cannot delete "+what, c.endpoint, id.ValueString(), err))
	}
}
