// Package standin is the benchmark's protocol-level stand-in provider:
// written directly on terraform-plugin-go's tfprotov6 server, without the
// plugin framework, it serves whatever schemas it is given and does
// nothing behind them. Plan returns the proposed state with each unset
// computed attribute unknown; Apply fills every unknown with a constant;
// Read keeps the state.
//
// BenchmarkTerraformApply runs it with pes's exact schemas (what the size
// of the schemas costs in Terraform and on the wire, without the
// framework) and with a schema as small as terraform_data's (what being a
// plugin process at all costs against a built-in resource). It is built
// into its own small binary (provider/testdata/standin) that links only
// terraform-plugin-go, so a process start costs what it costs any
// provider written on the protocol.
//
// The package also holds what the framework-based floor shares with it:
// filling unknowns (Known) and the log of each process's CPU (LogCPU,
// ReadCPULog).
package standin

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6/tf6server"
	"github.com/hashicorp/terraform-plugin-go/tftypes"

	"github.com/pes-project/terraform-provider-pes/provider/internal/pluginproc"
)

// Schemas is what the stand-in serves: a provider's schemas and server
// capabilities, as its GetProviderSchema answered them.
type Schemas struct {
	Capabilities *tfprotov6.ServerCapabilities
	Provider     *tfprotov6.Schema
	Resources    map[string]*tfprotov6.Schema
	DataSources  map[string]*tfprotov6.Schema
}

// FromResponse takes the schemas a provider's GetProviderSchema answered.
func FromResponse(r *tfprotov6.GetProviderSchemaResponse) Schemas {
	return Schemas{Capabilities: r.ServerCapabilities, Provider: r.Provider, Resources: r.ResourceSchemas, DataSources: r.DataSourceSchemas}
}

// WriteFile writes s to path, for Main to read.
func (s Schemas) WriteFile(path string) error {
	b, err := json.Marshal(s)
	if err != nil {
		return err
	}
	return os.WriteFile(path, b, 0o600)
}

// ReadFile reads the schemas WriteFile wrote.
func ReadFile(path string) (Schemas, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return Schemas{}, err
	}
	var j struct {
		Capabilities           *tfprotov6.ServerCapabilities
		Provider               *jsonSchema
		Resources, DataSources map[string]*jsonSchema
	}
	if err := json.Unmarshal(b, &j); err != nil {
		return Schemas{}, fmt.Errorf("%s: %w", path, err)
	}
	s := Schemas{Capabilities: j.Capabilities, Resources: map[string]*tfprotov6.Schema{}, DataSources: map[string]*tfprotov6.Schema{}}
	if s.Provider, err = j.Provider.schema(); err != nil {
		return Schemas{}, err
	}
	for name, js := range j.Resources {
		if s.Resources[name], err = js.schema(); err != nil {
			return Schemas{}, fmt.Errorf("%s: %w", name, err)
		}
	}
	for name, js := range j.DataSources {
		if s.DataSources[name], err = js.schema(); err != nil {
			return Schemas{}, fmt.Errorf("%s: %w", name, err)
		}
	}
	return s, nil
}

// The JSON of a tfprotov6 schema as encoding/json writes it, read back:
// each type is written by tftypes' MarshalJSON but read as an interface,
// so these shadow the fields that hold types or nest them.
type (
	jsonSchema struct {
		Version int64
		Block   *jsonBlock
	}
	jsonBlock struct {
		tfprotov6.SchemaBlock
		Attributes []*jsonAttribute
		BlockTypes []*jsonNestedBlock
	}
	jsonAttribute struct {
		tfprotov6.SchemaAttribute
		Type       json.RawMessage
		NestedType *jsonObject
	}
	jsonObject struct {
		Attributes []*jsonAttribute
		Nesting    tfprotov6.SchemaObjectNestingMode
	}
	jsonNestedBlock struct {
		tfprotov6.SchemaNestedBlock
		Block *jsonBlock
	}
)

func (j *jsonSchema) schema() (*tfprotov6.Schema, error) {
	if j == nil {
		return nil, nil
	}
	b, err := j.Block.block()
	return &tfprotov6.Schema{Version: j.Version, Block: b}, err
}

