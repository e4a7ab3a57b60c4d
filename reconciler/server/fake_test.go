package server

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/pes-project/terraform-provider-pes/reconciler/api"
	"github.com/pes-project/terraform-provider-pes/reconciler/history"
	"github.com/pes-project/terraform-provider-pes/reconciler/store"
)

// recorder is a Service that records every call, and its store reads
// (fakeReader, under the real history.Reader: reads), and answers from a
// few fixed rows: group g1 (web, sim), trigger t1 (cpu-high), nodes n1-n3,
// and group g0 (old), deleted, with a live namesake nowhere. It stands in for the
// controller, which is written separately; the handler tests are about
// what reaches the Service and how its answers and errors come out.
type recorder struct {
	mu    sync.Mutex
	calls []call
	// err, when set, is returned by every Service method and store read.
	err error
	// panicking makes Harmonize panic.
	panicking bool
	gauges    []Gauge
	reader    *fakeReader
	// watch is closed by changeGroup, as a commit closes the controller's.
	watch    chan struct{}
	watchers int // WatchGroup calls not yet done
	// held are the ids HasGroup knows, as the controller holds its groups.
	held map[string]bool
}

// HasGroup answers from held; with none, every group is resolved
// through the reader.
func (r *recorder) HasGroup(id, _ string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.held[id]
}

func (r *recorder) WatchGroup(id string) (<-chan struct{}, func()) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.watch == nil {
		r.watch = make(chan struct{})
	}
	r.watchers++
	var once sync.Once
	return r.watch, func() {
		once.Do(func() {
			r.mu.Lock()
			r.watchers--
			r.mu.Unlock()
		})
	}
}

// changeGroup changes the fixed group as a commit would, and wakes its
// watchers.
func (r *recorder) changeGroup(f func(g *api.Group)) {
	r.mu.Lock()
	defer r.mu.Unlock()
	f(&r.reader.group)
	if r.watch != nil {
		close(r.watch)
		r.watch = nil
	}
}

// waiting is how many WatchGroup callers are still waiting.
func (r *recorder) waiting() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.watchers
}

type call struct {
	method string
	args   []any
}

func newRecorder() *recorder {
	now := time.Date(2026, 1, 2, 10, 0, 0, 0, time.UTC)
	g := api.Group{ID: "g1", Status: api.GroupActive, CreatedAt: now, UpdatedAt: now,
		GroupConfig: api.GroupConfig{Name: "web", Driver: api.DriverSim, DesiredQuantity: 4, MinQuantity: 2, MaxQuantity: 20}}
	if err := api.ResolveGroupConfig(&g.GroupConfig); err != nil {
		panic(err)
	}
	one := 1
	rec := &recorder{}
	deletedAt := now.Add(-time.Hour)
	gone := api.Group{ID: "g0", Status: api.GroupDeleted, CreatedAt: now.Add(-2 * time.Hour), DeletedAt: &deletedAt,
		GroupConfig: api.GroupConfig{Name: "old", Driver: api.DriverSim}}
	rec.reader = &fakeReader{rec: rec,
		group:   g,
		deleted: gone,
		trigger: api.Trigger{ID: "t1", GroupID: "g1", Name: "cpu-high", Condition: "avg(cpu_utilization, '2m') > 80", Request: api.Request{ChangeBy: &one}, Priority: 50, Enabled: true},
		nodes:   []api.Node{{ID: "n1", GroupID: "g1", State: api.NodeReady}, {ID: "n2", GroupID: "g1", State: api.NodeReady}, {ID: "n3", GroupID: "g1", State: api.NodeLaunching}},
		events:  []api.Event{{ID: "e1", Label: "E1", GroupID: "g1", Type: api.EventGroupCreated}},
		changes: []api.Change{{ID: "c1", Label: "C1", GroupID: "g1"}, {ID: "c2", Label: "C2", GroupID: "g1"}},
	}
	return rec
}

func (r *recorder) record(method string, args ...any) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls = append(r.calls, call{method, args})
	return r.err
}

