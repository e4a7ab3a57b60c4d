// Command standin is BenchmarkTerraformApply's protocol-level stand-in
// provider (provider/internal/standin), in a binary of its own so that it
// links nothing but terraform-plugin-go.
package main

import (
	"fmt"
	"os"

	"github.com/pes-project/terraform-provider-pes/provider/internal/standin"
)

func main() {
	if err := standin.Main("registry.terraform.io/pes-project/pes"); err != nil {
		fmt.Fprintln(os.Stderr, "stand-in provider:", err)
		os.Exit(1)
	}
}