func (j *jsonBlock) block() (*tfprotov6.SchemaBlock, error) {
	if j == nil {
		return nil, nil
	}
	b := j.SchemaBlock
	var err error
	if b.Attributes, err = attributes(j.Attributes); err != nil {
		return nil, err
	}
	for _, jn := range j.BlockTypes {
		n := jn.SchemaNestedBlock
		if n.Block, err = jn.Block.block(); err != nil {
			return nil, fmt.Errorf("%s: %w", n.TypeName, err)
		}
		b.BlockTypes = append(b.BlockTypes, &n)
	}
	return &b, nil
}

func attributes(js []*jsonAttribute) ([]*tfprotov6.SchemaAttribute, error) {
	var out []*tfprotov6.SchemaAttribute
	for _, j := range js {
		a := j.SchemaAttribute
		if len(j.Type) > 0 && string(j.Type) != "null" {
			t, err := tftypes.ParseJSONType(j.Type) //nolint:staticcheck // the one parser of tftypes' own JSON
			if err != nil {
				return nil, fmt.Errorf("%s: %w", a.Name, err)
			}
			a.Type = t
		}
		if j.NestedType != nil {
			nested, err := attributes(j.NestedType.Attributes)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", a.Name, err)
			}
			a.NestedType = &tfprotov6.SchemaObject{Attributes: nested, Nesting: j.NestedType.Nesting}
		}
		out = append(out, &a)
	}
	return out, nil
}

// Env names the environment variables Main reads.
const (
	// EnvSchemas is the file of Schemas to serve.
	EnvSchemas = "PES_BENCH_STANDIN_SCHEMAS"
	// EnvCPULog is the file LogCPU appends to.
	EnvCPULog = "PES_BENCH_FLOOR_PROVIDER"
)

// Main serves the stand-in under address with the schemas EnvSchemas
// names, until Terraform stops it, then logs its CPU to EnvCPULog.
func Main(address string) error {
	s, err := ReadFile(os.Getenv(EnvSchemas))
	if err != nil {
		return err
	}
	pluginproc.QuietSDKLogs()
	pluginproc.LessGC()
	if err := tf6server.Serve(address, func() tfprotov6.ProviderServer { return &server{s: s} }); err != nil {
		return err
	}
	return LogCPU(os.Getenv(EnvCPULog))
}

// LogCPU appends the CPU this process has used, in milliseconds, as a
// line of path: one line for each plugin process Terraform started.
func LogCPU(path string) error {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintln(f, time.Duration(ru.Utime.Nano()+ru.Stime.Nano()).Milliseconds())
	return errors.Join(err, f.Close())
}

// ReadCPULog is the CPU each process logged to path, in the order they
// ended.
func ReadCPULog(path string) ([]time.Duration, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var cpu []time.Duration
	for _, f := range strings.Fields(string(b)) {
		ms, err := strconv.Atoi(f)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		cpu = append(cpu, time.Duration(ms)*time.Millisecond)
	}
	return cpu, nil
}

// server is the stand-in. What Terraform does not call for a
// configuration of resources (functions, ephemeral resources, import,
// moves) answers with an error.
type server struct{ s Schemas }

var errNotServed = errors.New("not served by the benchmark's stand-in provider")

func (p *server) GetMetadata(context.Context, *tfprotov6.GetMetadataRequest) (*tfprotov6.GetMetadataResponse, error) {
	r := &tfprotov6.GetMetadataResponse{ServerCapabilities: p.s.Capabilities}
	for name := range p.s.Resources {
		r.Resources = append(r.Resources, tfprotov6.ResourceMetadata{TypeName: name})
	}
	for name := range p.s.DataSources {
		r.DataSources = append(r.DataSources, tfprotov6.DataSourceMetadata{TypeName: name})
	}
	return r, nil
}

func (p *server) GetProviderSchema(context.Context, *tfprotov6.GetProviderSchemaRequest) (*tfprotov6.GetProviderSchemaResponse, error) {
	return &tfprotov6.GetProviderSchemaResponse{
		ServerCapabilities: p.s.Capabilities, Provider: p.s.Provider,
		ResourceSchemas: p.s.Resources, DataSourceSchemas: p.s.DataSources,
	}, nil
}

func (p *server) GetResourceIdentitySchemas(context.Context, *tfprotov6.GetResourceIdentitySchemasRequest) (*tfprotov6.GetResourceIdentitySchemasResponse, error) {
	return &tfprotov6.GetResourceIdentitySchemasResponse{}, nil
}

