package supervisor

import (
	"encoding/hex"
	"errors"
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

// Every state is either in the table above or deliberately silent; a new
// state must not crash statusText with empty facts.
func TestStatusTextEveryState(t *testing.T) {
	for _, s := range states.AllStates {
		_ = statusText(s, states.Spec{}, &states.Facts{})
	}
}

func TestInvocationOf(t *testing.T) {
	if got := invocationOf([]string{"PATH=/bin", "INVOCATION_ID=0123456789abcdef0123456789abcdef"}); got != "0123456789abcdef0123456789abcdef" {
		t.Errorf("invocationOf with INVOCATION_ID = %q, want systemd's", got)
	}
	tests := []struct {
		name    string
		environ []string
	}{
		{name: "unset", environ: []string{"PATH=/bin"}},
		{name: "nil", environ: nil},
		{name: "empty", environ: []string{"INVOCATION_ID="}},
	}
	first := invocationOf(nil)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := invocationOf(tt.environ)
			if len(got) != 32 {
				t.Fatalf("invocationOf(%q) = %q, want 32 hex characters", tt.environ, got)
			}
			if _, err := hex.DecodeString(got); err != nil || strings.ToLower(got) != got {
				t.Fatalf("invocationOf(%q) = %q, want lowercase hex: %v", tt.environ, got, err)
			}
			if got != first {
				t.Errorf("invocationOf(%q) = %q, want the same ID on every call (%q)", tt.environ, got, first)
			}
		})
	}
	if a, b := randomID(), randomID(); a == b {
		t.Errorf("randomID returned %q twice", a)
	}
}
