// Command floor is BenchmarkTerraformApply's framework-based floor
// (provider/internal/floor), in a binary of its own that links what the
// provider links.
package main

import (
	"fmt"
	"os"

	"github.com/pes-project/terraform-provider-pes/provider/internal/floor"
)

func main() {
	if err := floor.Main(); err != nil {
		fmt.Fprintln(os.Stderr, "floor provider:", err)
		os.Exit(1)
	}
}
