package supervisor

import (
	"context"
	"testing"
	"testing/synctest"
	"time"

	"go.uber.org/zap"

	"github.com/systemd-docker/systemd-docker/states"
	"github.com/systemd-docker/systemd-docker/watchers"
)

// watchingSupervisor is a supervisor whose machine is in watch, for the
// input handling alone (no actions run).
func watchingSupervisor(t *testing.T, ctx context.Context) *supervisor {
	t.Helper()
	m := states.New(states.Spec{}, states.Ports{Log: zap.NewNop()})
	for _, ev := range []states.Event{states.EvNotFound, states.EvCreated, states.EvStarted, states.EvMigrated, states.EvNotified} {
		if err := m.Fire(ev); err != nil {
			t.Fatal(err)
		}
	}
	m.Facts().ContainerID, m.Facts().Pid = "c1", 42
	return &supervisor{machine: m, log: zap.NewNop(), inputs: make(chan inputEvent, 16),
		died: make(chan int, 1), watchCtx: ctx}
}

func pidfdExit() inputEvent {
	return inputEvent{Event: watchers.Event{Kind: watchers.Exit, Source: "pidfd", Pid: 42}, container: "c1"}
}

func dieEvent(code int) inputEvent {
	return inputEvent{Event: watchers.Event{Kind: watchers.Exit, Source: "docker events", ExitCode: code, HasExitCode: true}, container: "c1"}
}

func dockerEvent(k watchers.Kind) inputEvent {
	return inputEvent{Event: watchers.Event{Kind: k, Source: "docker events"}, container: "c1"}
}

// next handles the inputs timers send, until one asks for an event.
func next(s *supervisor) states.Event {
	for in := range s.inputs {
		if ev := s.handle(in); ev != "" {
			return ev
		}
	}
	return ""
}

func TestExitDecision(t *testing.T) {
	t.Run("pidfd first: the die event decides, with its code", func(t *testing.T) {
		s := watchingSupervisor(t, context.Background())
		if ev := s.handle(pidfdExit()); ev != "" {
			t.Fatalf("pidfd alone: %q, want to wait for the die event", ev)
		}
		if ev := s.handle(dieEvent(3)); ev != states.EvExited {
			t.Fatalf("die: %q, want exited", ev)
		}
		if code := <-s.died; code != 3 {
			t.Errorf("exit code for Wait = %d, want 3", code)
		}
	})
	t.Run("die first, then the pidfd: one exit", func(t *testing.T) {
		s := watchingSupervisor(t, context.Background())
		if ev := s.handle(dieEvent(0)); ev != states.EvExited {
			t.Fatalf("die: %q", ev)
		}
	})
	// The bug this guards: the pidfd exit was taken as the end before the
	// kill event of a `docker restart` had been read.
	t.Run("docker restart: kill, pidfd, die, start", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			s := watchingSupervisor(t, ctx)
			s.handle(pidfdExit()) // the pidfd outruns the event stream
			s.handle(dockerEvent(watchers.Killed))
			if ev := s.handle(dieEvent(143)); ev != "" {
				t.Fatalf("die after kill: %q, want to wait for a restart", ev)
			}
			if ev := s.handle(dockerEvent(watchers.Started)); ev != states.EvRestarted {
				t.Fatalf("start: %q, want restarted", ev)
			}
			select {
			case code := <-s.died:
				t.Errorf("the old run's exit code %d is left for Wait", code)
			default:
			}
			time.Sleep(5 * time.Second) // every timer of that exit fires
			synctest.Wait()
			for len(s.inputs) > 0 {
				if ev := s.handle(<-s.inputs); ev != "" {
					t.Errorf("a stale timer of the old exit asked for %q", ev)
				}
			}
		})
	})
	t.Run("docker stop: kill, die, no start: exited after the window", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			s := watchingSupervisor(t, ctx)
			s.handle(dockerEvent(watchers.Killed))
			s.handle(dieEvent(143))
			start := time.Now()
			if ev := next(s); ev != states.EvExited || time.Since(start) != restartWindow {
				t.Errorf("%q after %s, want exited after %s", ev, time.Since(start), restartWindow)
			}
		})
	})
	// The bug this guards: a signal we forwarded (systemctl kill, or a
	// KillSignal= such as SIGQUIT) made its exit wait for a restart.
	t.Run("our own forwarded signal is not an operator's kill", func(t *testing.T) {
		s := watchingSupervisor(t, context.Background())
		s.ownKills = 1 // as handle(Forward) counts it
		s.handle(dockerEvent(watchers.Killed))
		if ev := s.handle(dieEvent(0)); ev != states.EvExited {
			t.Fatalf("die after our own kill: %q, want exited at once", ev)
		}
	})
	t.Run("no event stream: the pidfd alone ends it after the grace", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			s := watchingSupervisor(t, ctx)
			s.handle(pidfdExit())
			start := time.Now()
			if ev := next(s); ev != states.EvExited || time.Since(start) != dieGrace {
				t.Errorf("%q after %s, want exited after %s", ev, time.Since(start), dieGrace)
			}
		})
	})
	t.Run("a pidfd exit of an earlier process is ignored", func(t *testing.T) {
		s := watchingSupervisor(t, context.Background())
		old := pidfdExit()
		old.Pid = 41
		if ev := s.handle(old); ev != "" || s.exitPhase != exitNone {
			t.Errorf("stale pidfd: %q, phase %d", ev, s.exitPhase)
		}
	})
}
