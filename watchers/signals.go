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

// WatchdogSignal is what systemd sends a unit whose watchdog fired
// (WatchdogSec= without a ping, or WATCHDOG=trigger), unless the unit sets
// another WatchdogSignal=, which a service cannot learn from its
// environment. Caught, it no longer makes the Go runtime crash with a
// goroutine dump.
var WatchdogSignal = syscall.SIGABRT

// Signals emits Stop, Forward and WatchdogFired events for the signals we
// receive.
type Signals struct{}

// Run implements a watcher. Signals are caught from the moment Run is
// called until ctx ends.
func (Signals) Run(ctx context.Context, emit Emit) {
	ch := make(chan os.Signal, 8)
	caught := append(append([]os.Signal{WatchdogSignal}, StopSignals...), ForwardedSignals...)
	signal.Notify(ch, caught...)
	defer signal.Stop(ch)
	for {
		select {
		case <-ctx.Done():
			return
		case s := <-ch:
			sig := s.(syscall.Signal)
			emit(Event{Kind: signalKind(sig), Signal: sig, Source: "signal"})
		}
	}
}

func signalKind(sig syscall.Signal) Kind {
	switch {
	case sig == WatchdogSignal:
		return WatchdogFired
	case sig == syscall.SIGTERM || sig == syscall.SIGINT:
		return Stop
	}
	return Forward
}
