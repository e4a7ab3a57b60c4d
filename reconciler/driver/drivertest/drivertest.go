// Package drivertest is the conformance suite every driver passes. A
// driver's test supplies a Harness for what differs between drivers (how a
// node dies out of band, how time passes, how pesd restarts); Run checks
// the behaviour the controller relies on.
package drivertest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/pes-project/terraform-provider-pes/reconciler/api"
	"github.com/pes-project/terraform-provider-pes/reconciler/clock"
	"github.com/pes-project/terraform-provider-pes/reconciler/driver"
)

// Harness is what the suite needs from a driver's test.
type Harness struct {
	// New returns a driver. Called a second time in one test it returns
	// a fresh instance over the same data, as pesd after a restart; the
	// suite closes the previous instance first.
	New func(t *testing.T) driver.Driver
	// Spec returns the spec of a node that stays up and passes its
	// health check.
	Spec func(groupID, nodeID string, index int) driver.NodeSpec
	// BootSpec, if set, is used instead of Spec for the launch case: a
	// node whose readiness takes a real health check.
	BootSpec func(groupID, nodeID string, index int) driver.NodeSpec
	// Kill makes a node die out of band while d runs it (local: kill -9
	// the pid; sim: Fail).
	Kill func(t *testing.T, d driver.Driver, groupID, nodeID string, handle map[string]string)
	// KillWhileDown makes a node die while no driver runs. Nil when nodes
	// have no life of their own outside the driver (sim).
	KillWhileDown func(t *testing.T, groupID, nodeID string, handle map[string]string)
	// Eventually lets time pass until cond holds, and fails the test,
	// saying what it waited for, if it never does (sim: advance the fake
	// clock; local: poll until a generous deadline).
	Eventually func(t *testing.T, what string, cond func() bool)
	// Clock, if set, is the clock of the driver New returns in test t,
	// for the controller the suite runs over it (default clock.Real).
	Clock func(t *testing.T) clock.Clock
	// Jobs, for a driver that runs execution jobs (driver.JobRunner).
	Jobs *JobHarness
}

// Run runs the suite as subtests of t.
func Run(t *testing.T, h Harness) {
	if h.New == nil || h.Spec == nil || h.Kill == nil || h.Eventually == nil {
		t.Fatal("drivertest: Harness needs New, Spec, Kill and Eventually")
	}
	if h.BootSpec == nil {
		h.BootSpec = h.Spec
	}
	cases := []struct {
		name string
		run  func(t *testing.T, h Harness)
	}{
		{"LaunchIsLaunchingThenReady", testLaunchReady},
		{"LaunchSameIDTwiceStartsOneNode", testLaunchIdempotent},
		{"ObserveListsExactlyTheGroupsNodes", testObserveExact},
		{"TerminateIsIdempotent", testTerminate},
		{"TerminateUnknownNodeIsNotAnError", testTerminateUnknown},
		{"OutOfBandDeathIsUnavailable", testOutOfBandDeath},
		{"ReadoptionAfterRestart", testReadoption},
		{"AdoptWithoutHandleOfANeverLaunchedNode", testAdoptNeverLaunched},
		{"GroupsDoNotSeeEachOther", testGroupsIsolated},
		{"FailUnknownNode", testFailUnknown},
		{"PushesEveryTransition", testPushes},
		{"ControllerConvergesOnPushesAlone", testConvergeOnPushes},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { c.run(t, h) })
	}
	runJobs(t, h)
}

// newID returns a node or group ID the way pesd makes them.
func newID(t *testing.T) string {
	t.Helper()
	id, err := uuid.NewV7()
	if err != nil {
		t.Fatal(err)
	}
	return id.String()
}

// ctx bounds a call that waits (Terminate), so a broken driver fails the
// test instead of hanging it.
func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return c
}

func open(t *testing.T, h Harness) driver.Driver {
	t.Helper()
	d := h.New(t)
	t.Cleanup(func() { d.Close() })
	return d
}

func launch(t *testing.T, d driver.Driver, spec driver.NodeSpec) map[string]string {
	t.Helper()
	handle, err := d.Launch(context.Background(), spec)
	if err != nil {
		t.Fatalf("Launch(%s): %v", spec.NodeID, err)
	}
	return handle
}

