package controller

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"reflect"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pes-project/terraform-provider-pes/reconciler/api"
	"github.com/pes-project/terraform-provider-pes/reconciler/causality"
	"github.com/pes-project/terraform-provider-pes/reconciler/history"
	"github.com/pes-project/terraform-provider-pes/reconciler/store"
)

// countingReader counts the reads explanations make.
type countingReader struct {
	store.Reader
	mu      sync.Mutex
	calls   map[string]int
	periods []string // the ids of every period read
}

func (r *countingReader) count(name string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.calls == nil {
		r.calls = map[string]int{}
	}
	r.calls[name]++
}

func (r *countingReader) GetEvent(ctx context.Context, id string) (api.Event, error) {
	r.count("GetEvent")
	return r.Reader.GetEvent(ctx, id)
}

func (r *countingReader) GetChange(ctx context.Context, id string) (api.Change, error) {
	r.count("GetChange")
	return r.Reader.GetChange(ctx, id)
}

func (r *countingReader) GetNexus(ctx context.Context, id string) (api.Nexus, error) {
	r.count("GetNexus")
	return r.Reader.GetNexus(ctx, id)
}

func (r *countingReader) GetNexusesByID(ctx context.Context, ids []string) ([]api.Nexus, error) {
	r.count("GetNexusesByID")
	return r.Reader.GetNexusesByID(ctx, ids)
}

func (r *countingReader) GetEventsByID(ctx context.Context, ids []string) ([]api.Event, error) {
	r.count("GetEventsByID")
	return r.Reader.GetEventsByID(ctx, ids)
}

func (r *countingReader) GetChangesByID(ctx context.Context, ids []string) ([]api.Change, error) {
	r.count("GetChangesByID")
	return r.Reader.GetChangesByID(ctx, ids)
}

func (r *countingReader) GetPeriod(ctx context.Context, id string) (api.Period, error) {
	r.count("GetPeriod")
	r.readPeriods(id)
	return r.Reader.GetPeriod(ctx, id)
}

func (r *countingReader) GetPeriodsByID(ctx context.Context, ids []string) ([]api.Period, error) {
	r.count("GetPeriodsByID")
	r.readPeriods(ids...)
	return r.Reader.GetPeriodsByID(ctx, ids)
}

func (r *countingReader) readPeriods(ids ...string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.periods = append(r.periods, ids...)
}

// storeLookup follows records one read at a time, as explanations did
// before pages were read in batches: the reference the batches must match.
type storeLookup struct {
	ctx context.Context
	r   store.Reader
}

func (l storeLookup) Event(id string) (api.Event, bool) {
	e, err := l.r.GetEvent(l.ctx, id)
	return e, err == nil
}

func (l storeLookup) Change(id string) (api.Change, bool) {
	c, err := l.r.GetChange(l.ctx, id)
	return c, err == nil
}

func (l storeLookup) Nexus(id string) (api.Nexus, bool) {
	n, err := l.r.GetNexus(l.ctx, id)
	return n, err == nil
}

