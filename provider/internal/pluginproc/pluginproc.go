// Package pluginproc sets up a provider plugin process the way this
// provider runs: the provider binary and the benchmark's protocol-level
// stand-ins share it, so they run alike.
package pluginproc

import (
	"os"
	"runtime/debug"
)

// QuietSDKLogs turns the plugin SDK's own logs off when Terraform will
// drop them anyway (neither TF_LOG nor TF_LOG_PROVIDER is set). The SDK
// logs every call at trace level by default; Terraform reads each JSON
// line from the plugin's stderr and discards it, which cost a third of
// the CPU of an apply. Levels set explicitly are left alone, and so are
// the provider's own log lines.
func QuietSDKLogs() {
	if os.Getenv("TF_LOG") != "" || os.Getenv("TF_LOG_PROVIDER") != "" {
		return
	}
	for _, name := range []string{"TF_LOG_SDK", "TF_LOG_SDK_PROTO", "TF_LOG_SDK_FRAMEWORK"} {
		if _, set := os.LookupEnv(name); !set {
			os.Setenv(name, "off")
		}
	}
}

// LessGC lets the heap grow to 5× what is live before a collection
// (GOGC=400) rather than Go's default 2×. A provider process lives for
// one plan or apply and keeps a few MiB, so at the default it collects
// every few MiB allocated: at 400 an apply of 50 node groups and 100
// triggers took about 30% less of the provider's CPU, for a few MiB more
// memory. GOGC, when set, rules.
func LessGC() {
	if _, set := os.LookupEnv("GOGC"); !set {
		debug.SetGCPercent(400)
	}
}
