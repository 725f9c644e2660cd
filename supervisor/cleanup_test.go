package supervisor

import (
	"context"
	"errors"
	"testing"

	"github.com/systemd-docker/systemd-docker/states"
)

type cleanupFake struct {
	c       states.Container
	err     error
	removed []string
	rmErr   error
}

func (f *cleanupFake) Inspect(context.Context, string) (states.Container, error) { return f.c, f.err }
func (f *cleanupFake) Remove(_ context.Context, id string) error {
	f.removed = append(f.removed, id)
	return f.rmErr
}

func TestCleanup(t *testing.T) {
	ours := states.Container{ID: "abc123", Labels: map[string]string{states.LabelUnit: "web.service"}}
	tests := []struct {
		name    string
		fake    cleanupFake
		removed bool
		err     bool
	}{
		{"ours", cleanupFake{c: ours}, true, false},
		{"gone", cleanupFake{err: states.ErrNotFound}, false, false},
		{"another unit's", cleanupFake{c: states.Container{ID: "x", Labels: map[string]string{states.LabelUnit: "db.service"}}}, false, false},
		{"not ours at all", cleanupFake{c: states.Container{ID: "x"}}, false, false},
		{"daemon error", cleanupFake{err: errors.New("boom")}, false, true},
		{"remove fails", cleanupFake{c: ours, rmErr: errors.New("busy")}, false, true},
	}
	for _, tc := range tests {
		removed, err := Cleanup(context.Background(), &tc.fake, "systemd-web", "web.service")
		if removed != tc.removed || (err != nil) != tc.err {
			t.Errorf("%s: removed %v, err %v", tc.name, removed, err)
		}
		if !tc.removed && !tc.err && len(tc.fake.removed) > 0 {
			t.Errorf("%s: removed %q", tc.name, tc.fake.removed)
		}
	}
}
