package controller

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pes-project/terraform-provider-pes/reconciler/api"
	"github.com/pes-project/terraform-provider-pes/reconciler/store"
	"github.com/pes-project/terraform-provider-pes/reconciler/store/sqlite"
)

// gatedStore is a real store whose first transaction waits at the gate
// until the test opens it, so that writers queue up behind it.
type gatedStore struct {
	store.Store
	gate    chan struct{}
	entered chan struct{}
	once    sync.Once
	updates atomic.Int64
}

func (s *gatedStore) Update(ctx context.Context, fn func(tx store.Tx) error) error {
	s.updates.Add(1)
	s.once.Do(func() {
		close(s.entered)
		<-s.gate
	})
	return s.Store.Update(ctx, fn)
}

func newGated(t *testing.T) (*gatedStore, *committer) {
	t.Helper()
	st, err := sqlite.Open(filepath.Join(t.TempDir(), "pes.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	g := &gatedStore{Store: st, gate: make(chan struct{}), entered: make(chan struct{})}
	return g, &committer{st: g}
}

// insertGroup is a write: one group row.
func insertGroup(id string) func(tx store.Tx) error {
	return func(tx store.Tx) error {
		return tx.InsertGroup(api.Group{ID: id, GroupConfig: api.GroupConfig{Name: id}, Status: api.GroupActive})
	}
}

// waitQueued waits until n writes wait in the committer's queues.
func waitQueued(t *testing.T, c *committer, n int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for c.queued() < n {
		if time.Now().After(deadline) {
			t.Fatalf("%d writes queued, want %d", c.queued(), n)
		}
		time.Sleep(time.Millisecond)
	}
}

// TestGroupCommitSharesTransactions: writers that queue while a
// transaction is being written share the next one, and each returns only
// once its write is committed; a failed write takes only itself down,
// whatever its place in the batch.
func TestGroupCommitSharesTransactions(t *testing.T) {
	st, c := newGated(t)
	ctx := context.Background()
	const writers = 40
	errs := make([]error, writers+1)
	var wg sync.WaitGroup
	wg.Go(func() { errs[0] = c.update(ctx, insertGroup("g-first")) })
	<-st.entered
	boom := errors.New("boom")
	for i := 1; i <= writers; i++ {
		wg.Go(func() {
			id := fmt.Sprintf("g-%02d", i)
			fn := insertGroup(id)
			if i%10 == 5 {
				// Writes its row, then fails: the row must go.
				fn = func(tx store.Tx) error {
					if err := insertGroup(id)(tx); err != nil {
						return err
					}
					return fmt.Errorf("%s: %w", id, boom)
				}
			}
			errs[i] = c.update(ctx, fn)
			if errs[i] == nil {
				// Returned: committed, so any reader sees it.
				if _, err := st.GetGroup(ctx, id); err != nil {
					t.Errorf("write %s returned before it was committed: %v", id, err)
				}
			}
		})
	}
	waitQueued(t, c, writers)
	close(st.gate)
	wg.Wait()
	for i, err := range errs {
		id := fmt.Sprintf("g-%02d", i)
		_, gerr := st.GetGroup(ctx, id)
		switch {
		case i > 0 && i%10 == 5:
			if !errors.Is(err, boom) {
				t.Errorf("write %s: error %v, want its own", id, err)
			}
			if !errors.Is(gerr, store.ErrNotFound) {
				t.Errorf("failed write %s left its row: %v", id, gerr)
			}
		case i > 0:
			if err != nil || gerr != nil {
				t.Errorf("write %s: %v; read back: %v", id, err, gerr)
			}
		}
	}
	// The first transaction, then the queued writers together (once per
	// failed writer: the batch runs again without it).
	if n := st.updates.Load(); n != 1+1+writers/10 {
		t.Errorf("%d transactions for %d writes, want %d", n, writers+1, 1+1+writers/10)
	}
}

// TestGroupCommitLoopFirst: the reconcile loop's writes are taken before
// the API's that queued earlier.
func TestGroupCommitLoopFirst(t *testing.T) {
	st, c := newGated(t)
	ctx := context.Background()
	var mu sync.Mutex
	var order []string
	write := func(name string) func(tx store.Tx) error {
		return func(tx store.Tx) error {
			mu.Lock()
			order = append(order, name)
			mu.Unlock()
			return nil
		}
	}
	var wg sync.WaitGroup
	wg.Go(func() { _ = c.update(ctx, write("first")) })
	<-st.entered
	for i := range 3 {
		wg.Go(func() { _ = c.update(ctx, write(fmt.Sprintf("api-%d", i))) })
		waitQueued(t, c, i+1)
	}
	wg.Go(func() { _ = c.update(loopWrites(ctx), write("loop")) })
	waitQueued(t, c, 4)
	close(st.gate)
	wg.Wait()
	if len(order) != 5 || order[0] != "first" || order[1] != "loop" {
		t.Errorf("writes ran in the order %v, want first, loop, then the API's", order)
	}
}

// TestGroupCommitPanic: a write that panics panics in its own writer; the
// others in its batch commit.
func TestGroupCommitPanic(t *testing.T) {
	st, c := newGated(t)
	ctx := context.Background()
	var wg sync.WaitGroup
	wg.Go(func() { _ = c.update(ctx, insertGroup("g-first")) })
	<-st.entered
	var recovered atomic.Value
	var okErr error
	wg.Go(func() {
		defer func() { recovered.Store(fmt.Sprint(recover())) }()
		_ = c.update(ctx, func(tx store.Tx) error { panic("write bug") })
	})
	waitQueued(t, c, 1)
	wg.Go(func() { okErr = c.update(ctx, insertGroup("g-ok")) })
	waitQueued(t, c, 2)
	close(st.gate)
	wg.Wait()
	if got := recovered.Load(); got != "write bug" {
		t.Errorf("the panicking writer recovered %v, want its panic", got)
	}
	if _, err := st.GetGroup(ctx, "g-ok"); okErr != nil || err != nil {
		t.Errorf("the write beside a panic: %v; read back: %v", okErr, err)
	}
	// The committer still works.
	if err := c.update(ctx, insertGroup("g-after")); err != nil {
		t.Error(err)
	}
}

// TestGroupCommitLoopCutsBatch: a loop write that arrives while a batch of
// API writes is being written waits for the callback running, not for
// the batch: the batch commits what ran, the loop write commits alone,
// then the rest of the API writes.
func TestGroupCommitLoopCutsBatch(t *testing.T) {
	st, c := newGated(t)
	ctx := context.Background()
	var mu sync.Mutex
	var order []string
	record := func(name string) {
		mu.Lock()
		order = append(order, name)
		mu.Unlock()
	}
	var wg sync.WaitGroup
	wg.Go(func() { _ = c.update(ctx, insertGroup("g-first")) })
	<-st.entered
	const writers = 5
	running := make(chan struct{})
	for i := range writers {
		fn := func(tx store.Tx) error { record(fmt.Sprintf("api-%d", i)); return nil }
		if i == 0 {
			// The batch's first callback runs until the loop write is
			// queued.
			fn = func(tx store.Tx) error {
				record("api-0")
				close(running)
				for c.loopWaiting.Load() == 0 {
					time.Sleep(time.Millisecond)
				}
				return nil
			}
		}
		wg.Go(func() { _ = c.update(ctx, fn) })
		waitQueued(t, c, i+1)
	}
	close(st.gate)
	<-running
	wg.Go(func() { _ = c.update(loopWrites(ctx), func(tx store.Tx) error { record("loop"); return nil }) })
	wg.Wait()
	want := []string{"api-0", "loop", "api-1", "api-2", "api-3", "api-4"}
	if fmt.Sprint(order) != fmt.Sprint(want) {
		t.Errorf("writes ran in the order %v, want %v", order, want)
	}
	// The first, the cut batch, the loop's, the rest.
	if n := st.updates.Load(); n != 4 {
		t.Errorf("%d transactions, want 4", n)
	}
}

// TestFailedWriteLeavesTheState: a write shares the state's maps until it
// changes them; the changes of a write that fails (its nodes, its changes
// in progress, its trigger reports) never reach the group's state.
func TestFailedWriteLeavesTheState(t *testing.T) {
	h := newHarness(t)
	g := h.createGroup(api.GroupConfig{Name: "rollback", DesiredQuantity: 2, MaxQuantity: 10, Sim: &api.SimConfig{BootTime: "1s"}})
	h.runTo(5*time.Second, nil)
	gs, err := h.c.lockGroup(h.ctx, g.ID)
	if err != nil {
		t.Fatal(err)
	}
	defer gs.mu.Unlock()
	if len(gs.st.nodes) != 2 {
		t.Fatalf("%d nodes, want 2", len(gs.st.nodes))
	}
	// A trigger reported in the period, so the state has reports to share.
	if _, err := h.c.write(h.ctx, gs, func(w *work) error {
		w.s.report(api.Event{Type: api.EventTriggerFired, Source: api.Source{Kind: api.SourceTrigger, ID: "t0"}})
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	nodes, open, reported := maps.Clone(gs.st.nodes), maps.Clone(gs.st.open), maps.Clone(gs.st.reported)
	fail := errors.New("the write fails")
	_, err = h.c.write(h.ctx, gs, func(w *work) error {
		for _, n := range w.s.nodes {
			n.State = api.NodeTerminated
			if err := w.putNode(n); err != nil {
				return err
			}
			break
		}
		w.trackChange(api.Change{ID: "in-progress", Status: api.ChangeInProgress})
		w.s.report(api.Event{Type: api.EventTriggerFired, Source: api.Source{Kind: api.SourceTrigger, ID: "t1"}})
		if len(w.s.nodes) != 1 || len(w.s.open) != len(open)+1 || len(w.s.reported) != len(reported)+1 {
			t.Errorf("the write sees %d nodes, %d open, %d reported; want its changes", len(w.s.nodes), len(w.s.open), len(w.s.reported))
		}
		return fail
	})
	if !errors.Is(err, fail) {
		t.Fatalf("write: %v, want %v", err, fail)
	}
	if !maps.EqualFunc(gs.st.nodes, nodes, func(a, b api.Node) bool { return a.State == b.State }) ||
		!maps.EqualFunc(gs.st.open, open, func(a, b api.Change) bool { return a.ID == b.ID }) ||
		!maps.Equal(gs.st.reported, reported) {
		t.Errorf("after a failed write the state has %d nodes, %d open, %d reported; want %d, %d, %d",
			len(gs.st.nodes), len(gs.st.open), len(gs.st.reported), len(nodes), len(open), len(reported))
	}
}
