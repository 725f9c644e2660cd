package watchers

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

// StopSignals end the container (systemctl stop, Ctrl-C).
var StopSignals = []os.Signal{syscall.SIGTERM, syscall.SIGINT}

// ForwardedSignals are passed on to the container (systemctl kill -s …,
// systemctl reload with ExecReload=/bin/kill -HUP $MAINPID goes straight to
// the container already).
var ForwardedSignals = []os.Signal{syscall.SIGHUP, syscall.SIGUSR1, syscall.SIGUSR2, syscall.SIGQUIT, syscall.SIGWINCH}

// Signals emits Stop and Forward events for the signals we receive.
type Signals struct{}

// Run implements a watcher. Signals are caught from the moment Run is
// called until ctx ends.
func (Signals) Run(ctx context.Context, emit Emit) {
	ch := make(chan os.Signal, 8)
	signal.Notify(ch, append(append([]os.Signal(nil), StopSignals...), ForwardedSignals...)...)
	defer signal.Stop(ch)
	for {
		select {
		case <-ctx.Done():
			return
		case s := <-ch:
			sig := s.(syscall.Signal)
			kind := Forward
			if sig == syscall.SIGTERM || sig == syscall.SIGINT {
				kind = Stop
			}
			emit(Event{Kind: kind, Signal: sig, Source: "signal"})
		}
	}
}
