package watchers

import (
	"context"
	"strconv"
	"strings"
	"time"
)

// ContainerEvent is one of Docker's events about the container, as the
// daemon's event stream carries it.
type ContainerEvent struct {
	// Action is Docker's name for what happened: "die", "oom", "kill",
	// "start", "health_status: healthy" … and others DockerEvents ignores
	// ("attach", "restart", "exec_start: sh" …).
	Action string
	// ExitCode is the "exitCode" attribute of a "die", "" when absent.
	ExitCode string
	Time     time.Time
}

// EventSource is the daemon's event stream for one container: every event
// about it, until ctx ends or the stream breaks (the error channel then
// says why, or the event channel closes).
type EventSource interface {
	Events(ctx context.Context, id string) (<-chan ContainerEvent, <-chan error)
}

// DockerEvents emits Exit on "die" (with its exit code), OOM on "oom",
// Killed on "kill", Started on "start" and HealthChanged on
// "health_status: …"; other actions are ignored. A broken stream (the
// daemon restarted) is subscribed again with backoff.
type DockerEvents struct {
	Source EventSource
	ID     string
	// Backoff is the first wait before subscribing again; it doubles up to
	// 5 s. Zero means 100 ms.
	Backoff time.Duration
}

// Run implements a watcher.
func (w DockerEvents) Run(ctx context.Context, emit Emit) {
	pause := Backoff{First: w.Backoff, Max: 5 * time.Second}
	if pause.First == 0 {
		pause.First = 100 * time.Millisecond
	}
	for ctx.Err() == nil {
		msgs, errs := w.Source.Events(ctx, w.ID)
	stream:
		for {
			select {
			case <-ctx.Done():
				return
			case m, ok := <-msgs:
				if !ok {
					break stream
				}
				pause.Reset()
				if ev, ok := dockerEvent(m); ok {
					emit(ev)
				}
			case <-errs:
				break stream
			}
		}
		if !pause.Wait(ctx) {
			return
		}
	}
}

// dockerEvent is the Event for m; false for an action we ignore.
func dockerEvent(m ContainerEvent) (Event, bool) {
	ev := Event{Source: "docker events"}
	switch m.Action {
	case "die":
		ev.Kind = Exit
		if code, err := strconv.Atoi(m.ExitCode); err == nil {
			ev.ExitCode, ev.HasExitCode = code, true
		}
	case "oom":
		ev.Kind = OOM
	case "kill":
		ev.Kind = Killed
	case "start":
		ev.Kind = Started
	default:
		st, ok := strings.CutPrefix(m.Action, "health_status: ")
		if !ok {
			return Event{}, false
		}
		ev.Kind, ev.Health = HealthChanged, Health{Status: st}
	}
	return ev, true
}
