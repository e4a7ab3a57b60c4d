package buildinfo

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// TestLinkerFlags builds a program printing Get() with the release's
// -X flags and without, and checks what each says.
func TestLinkerFlags(t *testing.T) {
	dir := t.TempDir()
	main := filepath.Join(dir, "main.go")
	src := "package main\n\nimport (\n\t\"fmt\"\n\n\t\"github.com/pes-project/terraform-provider-pes/reconciler/buildinfo\"\n)\n\n" +
		"func main() { i := buildinfo.Get(); fmt.Println(i.Version, i.Commit, i.GoVersion, i.Platform) }\n"
	if err := os.WriteFile(main, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	const pkg = "github.com/pes-project/terraform-provider-pes/reconciler/buildinfo"
	for _, tt := range []struct {
		name    string
		ldflags string
		want    string
	}{
		{"release", "-X " + pkg + ".version=1.2.3 -X " + pkg + ".commit=abc123", "1.2.3 abc123 " + runtime.Version() + " " + runtime.GOOS + "/" + runtime.GOARCH},
		{"plain build", "", "dev "},
	} {
		t.Run(tt.name, func(t *testing.T) {
			out, err := exec.Command("go", "run", "-ldflags", tt.ldflags, main).CombinedOutput()
			if err != nil {
				t.Fatalf("go run: %v\n%s", err, out)
			}
			if !strings.HasPrefix(string(out), tt.want) {
				t.Errorf("printed %q, want it to start with %q", out, tt.want)
			}
		})
	}
}
