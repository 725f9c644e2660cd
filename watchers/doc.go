// Package watchers turns the outside world into events for the supervisor.
// Each watcher is one loop, Run(ctx, emit), that ends when ctx does; the
// supervisor joins them:
//
//   - Signals: the signals sent to us (Stop, Forward, WatchdogFired).
//   - PidExit: the container's init process exiting, seen through a
//     pidfd (Exit).
//   - DockerEvents: Docker's events about the container (Exit, OOM,
//     Killed, Started, HealthChanged), from an EventSource.
//   - Watchdog: a ticker for systemd's watchdog, sd_watchdog_enabled(3),
//     each tick carrying a health check (Tick).
//
// Backoff is the pause between attempts that they, and the supervisor's
// other reconnect and retry loops, share.
package watchers

import "syscall"

// Kind says what happened.
type Kind int

const (
	// Stop: SIGTERM or SIGINT asked us to stop the container.
	Stop Kind = iota + 1
	// Forward: a signal to pass on to the container.
	Forward
	// Exit: the container's init process ended.
	Exit
	// OOM: the kernel killed a process of the container for lack of memory.
	OOM
	// Tick: time for a watchdog ping; Health says whether it is deserved.
	Tick
	// HealthChanged: Docker reported a new health status.
	HealthChanged
	// Killed: someone asked Docker to signal the container (docker
	// kill/stop/restart): an exit that follows may be a restart.
	Killed
	// Started: Docker started the container (again).
	Started
	// WatchdogFired: systemd's watchdog fired and systemd sent us its
	// WatchdogSignal= (SIGABRT unless the unit says otherwise): systemd
	// has given up on the unit.
	WatchdogFired
)

func (k Kind) String() string {
	switch k {
	case Stop:
		return "stop"
	case Forward:
		return "forward"
	case Exit:
		return "exit"
	case OOM:
		return "oom"
	case Tick:
		return "tick"
	case HealthChanged:
		return "health"
	case Killed:
		return "killed"
	case Started:
		return "started"
	case WatchdogFired:
		return "watchdog-fired"
	}
	return "unknown"
}

// Event is one thing a watcher saw.
type Event struct {
	Kind   Kind
	Signal syscall.Signal // Stop, Forward, WatchdogFired
	Source string         // which watcher: "signal", "pidfd", "docker events", "watchdog"
	Health Health         // Tick, HealthChanged (Status only)
	Pid    int            // Exit from a pidfd: the process that ended
	// ExitCode is the container's exit code, for an Exit from Docker's
	// "die" event (HasExitCode): known before Docker answers a wait.
	ExitCode    int
	HasExitCode bool
}

// Emit hands an event to the supervisor. It may block until the
// supervisor takes it, or until the watcher's ctx ends.
type Emit func(Event)
