package trigger

import (
	"go/build"
	"strings"
	"testing"
)

// TestPureGo guards what the Terraform provider relies on: trigger and
// metrics build without cgo and reach no store, server, driver or
// controller code.
func TestPureGo(t *testing.T) {
	const module = "github.com/pes-project/terraform-provider-pes/"
	forbidden := []string{"reconciler/store", "reconciler/server", "reconciler/driver", "reconciler/controller"}
	seen := map[string]bool{}
	var visit func(path, from string)
	visit = func(path, from string) {
		if seen[path] || !strings.HasPrefix(path, module) {
			return
		}
		seen[path] = true
		for _, f := range forbidden {
			if strings.HasPrefix(path, module+f) {
				t.Errorf("%s imports %s", from, path)
			}
		}
		pkg, err := build.Import(path, ".", 0)
		if err != nil {
			t.Fatalf("import %s: %v", path, err)
		}
		if len(pkg.CgoFiles) > 0 {
			t.Errorf("%s uses cgo", path)
		}
		for _, imp := range pkg.Imports {
			visit(imp, path)
		}
	}
	visit(module+"reconciler/trigger", "")
	visit(module+"reconciler/window", "")
	if !seen[module+"reconciler/api"] {
		t.Error("the walk did not reach reconciler/api: is it looking at the right packages?")
	}
}
