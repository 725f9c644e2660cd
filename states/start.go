package states

import (
	"context"
	"fmt"
)

// start attaches to the container's output first, so no early line is
// lost, then starts it (an adopted container already runs) and learns its
// host pid.
func (m *Machine) start(ctx context.Context) (Event, error) {
	id := m.facts.ContainerID
	if m.spec.Logs {
		if err := m.ports.Logs.Attach(ctx, id, m.spec.TTY); err != nil {
			return "", fmt.Errorf("attach to container %s output: %w", short(id), err)
		}
	}
	if !m.facts.Adopted {
		if err := m.ports.Docker.Start(ctx, id); err != nil {
			return "", fmt.Errorf("start container %s: %w", short(id), err)
		}
	}
	m.facts.Started = true
	c, err := m.ports.Docker.Inspect(ctx, id)
	if err != nil {
		return "", fmt.Errorf("inspect started container %s: %w", short(id), err)
	}
	if !c.Running || c.Pid == 0 {
		return EvExited, nil
	}
	m.facts.Pid = c.Pid
	m.facts.StartedAt = c.StartedAt
	return EvStarted, nil
}
