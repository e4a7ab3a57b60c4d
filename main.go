// Command terraform-provider-pes is the Terraform provider for pes: node
// groups, capacity triggers and the causality of every capacity change.
package main

import (
	"context"
	"flag"
	"log"

	"github.com/pes-project/terraform-provider-pes/provider"
	"github.com/pes-project/terraform-provider-pes/reconciler/buildinfo"
)

func main() {
	var debug bool
	flag.BoolVar(&debug, "debug", false, "run the provider with support for debuggers like delve")
	flag.Parse()
	if err := provider.Serve(context.Background(), provider.New(buildinfo.Version()), debug); err != nil {
		log.Fatal(err)
	}
}
