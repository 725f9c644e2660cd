package supervisor

import (
	"context"
	"syscall"
	"time"

	"github.com/systemd-docker/systemd-docker/states"
	"github.com/systemd-docker/systemd-docker/supervisor/sdnotify"
	"github.com/systemd-docker/systemd-docker/watchers"
)

// The engine's ports: what it needs of the world, each a small interface,
// so that the engine is tested with fakes (engine_test.go). The real
// adapters are wired in prepare.

// dockerPort is Docker: what the states need, the container's event
// stream for its watcher, and how long create pulled (for the metrics).
type dockerPort interface {
	states.Docker
	watchers.EventSource
	PullDuration() time.Duration
	// Unreachable tells an error of a daemon that is not running (nothing
	// answers on its socket) from one of a daemon that answers.
	Unreachable(err error) bool
}

// notifierPort is sd_notify(3) to systemd: what the states need, and the
// engine's own messages (STATUS=, WATCHDOG=1, EXTEND_TIMEOUT_USEC=).
type notifierPort interface {
	states.Notifier
	Enabled() bool
	Send(lines ...string) error
}

// logsPort copies the container's output.
type logsPort interface {
	states.Logs
	// Drain waits up to timeout for the output to end, and reports
	// whether it did.
	Drain(timeout time.Duration) bool
}

// cgroupsPort moves the container into the unit's cgroups.
type cgroupsPort interface {
	states.Cgroups
	// Moved is how many processes were moved so far.
	Moved() int
}

// proxyPort is the --notify proxy: the container's own sd_notify.
type proxyPort interface {
	Run(ctx context.Context)
	// WatchdogSeen reports whether the container sent WATCHDOG=1 itself.
	WatchdogSeen() bool
	Close() error
}

// ports are the engine's ties to the world.
type ports struct {
	docker   dockerPort
	notifier notifierPort
	proxy    proxyPort // nil without --notify
	logs     logsPort
	cgroups  cgroupsPort
	metrics  *metricsFile         // its m is nil without --metrics-dir
	pull     *sdnotify.PullKeeper // nil without systemd (no NOTIFY_SOCKET)
	process  processPort
}

// processPort is the kernel's side: the signals sent to us, and the
// container's process.
type processPort interface {
	// CatchSignals emits the signals sent to us until ctx ends.
	CatchSignals(ctx context.Context, emit watchers.Emit)
	// WatchExit emits Exit when process pid ends (see watchers.PidExit).
	WatchExit(ctx context.Context, pid int, confirm func(context.Context, int) (bool, error), emit watchers.Emit)
	// Signal sends sig to process pid.
	Signal(pid int, sig syscall.Signal) error
}

// kernel is the real processPort.
type kernel struct{}

func (kernel) CatchSignals(ctx context.Context, emit watchers.Emit) {
	watchers.Signals{}.Run(ctx, emit)
}

func (kernel) WatchExit(ctx context.Context, pid int, confirm func(context.Context, int) (bool, error), emit watchers.Emit) {
	watchers.PidExit{Pid: pid, Confirm: confirm}.Run(ctx, emit)
}

func (kernel) Signal(pid int, sig syscall.Signal) error { return signalPid(pid, sig) }