func observe(t *testing.T, d driver.Driver, groupID string) map[string]driver.Observation {
	t.Helper()
	obs, err := d.Observe(context.Background(), groupID)
	if err != nil {
		t.Fatalf("Observe(%s): %v", groupID, err)
	}
	m := make(map[string]driver.Observation, len(obs))
	for _, o := range obs {
		if _, dup := m[o.NodeID]; dup {
			t.Fatalf("Observe(%s) reports node %s twice", groupID, o.NodeID)
		}
		m[o.NodeID] = o
	}
	return m
}

// stateOf is the observed state of a node, "" when it is not reported.
func stateOf(t *testing.T, d driver.Driver, groupID, nodeID string) string {
	t.Helper()
	return observe(t, d, groupID)[nodeID].State
}

func awaitState(t *testing.T, h Harness, d driver.Driver, groupID, nodeID, want string) driver.Observation {
	t.Helper()
	h.Eventually(t, fmt.Sprintf("node %s to be %s", nodeID, want), func() bool {
		return stateOf(t, d, groupID, nodeID) == want
	})
	return observe(t, d, groupID)[nodeID]
}

func ids(m map[string]driver.Observation) []string {
	out := make([]string, 0, len(m))
	for id := range m {
		out = append(out, id)
	}
	sort.Strings(out)
	return out
}

func sorted(s ...string) []string {
	s = slices.Clone(s)
	sort.Strings(s)
	return s
}

func testLaunchReady(t *testing.T, h Harness) {
	d := open(t, h)
	g, n := newID(t), newID(t)
	handle := launch(t, d, h.BootSpec(g, n, 0))
	if len(handle) == 0 {
		t.Error("Launch returned an empty handle: nothing to re-adopt the node with")
	}
	first := observe(t, d, g)[n]
	if first.State != api.NodeLaunching {
		t.Fatalf("right after Launch the node is %q, want %q", first.State, api.NodeLaunching)
	}
	if first.Since.IsZero() {
		t.Error("launching observation has no Since")
	}
	ready := awaitState(t, h, d, g, n, api.NodeReady)
	if ready.Since.Before(first.Since) {
		t.Errorf("ready since %v is before launching since %v", ready.Since, first.Since)
	}
	if len(ready.Handle) == 0 {
		t.Error("ready observation carries no handle")
	}
}

func testLaunchIdempotent(t *testing.T, h Harness) {
	d := open(t, h)
	g, n := newID(t), newID(t)
	first := launch(t, d, h.Spec(g, n, 0))
	second := launch(t, d, h.Spec(g, n, 0))
	if fmt.Sprint(first) != fmt.Sprint(second) {
		t.Errorf("second Launch of the same node returned handle %v, want the first one %v", second, first)
	}
	if got := ids(observe(t, d, g)); !slices.Equal(got, []string{n}) {
		t.Errorf("after two Launches of one node, Observe lists %v, want [%s]", got, n)
	}
}

func testObserveExact(t *testing.T, h Harness) {
	d := open(t, h)
	g := newID(t)
	if obs := observe(t, d, g); len(obs) != 0 {
		t.Fatalf("Observe of a group with no nodes lists %v", ids(obs))
	}
	var want []string
	for i := range 3 {
		n := newID(t)
		want = append(want, n)
		launch(t, d, h.Spec(g, n, i))
	}
	if got := ids(observe(t, d, g)); !slices.Equal(got, sorted(want...)) {
		t.Errorf("Observe lists %v, want exactly %v", got, sorted(want...))
	}
	for _, n := range want {
		awaitState(t, h, d, g, n, api.NodeReady)
	}
	if got := ids(observe(t, d, g)); !slices.Equal(got, sorted(want...)) {
		t.Errorf("once ready, Observe lists %v, want exactly %v", got, sorted(want...))
	}
}

func testTerminate(t *testing.T, h Harness) {
	d := open(t, h)
	g, n, other := newID(t), newID(t), newID(t)
	launch(t, d, h.Spec(g, n, 0))
	launch(t, d, h.Spec(g, other, 1))
	awaitState(t, h, d, g, n, api.NodeReady)
	awaitState(t, h, d, g, other, api.NodeReady)

	for i := range 2 {
		if err := d.Terminate(ctx(t), g, n, 5*time.Second); err != nil {
			t.Fatalf("Terminate #%d: %v", i+1, err)
		}
		awaitState(t, h, d, g, n, api.NodeTerminated)
	}
	if st := stateOf(t, d, g, other); st != api.NodeReady {
		t.Errorf("terminating one node left the other %q, want ready", st)
	}
	if o := observe(t, d, g)[n]; o.Since.IsZero() {
		t.Error("terminated observation has no Since")
	}
}

