package states

import (
	"context"
	"errors"
	"fmt"
)

// lookup decides what to do about a container that already has the unit's
// --name: a running one created from the same arguments is adopted (the
// supervisor was restarted, the container was not); any other is stale.
func (m *Machine) lookup(ctx context.Context) (Event, error) {
	if m.spec.Name == "" {
		return EvNotFound, nil
	}
	c, err := m.ports.Docker.Inspect(ctx, m.spec.Name)
	if errors.Is(err, ErrNotFound) {
		return EvNotFound, nil
	}
	if err != nil {
		return "", fmt.Errorf("look up container %q: %w", m.spec.Name, err)
	}
	if c.Running && c.Labels[LabelArgs] == m.spec.ArgsHash && m.spec.ArgsHash != "" {
		m.facts.ContainerID = c.ID
		m.facts.Adopted = true
		m.ports.Log.Info("adopting running container created from the same arguments",
			logContainer(c.ID), logName(m.spec.Name))
		return EvAdopt, nil
	}
	m.stale = c
	return EvStale, nil
}