// writes returns the Service calls that would change something.
func (r *recorder) writes() []call {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []call
	for _, c := range r.calls {
		if !slices.Contains([]string{"ListGroups", "GetGroup", "BillingHistory", "GetGroupByName", "GetTrigger", "ListTriggers", "Samples", "ListNodes",
			"ListEvents", "ListChanges", "ListPeriods", "GetPeriod", "GetEventByLabel", "ExplainEvent", "ExplainChange",
			"ExplainEvents", "ExplainChanges", "Forecast"}, c.method) {
			out = append(out, c)
		}
	}
	return out
}

func (r *recorder) last(method string) (call, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for i := len(r.calls) - 1; i >= 0; i-- {
		if r.calls[i].method == method {
			return r.calls[i], true
		}
	}
	return call{}, false
}

func (r *recorder) CreateGroupBy(ctx context.Context, cfg api.GroupConfig, actor string) (api.Group, error) {
	if err := r.record("CreateGroupBy", cfg, actor); err != nil {
		return api.Group{}, err
	}
	return api.Group{ID: "g-new", GroupConfig: cfg, Status: api.GroupActive}, nil
}

func (r *recorder) UpdateGroup(ctx context.Context, id string, p api.GroupPatch) (api.Group, error) {
	if err := r.record("UpdateGroup", id, p); err != nil {
		return api.Group{}, err
	}
	cfg, err := api.ApplyGroupPatch(r.reader.group.GroupConfig, p)
	return api.Group{ID: id, GroupConfig: cfg}, err
}

func (r *recorder) DeleteGroupBy(ctx context.Context, id, actor string) error {
	return r.record("DeleteGroupBy", id, actor)
}

func (r *recorder) Instruct(ctx context.Context, groupID string, in api.Instruction) (api.Event, error) {
	if err := r.record("Instruct", groupID, in); err != nil {
		return api.Event{}, err
	}
	return api.Event{ID: "e-new", GroupID: groupID, Type: api.EventUserInstruction, Request: &in.Request}, nil
}

func (r *recorder) Harmonize(ctx context.Context, groupID string) (api.Period, error) {
	if r.panicking {
		panic("harmonize exploded")
	}
	if err := r.record("Harmonize", groupID); err != nil {
		return api.Period{}, err
	}
	return api.Period{ID: "p1", Label: "H1", GroupID: groupID}, nil
}

func (r *recorder) TerminateNodeBy(ctx context.Context, groupID, nodeID, actor string) (api.Event, error) {
	if err := r.record("TerminateNodeBy", groupID, nodeID, actor); err != nil {
		return api.Event{}, err
	}
	return api.Event{ID: "e-term", Type: api.EventNodeTerminatedUser, NodeID: nodeID}, nil
}

func (r *recorder) FailNode(ctx context.Context, groupID, nodeID string) error {
	return r.record("FailNode", groupID, nodeID)
}

func (r *recorder) CreateTrigger(ctx context.Context, groupID string, spec api.TriggerSpec) (api.Trigger, error) {
	if err := r.record("CreateTrigger", groupID, spec); err != nil {
		return api.Trigger{}, err
	}
	return api.Trigger{ID: "t-new", GroupID: groupID, Name: *spec.Name}, nil
}

func (r *recorder) UpdateTrigger(ctx context.Context, id string, spec api.TriggerSpec) (api.Trigger, error) {
	if err := r.record("UpdateTrigger", id, spec); err != nil {
		return api.Trigger{}, err
	}
	return r.reader.trigger, nil
}

func (r *recorder) DeleteTrigger(ctx context.Context, id string) error {
	return r.record("DeleteTrigger", id)
}

func (r *recorder) PushMetrics(ctx context.Context, groupID string, samples []api.Sample) (int, error) {
	if err := r.record("PushMetrics", groupID, samples); err != nil {
		return 0, err
	}
	return len(samples), nil
}

func (r *recorder) WhatIf(ctx context.Context, groupID string, req api.WhatIfRequest) (api.WhatIf, error) {
	if err := r.record("WhatIf", groupID, req); err != nil {
		return api.WhatIf{}, err
	}
	return api.WhatIf{Periods: []api.Period{}, Changes: []api.ChangeDetail{}, Events: []api.Event{}}, nil
}

