package sqlite

import (
	"bufio"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pes-project/terraform-provider-pes/reconciler/api"
	"github.com/pes-project/terraform-provider-pes/reconciler/store"
)

// childEnv names the database the helper process writes to; it is set only
// in the child that TestKill9LosesNothing starts.
const childEnv = "PES_SQLITE_DURABILITY_CHILD_DB"

// TestMain runs the child of TestKill9LosesNothing instead of the tests
// when childEnv is set. (A helper written as a test would skip in every
// normal run, and a skip fails CI.)
func TestMain(m *testing.M) {
	if path := os.Getenv(childEnv); path != "" {
		durabilityChild(path)
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// durabilityChild writes causality (event + change + nexus, with labels)
// from several goroutines, printing "ack <event> <change>" after each
// Update returns, until it is killed.
func durabilityChild(path string) {
	s, err := Open(path)
	if err != nil {
		fmt.Println("error", err)
		os.Exit(2)
	}
	ctx := context.Background()
	// Labels come from counters held in memory, as pesd's controller
	// issues them: under a lock, recovered from the store at start,
	// advanced when the transaction that sets them commits.
	labels, err := s.Labels(ctx, "g1")
	if err != nil {
		fmt.Println("error", err)
		os.Exit(2)
	}
	var labelMu sync.Mutex
	var mu sync.Mutex
	var wg sync.WaitGroup
	deadline := time.Now().Add(30 * time.Second) // never outlive a lost parent
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; time.Now().Before(deadline); i++ {
				eid, cid, xid := fmt.Sprintf("e-%d-%d", w, i), fmt.Sprintf("c-%d-%d", w, i), fmt.Sprintf("x-%d-%d", w, i)
				labelMu.Lock()
				next := store.Labels{E: labels.E + 1, C: labels.C + 1, H: labels.H}
				el, cl := fmt.Sprintf("E%d", next.E), fmt.Sprintf("C%d", next.C)
				err := s.Update(ctx, func(tx store.Tx) error {
					now := time.Now().UTC()
					if err := tx.SetLabels("g1", next); err != nil {
						return err
					}
					e := api.Event{ID: eid, Label: el, GroupID: "g1", Type: api.EventUserInstruction, Time: now,
						Status: api.EventApplied, NexusID: xid, Description: strings.Repeat("why ", 50)}
					c := api.Change{ID: cid, Label: cl, GroupID: "g1", Type: api.ChangeAddNodes, Amount: 1,
						StartedAt: now, NexusID: xid, Attribution: api.AttributionDirect, NodeIDs: []string{"n"}}
					if err := tx.InsertEvent(e); err != nil {
						return err
					}
					if err := tx.InsertChange(c); err != nil {
						return err
					}
					return tx.InsertNexus(api.Nexus{ID: xid, GroupID: "g1", Attribution: api.AttributionDirect,
						EventIDs: []string{eid}, ChangeIDs: []string{cid}, CreatedAt: now})
				})
				if err == nil {
					labels = next
				}
				labelMu.Unlock()
				mu.Lock()
				if err != nil {
					fmt.Println("error", err)
				} else {
					fmt.Println("ack", eid, cid)
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	s.Close()
}

// TestKill9LosesNothing starts a child that commits in a loop, SIGKILLs it
// mid-write, reopens the database and checks that every acknowledged
// write is there, whole, and that the file is consistent.
func TestKill9LosesNothing(t *testing.T) {
	if testing.Short() {
		t.Skip("starts child processes")
	}
	r := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 7))
	for range 3 {
		acks := 150 + r.IntN(350)
		t.Run(fmt.Sprintf("kill after %d acks", acks), func(t *testing.T) {
			killRound(t, acks)
		})
	}
}

func killRound(t *testing.T, killAfter int) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "pes.db")
	s := mustOpen(t, path)
	if err := s.Update(ctx, func(tx store.Tx) error {
		return tx.InsertGroup(api.Group{ID: "g1", GroupConfig: api.GroupConfig{Name: "web"}, Status: api.GroupActive})
	}); err != nil {
		t.Fatal(err)
	}
	s.Close()

	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), childEnv+"="+path)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	type ack struct{ event, change string }
	var acked []ack
	sc := bufio.NewScanner(out)
	killed := false
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		switch {
		case len(f) == 3 && f[0] == "ack":
			acked = append(acked, ack{f[1], f[2]})
		case len(f) > 0 && f[0] == "error":
			t.Errorf("child: %s", sc.Text())
		}
		if !killed && len(acked) >= killAfter {
			// SIGKILL: no deferred Close, no checkpoint, mid-transaction.
			if err := cmd.Process.Kill(); err != nil {
				t.Fatal(err)
			}
			killed = true
		}
	}
	// Lines already in the pipe were printed after their Update returned:
	// they count too.
	_ = cmd.Wait()
	if !killed {
		t.Fatalf("child ended by itself after %d acks", len(acked))
	}

	s, err = Open(path)
	if err != nil {
		t.Fatalf("reopen after kill -9: %v", err)
	}
	defer s.Close()
	var check string
	if err := s.r.QueryRow(`PRAGMA integrity_check`).Scan(&check); err != nil || check != "ok" {
		t.Fatalf("integrity_check: %q %v", check, err)
	}
	rows, err := s.r.Query(`PRAGMA foreign_key_check`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		t.Error("foreign_key_check found a dangling reference")
	}
	rows.Close()

	for _, a := range acked {
		e, err := s.GetEvent(ctx, a.event)
		if err != nil {
			t.Fatalf("acknowledged event lost: %v (of %d acknowledged)", err, len(acked))
		}
		x, err := s.GetNexus(ctx, e.NexusID)
		if err != nil || len(x.ChangeIDs) != 1 || x.ChangeIDs[0] != a.change {
			t.Fatalf("nexus of acknowledged event %s: %+v, %v", a.event, x, err)
		}
		if _, err := s.GetChange(ctx, a.change); err != nil {
			t.Fatalf("acknowledged change lost: %v", err)
		}
	}
	// Whatever else landed landed whole: as many events as changes and
	// nexus rows, and labels E1..En without gaps or repeats.
	var nEvents, nChanges, nNexus, maxE, distinctE, lastE int
	must := func(err error) {
		if err != nil {
			t.Fatal(err)
		}
	}
	must(s.r.QueryRow(`SELECT count(*), max(CAST(substr(label, 2) AS INTEGER)), count(DISTINCT label) FROM events`).Scan(&nEvents, &maxE, &distinctE))
	must(s.r.QueryRow(`SELECT count(*) FROM changes`).Scan(&nChanges))
	must(s.r.QueryRow(`SELECT count(*) FROM nexus`).Scan(&nNexus))
	must(s.r.QueryRow(`SELECT last_event_label FROM groups WHERE id = 'g1'`).Scan(&lastE))
	if nEvents < len(acked) || nEvents != nChanges || nEvents != nNexus {
		t.Errorf("%d acknowledged; found %d events, %d changes, %d nexus rows", len(acked), nEvents, nChanges, nNexus)
	}
	if maxE != nEvents || distinctE != nEvents || lastE != nEvents {
		t.Errorf("labels: %d events, %d distinct labels, highest E%d, counter at %d", nEvents, distinctE, maxE, lastE)
	}
	t.Logf("killed after %d acknowledged writes; %d found after reopen", len(acked), nEvents)
}
