package provider

import (
	"context"

	"github.com/hashicorp/terraform-plugin-framework/provider"
	"github.com/hashicorp/terraform-plugin-framework/providerserver"

	"github.com/pes-project/terraform-provider-pes/provider/internal/pluginproc"
)

// Serve runs the plugin process Terraform started for the provider p
// makes, until Terraform stops it. The benchmark's floor serves its
// stand-in through here too, so both processes run alike.
func Serve(ctx context.Context, p func() provider.Provider, debugger bool) error {
	pluginproc.QuietSDKLogs()
	pluginproc.LessGC()
	return providerserver.Serve(ctx, p, providerserver.ServeOpts{
		Address:         Address,
		Debug:           debugger,
		ProtocolVersion: 6,
	})
}
