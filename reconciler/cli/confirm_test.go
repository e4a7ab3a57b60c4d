package cli

import (
	"bytes"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/pes-project/terraform-provider-pes/reconciler/api"
	"github.com/pes-project/terraform-provider-pes/reconciler/cli/clitest"
)

// TestInstructConfirmation: an immediate change of more than 20 nodes or
// more than 2× the desired quantity is confirmed at a terminal, refused
// without one unless --yes, and never sent when not confirmed.
func TestInstructConfirmation(t *testing.T) {
	f := clitest.NewAPI()
	f.Groups = append(f.Groups,
		api.Group{ID: "g-big", GroupConfig: api.GroupConfig{Name: "big", Driver: "sim", DesiredQuantity: 30, MaxQuantity: 100}, Status: api.GroupActive},
		api.Group{ID: "g-laptop", GroupConfig: api.GroupConfig{Name: "laptop", Driver: "local", DesiredQuantity: 2, MaxQuantity: 4}, Status: api.GroupActive})
	srv := httptest.NewServer(f.Handler())
	t.Cleanup(srv.Close)
	t.Setenv("PES_ENDPOINT", srv.URL)
	t.Setenv("PES_TOKEN", clitest.Token)

	tests := []struct {
		name     string
		args     []string
		stdin    string
		terminal bool
		wantCode int
		wantSent bool
		wantErr  string // in stderr ("" : nothing asked, nothing said)
	}{
		{name: "more than 20 nodes, no terminal", args: []string{"--group", "big", "--change-by", "25", "--immediate"},
			wantCode: ExitUsage, wantErr: "this changes group big from 30 to 55 nodes at once (more than 20 nodes at once); stdin is not a terminal to confirm it, so pass --yes to go ahead"},
		{name: "more than 2×, no terminal", args: []string{"--group", "web", "--change-by-percent", "150", "--immediate"},
			wantCode: ExitUsage, wantErr: "from 3 to 8 nodes at once (more than 2× its desired quantity)"},
		{name: "scale-in of more than 20", args: []string{"--group", "big", "--set-to", "5", "--immediate"},
			wantCode: ExitUsage, wantErr: "from 30 to 5 nodes at once (more than 20 nodes at once)"},
		{name: "--yes", args: []string{"--group", "big", "--change-by", "25", "--immediate", "--yes"}, wantSent: true},
		{name: "confirmed at the terminal", args: []string{"--group", "big", "--change-by", "25", "--immediate"},
			stdin: "y\n", terminal: true, wantSent: true, wantErr: "from 30 to 55 nodes at once (more than 20 nodes at once). Go ahead? [y/N]"},
		{name: "declined at the terminal", args: []string{"--group", "big", "--change-by", "25", "--immediate"},
			stdin: "\n", terminal: true, wantCode: ExitError, wantErr: "not confirmed; nothing was sent"},
		{name: "no answer at the terminal", args: []string{"--group", "big", "--change-by", "25", "--immediate"},
			terminal: true, wantCode: ExitError, wantErr: "not confirmed; nothing was sent"},
		{name: "not immediate: the period is time to think", args: []string{"--group", "big", "--change-by", "25"}, wantSent: true},
		{name: "a small immediate change", args: []string{"--group", "big", "--change-by", "20", "--immediate"}, wantSent: true},
		{name: "doubling is not more than 2×", args: []string{"--group", "web", "--set-to", "6", "--immediate"}, wantSent: true},
		// 500 asked, but the group's max_quantity 4 is where pesd will
		// stop: 2 → 4 is no more than 2×.
		{name: "within the bounds pesd clamps to", args: []string{"--group", "laptop", "--change-by", "500", "--immediate"}, wantSent: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f.Mu.Lock()
			f.Instructions = nil
			f.Mu.Unlock()
			var out, errb bytes.Buffer
			code := instruct(tt.args, strings.NewReader(tt.stdin), tt.terminal, &out, &errb)
			f.Mu.Lock()
			sent := len(f.Instructions) > 0
			f.Mu.Unlock()
			if code != tt.wantCode || sent != tt.wantSent {
				t.Errorf("exit %d, sent %v; want exit %d, sent %v\nstdout:\n%s\nstderr:\n%s", code, sent, tt.wantCode, tt.wantSent, out.String(), errb.String())
			}
			if tt.wantErr == "" && errb.Len() > 0 {
				t.Errorf("stderr %q, want nothing", errb.String())
			}
			if !strings.Contains(errb.String(), tt.wantErr) {
				t.Errorf("stderr %q lacks %q", errb.String(), tt.wantErr)
			}
		})
	}
}