// explainHistory is a group with every kind of causality: created by
// terraform with nodes ready at different moments (the launch recorded in
// parts), a node lost and replaced (a chain), two instructions
// harmonized into a launch that is split too, and an immediate
// instruction clamped by max_quantity.
func explainHistory(t *testing.T) (*harness, api.Group) {
	t.Helper()
	h := newHarness(t)
	cfg := api.GroupConfig{Name: "why", Driver: api.DriverSim, Program: api.Program{Command: "worker"}, DesiredQuantity: 3,
		MaxQuantity: 8, AggregationPeriod: "30s", Replacement: api.ReplacementImmediate,
		Sim: &api.SimConfig{BootTime: "1s", BootTimes: []string{"1s", "3s", "3s", "1s", "2s", "4s"}}}
	if err := api.ResolveGroupConfig(&cfg); err != nil {
		t.Fatal(err)
	}
	g, err := h.c.CreateGroupBy(h.ctx, cfg, "terraform")
	if err != nil {
		t.Fatal(err)
	}
	h.runTo(5*time.Second, nil)
	h.failNode(g.ID) // replaced at once by the 4th launch
	h.runTo(8*time.Second, nil)
	for _, in := range []api.Instruction{
		{Request: api.Request{ChangeBy: ptr(2)}, Actor: "alice", Reason: "sale"},
		{Request: api.Request{ChangeBy: ptr(1)}, Actor: "bob"},
	} {
		if _, err := h.c.Instruct(h.ctx, g.ID, in); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := h.c.Harmonize(h.ctx, g.ID); err != nil { // 5th and 6th launches: +2 in parts
		t.Fatal(err)
	}
	h.runTo(15*time.Second, nil)
	if _, err := h.c.Instruct(h.ctx, g.ID, api.Instruction{Request: api.Request{SetTo: ptr(12)}, Immediate: true,
		Actor: "alice", Reason: "launch day; all hands"}); err != nil {
		t.Fatal(err)
	}
	h.runTo(20*time.Second, nil)
	return h, g
}

// TestExplainPages: explanations of a whole page, read in batches, are the
// ones each change and event gets alone, and the ones the records give
// when followed one read at a time; the reads do not grow with the page.
func TestExplainPages(t *testing.T) {
	h, g := explainHistory(t)
	changes, events := h.changes(g.ID), h.events(g.ID)
	if len(changes) < 7 || len(events) < 6 {
		t.Fatalf("history too small: %d changes, %d events", len(changes), len(events))
	}
	cr := &countingReader{Reader: h.st}
	cds, err := history.New(cr).ExplainChanges(h.ctx, changes)
	if err != nil {
		t.Fatal(err)
	}
	// A direct change's explanation does not read its period.
	periods := map[string]bool{}
	for _, d := range cds {
		if d.PeriodID != "" && causality.NeedsPeriod(d.Change, d.Causes) {
			periods[d.PeriodID] = true
		}
	}
	checkReads(t, "changes", cr, periods)
	ref := storeLookup{h.ctx, h.st}
	for i, c := range changes {
		one, err := h.hist().ExplainChange(h.ctx, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(one, cds[i]) {
			t.Errorf("%s alone:\n%+v\nin the page:\n%+v", c.Label, one, cds[i])
		}
		var p *api.Period
		if pp, err := h.st.GetPeriod(h.ctx, c.PeriodID); err == nil {
			p = &pp
		}
		if want := causality.ExplainChange(c, cds[i].Causes, p, ref); cds[i].Explanation != want {
			t.Errorf("%s in the page:\n%s\nfollowing the records one by one:\n%s", c.Label, cds[i].Explanation, want)
		}
	}

	clear(periods)
	for _, e := range events {
		if e.PeriodID != "" {
			periods[e.PeriodID] = true
		}
	}
	cr = &countingReader{Reader: h.st}
	eds, err := history.New(cr).ExplainEvents(h.ctx, events)
	if err != nil {
		t.Fatal(err)
	}
	checkReads(t, "events", cr, periods)
	for i, e := range events {
		one, err := h.hist().ExplainEvent(h.ctx, e.ID)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(one, eds[i]) {
			t.Errorf("%s alone:\n%+v\nin the page:\n%+v", e.Label, one, eds[i])
		}
		var p *api.Period
		if pp, err := h.st.GetPeriod(h.ctx, e.PeriodID); err == nil {
			p = &pp
		}
		if want := causality.ExplainEvent(e, eds[i].Effects, p, ref); eds[i].Explanation != want {
			t.Errorf("%s in the page:\n%s\nfollowing the records one by one:\n%s", e.Label, eds[i].Explanation, want)
		}
	}

	// What a person reads.
	all := ""
	for _, d := range cds {
		all += d.Explanation + "\n"
	}
	for _, d := range eds {
		all += d.Explanation + "\n"
	}
	for _, want := range []string{
		"is the second part of the 3 nodes launched at 10:00:00 (with C1). The launch was directly caused by event E1: " +
			"user terraform created the group with 3 nodes.",
		"is the first part of the 2 nodes launched at H1 (with ",
		`user alice asked for +2 ("sale")`,
		`user alice asked for 12 nodes at once ("launch day; all hands"); clamped by max_quantity 8: 12 → 8 (max_quantity is 8).`,
		"replacement of node ",
	} {
		if !strings.Contains(all, want) {
			t.Errorf("no explanation says %q:\n%s", want, all)
		}
	}
	if strings.Contains(all, "pesd:") {
		t.Errorf("an explanation shows the notes' mark:\n%s", all)
	}
}

// explainPages is ExplainChanges of changes and ExplainEvents of events,
// failing the test on an error.
func explainPages(t *testing.T, h *harness, changes []api.Change, events []api.Event) ([]api.ChangeDetail, []api.EventDetail) {
	t.Helper()
	cds, err := h.hist().ExplainChanges(h.ctx, changes)
	if err != nil {
		t.Fatal(err)
	}
	eds, err := h.hist().ExplainEvents(h.ctx, events)
	if err != nil {
		t.Fatal(err)
	}
	return cds, eds
}

// TestExplainLongPagesInParts: a page long enough to be explained in
// parts, at once, answers as its records explained one page at a time.
func TestExplainLongPagesInParts(t *testing.T) {
	// Parts need two cores.
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(max(2, runtime.GOMAXPROCS(0))))
	h, g := explainHistory(t)
	changes, events := h.changes(g.ID), h.events(g.ID)
	cds, eds := explainPages(t, h, changes, events)
	// The history repeated into pages of 400 or more.
	var longChanges []api.Change
	var longEvents []api.Event
	for len(longChanges) < 400 || len(longEvents) < 400 {
		longChanges, longEvents = append(longChanges, changes...), append(longEvents, events...)
	}
	lcds, leds := explainPages(t, h, longChanges, longEvents)
	if len(lcds) != len(longChanges) || len(leds) != len(longEvents) {
		t.Fatalf("%d change details for %d changes, %d event details for %d events", len(lcds), len(longChanges), len(leds), len(longEvents))
	}
	for i, d := range lcds {
		if want := cds[i%len(cds)]; !reflect.DeepEqual(d, want) {
			t.Fatalf("change %d (%s) in the long page:\n%+v\nin the short one:\n%+v", i, d.Label, d, want)
		}
	}
	for i, d := range leds {
		if want := eds[i%len(eds)]; !reflect.DeepEqual(d, want) {
			t.Fatalf("event %d (%s) in the long page:\n%+v\nin the short one:\n%+v", i, d.Label, d, want)
		}
	}
}

// checkReads checks a page was explained with batch reads: no read of one
// event, change, nexus or period, a few batches, and the periods the
// explanations use read in one batch, each once.
func checkReads(t *testing.T, what string, r *countingReader, periods map[string]bool) {
	t.Helper()
	calls := r.calls
	for _, one := range []string{"GetEvent", "GetChange", "GetNexus", "GetPeriod"} {
		if calls[one] > 0 {
			t.Errorf("%s: %d calls of %s, want batches only", what, calls[one], one)
		}
	}
	// A batch is skipped when the page already holds every record it
	// would read; the second is for the replacement chains.
	for _, batch := range []string{"GetNexusesByID", "GetEventsByID", "GetChangesByID"} {
		if calls[batch] > 2 {
			t.Errorf("%s: %d calls of %s, want at most 2", what, calls[batch], batch)
		}
	}
	if calls["GetNexusesByID"] == 0 {
		t.Errorf("%s: the nexuses were not read", what)
	}
	if want := min(len(periods), 1); calls["GetPeriodsByID"] != want {
		t.Errorf("%s: %d calls of GetPeriodsByID, want %d", what, calls["GetPeriodsByID"], want)
	}
	read := map[string]bool{}
	for _, id := range r.periods {
		if read[id] {
			t.Errorf("%s: period %s read twice", what, id)
		}
		read[id] = true
	}
	if !maps.Equal(read, periods) {
		t.Errorf("%s: read periods %v, want %v", what, slices.Sorted(maps.Keys(read)), slices.Sorted(maps.Keys(periods)))
	}
}

// TestExplainMissingRecords: a nexus that names a record the store does
// not have fails the page (the causes or effects would be wrong); a
// missing parent of a replacement only makes the explanation name less.
func TestExplainMissingRecords(t *testing.T) {
	h, g := explainHistory(t)
	changes, events := h.changes(g.ID), h.events(g.ID)
	var repl api.Event
	for _, e := range events {
		if e.Type == api.EventReplacementRequest {
			repl = e
		}
	}
	if repl.ParentChangeID == "" {
		t.Fatalf("no replacement with a parent in %v", labelsOf(events))
	}
	cause := changes[0]
	nx, err := h.st.GetNexus(h.ctx, cause.NexusID)
	if err != nil {
		t.Fatal(err)
	}
	var harmonized api.Change // a change whose explanation reads its period
	for _, c := range changes {
		if c.Attribution == api.AttributionIndirect && c.PeriodID != "" {
			harmonized = c
		}
	}
	if harmonized.ID == "" {
		t.Fatalf("no harmonized change in %v", changeLabels(changes))
	}
	tests := []struct {
		name    string
		missing string
		explain func(store.Reader) error
		wantErr bool
		want    string
	}{
		{"a cause", nx.EventIDs[0], func(r store.Reader) error { _, err := history.New(r).ExplainChanges(h.ctx, changes); return err }, true, ""},
		{"an effect", cause.ID, func(r store.Reader) error { _, err := history.New(r).ExplainEvents(h.ctx, events); return err }, true, ""},
		{"the parent of a replacement", repl.ParentChangeID, func(r store.Reader) error {
			ds, err := history.New(r).ExplainEvents(h.ctx, []api.Event{repl})
			if err == nil && !strings.Contains(ds[0].Explanation, "replacement of node "+repl.NodeName+" requested") {
				t.Errorf("explanation %q does not fall back to naming the request", ds[0].Explanation)
			}
			return err
		}, false, ""},
		{"the period of a harmonized change", harmonized.PeriodID, func(r store.Reader) error {
			ds, err := history.New(r).ExplainChanges(h.ctx, []api.Change{harmonized})
			if err != nil {
				return err
			}
			ref := storeLookup{h.ctx, h.st}
			want := causality.ExplainChange(harmonized, ds[0].Causes, nil, ref)
			if ds[0].Explanation != want {
				t.Errorf("explanation without the period:\n%s\nwant, as for no decision record:\n%s", ds[0].Explanation, want)
			}
			if p, err := h.st.GetPeriod(h.ctx, harmonized.PeriodID); err != nil || causality.ExplainChange(harmonized, ds[0].Causes, &p, ref) == want {
				t.Errorf("the period (%v) changes nothing in %s's explanation: this case tests nothing", err, harmonized.Label)
			}
			return nil
		}, false, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.explain(&hidingReader{Reader: h.st, missing: tt.missing})
			if (err != nil) != tt.wantErr || (err != nil && !errors.Is(err, store.ErrNotFound)) {
				t.Errorf("error %v, want a not found error: %v", err, tt.wantErr)
			}
		})
	}
}

