package provider

import (
	"context"
	"os"
	"runtime/debug"

	"github.com/hashicorp/terraform-plugin-framework/provider"
	"github.com/hashicorp/terraform-plugin-framework/providerserver"
)

// Serve runs the plugin process Terraform started for the provider p
// makes, until Terraform stops it. The benchmark's floor serves its
// stand-in through here too, so both processes run alike.
func Serve(ctx context.Context, p func() provider.Provider, debugger bool) error {
	quietSDKLogs()
	lessGC()
	return providerserver.Serve(ctx, p, providerserver.ServeOpts{
		Address:         Address,
		Debug:           debugger,
		ProtocolVersion: 6,
	})
}

// quietSDKLogs turns the plugin SDK's own logs off when Terraform will
// drop them anyway (neither TF_LOG nor TF_LOG_PROVIDER is set). The SDK
// logs every call at trace level by default; Terraform reads each JSON
// line from the plugin's stderr and discards it, which cost a third of
// the CPU of an apply. Levels set explicitly are left alone, and so are
// the provider's own log lines.
func quietSDKLogs() {
	if os.Getenv("TF_LOG") != "" || os.Getenv("TF_LOG_PROVIDER") != "" {
		return
	}
	for _, name := range []string{"TF_LOG_SDK", "TF_LOG_SDK_PROTO", "TF_LOG_SDK_FRAMEWORK"} {
		if _, set := os.LookupEnv(name); !set {
			os.Setenv(name, "off")
		}
	}
}

// lessGC lets the heap grow to 5× what is live before a collection
// (GOGC=400) rather than Go's default 2×. A provider process lives for
// one plan or apply and keeps a few MiB, so at the default it collects
// every few MiB allocated: at 400 an apply of 50 node groups and 100
// triggers took about 30% less of the provider's CPU, for a few MiB more
// memory. GOGC, when set, rules.
func lessGC() {
	if _, set := os.LookupEnv("GOGC"); !set {
		debug.SetGCPercent(400)
	}
}
