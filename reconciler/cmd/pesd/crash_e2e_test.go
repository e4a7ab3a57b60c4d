//go:build linux

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pes-project/terraform-provider-pes/reconciler/api"
	"github.com/pes-project/terraform-provider-pes/reconciler/client"
)

// postOnce sends one POST over plain HTTP, without retries, so that each
// 2xx answers exactly one request, and decodes a 2xx answer into out.
func postOnce(ctx context.Context, hc *http.Client, d *pesdProc, path string, in, out any) (int, error) {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return 0, err
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, d.url+path, body)
	if err != nil {
		return 0, err
	}
	req.Header.Set("Authorization", "Bearer "+d.token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := hc.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode/100 != 2 {
		return resp.StatusCode, err
	}
	if err := json.Unmarshal(b, out); err != nil {
		return resp.StatusCode, fmt.Errorf("2xx with a body that does not decode: %w: %.200s", err, b)
	}
	return resp.StatusCode, nil
}

// checkLabels checks that a group's labels of one kind are kind1..kindN,
// each once, and returns N.
func checkLabels(t *testing.T, group, kind string, labels []string) int {
	t.Helper()
	seen := make(map[int]bool, len(labels))
	for _, l := range labels {
		n, err := strconv.Atoi(strings.TrimPrefix(l, kind))
		if !strings.HasPrefix(l, kind) || err != nil || n <= 0 {
			t.Errorf("group %s: label %q is not %s followed by a number", group, l, kind)
			continue
		}
		if seen[n] {
			t.Errorf("group %s: label %s issued twice", group, l)
		}
		seen[n] = true
	}
	for i := 1; i <= len(labels); i++ {
		if !seen[i] {
			t.Errorf("group %s: label %s%d missing among %d %s labels (a gap)", group, kind, i, len(labels), kind)
			break
		}
	}
	return len(labels)
}

// groupLabels reads every E, C and H label of a group.
func groupLabels(t *testing.T, ctx context.Context, c *client.Client, groupID string) (events, changes, periods []string) {
	t.Helper()
	evs, err := c.ListAllEvents(ctx, groupID, client.EventFilter{Page: client.Page{Limit: 1000}})
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range evs {
		events = append(events, e.Label)
	}
	chs, err := c.ListAllChanges(ctx, groupID, client.ChangeFilter{Page: client.Page{Limit: 1000}})
	if err != nil {
		t.Fatal(err)
	}
	for _, ch := range chs {
		changes = append(changes, ch.Label)
	}
	ps, err := c.ListAllPeriods(ctx, groupID, client.Page{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range ps {
		periods = append(periods, p.Label)
	}
	return events, changes, periods
}

// TestE2EKill9DuringInstructionBurst sends a burst of 1,000 concurrent
// instructions to a real pesd, some immediate (they write changes and
// launch or stop nodes), with harmonizations asked for among them (they
// close and open periods), and kills pesd with SIGKILL in the middle of
// it. After a restart every instruction and harmonization that got a 2xx
// is there, labels E, C and H of every group are gapless and unique, and
// the labels issued after the restart carry on from the last committed
// one.
func TestE2EKill9DuringInstructionBurst(t *testing.T) {
	needE2E(t)
	dir := t.TempDir()
	d := startDaemon(t, dir, "e2e-token")
	c := d.client(t)
	ctx := ctxFor(t)

	const nGroups, burst, clients = 4, 1000, 64
	var groups []string
	for i := range nGroups {
		cfg := simGroup(fmt.Sprintf("burst-%d", i), 2)
		cfg.AggregationPeriod = "1s"
		cfg.Sim = &api.SimConfig{BootTime: "0s"}
		g, err := c.CreateGroup(ctx, cfg)
		if err != nil {
			t.Fatal(err)
		}
		groups = append(groups, g.ID)
	}

	hc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: clients}, Timeout: 30 * time.Second}
	type ack struct{ group, id, label string }
	var periods []ack // harmonizations acknowledged
	var (
		mu      sync.Mutex
		acked   []ack
		next    atomic.Int64
		killing sync.Once
		wg      sync.WaitGroup
	)
	killAt := burst / 3
	for range clients {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= burst {
					return
				}
				g := groups[i%nGroups]
				if i%20 == 7 {
					var p api.Period
					if status, err := postOnce(ctx, hc, d, "/v1/groups/"+g+"/harmonize", nil, &p); err == nil && status/100 == 2 {
						mu.Lock()
						periods = append(periods, ack{g, p.ID, p.Label})
						mu.Unlock()
					}
					continue
				}
				in := api.Instruction{Request: api.Request{ChangeBy: ptr(1 - 2*(i/nGroups%2))},
					Immediate: i%5 == 0, Reason: fmt.Sprintf("burst %d", i)}
				var e api.Event
				status, err := postOnce(ctx, hc, d, "/v1/groups/"+g+"/instructions", in, &e)
				if err != nil || status/100 != 2 {
					continue // refused or cut off by the kill: not acknowledged
				}
				mu.Lock()
				acked = append(acked, ack{g, e.ID, e.Label})
				n := len(acked)
				mu.Unlock()
				if n >= killAt {
					killing.Do(d.kill9)
				}
			}
		})
	}
	wg.Wait()
	killing.Do(d.kill9)
	if len(acked) < killAt || len(acked) >= burst {
		t.Fatalf("%d of %d instructions acknowledged: the kill did not land mid-burst", len(acked), burst)
	}

	d2 := startDaemon(t, dir, "e2e-token")
	c2 := d2.client(t)
	for _, a := range acked {
		e, err := c2.GetEvent(ctx, a.id)
		if err != nil {
			t.Fatalf("acknowledged instruction %s (%s of group %s) lost after kill -9: %v", a.id, a.label, a.group, err)
		}
		if e.Label != a.label || e.GroupID != a.group {
			t.Errorf("event %s came back as %s of group %s, acknowledged as %s of %s", a.id, e.Label, e.GroupID, a.label, a.group)
		}
	}
	for _, a := range periods {
		p, err := c2.GetPeriod(ctx, a.id)
		if err != nil || !p.Harmonized || p.Label != a.label {
			t.Fatalf("acknowledged harmonization of %s (group %s) after kill -9: %+v, %v", a.label, a.group, p, err)
		}
	}
	if len(periods) == 0 {
		t.Error("no harmonization was acknowledged during the burst")
	}
	last := map[string]int{}
	for _, g := range groups {
		events, changes, periods := groupLabels(t, ctx, c2, g)
		last[g] = checkLabels(t, g, "E", events)
		checkLabels(t, g, "C", changes)
		checkLabels(t, g, "H", periods)
	}
	// The restarted pesd carries on after the last committed label.
	for _, g := range groups {
		e, err := c2.Instruct(ctx, g, api.Instruction{Request: api.Request{ChangeBy: ptr(1)}, Reason: "after restart"})
		if err != nil {
			t.Fatal(err)
		}
		events, _, _ := groupLabels(t, ctx, c2, g)
		checkLabels(t, g, "E", events)
		if n, err := strconv.Atoi(strings.TrimPrefix(e.Label, "E")); err != nil || n <= last[g] {
			t.Errorf("group %s: the first instruction after restart is %s; E%d was committed before", g, e.Label, last[g])
		}
	}
	t.Logf("%d instructions and %d harmonizations acknowledged of %d requests before kill -9; all found after restart",
		len(acked), len(periods), burst)
}
