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

// Moved is how many processes were moved so far.
func (c *cgroupMover) Moved() int { return c.moved }

func (c *cgroupMover) Migrate(ctx context.Context, pid int, containerID string) error {
	res, err := c.m.Migrate(ctx, cgroups.Target{Pid: pid, ContainerID: containerID, Selection: c.selection})
	c.moved += len(res.Moved)
	c.reportSkipped(res.Skipped)
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

// reportSkipped says in one warning line each which selected hierarchies
// were left to docker: those where the unit has no cgroup (on hybrid hosts
// the normal case for every v1 controller systemd does not manage for the
// unit), and those where we ourselves are outside the cgroup namespace
// (started with nsenter from outside, say): we are in no unit there.
func (c *cgroupMover) reportSkipped(skipped []cgroups.Skip) {
	var noUnit, outside []string
	for _, s := range skipped {
		c.log.Debug("cgroup hierarchy left to docker", zap.String("hierarchy", s.Hierarchy),
			zap.String("dir", s.Dir), zap.String("reason", s.Reason))
		if s.Outside {
			outside = append(outside, s.Hierarchy)
		} else {
			noUnit = append(noUnit, s.Hierarchy)
		}
	}
	if len(outside) > 0 {
		c.log.Warn("systemd-docker's own cgroup lies outside its cgroup namespace, so it is in no unit to move the container into: "+
			"the container stays where docker put it (start systemd-docker from a unit, or from a shell inside this cgroup namespace)",
			zap.Strings("hierarchies", outside))
	}
	if len(noUnit) > 0 {
		c.log.Warn("cgroup hierarchies left to docker, where its limits stay in force: the unit has no cgroup there",
			zap.Strings("hierarchies", noUnit))
	}
}