// hidingReader is a store that lacks one record.
type hidingReader struct {
	store.Reader
	missing string
}

func (r *hidingReader) notFound(ids ...string) error {
	if slices.Contains(ids, r.missing) {
		return fmt.Errorf("%s: %w", r.missing, store.ErrNotFound)
	}
	return nil
}

func (r *hidingReader) GetEvent(ctx context.Context, id string) (api.Event, error) {
	if err := r.notFound(id); err != nil {
		return api.Event{}, err
	}
	return r.Reader.GetEvent(ctx, id)
}

func (r *hidingReader) GetChange(ctx context.Context, id string) (api.Change, error) {
	if err := r.notFound(id); err != nil {
		return api.Change{}, err
	}
	return r.Reader.GetChange(ctx, id)
}

func (r *hidingReader) GetEventsByID(ctx context.Context, ids []string) ([]api.Event, error) {
	if err := r.notFound(ids...); err != nil {
		return nil, err
	}
	return r.Reader.GetEventsByID(ctx, ids)
}

func (r *hidingReader) GetChangesByID(ctx context.Context, ids []string) ([]api.Change, error) {
	if err := r.notFound(ids...); err != nil {
		return nil, err
	}
	return r.Reader.GetChangesByID(ctx, ids)
}

func (r *hidingReader) GetPeriod(ctx context.Context, id string) (api.Period, error) {
	if err := r.notFound(id); err != nil {
		return api.Period{}, err
	}
	return r.Reader.GetPeriod(ctx, id)
}