func (p *server) ValidateProviderConfig(_ context.Context, req *tfprotov6.ValidateProviderConfigRequest) (*tfprotov6.ValidateProviderConfigResponse, error) {
	return &tfprotov6.ValidateProviderConfigResponse{PreparedConfig: req.Config}, nil
}

func (p *server) ConfigureProvider(context.Context, *tfprotov6.ConfigureProviderRequest) (*tfprotov6.ConfigureProviderResponse, error) {
	return &tfprotov6.ConfigureProviderResponse{}, nil
}

func (p *server) StopProvider(context.Context, *tfprotov6.StopProviderRequest) (*tfprotov6.StopProviderResponse, error) {
	return &tfprotov6.StopProviderResponse{}, nil
}

func (p *server) ValidateResourceConfig(context.Context, *tfprotov6.ValidateResourceConfigRequest) (*tfprotov6.ValidateResourceConfigResponse, error) {
	return &tfprotov6.ValidateResourceConfigResponse{}, nil
}

func (p *server) UpgradeResourceState(_ context.Context, req *tfprotov6.UpgradeResourceStateRequest) (*tfprotov6.UpgradeResourceStateResponse, error) {
	s, err := p.resource(req.TypeName)
	if err != nil {
		return nil, err
	}
	t := s.ValueType()
	v, err := req.RawState.UnmarshalWithOpts(t, tfprotov6.UnmarshalOpts{ValueFromJSONOpts: tftypes.ValueFromJSONOpts{IgnoreUndefinedAttributes: true}})
	if err != nil {
		return nil, err
	}
	dv, err := tfprotov6.NewDynamicValue(t, v)
	return &tfprotov6.UpgradeResourceStateResponse{UpgradedState: &dv}, err
}

func (p *server) ReadResource(_ context.Context, req *tfprotov6.ReadResourceRequest) (*tfprotov6.ReadResourceResponse, error) {
	return &tfprotov6.ReadResourceResponse{NewState: req.CurrentState, Private: req.Private}, nil
}

func (p *server) PlanResourceChange(_ context.Context, req *tfprotov6.PlanResourceChangeRequest) (*tfprotov6.PlanResourceChangeResponse, error) {
	s, err := p.resource(req.TypeName)
	if err != nil {
		return nil, err
	}
	t := s.ValueType()
	proposed, err := req.ProposedNewState.Unmarshal(t)
	if err != nil {
		return nil, err
	}
	prior, err := req.PriorState.Unmarshal(t)
	if err != nil {
		return nil, err
	}
	planned := proposed
	if !proposed.IsNull() && !proposed.Equal(prior) {
		if planned, err = unknownComputed(s.Block, proposed); err != nil {
			return nil, err
		}
	}
	dv, err := tfprotov6.NewDynamicValue(t, planned)
	return &tfprotov6.PlanResourceChangeResponse{PlannedState: &dv, PlannedPrivate: req.PriorPrivate}, err
}

func (p *server) ApplyResourceChange(_ context.Context, req *tfprotov6.ApplyResourceChangeRequest) (*tfprotov6.ApplyResourceChangeResponse, error) {
	s, err := p.resource(req.TypeName)
	if err != nil {
		return nil, err
	}
	t := s.ValueType()
	planned, err := req.PlannedState.Unmarshal(t)
	if err != nil {
		return nil, err
	}
	dv, err := tfprotov6.NewDynamicValue(t, Known(planned))
	return &tfprotov6.ApplyResourceChangeResponse{NewState: &dv, Private: req.PlannedPrivate}, err
}

func (p *server) ImportResourceState(context.Context, *tfprotov6.ImportResourceStateRequest) (*tfprotov6.ImportResourceStateResponse, error) {
	return nil, errNotServed
}

func (p *server) MoveResourceState(context.Context, *tfprotov6.MoveResourceStateRequest) (*tfprotov6.MoveResourceStateResponse, error) {
	return nil, errNotServed
}

func (p *server) UpgradeResourceIdentity(context.Context, *tfprotov6.UpgradeResourceIdentityRequest) (*tfprotov6.UpgradeResourceIdentityResponse, error) {
	return nil, errNotServed
}

func (p *server) GenerateResourceConfig(context.Context, *tfprotov6.GenerateResourceConfigRequest) (*tfprotov6.GenerateResourceConfigResponse, error) {
	return nil, errNotServed
}

