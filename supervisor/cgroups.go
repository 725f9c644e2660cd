package supervisor

import (
	"context"
	"errors"
	"fmt"
	"os"

	"go.uber.org/zap"

	"github.com/systemd-docker/systemd-docker/states"
	"github.com/systemd-docker/systemd-docker/supervisor/cgroups"
)

// cgroupMover implements states.Cgroups with the --cgroups selection.
type cgroupMover struct {
	m         *cgroups.Migrator
	selection []string
	log       *zap.Logger
	moved     int // pids moved, for the log and metrics
}

func (c *cgroupMover) Migrate(ctx context.Context, pid int, containerID string) error {
	res, err := c.m.Migrate(ctx, cgroups.Target{Pid: pid, ContainerID: containerID, Selection: c.selection})
	c.moved += len(res.Moved)
	if len(res.Skipped) > 0 {
		// One line for all: on hybrid hosts this is the normal case for
		// every v1 controller systemd does not manage for the unit.
		names := make([]string, len(res.Skipped))
		for i, s := range res.Skipped {
			names[i] = s.Hierarchy
			c.log.Debug("cgroup hierarchy left to docker", zap.String("hierarchy", s.Hierarchy),
				zap.String("dir", s.Dir), zap.String("reason", s.Reason))
		}
		c.log.Warn("cgroup hierarchies left to docker, where its limits stay in force: the unit has no cgroup there",
			zap.Strings("hierarchies", names))
	}
	if errors.Is(err, cgroups.ErrGone) {
		return fmt.Errorf("%w: %w", states.ErrProcessGone, err)
	}
	if err != nil {
		return err
	}
	c.log.Debug("container moved into the unit's cgroups", zap.Ints("pids", res.Moved),
		zap.Strings("hierarchies", res.Hierarchies))
	return nil
}

// checkSelection fails early when --cgroups names a hierarchy this host
// does not have.
func checkSelection(selection []string) error {
	f, err := os.Open("/proc/self/cgroup")
	if err != nil {
		return fmt.Errorf("read our cgroups: %w", err)
	}
	defer f.Close()
	hs, err := cgroups.ParseProcCgroup(f)
	if err != nil {
		return fmt.Errorf("read our cgroups: %w", err)
	}
	_, err = cgroups.Select(selection, hs)
	return err
}