func (r *hidingReader) GetPeriodsByID(ctx context.Context, ids []string) ([]api.Period, error) {
	if err := r.notFound(ids...); err != nil {
		return nil, err
	}
	return r.Reader.GetPeriodsByID(ctx, ids)
}

// TestCreateGroupActor: who created the group is the event's source.
func TestCreateGroupActor(t *testing.T) {
	for _, tt := range []struct{ actor, want string }{{"terraform", "terraform"}, {"", "api"}} {
		h := newHarness(t)
		cfg := api.GroupConfig{Name: "who", Driver: api.DriverSim, Program: api.Program{Command: "worker"}, DesiredQuantity: 1}
		if err := api.ResolveGroupConfig(&cfg); err != nil {
			t.Fatal(err)
		}
		g, err := h.c.CreateGroupBy(h.ctx, cfg, tt.actor)
		if err != nil {
			t.Fatal(err)
		}
		created := eventsOfType(h.events(g.ID), api.EventGroupCreated)
		if len(created) != 1 || created[0].Source != (api.Source{Kind: api.SourceUser, Name: tt.want}) ||
			created[0].Description != "user "+tt.want+" created the group with 1 node" {
			t.Errorf("actor %q: created %+v, want user %s", tt.actor, created, tt.want)
		}
	}
}

