package controller

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pes-project/terraform-provider-pes/reconciler/api"
	"github.com/pes-project/terraform-provider-pes/reconciler/clock"
	"github.com/pes-project/terraform-provider-pes/reconciler/driver"
	"github.com/pes-project/terraform-provider-pes/reconciler/driver/sim"
	"github.com/pes-project/terraform-provider-pes/reconciler/store"
	"github.com/pes-project/terraform-provider-pes/reconciler/store/postgres"
	"github.com/pes-project/terraform-provider-pes/reconciler/store/postgres/pgtest"
)

// owner is an Ownership holding one fence for every group, as a replica
// that does not know yet that it lost its lease.
type owner struct {
	mu   sync.Mutex
	f    store.Fence
	lost []store.Fence
}

func (o *owner) ID() string { return o.f.Owner }

func (o *owner) Fence(string) (store.Fence, bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.f, true
}

func (o *owner) LostFence(f store.Fence) {
	o.mu.Lock()
	o.lost = append(o.lost, f)
	o.mu.Unlock()
}

func (o *owner) Pin(context.Context, string) error { return errors.New("no pins here") }

func (o *owner) lostFences() []store.Fence {
	o.mu.Lock()
	defer o.mu.Unlock()
	return append([]store.Fence(nil), o.lost...)
}

// TestFencedWrites: a controller whose replica lost the lease of a group
// (another replica took it) but has not noticed yet writes nothing: the
// store refuses its write for the stale token in the write's
// transaction, the refusal is logged and counted, and the keeper is told.
func TestFencedWrites(t *testing.T) {
	srv := pgtest.Start(t)
	ctx := context.Background()
	st, err := postgres.Open(ctx, srv.NewDatabase(t))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	a, ok, err := st.Acquire(ctx, 0, "a", time.Minute)
	if err != nil || !ok {
		t.Fatalf("Acquire: %v, %v", ok, err)
	}
	own := &owner{f: store.Fence{Shard: 0, Owner: "a", Generation: a.Generation}}
	var logs bytes.Buffer
	clk := clock.NewFake(t0)
	c, err := New(Options{Store: st, Clock: clk, Drivers: map[string]driver.Driver{api.DriverSim: sim.New(clk)},
		DataDir: t.TempDir(), Ownership: own, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	cfg := api.GroupConfig{Name: "fenced", Driver: api.DriverSim, Program: api.Program{Command: "worker"}, DesiredQuantity: 2}
	if err := api.ResolveGroupConfig(&cfg); err != nil {
		t.Fatal(err)
	}
	g, err := c.CreateGroup(ctx, cfg)
	if err != nil {
		t.Fatalf("CreateGroup under a live lease: %v", err)
	}
	before, _, err := st.ListEvents(ctx, store.EventFilter{GroupID: g.ID})
	if err != nil {
		t.Fatal(err)
	}

	// Replica b takes the shard over (a's lease released, as at a
	// rebalancing); a still holds its old token.
	if err := st.Release(ctx, own.f); err != nil {
		t.Fatal(err)
	}
	if _, ok, err := st.Acquire(ctx, 0, "b", time.Minute); err != nil || !ok {
		t.Fatalf("takeover: %v, %v", ok, err)
	}
	_, err = c.Instruct(ctx, g.ID, api.Instruction{Request: api.Request{ChangeBy: ptr(1)}, Reason: "stale"})
	if !errors.Is(err, store.ErrFenced) {
		t.Fatalf("instruction with a stale token: %v, want ErrFenced", err)
	}
	// Past the period's end and the nodes' boot: the pass has to write.
	clk.Advance(time.Hour)
	if err := c.Tick(ctx); !errors.Is(err, store.ErrFenced) {
		t.Errorf("a pass with a stale token: %v, want ErrFenced", err)
	}
	after, _, err := st.ListEvents(ctx, store.EventFilter{GroupID: g.ID})
	if err != nil {
		t.Fatal(err)
	}
	if len(after) != len(before) {
		t.Errorf("the refused writes recorded %d events", len(after)-len(before))
	}
	if !strings.Contains(logs.String(), "write refused: stale fencing token") {
		t.Errorf("no refusal logged:\n%s", logs.String())
	}
	if s, _ := c.Stats(ctx); s.FencedWrites < 2 {
		t.Errorf("FencedWrites = %d, want the instruction's and the pass's", s.FencedWrites)
	}
	// The keeper is told, from a goroutine of its own.
	deadline := time.Now().Add(10 * time.Second)
	for len(own.lostFences()) == 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if lost := own.lostFences(); len(lost) == 0 || lost[0] != own.f {
		t.Errorf("LostFence calls %+v, want %+v", lost, own.f)
	}
}
