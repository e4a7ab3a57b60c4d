package provider

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/providerserver"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-testing/terraform"

	"github.com/pes-project/terraform-provider-pes/reconciler/api"
	"github.com/pes-project/terraform-provider-pes/reconciler/client"
	"github.com/pes-project/terraform-provider-pes/reconciler/driver/kubernetes/kubetest"
)

// The acceptance tests run against a real pesd (SQLite in a temporary
// directory, sim and local drivers) that TestMain builds and starts when
// TF_ACC is set; the provider runs in the test process.

var testAccProtoV6ProviderFactories = map[string]func() (tfprotov6.ProviderServer, error){
	"pes": providerserver.NewProtocol6WithError(New("test")()),
}

// accKube is the Kubernetes cluster pesd's kubernetes driver runs pods on,
// nil when its binaries are missing (accKubeMissing says which).
var (
	accKube        *kubetest.Cluster
	accKubeMissing string
)

// accPesd is the pesd the acceptance tests talk to.
var accPesd struct {
	endpoint, token string
}

const accToken = "acc-test-token"

func TestMain(m *testing.M) {
	os.Exit(runTests(m))
}

func runTests(m *testing.M) int {
	if os.Getenv("TF_ACC") == "" {
		return m.Run() // unit tests only; resource.Test skips the rest
	}
	tmp, err := os.MkdirTemp("", "pes-provider-acc-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "acceptance tests:", err)
		return 1
	}
	defer os.RemoveAll(tmp)

	// A Kubernetes control plane for the kubernetes driver's tests, when
	// its binaries are here (`make kube`); without it pesd runs without
	// the driver and those tests skip (fail in CI).
	kubeconfig := ""
	if missing, where := kubetest.Missing(); len(missing) == 0 {
		c, err := kubetest.Start(kubetest.Options{Nodes: 2})
		if err != nil {
			fmt.Fprintln(os.Stderr, "acceptance tests: cannot start the Kubernetes test cluster:", err)
			return 1
		}
		defer c.Stop()
		accKube, kubeconfig = c, c.Kubeconfig
	} else {
		accKubeMissing = fmt.Sprintf("the kubernetes acceptance tests need %s (not in %s): `make kube` gets them",
			strings.Join(missing, ", "), strings.Join(where, ", "))
	}

	flags := []string{"--evaluation-interval", "200ms", "--observe-interval", "100ms"}
	if kubeconfig != "" {
		flags = append(flags, "--kubeconfig", kubeconfig)
	}
	endpoint, stop, err := startPesd(tmp, flags...)
	if err != nil {
		fmt.Fprintln(os.Stderr, "acceptance tests: cannot start pesd:", err)
		return 1
	}
	defer stop()
	accPesd.endpoint, accPesd.token = endpoint, accToken

	// Our own Terraform CLI configuration: the environment may point at a
	// file that does not exist, which makes every terraform command warn.
	cliConfig := filepath.Join(tmp, "terraformrc")
	if err := os.WriteFile(cliConfig, []byte("disable_checkpoint = true\n"), 0o600); err != nil {
		fmt.Fprintln(os.Stderr, "acceptance tests:", err)
		return 1
	}
	os.Setenv("TF_CLI_CONFIG_FILE", cliConfig)
	os.Setenv("CHECKPOINT_DISABLE", "1")
	if os.Getenv("TF_ACC_TERRAFORM_PATH") == "" {
		// Never let terraform-plugin-testing download a CLI.
		if p, err := exec.LookPath("terraform"); err == nil {
			os.Setenv("TF_ACC_TERRAFORM_PATH", p)
		}
	}
	os.Setenv(EnvEndpoint, accPesd.endpoint)
	os.Setenv(EnvToken, accPesd.token)
	return m.Run()
}