// TestDeleteAndTerminateActor: who deleted a group or terminated a node
// is the event's source, as for creating one; "api" when nobody is named.
func TestDeleteAndTerminateActor(t *testing.T) {
	for _, tt := range []struct{ actor, want string }{{"terraform", "terraform"}, {"", "api"}} {
		h := newHarness(t)
		g := h.createGroup(api.GroupConfig{Name: "who", DesiredQuantity: 2, Sim: &api.SimConfig{BootTime: "1s"}})
		h.runTo(2*time.Second, nil)
		ready := h.nodes(g.ID, api.NodeReady)
		if len(ready) != 2 {
			t.Fatalf("%d nodes ready, want 2", len(ready))
		}
		term, err := h.c.TerminateNodeBy(h.ctx, g.ID, ready[0].ID, tt.actor)
		if err != nil {
			t.Fatal(err)
		}
		if err := h.c.DeleteGroupBy(h.ctx, g.ID, tt.actor); err != nil {
			t.Fatal(err)
		}
		deleted := eventsOfType(h.events(g.ID), api.EventGroupDeleted)
		user := api.Source{Kind: api.SourceUser, Name: tt.want}
		// The node is named as people read it (who-0); its id stays the key.
		if term.Source != user || term.NodeID != ready[0].ID || term.NodeName != "who-0" ||
			term.Description != "user "+tt.want+" terminated node who-0" {
			t.Errorf("actor %q: termination %+v, want by user %s", tt.actor, term, tt.want)
		}
		if len(deleted) != 1 || deleted[0].Source != user || deleted[0].Description != "user "+tt.want+" deleted the group" {
			t.Errorf("actor %q: deletion %+v, want by user %s", tt.actor, deleted, tt.want)
		}
	}
}

// TestPatchLabels: labels absent leave the group's, {} clears them, a map
// replaces them, as stored.
func TestPatchLabels(t *testing.T) {
	h := newHarness(t)
	g := h.createGroup(api.GroupConfig{Name: "labelled", DesiredQuantity: 1, Labels: map[string]string{"team": "web"}})
	steps := []struct {
		name  string
		patch api.GroupPatch
		want  map[string]string
	}{
		{"absent", api.GroupPatch{MinQuantity: ptr(0)}, map[string]string{"team": "web"}},
		{"replaced", api.GroupPatch{Labels: map[string]string{"team": "api", "tier": "1"}}, map[string]string{"team": "api", "tier": "1"}},
		{"cleared", api.GroupPatch{Labels: map[string]string{}}, nil},
		{"still clear", api.GroupPatch{Cooldown: ptr("5s")}, nil},
	}
	for _, s := range steps {
		got, err := h.c.UpdateGroup(h.ctx, g.ID, s.patch)
		if err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		stored := h.group(g.ID).Labels
		if len(got.Labels) != len(s.want) || len(stored) != len(s.want) {
			t.Fatalf("%s: labels %v (stored %v), want %v", s.name, got.Labels, stored, s.want)
		}
		for k, v := range s.want {
			if got.Labels[k] != v || stored[k] != v {
				t.Errorf("%s: labels %v (stored %v), want %v", s.name, got.Labels, stored, s.want)
			}
		}
	}
}
