// Command openapi writes pesd's OpenAPI description (as served at GET
// /v1/openapi.json) to the file named by its argument: make docs
// publishes it as docs/openapi.json.
package main

import (
	"fmt"
	"os"

	"github.com/pes-project/terraform-provider-pes/reconciler/server"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: openapi FILE")
		os.Exit(2)
	}
	b, err := server.OpenAPI()
	if err == nil {
		err = os.WriteFile(os.Args[1], b, 0o644)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "openapi:", err)
		os.Exit(1)
	}
}