func (p *server) ValidateDataResourceConfig(context.Context, *tfprotov6.ValidateDataResourceConfigRequest) (*tfprotov6.ValidateDataResourceConfigResponse, error) {
	return &tfprotov6.ValidateDataResourceConfigResponse{}, nil
}

func (p *server) ReadDataSource(_ context.Context, req *tfprotov6.ReadDataSourceRequest) (*tfprotov6.ReadDataSourceResponse, error) {
	s, ok := p.s.DataSources[req.TypeName]
	if !ok {
		return nil, fmt.Errorf("no data source %q", req.TypeName)
	}
	t := s.ValueType()
	config, err := req.Config.Unmarshal(t)
	if err != nil {
		return nil, err
	}
	dv, err := tfprotov6.NewDynamicValue(t, Known(config))
	return &tfprotov6.ReadDataSourceResponse{State: &dv}, err
}

func (p *server) ValidateEphemeralResourceConfig(context.Context, *tfprotov6.ValidateEphemeralResourceConfigRequest) (*tfprotov6.ValidateEphemeralResourceConfigResponse, error) {
	return nil, errNotServed
}

func (p *server) OpenEphemeralResource(context.Context, *tfprotov6.OpenEphemeralResourceRequest) (*tfprotov6.OpenEphemeralResourceResponse, error) {
	return nil, errNotServed
}

func (p *server) RenewEphemeralResource(context.Context, *tfprotov6.RenewEphemeralResourceRequest) (*tfprotov6.RenewEphemeralResourceResponse, error) {
	return nil, errNotServed
}

func (p *server) CloseEphemeralResource(context.Context, *tfprotov6.CloseEphemeralResourceRequest) (*tfprotov6.CloseEphemeralResourceResponse, error) {
	return nil, errNotServed
}

func (p *server) GetFunctions(context.Context, *tfprotov6.GetFunctionsRequest) (*tfprotov6.GetFunctionsResponse, error) {
	return &tfprotov6.GetFunctionsResponse{}, nil
}

func (p *server) CallFunction(context.Context, *tfprotov6.CallFunctionRequest) (*tfprotov6.CallFunctionResponse, error) {
	return nil, errNotServed
}

func (p *server) resource(name string) (*tfprotov6.Schema, error) {
	s, ok := p.s.Resources[name]
	if !ok {
		return nil, fmt.Errorf("no resource %q", name)
	}
	return s, nil
}

// unknownComputed is v with each null computed attribute unknown, as a
// plan leaves what the provider will fill in.
func unknownComputed(b *tfprotov6.SchemaBlock, v tftypes.Value) (tftypes.Value, error) {
	return tftypes.Transform(v, func(p *tftypes.AttributePath, v tftypes.Value) (tftypes.Value, error) {
		if v.IsNull() {
			if a := attributeAt(b, p); a != nil && a.Computed {
				return tftypes.NewValue(v.Type(), tftypes.UnknownValue), nil
			}
		}
		return v, nil
	})
}

// attributeAt is the attribute of b at p, nil when p leads to a block, an
// element or nowhere.
func attributeAt(b *tfprotov6.SchemaBlock, p *tftypes.AttributePath) *tfprotov6.SchemaAttribute {
	attrs, blocks := b.Attributes, b.BlockTypes
	var found *tfprotov6.SchemaAttribute
	for _, step := range p.Steps() {
		name, ok := step.(tftypes.AttributeName)
		if !ok {
			found = nil // an element of a nested collection: its attributes come next
			continue
		}
		found = nil
		for _, a := range attrs {
			if a.Name == string(name) {
				found = a
			}
		}
		if found != nil {
			attrs, blocks = nil, nil
			if found.NestedType != nil {
				attrs = found.NestedType.Attributes
			}
			continue
		}
		var nested *tfprotov6.SchemaBlock
		for _, nb := range blocks {
			if nb.TypeName == string(name) {
				nested = nb.Block
			}
		}
		if nested == nil {
			return nil
		}
		attrs, blocks = nested.Attributes, nested.BlockTypes
	}
	return found
}

// ids makes each filled-in string distinct, as IDs are.
var ids atomic.Int64

// Known replaces every unknown part of v with a plausible constant of its
// type: a distinct ID-like string, 0, false, an empty collection, an
// object of such constants.
func Known(v tftypes.Value) tftypes.Value {
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
		return tftypes.NewValue(t, fmt.Sprintf("floor-%016x", ids.Add(1)))
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
