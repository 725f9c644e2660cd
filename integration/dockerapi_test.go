//go:build integration

package integration

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/systemd-docker/systemd-docker/supervisor/dockerapi"
)

// hostAdapter is an Adapter on the host's dockerd, closed when t ends.
func hostAdapter(t *testing.T) *dockerapi.Adapter {
	t.Helper()
	a, err := dockerapi.New(context.Background(), nil, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	return a
}

// What the log copier decides from the real daemon's answers: a log Docker
// cannot read back is refused for good (the copier then stops, with a
// warning), and a readable one replays with times, bounded by since and
// until.
func TestDockerLogReplay(t *testing.T) {
	name := hostTest(t)
	ctx := context.Background()
	a := hostAdapter(t)

	t.Run("unreadable log driver", func(t *testing.T) {
		id := mustHostDocker(t, "run", "-d", "--name", name+"-none", "--log-driver", "none", "--network", "none", image, "sleep", "60")
		removeContainerAtCleanup(t, name+"-none")
		_, err := a.Replay(ctx, id, time.Now().Add(-time.Minute), time.Time{}, false)
		if !dockerapi.Refused(err) {
			t.Errorf("Replay with --log-driver none: %v, want an error that Refused recognises", err)
		}
	})

	t.Run("since and until", func(t *testing.T) {
		id := mustHostDocker(t, "run", "-d", "--name", name, "--network", "none", image,
			"sh", "-c", "echo one; sleep 0.1; echo two >&2; sleep 0.1; echo three")
		mustHostDocker(t, "wait", id)
		read := func(since, until time.Time) []dockerapi.Entry {
			t.Helper()
			st, err := a.Replay(ctx, id, since, until, false)
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			var out []dockerapi.Entry
			if err := st.Entries(false, func(e dockerapi.Entry) error {
				e.Line = append([]byte(nil), e.Line...)
				out = append(out, e)
				return nil
			}); err != nil {
				t.Fatal(err)
			}
			return out
		}
		got := read(time.Time{}, time.Time{})
		if len(got) != 3 || string(got[0].Line) != "one\n" || !got[1].Stderr || string(got[1].Line) != "two\n" || string(got[2].Line) != "three\n" {
			t.Fatalf("whole log: %v", got)
		}
		// Bounds are inclusive, to the nanosecond.
		if mid := read(got[1].Time, got[1].Time); len(mid) != 1 || string(mid[0].Line) != "two\n" {
			t.Errorf("since = until = the second line's time: %v, want just that line", mid)
		}
		if rest := read(got[1].Time.Add(time.Nanosecond), time.Time{}); len(rest) != 1 || string(rest[0].Line) != "three\n" {
			t.Errorf("since just after the second line: %v, want the third", rest)
		}
	})
}

// Forced removals of one container at the same time all succeed: the
// daemon answers the later ones Conflict ("removal … is already in
// progress") or NotFound, which Remove takes as done.
func TestDockerRemoveConcurrent(t *testing.T) {
	name := hostTest(t)
	ctx := context.Background()
	a := hostAdapter(t)
	id := mustHostDocker(t, "run", "-d", "--name", name, "--network", "none", image, "sleep", "60")
	errs := make([]error, 4)
	var wg sync.WaitGroup
	for i := range errs {
		wg.Go(func() { errs[i] = a.Remove(ctx, id) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("Remove %d: %v", i, err)
		}
	}
	if got := hostContainerID(t, name); got != "" {
		t.Errorf("container %s still there after the removals", got)
	}
}
