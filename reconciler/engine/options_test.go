package engine

import (
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/pes-project/terraform-provider-pes/reconciler/api"
)

// Seed 000's engine options: lockdown after removal,
// harmonize_after_requests, instructions_silence_triggers and
// decreases_outrank_increases.

func TestAdmitLockdownAfterRemoval(t *testing.T) {
	now := at(120)
	removal := func(label string, status string, nodes ...string) api.Change {
		return api.Change{ID: "id-" + label, Label: label, Type: api.ChangeRemoveNodes, Status: status, NodeIDs: nodes}
	}
	terminating := func(i int) api.Node { return node(i, api.NodeTerminating, at(-3600)) }
	off := false
	tests := []struct {
		name string
		off  bool // lockdown_after_removal = false
		in   AdmitInput
		want Admission
	}{
		{
			name: "C9's nodes still terminating: locked down",
			in: AdmitInput{Nodes: append(ready(6), terminating(7), terminating(8)),
				Removals: []api.Change{removal("C9", api.ChangeInProgress, "n-7", "n-8")}},
			want: Admission{Suppressed: true, Removing: []Launching{{"C9", 2}}},
		},
		{
			name: "one of two nodes gone: still locked down",
			in: AdmitInput{Nodes: append(ready(6), terminating(8)),
				Removals: []api.Change{removal("C9", api.ChangeInProgress, "n-7", "n-8")}},
			want: Admission{Suppressed: true, Removing: []Launching{{"C9", 1}}},
		},
		{
			name: "every node gone: admitted",
			in:   AdmitInput{Nodes: ready(6), Removals: []api.Change{removal("C9", api.ChangeInProgress, "n-7", "n-8")}},
			want: Admission{},
		},
		{
			name: "a completed removal does not lock",
			in: AdmitInput{Nodes: append(ready(6), terminating(7)),
				Removals: []api.Change{removal("C9", api.ChangeCompleted, "n-7")}},
			want: Admission{},
		},
		{
			name: "lockdown_after_removal false: admitted",
			off:  true,
			in: AdmitInput{Nodes: append(ready(6), terminating(7)),
				Removals: []api.Change{removal("C9", api.ChangeInProgress, "n-7")}},
			want: Admission{},
		},
		{
			name: "a launch's lockdown comes first",
			in: AdmitInput{Nodes: append(ready(6), terminating(7), node(9, api.NodeLaunching, at(100))),
				Removals: []api.Change{removal("C9", api.ChangeInProgress, "n-7")}},
			want: Admission{Suppressed: true, Launching: []Launching{{"", 1}}, LaunchingUntil: at(100).Add(10 * time.Minute)},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.in.Config, tt.in.Now = cfg(""), now
			tt.in.Config.Cooldown, tt.in.Config.Durations.Cooldown = "0s", 0
			if tt.off {
				tt.in.Config.LockdownAfterRemoval = &off
			}
			if got := Admit(tt.in); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Admit = %+v\nwant %+v", got, tt.want)
			}
			if got := Admit(tt.in); got.Suppressed && got.Status() != api.EventSuppressed {
				t.Errorf("a lockdown's status is %s, want suppressed", got.Status())
			}
		})
	}
}

func TestAdmitInstructionsSilenceTriggers(t *testing.T) {
	tests := []struct {
		name        string
		on          bool
		instruction string
		want        Admission
	}{
		{"instruction in the period silences", true, "E4", Admission{Suppressed: true, SilencedBy: "E4"}},
		{"no instruction: admitted", true, "", Admission{}},
		{"option off: admitted", false, "E4", Admission{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := cfg("")
			c.Cooldown, c.Durations.Cooldown = "0s", 0
			c.InstructionsSilenceTriggers = tt.on
			var reqs []api.Event
			if tt.instruction != "" {
				reqs = []api.Event{trigger("E3", "cpu", 0, by(1)), user(tt.instruction, "bob", 0, to(10))}
			}
			got := Admit(AdmitInput{Config: c, Now: at(0), Nodes: ready(8), Requests: reqs})
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Admit = %+v\nwant %+v", got, tt.want)
			}
			if got.Suppressed && got.Status() != api.EventIgnored {
				t.Errorf("a silenced firing's status is %s, want ignored", got.Status())
			}
		})
	}
}