func testTerminateUnknown(t *testing.T, h Harness) {
	d := open(t, h)
	g, n := newID(t), newID(t)
	if err := d.Terminate(ctx(t), newID(t), newID(t), time.Second); err != nil {
		t.Errorf("Terminate of an unknown group's node: %v, want nil", err)
	}
	launch(t, d, h.Spec(g, n, 0))
	if err := d.Terminate(ctx(t), g, newID(t), time.Second); err != nil {
		t.Errorf("Terminate of an unknown node in a known group: %v, want nil", err)
	}
	if got := ids(observe(t, d, g)); !slices.Equal(got, []string{n}) {
		t.Errorf("after terminating an unknown node Observe lists %v, want [%s]", got, n)
	}
}

func testOutOfBandDeath(t *testing.T, h Harness) {
	d := open(t, h)
	g, n, other := newID(t), newID(t), newID(t)
	handle := launch(t, d, h.Spec(g, n, 0))
	launch(t, d, h.Spec(g, other, 1))
	awaitState(t, h, d, g, n, api.NodeReady)
	awaitState(t, h, d, g, other, api.NodeReady)

	h.Kill(t, d, g, n, handle)
	o := awaitState(t, h, d, g, n, api.NodeUnavailable)
	if strings.TrimSpace(o.Reason) == "" {
		t.Error("unavailable node reported without a reason")
	}
	if st := stateOf(t, d, g, other); st != api.NodeReady {
		t.Errorf("the other node is %q after one died, want ready", st)
	}
	if err := d.Terminate(ctx(t), g, n, time.Second); err != nil {
		t.Fatalf("Terminate of the dead node: %v", err)
	}
	awaitState(t, h, d, g, n, api.NodeTerminated)
}

func testReadoption(t *testing.T, h Harness) {
	ctx := ctx(t)
	d := open(t, h)
	g := newID(t)
	live, dieDown, deadBefore := newID(t), newID(t), newID(t)
	names := map[string]string{live: "live", dieDown: "dies while down", deadBefore: "dead before restart"}
	specs := map[string]driver.NodeSpec{}
	handles := map[string]map[string]string{}
	for i, n := range []string{live, dieDown, deadBefore} {
		specs[n] = h.Spec(g, n, i)
		handles[n] = launch(t, d, specs[n])
	}
	for n := range specs {
		awaitState(t, h, d, g, n, api.NodeReady)
	}
	h.Kill(t, d, g, deadBefore, handles[deadBefore])
	awaitState(t, h, d, g, deadBefore, api.NodeUnavailable)

	// What the store would hold: the last observed state and handle.
	recorded := observe(t, d, g)
	if err := d.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	wantDieDown := api.NodeReady
	if h.KillWhileDown != nil {
		h.KillWhileDown(t, g, dieDown, handles[dieDown])
		wantDieDown = api.NodeUnavailable
	}

	d2 := open(t, h)
	var adopt []driver.AdoptSpec
	for n, spec := range specs {
		rec := recorded[n]
		handle := rec.Handle
		if len(handle) == 0 {
			handle = handles[n]
		}
		adopt = append(adopt, driver.AdoptSpec{NodeSpec: spec, State: rec.State, Handle: handle})
	}
	obs, err := d2.Adopt(ctx, adopt)
	if err != nil {
		t.Fatalf("Adopt: %v", err)
	}
	got := map[string]driver.Observation{}
	for _, o := range obs {
		got[o.NodeID] = o
	}
	want := map[string]string{live: api.NodeReady, dieDown: wantDieDown, deadBefore: api.NodeUnavailable}
	for n, st := range want {
		o, ok := got[n]
		switch {
		case !ok:
			t.Errorf("Adopt did not report the %s node", names[n])
		case o.State != st:
			t.Errorf("Adopt reports the %s node %q (%s), want %q", names[n], o.State, o.Reason, st)
		case st == api.NodeUnavailable && strings.TrimSpace(o.Reason) == "":
			t.Errorf("Adopt reports the %s node unavailable without a reason", names[n])
		}
	}
	if gotIDs := ids(observe(t, d2, g)); !slices.Equal(gotIDs, sorted(live, dieDown, deadBefore)) {
		t.Errorf("after Adopt, Observe lists %v, want the three adopted nodes", gotIDs)
	}
	if st := stateOf(t, d2, g, live); st != api.NodeReady {
		t.Errorf("the live node is %q after adoption, want ready", st)
	}

	// The adopted driver runs the nodes: it can end them, and sees a
	// later death.
	if err := d2.Terminate(ctx, g, live, 5*time.Second); err != nil {
		t.Fatalf("Terminate of an adopted node: %v", err)
	}
	awaitState(t, h, d2, g, live, api.NodeTerminated)
	if wantDieDown == api.NodeReady {
		h.Kill(t, d2, g, dieDown, handles[dieDown])
		awaitState(t, h, d2, g, dieDown, api.NodeUnavailable)
	}
	for _, n := range []string{dieDown, deadBefore} {
		if err := d2.Terminate(ctx, g, n, time.Second); err != nil {
			t.Errorf("Terminate of adopted dead node: %v", err)
		}
		awaitState(t, h, d2, g, n, api.NodeTerminated)
	}
}

