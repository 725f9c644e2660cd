package states

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"testing/synctest"
	"time"
)

// TestEventFor: what each input asks of each state where it may arrive.
func TestEventFor(t *testing.T) {
	t0 := time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)
	other := "fedcba9876543210fedcba9876543210"
	tests := []struct {
		name     string
		state    State
		killedAt time.Time // a kill event seen before
		in       Input
		want     Event
	}{
		{"stop anywhere", Create, time.Time{}, stopIn, EvStop},
		{"watchdog anywhere", Lookup, time.Time{}, watchdogIn, EvWatchdog},
		{"pidfd before watch: the end", MigrateCgroups, time.Time{}, endedIn, EvExited},
		{"pidfd in watch: await Docker's word", Watch, time.Time{}, endedIn, EvProcessEnded},
		{"pidfd again while exiting", Exiting, time.Time{}, endedIn, ""},
		{"pidfd of an earlier process", Watch, time.Time{}, Input{Kind: InProcessEnded, Container: longID, Pid: 41}, ""},
		{"die of another container", Watch, time.Time{}, Input{Kind: InDied, Container: other}, ""},
		{"die in watch, no kill", Watch, time.Time{}, Input{Kind: InDied, Container: longID, At: t0}, EvExited},
		{"die in watch after a kill", Watch, t0, Input{Kind: InDied, Container: longID, At: t0.Add(30 * time.Second)}, EvDiedAfterKill},
		{"die a minute after a kill", Watch, t0, Input{Kind: InDied, Container: longID, At: t0.Add(KillRecency)}, EvDiedAfterKill},
		{"die long after a kill", Watch, t0, Input{Kind: InDied, Container: longID, At: t0.Add(KillRecency + time.Second)}, EvExited},
		{"die while exiting", Exiting, time.Time{}, Input{Kind: InDied, Container: longID, At: t0}, EvExited},
		{"die while exiting after a kill", Exiting, t0, Input{Kind: InDied, Container: longID, At: t0}, EvDiedAfterKill},
		{"die again while restarting", Restarting, t0, Input{Kind: InDied, Container: longID, At: t0}, ""},
		{"die before watch: the end", Notify, t0, Input{Kind: InDied, Container: longID, At: t0}, EvExited},
		{"start while restarting", Restarting, time.Time{}, startedIn, EvRestarted},
		{"start in watch: nothing", Watch, time.Time{}, startedIn, ""},
		{"kill seen: a fact only", Watch, time.Time{}, killSeenIn, ""},
		{"oom: a fact only", Watch, time.Time{}, Input{Kind: InOOM, Container: longID}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := newWorld().machineIn(Spec{}, tt.state)
			m.heard.container, m.heard.pid, m.heard.killedAt = longID, 42, tt.killedAt
			if got := m.eventFor(tt.in); got != tt.want {
				t.Errorf("eventFor(%+v) in %s = %q, want %q", tt.in, tt.state, got, tt.want)
			}
			if tt.want != "" && !m.Can(tt.want) {
				t.Errorf("%q is not in the table for %s", tt.want, tt.state)
			}
		})
	}
}

// TestInputFacts: the payloads reach the facts between actions, and a
// restart forgets the old run's code and the kill it spent.
func TestInputFacts(t *testing.T) {
	m := newWorld().machineIn(Spec{}, Watch)
	m.heard.container, m.heard.pid = longID, 42
	m.eventFor(killSeenIn)
	m.eventFor(Input{Kind: InOOM, Container: longID})
	if ev := m.eventFor(diedIn(137)); ev != EvDiedAfterKill {
		t.Fatalf("die after a kill: %q", ev)
	}
	if m.facts.DiedCode != nil || m.facts.OOMKilled {
		t.Fatal("facts changed before the action ended")
	}
	m.note(EvDiedAfterKill)
	if m.facts.DiedCode == nil || *m.facts.DiedCode != 137 || !m.facts.OOMKilled {
		t.Fatalf("facts after the transition: code %v oom %t, want 137 and true", m.facts.DiedCode, m.facts.OOMKilled)
	}
	m.fsm.SetState(string(Restarting))
	m.note(EvRestarted)
	if m.facts.DiedCode != nil || !m.heard.killedAt.IsZero() {
		t.Errorf("after a restart: code %v, killed at %v; want both forgotten", m.facts.DiedCode, m.heard.killedAt)
	}
	if !m.facts.OOMKilled {
		t.Error("an OOM kill is forgotten by a restart")
	}
}