func TestHarmonizeEarly(t *testing.T) {
	reqs := []api.Event{trigger("E1", "cpu", 1, by(1)), user("E2", "bob", 2, by(2)), replacement("E3", 3, "n-1")}
	tests := []struct {
		name      string
		n         int
		reqs      []api.Event
		wantEarly bool
		wantN     int
	}{
		{"off", 0, reqs, false, 0},
		{"two waiting, two asked", 2, reqs, true, 2},
		{"replacements do not count", 3, reqs, false, 2},
		{"one waiting, two asked", 2, reqs[:1], false, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := cfg("")
			c.HarmonizeAfterRequests = tt.n
			n, early := HarmonizeEarly(c, tt.reqs)
			if early != tt.wantEarly || n != tt.wantN {
				t.Errorf("HarmonizeEarly = %d, %v; want %d, %v", n, early, tt.wantN, tt.wantEarly)
			}
		})
	}
	// The record of a period ended early says so (as data the notes are
	// written from).
	d := Harmonize(HarmonizeInput{Config: cfg(""), DesiredBefore: 8, OfficialBefore: 8, Nodes: ready(8),
		Requests: reqs[:2], EndedEarly: 2})
	if d.EndedEarly != 2 {
		t.Errorf("decision EndedEarly = %d, want 2", d.EndedEarly)
	}
}

func TestHarmonizePrecedenceOptions(t *testing.T) {
	tests := []struct {
		name          string
		policy        string
		silence       bool
		decreasesWin  bool
		reqs          []api.Event
		wantAfter     int
		wantCauses    []string
		wantDecisive  string
		wantSilenced  []string
		wantOutranked []string
	}{
		{
			name: "options off: largest takes the trigger", policy: api.PolicyLargest,
			reqs:      []api.Event{trigger("E1", "cpu", 1, by(4)), user("E2", "bob", 2, by(1))},
			wantAfter: 12, wantCauses: ids("E1", "E2"), wantDecisive: "id-E1",
		},
		{
			name: "instruction silences earlier and later firings", policy: api.PolicyLargest, silence: true,
			reqs:      []api.Event{trigger("E1", "cpu", 1, by(4)), user("E2", "bob", 2, by(1)), trigger("E3", "mem", 3, by(3))},
			wantAfter: 9, wantCauses: ids("E2"), wantDecisive: "id-E2", wantSilenced: ids("E1", "E3"),
		},
		{
			name: "no instruction: nothing silenced", policy: api.PolicyLargest, silence: true,
			reqs:      []api.Event{trigger("E1", "cpu", 1, by(4)), trigger("E3", "mem", 3, by(3))},
			wantAfter: 12, wantCauses: ids("E1", "E3"), wantDecisive: "id-E1",
		},
		{
			name: "decreases outrank increases under largest", policy: api.PolicyLargest, decreasesWin: true,
			reqs:      []api.Event{trigger("E1", "cpu", 1, by(4)), trigger("E2", "idle", 2, by(-1)), user("E3", "bob", 3, by(-3))},
			wantAfter: 7, wantCauses: ids("E2", "E3"), wantDecisive: "id-E2", wantOutranked: ids("E1"),
		},
		{
			name: "only increases: none outranked", policy: api.PolicyLargest, decreasesWin: true,
			reqs:      []api.Event{trigger("E1", "cpu", 1, by(4)), trigger("E2", "mem", 2, by(1))},
			wantAfter: 12, wantCauses: ids("E1", "E2"), wantDecisive: "id-E1",
		},
		{
			name: "sum of the decreases only", policy: api.PolicySum, decreasesWin: true,
			reqs:      []api.Event{trigger("E1", "cpu", 1, by(4)), trigger("E2", "idle", 2, by(-1)), user("E3", "bob", 3, by(-2))},
			wantAfter: 5, wantCauses: ids("E2", "E3"), wantOutranked: ids("E1"),
		},
		{
			name: "both: silenced first, then decreases outrank", policy: api.PolicyLargest, silence: true, decreasesWin: true,
			reqs:      []api.Event{trigger("E1", "idle", 1, by(-2)), user("E2", "bob", 2, by(3)), user("E3", "amy", 3, by(-1))},
			wantAfter: 7, wantCauses: ids("E3"), wantDecisive: "id-E3", wantSilenced: ids("E1"), wantOutranked: ids("E2"),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := cfg(tt.policy)
			c.InstructionsSilenceTriggers, c.DecreasesOutrankIncreases = tt.silence, tt.decreasesWin
			d := Harmonize(HarmonizeInput{Config: c, DesiredBefore: 8, OfficialBefore: 8, Nodes: ready(8), Requests: tt.reqs})
			if d.Period.DesiredAfter != tt.wantAfter {
				t.Errorf("desired after = %d, want %d", d.Period.DesiredAfter, tt.wantAfter)
			}
			if !slices.Equal(d.CauseEventIDs, tt.wantCauses) {
				t.Errorf("causes = %v, want %v", d.CauseEventIDs, tt.wantCauses)
			}
			if d.DecisiveEventID != tt.wantDecisive {
				t.Errorf("decisive = %q, want %q", d.DecisiveEventID, tt.wantDecisive)
			}
			var silenced, ignored []string
			for _, s := range d.Silenced {
				silenced = append(silenced, s.EventID)
				if s.By != "E2" {
					t.Errorf("%s silenced by %q, want E2 (the period's first instruction)", s.Label, s.By)
				}
			}
			for _, s := range d.Period.Ignored {
				ignored = append(ignored, s.EventID)
			}
			if !slices.Equal(silenced, tt.wantSilenced) || !slices.Equal(ignored, tt.wantSilenced) {
				t.Errorf("silenced %v, record's ignored %v; want %v", silenced, ignored, tt.wantSilenced)
			}
			var marked []string
			for _, r := range d.Period.Requests {
				if r.Outranked {
					marked = append(marked, r.EventID)
				}
				if slices.Contains(tt.wantSilenced, r.EventID) {
					t.Errorf("silenced %s is among the record's requests", r.Label)
				}
			}
			if !slices.Equal(d.Outranked, tt.wantOutranked) || !slices.Equal(marked, tt.wantOutranked) {
				t.Errorf("outranked %v, marked in the record %v; want %v", d.Outranked, marked, tt.wantOutranked)
			}
			if got := Chosen(d.Period); got != tt.wantDecisive {
				t.Errorf("Chosen(record) = %q, want %q", got, tt.wantDecisive)
			}
		})
	}
}

