package supervisor

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/systemd-docker/systemd-docker/states"
)

func TestStatusText(t *testing.T) {
	const id = "4f1e2d3c4b5a69788796a5b4c3d2e1f0"
	spec := states.Spec{Name: "web", Create: states.CreateSpec{Image: "nginx:1.27"}}
	withRm := spec
	withRm.Remove = true
	facts := states.Facts{ContainerID: id, Pid: 4242}
	failed := facts
	failed.Err = errors.New("create: image not found")

	tests := []struct {
		name     string
		to       states.State
		spec     states.Spec
		facts    states.Facts
		contains []string // "" result when empty
		absent   []string
	}{
		{name: "create names the image", to: states.Create, spec: spec, contains: []string{"nginx:1.27"}},
		{name: "start names the short ID", to: states.Start, spec: spec, facts: facts,
			contains: []string{"4f1e2d3c4b5a"}, absent: []string{id}},
		{name: "start with a short ID", to: states.Start, spec: spec, facts: states.Facts{ContainerID: "abc"}, contains: []string{"abc"}},
		{name: "migrate-cgroups names the pid", to: states.MigrateCgroups, spec: spec, facts: facts, contains: []string{"4242"}},
		{name: "cleanup-stale names the container", to: states.CleanupStale, spec: spec, contains: []string{"web"}},
		{name: "remove with --rm", to: states.Remove, spec: withRm, facts: facts, contains: []string{"4f1e2d3c4b5a"}, absent: []string{id}},
		{name: "remove without --rm", to: states.Remove, spec: spec, facts: facts},
		{name: "failed carries the error", to: states.Failed, spec: spec, facts: failed, contains: []string{"create: image not found"}},
		{name: "failed without an error", to: states.Failed, spec: spec, facts: facts},
		{name: "lookup", to: states.Lookup, spec: spec, facts: facts},
		{name: "notify", to: states.Notify, spec: spec, facts: facts},
		{name: "watch", to: states.Watch, spec: spec, facts: facts},
		{name: "stop", to: states.Stop, spec: withRm, facts: failed},
		{name: "done", to: states.Done, spec: withRm, facts: facts},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := statusText(tt.to, tt.spec, &tt.facts)
			if len(tt.contains) == 0 {
				if got != "" {
					t.Fatalf("statusText(%s) = %q, want \"\"", tt.to, got)
				}
				return
			}
			for _, s := range tt.contains {
				if !strings.Contains(got, s) {
					t.Errorf("statusText(%s) = %q, want it to contain %q", tt.to, got, s)
				}
			}
			for _, s := range tt.absent {
				if strings.Contains(got, s) {
					t.Errorf("statusText(%s) = %q, should not contain %q", tt.to, got, s)
				}
			}
			if strings.Contains(got, "\n") {
				t.Errorf("statusText(%s) = %q: STATUS= is one line", tt.to, got)
			}
		})
	}
}

// Every state has a STATUS= line of its own, or is deliberately silent
// because its action says more itself; a new state must choose.
func TestStatusTextEveryState(t *testing.T) {
	silent := []states.State{states.Lookup, states.Notify, states.Watch, states.Stop, states.Kill, states.Done}
	spec := states.Spec{Name: "web", Remove: true, Create: states.CreateSpec{Image: "nginx"}}
	facts := &states.Facts{ContainerID: "4f1e2d3c4b5a69788796a5b4c3d2e1f0", Pid: 42, Err: errors.New("boom")}
	for _, st := range states.AllStates {
		got := statusText(st, spec, facts)
		if quiet := slices.Contains(silent, st); quiet != (got == "") {
			t.Errorf("statusText(%s) = %q; silent states: %v", st, got, silent)
		}
	}
}