// testAdoptNeverLaunched: a node recorded without a handle that no launch
// ever reached is left out of Adopt's report (the caller launches it),
// and the driver does not run it; adopting it does not hide the others.
func testAdoptNeverLaunched(t *testing.T, h Harness) {
	d := open(t, h)
	g, known, never := newID(t), newID(t), newID(t)
	handle := launch(t, d, h.Spec(g, known, 0))
	obs, err := d.Adopt(ctx(t), []driver.AdoptSpec{
		{NodeSpec: h.Spec(g, never, 1), State: api.NodeLaunching},
		{NodeSpec: h.Spec(g, known, 0), State: api.NodeLaunching, Handle: handle},
	})
	if err != nil {
		t.Fatalf("Adopt: %v", err)
	}
	if got := ids(observationsByID(obs)); !slices.Equal(got, []string{known}) {
		t.Errorf("Adopt reports %v, want only the launched node %s", got, known)
	}
	if got := ids(observe(t, d, g)); !slices.Equal(got, []string{known}) {
		t.Errorf("after Adopt, Observe lists %v, want only %s", got, known)
	}
}

func observationsByID(obs []driver.Observation) map[string]driver.Observation {
	m := make(map[string]driver.Observation, len(obs))
	for _, o := range obs {
		m[o.NodeID] = o
	}
	return m
}

func testGroupsIsolated(t *testing.T, h Harness) {
	d := open(t, h)
	g1, g2 := newID(t), newID(t)
	a, b, c := newID(t), newID(t), newID(t)
	launch(t, d, h.Spec(g1, a, 0))
	launch(t, d, h.Spec(g1, b, 1))
	launch(t, d, h.Spec(g2, c, 0))
	if got := ids(observe(t, d, g1)); !slices.Equal(got, sorted(a, b)) {
		t.Errorf("group 1 sees %v, want %v", got, sorted(a, b))
	}
	if got := ids(observe(t, d, g2)); !slices.Equal(got, []string{c}) {
		t.Errorf("group 2 sees %v, want [%s]", got, c)
	}
	// A node ID under the wrong group is unknown there.
	if err := d.Terminate(ctx(t), g2, a, time.Second); err != nil {
		t.Fatalf("Terminate of group 1's node through group 2: %v", err)
	}
	awaitState(t, h, d, g1, a, api.NodeReady)
	if _, ok := observe(t, d, g2)[a]; ok {
		t.Error("group 2 reports group 1's node after a Terminate through group 2")
	}
}

func testFailUnknown(t *testing.T, h Harness) {
	d := open(t, h)
	err := d.Fail(context.Background(), newID(t), newID(t))
	if !errors.Is(err, driver.ErrUnknownNode) && !errors.Is(err, driver.ErrUnsupported) {
		t.Errorf("Fail of an unknown node: %v, want an error wrapping ErrUnknownNode or ErrUnsupported", err)
	}
}
