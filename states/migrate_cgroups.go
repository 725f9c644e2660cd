package states

import (
	"context"
	"errors"
	"fmt"
)

// migrateCgroups moves the container's processes into the unit's cgroups,
// so systemd tracks, limits and kills them as the unit's own. A container
// that ended meanwhile is not an error: it exited.
func (m *Machine) migrateCgroups(ctx context.Context) (Event, error) {
	err := m.ports.Cgroups.Migrate(ctx, m.facts.Pid, m.facts.ContainerID)
	if err == nil {
		return EvMigrated, nil
	}
	if errors.Is(err, ErrProcessGone) {
		return EvExited, nil
	}
	if c, ierr := m.ports.Docker.Inspect(ctx, m.facts.ContainerID); ierr == nil && !c.Running {
		return EvExited, nil
	}
	return "", fmt.Errorf("move container %s (pid %d) into the unit's cgroups: %w",
		ShortID(m.facts.ContainerID), m.facts.Pid, err)
}