// fakeHistory is the read side the handlers get: history.Reader over
// fakeReader (so caused_by labels resolve as in pesd), with the
// explanations recorded and answered in fixed words.
type fakeHistory struct {
	*history.Reader
	rec *recorder
}

// reads returns the read side over the recorder's rows.
func (r *recorder) reads() History { return fakeHistory{history.New(r.reader), r} }

func (h fakeHistory) ExplainChange(ctx context.Context, id string) (api.ChangeDetail, error) {
	if err := h.rec.record("ExplainChange", id); err != nil {
		return api.ChangeDetail{}, err
	}
	return api.ChangeDetail{Change: api.Change{ID: id}, Causes: []api.Cause{}, Explanation: "because"}, nil
}

func (h fakeHistory) ExplainEvent(ctx context.Context, id string) (api.EventDetail, error) {
	if err := h.rec.record("ExplainEvent", id); err != nil {
		return api.EventDetail{}, err
	}
	return api.EventDetail{Event: api.Event{ID: id}, Effects: []api.Effect{}, Explanation: "because"}, nil
}

// ExplainChanges and ExplainEvents explain each item of the page in order
// ("why C1", "what E1"), so a test sees the page went through whole.
func (h fakeHistory) ExplainChanges(ctx context.Context, changes []api.Change) ([]api.ChangeDetail, error) {
	if err := h.rec.record("ExplainChanges", changes); err != nil {
		return nil, err
	}
	out := make([]api.ChangeDetail, 0, len(changes))
	for _, c := range changes {
		out = append(out, api.ChangeDetail{Change: c, Causes: []api.Cause{}, Explanation: "why " + c.Label})
	}
	return out, nil
}

func (h fakeHistory) ExplainEvents(ctx context.Context, events []api.Event) ([]api.EventDetail, error) {
	if err := h.rec.record("ExplainEvents", events); err != nil {
		return nil, err
	}
	out := make([]api.EventDetail, 0, len(events))
	for _, e := range events {
		out = append(out, api.EventDetail{Event: e, Effects: []api.Effect{}, Explanation: "what " + e.Label})
	}
	return out, nil
}

func (r *recorder) Forecast(ctx context.Context, groupID string) (api.Forecast, error) {
	if err := r.record("Forecast", groupID); err != nil {
		return api.Forecast{}, err
	}
	return api.Forecast{GroupID: groupID, Mode: api.PredictiveOff}, nil
}

func (r *recorder) Gauges(ctx context.Context) ([]Gauge, error) {
	return r.gauges, nil
}

// fakeReader answers the reads the handlers make. Methods the handlers
// never call are left to the embedded nil interface (a call would panic,
// and the tests check nothing panics).
type fakeReader struct {
	store.Reader
	rec     *recorder
	group   api.Group
	deleted api.Group
	trigger api.Trigger
	nodes   []api.Node
	events  []api.Event
	changes []api.Change
}

// Samples answers the reads of a trigger's last observed values: none.
func (f *fakeReader) Samples(ctx context.Context, groupID string, since time.Time) ([]store.StoredSample, error) {
	if err := f.rec.record("Samples", groupID); err != nil {
		return nil, err
	}
	return nil, nil
}

func (f *fakeReader) notFound(kind, id string) error {
	return fmt.Errorf("fake store: %s %s: %w", kind, id, store.ErrNotFound)
}

func (f *fakeReader) GetGroup(ctx context.Context, id string) (api.Group, error) {
	if err := f.rec.record("GetGroup", id); err != nil {
		return api.Group{}, err
	}
	f.rec.mu.Lock()
	g := f.group
	f.rec.mu.Unlock()
	switch id {
	case g.ID:
		return g, nil
	case f.deleted.ID:
		return f.deleted, nil
	}
	return api.Group{}, f.notFound("group", id)
}