// TestSilencerOneRule: admission and harmonization agree on what
// silences a period's trigger firings (instructions_silence_triggers):
// a user instruction, and only that. A user-sourced request that is not
// an instruction (an execution's scale_to on completion, asked by alice)
// silences nothing at either, nor does a replacement; with an instruction
// after it, the instruction is the silencer named at both.
func TestSilencerOneRule(t *testing.T) {
	execution := api.Event{ID: "id-E2", Label: "E2", GroupID: "g", Type: api.EventExecutionCompleted,
		Source: api.Source{Kind: api.SourceUser, Name: "alice"}, Time: at(2), Request: ptr(to(12)),
		Priority: api.DefaultInstructionPriority, Status: api.EventAggregated}
	userReplacement := replacement("E3", 3, "n-1")
	userReplacement.Source = api.Source{Kind: api.SourceUser, Name: "bob"}
	firing := trigger("E1", "cpu", 1, by(2))
	tests := []struct {
		name string
		reqs []api.Event
		want string // the silencer's label, "" for none
	}{
		{"a user instruction", []api.Event{firing, user("E4", "bob", 4, to(10))}, "E4"},
		{"a user-sourced request that is not an instruction", []api.Event{firing, execution}, ""},
		{"a replacement asked by a user", []api.Event{firing, userReplacement}, ""},
		{"an instruction after a user-sourced request", []api.Event{firing, execution, user("E4", "bob", 4, to(10))}, "E4"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := cfg("")
			c.Cooldown, c.Durations.Cooldown = "0s", 0
			c.InstructionsSilenceTriggers = true
			adm := Admit(AdmitInput{Config: c, Now: at(5), Nodes: ready(8), Requests: tt.reqs})
			d := Harmonize(HarmonizeInput{Config: c, Now: at(60), DesiredBefore: 8, OfficialBefore: 8, Nodes: ready(8), Requests: tt.reqs})
			harmonized := ""
			for _, s := range d.Silenced {
				if s.Label != firing.Label || (harmonized != "" && s.By != harmonized) {
					t.Errorf("silenced %+v; want only the firing %s", s, firing.Label)
				}
				harmonized = s.By
			}
			if adm.SilencedBy != tt.want || harmonized != tt.want {
				t.Errorf("silenced by %q at admission, %q at harmonization; want %q at both", adm.SilencedBy, harmonized, tt.want)
			}
		})
	}
}
