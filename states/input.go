package states

import (
	"syscall"
	"time"
)

// InputKind says what an input reports.
type InputKind int

// The inputs the lifecycle listens to. The engine turns what its watchers
// see into these; everything else (watchdog ticks, health, forwarded
// signals) is the engine's own business.
const (
	InStop          InputKind = iota + 1 // SIGTERM or SIGINT: stop the container
	InWatchdog                           // systemd's watchdog fired (its WatchdogSignal=)
	InProcessEnded                       // the container's init process ended (its pidfd)
	InDied                               // Docker's die event, with the exit code
	InKillSeen                           // Docker's kill event: someone's docker kill/stop/restart
	InDockerStarted                      // Docker's start event
	InOOM                                // Docker's oom event: the kernel killed a process of the container
)

// Input is one thing the world tells the machine, with its payload.
type Input struct {
	Kind      InputKind
	Container string         // the container it is about; "" for signals
	Pid       int            // InProcessEnded: the process that ended
	ExitCode  int            // InDied
	Signal    syscall.Signal // InStop, InWatchdog: the signal that brought it
	At        time.Time      // when it happened; zero: when it arrives
}

// The windows of the exit decision in watch.
const (
	// DieGrace bounds the wait for Docker's die event after the pidfd saw
	// the exit: the event stream of a busy daemon lags by seconds; a dead
	// daemon never sends it.
	DieGrace = 10 * time.Second
	// RestartWindow is how long an exit that follows a docker kill/stop
	// waits for Docker to start the container again, as `docker restart`
	// does; a busy daemon takes seconds to start a container.
	RestartWindow = 10 * time.Second
	// KillRecency is how long after a kill event a die event may be that
	// kill's doing: `docker stop` waits out the stop timeout first.
	KillRecency = time.Minute
	// KilledGrace is how long a state whose helper was killed by a signal
	// (ErrKilled) waits for the stop request that usually comes with it.
	KilledGrace = time.Second
)

// heard is what the inputs told the machine that no transition says: kept
// by the goroutine that runs the machine, applied to the facts between
// actions, so no action sees it change under its feet.
type heard struct {
	container string // the container inputs must be about (set at each transition)
	pid       int    // its process a pidfd exit must be about
	killedAt  time.Time
	exitCode  *int // the latest die event's code, until a restart
	oom       bool
	signal    syscall.Signal // the first signal that asked us to stop
}

// eventFor records what in says and returns the event it asks for in the
// current state, or "" when it asks for none (about another container or
// process, a repeat, or a fact only).
func (m *Machine) eventFor(in Input) Event {
	if in.Kind == InStop {
		if m.heard.signal == 0 {
			m.heard.signal = in.Signal
		}
		return EvStop
	}
	if in.Kind == InWatchdog {
		return EvWatchdog
	}
	if in.Container != m.heard.container || (in.Pid != 0 && in.Pid != m.heard.pid) {
		return ""
	}
	at := in.At
	if at.IsZero() {
		at = m.now()
	}
	switch in.Kind {
	case InKillSeen:
		m.heard.killedAt = at
	case InOOM:
		m.heard.oom = true
	case InProcessEnded:
		return m.processEnded()
	case InDied:
		code := in.ExitCode
		m.heard.exitCode = &code
		return m.died(at)
	case InDockerStarted:
		if m.State() == Restarting {
			return EvRestarted
		}
	}
	return ""
}

// processEnded: in watch the container may be restarting, so Docker's word
// is awaited; before it, the container ended.
func (m *Machine) processEnded() Event {
	switch m.State() {
	case Watch:
		return EvProcessEnded
	case Exiting, Restarting:
		return ""
	}
	return EvExited
}

// died: a die event soon after someone asked Docker to signal the
// container may be `docker restart`; otherwise the container ended.
func (m *Machine) died(at time.Time) Event {
	switch m.State() {
	case Watch, Exiting:
		if !m.heard.killedAt.IsZero() && at.Sub(m.heard.killedAt) <= KillRecency {
			return EvDiedAfterKill
		}
	case Restarting:
		return ""
	}
	return EvExited
}

// applyHeard moves what the inputs said into the facts; it runs between
// actions.
func (m *Machine) applyHeard(ev Event) {
	if ev == EvRestarted {
		// A new run: the old run's code is not this one's, and the kill
		// that restarted it is spent.
		m.heard.exitCode, m.heard.killedAt = nil, time.Time{}
	}
	m.facts.DiedCode = m.heard.exitCode
	m.facts.OOMKilled = m.facts.OOMKilled || m.heard.oom
	m.facts.StopSignal = m.heard.signal
}