// startPesd builds ./reconciler/cmd/pesd and starts `pesd serve` with
// flags on a free loopback port, with the token accToken, returning once
// it printed where it listens.
func startPesd(tmp string, flags ...string) (endpoint string, stop func(), err error) {
	bin := filepath.Join(tmp, "pesd")
	build := exec.Command("go", "build", "-o", bin, "./reconciler/cmd/pesd")
	build.Dir = ".." // the module root
	if out, err := build.CombinedOutput(); err != nil {
		return "", nil, fmt.Errorf("go build ./reconciler/cmd/pesd: %w\n%s", err, out)
	}
	logPath := filepath.Join(tmp, "pesd.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		return "", nil, err
	}
	cmd := exec.Command(bin, append([]string{"serve",
		"--listen", "127.0.0.1:0",
		"--data-dir", filepath.Join(tmp, "data"),
		"--token", accToken,
	}, flags...)...)
	cmd.Stderr = logFile
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return "", nil, err
	}
	if err := cmd.Start(); err != nil {
		return "", nil, err
	}
	lines := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		first := true
		for sc.Scan() {
			if first {
				lines <- sc.Text()
				first = false
			}
			fmt.Fprintln(logFile, sc.Text())
		}
		close(lines)
	}()

	// pesd serves every acceptance test: if it dies before they end, say
	// so with its log, which goes with the temporary directory.
	var stopping atomic.Bool
	done := make(chan struct{})
	go func() {
		err := cmd.Wait()
		if !stopping.Load() {
			fmt.Fprintf(os.Stderr, "acceptance tests: the shared pesd exited before the tests ended (%v); its log:\n%s\n", err, tail(logPath))
		}
		close(done)
	}()
	kill := func() {
		stopping.Store(true)
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
		logFile.Close()
	}
	select {
	case line, ok := <-lines:
		const prefix = "pesd listening on "
		if !ok || !strings.HasPrefix(line, prefix) {
			kill()
			return "", nil, fmt.Errorf("pesd printed %q, not %q...; its log:\n%s", line, prefix, tail(logPath))
		}
		endpoint = strings.Fields(strings.TrimPrefix(line, prefix))[0]
	case <-time.After(30 * time.Second):
		kill()
		return "", nil, fmt.Errorf("pesd did not say where it listens within 30s; its log:\n%s", tail(logPath))
	}

	return endpoint, func() {
		// Local nodes outlive pesd by design: delete every group so no
		// test leaves processes behind, whatever failed.
		if c, err := client.New(endpoint, accToken); err == nil {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			groups, _ := c.ListAllGroups(ctx, client.GroupFilter{})
			for _, g := range groups {
				_ = c.DeleteGroup(ctx, g.ID)
			}
			cancel()
		}
		kill()
		if os.Getenv("PES_ACC_PESD_LOG") != "" {
			fmt.Fprintf(os.Stderr, "pesd log:\n%s\n", tail(logPath))
		}
	}, nil
}

func tail(path string) string {
	f, err := os.Open(path)
	if err != nil {
		return err.Error()
	}
	defer f.Close()
	b, _ := io.ReadAll(f)
	const keep = 4000
	if len(b) > keep {
		b = b[len(b)-keep:]
	}
	return string(b)
}

// testClient is a client of the acceptance tests' pesd, for PreConfig and
// Check functions that act behind Terraform's back.
func testClient(t *testing.T) *client.Client {
	t.Helper()
	c, err := client.New(accPesd.endpoint, accPesd.token)
	if err != nil {
		t.Fatalf("client: %v", err)
	}
	return c
}

// stateID returns the ID of a resource in the state.
func stateID(s *terraform.State, name string) (string, error) {
	rs, ok := s.RootModule().Resources[name]
	if !ok {
		return "", fmt.Errorf("%s is not in the state", name)
	}
	return rs.Primary.ID, nil
}

// captureID is a Check that stores a resource's ID for later steps.
func captureID(name string, dst *string) func(*terraform.State) error {
	return func(s *terraform.State) error {
		id, err := stateID(s, name)
		*dst = id
		return err
	}
}

// waitFor polls cond until it holds or the deadline passes. Acceptance
// tests wait on a real pesd, whose triggers evaluate on a real clock.
func waitFor(t *testing.T, what string, timeout time.Duration, cond func() (bool, error)) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		ok, err := cond()
		if err != nil {
			t.Fatalf("waiting for %s: %v", what, err)
		}
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("waiting for %s: not after %s", what, timeout)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// waitForEvent waits until the group has an event of the given type and
// returns it.
func waitForEvent(t *testing.T, c *client.Client, groupID, typ string) api.Event {
	t.Helper()
	var found api.Event
	waitFor(t, "a "+typ+" event", 20*time.Second, func() (bool, error) {
		events, err := c.ListAllEvents(context.Background(), groupID, client.EventFilter{Type: typ})
		if err != nil || len(events) == 0 {
			return false, err
		}
		found = events[len(events)-1]
		return true, nil
	})
	return found
}
