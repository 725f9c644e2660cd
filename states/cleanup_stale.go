package states

import (
	"context"
	"fmt"
)

// cleanupStale removes a container that has the unit's name but must not
// be reused: a stopped one (its configuration may predate the current
// ExecStart) or a running one created from other arguments.
func (m *Machine) cleanupStale(ctx context.Context) (Event, error) {
	c := m.stale
	if c.Running {
		m.ports.Log.Info("stopping running container created from other arguments",
			logContainer(c.ID), logName(m.spec.Name))
		if err := m.ports.Docker.Stop(ctx, c.ID); err != nil {
			return "", fmt.Errorf("stop stale container %q (%s): %w", m.spec.Name, ShortID(c.ID), err)
		}
	} else {
		m.ports.Log.Info("removing stale container", logContainer(c.ID), logName(m.spec.Name))
	}
	if err := m.ports.Docker.Remove(ctx, c.ID); err != nil {
		return "", fmt.Errorf("remove stale container %q (%s): %w; remove it with `docker rm -f %s`",
			m.spec.Name, ShortID(c.ID), err, m.spec.Name)
	}
	m.stale = Container{}
	return EvCleaned, nil
}