func (f *fakeReader) BillingHistory(ctx context.Context, groupID string) ([]api.BillingRate, error) {
	if err := f.rec.record("BillingHistory", groupID); err != nil {
		return nil, err
	}
	f.rec.mu.Lock()
	g := f.group
	f.rec.mu.Unlock()
	switch groupID {
	case g.ID:
		return g.BillingHistory, nil
	case f.deleted.ID:
		return f.deleted.BillingHistory, nil
	}
	return nil, f.notFound("group", groupID)
}

func (f *fakeReader) GetGroupByName(ctx context.Context, _, name string) (api.Group, error) {
	if err := f.rec.record("GetGroupByName", name); err != nil {
		return api.Group{}, err
	}
	switch name {
	case f.group.Name:
		return f.group, nil
	case f.deleted.Name:
		return f.deleted, nil
	}
	return api.Group{}, f.notFound("group named", name)
}

func (f *fakeReader) ListGroups(ctx context.Context, flt store.GroupFilter) ([]api.Group, string, error) {
	if err := f.rec.record("ListGroups", flt); err != nil {
		return nil, "", err
	}
	return []api.Group{f.group}, "", nil
}

func (f *fakeReader) GetTrigger(ctx context.Context, id string) (api.Trigger, error) {
	if err := f.rec.record("GetTrigger", id); err != nil {
		return api.Trigger{}, err
	}
	if id != f.trigger.ID {
		return api.Trigger{}, f.notFound("trigger", id)
	}
	return f.trigger, nil
}

func (f *fakeReader) ListTriggers(ctx context.Context, groupID string) ([]api.Trigger, error) {
	if err := f.rec.record("ListTriggers", groupID); err != nil {
		return nil, err
	}
	return []api.Trigger{f.trigger}, nil
}

func (f *fakeReader) ListNodes(ctx context.Context, groupID string, all bool) ([]api.Node, error) {
	if err := f.rec.record("ListNodes", groupID, all); err != nil {
		return nil, err
	}
	return f.nodes, nil
}

func (f *fakeReader) GetEventByLabel(ctx context.Context, groupID, label string) (api.Event, error) {
	if err := f.rec.record("GetEventByLabel", groupID, label); err != nil {
		return api.Event{}, err
	}
	for _, e := range f.events {
		if e.GroupID == groupID && e.Label == label {
			return e, nil
		}
	}
	return api.Event{}, f.notFound("event", label)
}

// ListEvents pages with the token "page2", so tests can follow it.
func (f *fakeReader) ListEvents(ctx context.Context, flt store.EventFilter) ([]api.Event, string, error) {
	if err := f.rec.record("ListEvents", flt); err != nil {
		return nil, "", err
	}
	if flt.Token == "" {
		return f.events, "page2", nil
	}
	return nil, "", nil
}

func (f *fakeReader) ListChanges(ctx context.Context, flt store.ChangeFilter) ([]api.Change, string, error) {
	if err := f.rec.record("ListChanges", flt); err != nil {
		return nil, "", err
	}
	if flt.CausedBy != "" {
		return nil, "", nil // no change of the fake has a recorded cause
	}
	return f.changes, "", nil
}

func (f *fakeReader) ListPeriods(ctx context.Context, groupID string, p store.Page) ([]api.Period, string, error) {
	if err := f.rec.record("ListPeriods", groupID, p); err != nil {
		return nil, "", err
	}
	return []api.Period{{ID: "p1", GroupID: groupID}}, "", nil
}

func (f *fakeReader) GetPeriod(ctx context.Context, id string) (api.Period, error) {
	if err := f.rec.record("GetPeriod", id); err != nil {
		return api.Period{}, err
	}
	if id != "p1" {
		return api.Period{}, f.notFound("period", id)
	}
	return api.Period{ID: "p1", GroupID: "g1"}, nil
}

// ImportHistory records the body it read (all of it, as the governor's
// parser does) and answers one point per line.
func (r *recorder) ImportHistory(ctx context.Context, groupID string, body io.Reader) (int, error) {
	b, err := io.ReadAll(body)
	if err != nil {
		return 0, fmt.Errorf("import history of group %s: read: %w", groupID, err)
	}
	if err := r.record("ImportHistory", groupID, string(b)); err != nil {
		return 0, err
	}
	return strings.Count(string(b), "\n"), nil
}
