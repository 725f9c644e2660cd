package states

import (
	"context"
	"fmt"
)

// stop ends the container gracefully: docker stop with the container's own
// stop signal and timeout (from --stop-signal/--stop-timeout or the image),
// then kill; and waits for its exit code. After an interrupted create it
// finds the container by our invocation label.
func (m *Machine) stop(ctx context.Context) (Event, error) {
	if found, err := m.findOurs(ctx); err != nil {
		return "", err
	} else if !found {
		return EvStopped, nil
	}
	id := m.facts.ContainerID
	m.reclaimBeforeStopping()
	if err := m.ports.Notifier.Stopping(m.stopStatus()); err != nil {
		m.ports.Log.Warn("tell systemd we are stopping", logError(err))
	}
	if err := m.ports.Docker.Stop(ctx, id); err != nil {
		return "", fmt.Errorf("stop container %s: %w", ShortID(id), err)
	}
	if err := m.collectExit(ctx); err != nil {
		return "", err
	}
	return EvStopped, nil
}

// findOurs makes sure the container's ID is known: after a create that
// was cut short it looks for the container by our invocation label. found
// is false when this invocation made none.
func (m *Machine) findOurs(ctx context.Context) (found bool, err error) {
	if m.facts.ContainerID != "" {
		return true, nil
	}
	ids, err := m.ports.Docker.FindByLabel(ctx, LabelInvocation, m.spec.Invocation)
	if err != nil {
		return false, fmt.Errorf("find the container this invocation created: %w", err)
	}
	if len(ids) == 0 {
		return false, nil
	}
	m.facts.ContainerID = ids[0]
	return true, nil
}

// reclaimBeforeStopping takes the main-process role back from an
// announced container before STOPPING=1, after which systemd takes no
// MAINPID=: so that, when the stop did not come from systemd (a SIGTERM
// sent to us, e.g. by kill or systemctl kill), systemd records our exit
// status, the container's code. While systemd itself stops the unit it
// ignores the MAINPID=; nothing is lost by asking.
func (m *Machine) reclaimBeforeStopping() {
	if !m.facts.Announced {
		return
	}
	if err := m.ports.Notifier.Reclaim(); err != nil {
		m.ports.Log.Warn("hand the main process role back from the container", logError(err))
	}
}

func (m *Machine) stopStatus() string {
	sig := m.spec.StopSignal
	if sig == "" {
		sig = "its stop signal"
	}
	if m.spec.StopTimeout != nil {
		return fmt.Sprintf("stopping (%s, %ds)", sig, *m.spec.StopTimeout)
	}
	return fmt.Sprintf("stopping (%s)", sig)
}

// collectExit learns the container's exit code once it no longer runs:
// from Docker's die event when it came (some milliseconds before Docker
// answers a wait), else by waiting.
func (m *Machine) collectExit(ctx context.Context) error {
	if code := m.facts.DiedCode; code != nil {
		m.facts.ExitCode = *code
		return nil
	}
	id := m.facts.ContainerID
	c, err := m.ports.Docker.Wait(ctx, id)
	if err != nil {
		return fmt.Errorf("wait for container %s to exit: %w", ShortID(id), err)
	}
	m.facts.ExitCode = c.ExitCode
	// An "oom" event may have told us already; Wait's answer may not know.
	m.facts.OOMKilled = m.facts.OOMKilled || c.OOMKilled
	return nil
}
