package states

import (
	"context"
	"fmt"
	"time"
)

// start attaches to the container's output first, so no early line is
// lost, then starts it (an adopted container already runs, and so does one
// Docker restarted: the new process is then migrated and announced again)
// and learns its host pid.
func (m *Machine) start(ctx context.Context) (Event, error) {
	id := m.facts.ContainerID
	if m.spec.Logs {
		var since time.Time
		if m.facts.Restarts > 0 {
			c, err := m.ports.Docker.Inspect(ctx, id)
			if err != nil {
				return "", fmt.Errorf("inspect restarted container %s: %w", ShortID(id), err)
			}
			// Its first lines may be older than StartedAt; every line
			// after the previous run ended is the new run's.
			since = c.FinishedAt
		}
		if err := m.ports.Logs.Attach(ctx, id, m.spec.TTY, since); err != nil {
			return "", fmt.Errorf("attach to container %s output: %w", ShortID(id), err)
		}
	}
	// An adopted container runs already; a restarted one Docker started.
	if !m.facts.Adopted && m.facts.Restarts == 0 {
		if err := m.ports.Docker.Start(ctx, id); err != nil {
			return "", fmt.Errorf("start container %s: %w", ShortID(id), err)
		}
	}
	m.facts.Started = true
	c, err := m.ports.Docker.Inspect(ctx, id)
	if err != nil {
		return "", fmt.Errorf("inspect started container %s: %w", ShortID(id), err)
	}
	if !c.Running || c.Pid == 0 {
		return EvExited, nil
	}
	m.facts.Pid = c.Pid
	m.facts.StartedAt = c.StartedAt
	return EvStarted, nil
}
