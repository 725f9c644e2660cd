package watchers

import (
	"context"
	"strconv"
	"strings"
	"time"

	"github.com/systemd-docker/systemd-docker/supervisor/dockerapi"
)

// EventSource is the daemon's event stream for one container.
type EventSource interface {
	Events(ctx context.Context, id string) (<-chan dockerapi.ContainerEvent, <-chan error)
}

// DockerEvents emits Exit on "die", OOM on "oom" and HealthChanged on
// "health_status: …". A broken stream (the
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
	backoff := w.Backoff
	if backoff == 0 {
		backoff = 100 * time.Millisecond
	}
	wait := backoff
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
				wait = backoff
				switch m.Action {
				case "die":
					ev := Event{Kind: Exit, Source: "docker events"}
					if code, err := strconv.Atoi(m.ExitCode); err == nil {
						ev.ExitCode, ev.HasExitCode = code, true
					}
					emit(ev)
				case "oom":
					emit(Event{Kind: OOM, Source: "docker events"})
				case "kill":
					emit(Event{Kind: Killed, Source: "docker events"})
				case "start":
					emit(Event{Kind: Started, Source: "docker events"})
				default:
					if st, ok := strings.CutPrefix(m.Action, "health_status: "); ok {
						emit(Event{Kind: HealthChanged, Source: "docker events", Health: Health{Status: st}})
					}
				}
			case <-errs:
				break stream
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
		wait = min(2*wait, 5*time.Second)
	}
}