// TestWindows: the exit decision's windows are timers the table sees:
// with no word from Docker the exit stands after DieGrace (dockerd gone)
// or RestartWindow (docker stop, no start); the code then comes from a
// wait, or from the die event that came.
func TestWindows(t *testing.T) {
	base := Spec{Name: "web", Remove: true, Logs: true, ArgsHash: "h1", Invocation: "inv", Create: CreateSpec{Image: "nginx"}}
	for _, tt := range []struct {
		name     string
		cues     []cue
		window   time.Duration
		via      State
		wantCode int
		wait     bool // the code came from docker.Wait
	}{
		{"no die event after the pidfd: dockerd is away", []cue{{Watch, []Input{endedIn}}}, DieGrace, Exiting, 3, true},
		{"an operator's docker stop: no start follows", []cue{{Watch, []Input{killSeenIn, diedIn(143)}}}, RestartWindow, Restarting, 143, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				w := newWorld()
				w.docker.CreateID = longID
				running := Container{ID: longID, Running: true, Pid: 42}
				w.docker.AfterStart = &running
				w.docker.WaitResult = Container{ID: longID, ExitCode: 3}
				var settledAfter time.Duration
				var entered time.Time
				m := New(base, w.ports(), func(tr Transition, _ *Facts) {
					if tr.To == tt.via {
						entered = time.Now()
					}
					if tr.From == tt.via {
						settledAfter = time.Since(entered)
						if tr.Event != EvSettled {
							t.Errorf("left %s by %q, want settled", tt.via, tr.Event)
						}
					}
				})
				drive(t, m, tt.cues)
				if settledAfter != tt.window {
					t.Errorf("settled after %v, want %v", settledAfter, tt.window)
				}
				if f := m.Facts(); f.ExitCode != tt.wantCode || !f.Exited || m.State() != Done {
					t.Errorf("code %d exited %t state %s, want %d, true, done", f.ExitCode, f.Exited, m.State(), tt.wantCode)
				}
				if got := w.rec.count("docker.Wait") > 0; got != tt.wait {
					t.Errorf("waited for the code: %t, want %t", got, tt.wait)
				}
			})
		})
	}
}

// TestStepKilledHelper: an action whose helper was killed by a signal
// waits KilledGrace for the stop that usually comes with it; without one
// it is a failure like any other.
func TestStepKilledHelper(t *testing.T) {
	for _, tt := range []struct {
		name   string
		inputs []Input
		after  time.Duration
		want   State
	}{
		{"the stop comes", []Input{stopIn}, KilledGrace / 2, Stop},
		{"no stop comes", nil, 0, Failed},
		{"a stop too late", []Input{stopIn}, KilledGrace + time.Millisecond, Failed},
	} {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				w := newWorld()
				w.docker.CreateErr = fmt.Errorf("docker create was killed by terminated: %w", ErrKilled)
				m := w.machineIn(Spec{Create: CreateSpec{Image: "nginx"}}, Create)
				inputs := make(chan Input)
				ctx, cancel := context.WithCancel(context.Background())
				sent := make(chan struct{})
				go func() {
					defer close(sent)
					time.Sleep(tt.after)
					for _, in := range tt.inputs {
						select {
						case inputs <- in:
						case <-ctx.Done():
						}
					}
				}()
				err := m.Step(context.Background(), inputs)
				cancel()
				<-sent
				if err != nil {
					t.Fatal(err)
				}
				if m.State() != tt.want {
					t.Errorf("state %s, want %s", m.State(), tt.want)
				}
				if tt.want == Failed && !errors.Is(m.Facts().Err, ErrKilled) {
					t.Errorf("Err = %v, want the killed helper's", m.Facts().Err)
				}
			})
		})
	}
}
