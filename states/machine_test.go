package states

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"
)

func TestResolve(t *testing.T) {
	errFirst := errors.New("first failure")
	tests := []struct {
		name        string
		state       State
		containerID string
		priorErr    error // facts.Err before Resolve
		ev          Event
		err         error
		interrupt   Event
		want        Event
		wantErr     error
		wantFailed  State
		wantExited  bool
		wantReason  string
	}{
		{name: "plain event", state: Create, ev: EvCreated, want: EvCreated},
		{name: "stop interrupt wins over success", state: Watch, containerID: longID, ev: EvNotified, interrupt: EvStop,
			want: EvStop, wantReason: "stop requested"},
		{name: "stop interrupt wins over an error", state: Start, containerID: longID, err: errBoom, interrupt: EvStop,
			want: EvStop, wantReason: "stop requested"},
		{name: "exit interrupt sets Exited", state: Watch, containerID: longID, err: context.Canceled, interrupt: EvExited,
			want: EvExited, wantExited: true},
		{name: "exit interrupt not allowed in lookup: ignored", state: Lookup, ev: EvNotFound, interrupt: EvExited,
			want: EvNotFound},
		{name: "stop interrupt not allowed in remove: error decides", state: Remove, containerID: longID, err: errBoom,
			interrupt: EvStop, want: EvFail, wantErr: errBoom, wantFailed: Remove},
		{name: "returned exit sets Exited", state: Start, containerID: longID, ev: EvExited, want: EvExited, wantExited: true},
		{name: "error with a container: abort", state: MigrateCgroups, containerID: longID, err: errBoom,
			want: EvAbort, wantErr: errBoom, wantFailed: MigrateCgroups},
		{name: "error without a container: fail", state: Create, err: errBoom,
			want: EvFail, wantErr: errBoom, wantFailed: Create},
		{name: "error in lookup: fail", state: Lookup, err: errBoom, want: EvFail, wantErr: errBoom, wantFailed: Lookup},
		{name: "error in stop, abort not allowed: fail", state: Stop, containerID: longID, err: errBoom,
			want: EvFail, wantErr: errBoom, wantFailed: Stop},
		{name: "first error is kept", state: Stop, containerID: longID, priorErr: errFirst, err: errBoom,
			want: EvFail, wantErr: errFirst, wantFailed: Watch},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := newWorld().machineIn(Spec{}, tt.state)
			m.facts.ContainerID = tt.containerID
			if tt.priorErr != nil {
				m.facts.Err, m.facts.FailedIn = tt.priorErr, Watch
			}
			got := m.Resolve(tt.ev, tt.err, tt.interrupt)
			if got != tt.want {
				t.Errorf("Resolve = %q, want %q", got, tt.want)
			}
			if !m.Can(got) {
				t.Errorf("Resolve chose %q, which %q does not allow", got, tt.state)
			}
			f := m.Facts()
			if f.Err != tt.wantErr || f.FailedIn != tt.wantFailed {
				t.Errorf("Err %v FailedIn %q, want %v %q", f.Err, f.FailedIn, tt.wantErr, tt.wantFailed)
			}
			if f.Exited != tt.wantExited {
				t.Errorf("Exited = %t, want %t", f.Exited, tt.wantExited)
			}
			if f.StopReason != tt.wantReason {
				t.Errorf("StopReason = %q, want %q", f.StopReason, tt.wantReason)
			}
			if m.State() != tt.state {
				t.Errorf("Resolve changed the state to %q", m.State())
			}
		})
	}
}

func TestResolveKeepsAnEarlierStopReason(t *testing.T) {
	m := newWorld().machineIn(Spec{}, Watch)
	m.facts.StopReason = "SIGTERM"
	if got := m.Resolve("", context.Canceled, EvStop); got != EvStop {
		t.Fatalf("Resolve = %q, want %q", got, EvStop)
	}
	if m.facts.StopReason != "SIGTERM" {
		t.Errorf("StopReason = %q, want it kept", m.facts.StopReason)
	}
}

func TestInterruptible(t *testing.T) {
	table := allowed(t)
	for _, s := range AllStates {
		for _, ev := range AllEvents {
			m := newWorld().machineIn(Spec{}, s)
			_, ok := table[s][ev]
			want := ok && slices.Contains([]Event{EvStop, EvWatchdog, EvExited, EvProcessEnded, EvDiedAfterKill, EvRestarted}, ev)
			if got := m.Interruptible(ev); got != want {
				t.Errorf("Interruptible(%q) in %q = %t, want %t", ev, s, got, want)
			}
		}
	}
}

// step is one transition as observers see it.
type step struct {
	From  State
	Event Event
	To    State
}

func (s step) String() string { return fmt.Sprintf("%s -%s-> %s", s.From, s.Event, s.To) }

// cue delivers inputs while the machine is in state, once.
type cue struct {
	state  State
	inputs []Input
}

// Inputs the lifecycle tests use.
var (
	stopIn     = Input{Kind: InStop}
	watchdogIn = Input{Kind: InWatchdog}
	endedIn    = Input{Kind: InProcessEnded, Container: longID, Pid: 42}
	killSeenIn = Input{Kind: InKillSeen, Container: longID}
	startedIn  = Input{Kind: InDockerStarted, Container: longID}
)

func diedIn(code int) Input { return Input{Kind: InDied, Container: longID, ExitCode: code} }

// drive runs the machine with Step, as the engine does with Run, until a
// terminal state; each cue's inputs arrive, in order, while the machine is
// in the cue's state.
func drive(t *testing.T, m *Machine, cues []cue) {
	t.Helper()
	for i := 0; !m.State().Terminal(); i++ {
		if i > 50 {
			t.Fatalf("no terminal state after %d steps (in %q)", i, m.State())
		}
		inputs := make(chan Input, 8)
		if len(cues) > 0 && cues[0].state == m.State() {
			for _, in := range cues[0].inputs {
				inputs <- in
			}
			cues = cues[1:]
		}
		// Longer than any window (tests of the windows run in a synctest bubble).
		ctx, cancel := context.WithTimeout(context.Background(), 2*max(DieGrace, RestartWindow))
		err := m.Step(ctx, inputs)
		cancel()
		if err != nil {
			t.Fatalf("Step: %v", err)
		}
	}
	if len(cues) > 0 {
		t.Errorf("cues never delivered: %v", cues)
	}
}

func TestLifecycle(t *testing.T) {
	running := Container{ID: longID, Running: true, Pid: 42, Labels: map[string]string{LabelArgs: "h1"}}
	base := Spec{Name: "web", Remove: true, Logs: true, ArgsHash: "h1", Invocation: "inv", WritePid: true,
		Create: CreateSpec{Image: "nginx"}}
	tests := []struct {
		name       string
		spec       Spec
		setup      func(w *world)
		cues       []cue
		want       []step
		wantState  State
		wantCode   int
		wantErr    bool
		wantFailed State
		wantExited bool
		// calls that must appear, in this order (others may be between)
		wantCalls []string
		// calls that must not appear
		noCalls []string
	}{
		{
			name: "container exits on its own",
			spec: base,
			cues: []cue{{Watch, []Input{diedIn(3)}}},
			want: []step{{Lookup, EvNotFound, Create}, {Create, EvCreated, Start}, {Start, EvStarted, MigrateCgroups},
				{MigrateCgroups, EvMigrated, Notify}, {Notify, EvNotified, Watch}, {Watch, EvExited, Remove}, {Remove, EvRemoved, Done}},
			wantState: Done, wantCode: 3, wantExited: true,
			// The code is the die event's payload: no wait for it.
			wantCalls: []string{"docker.Create nginx", "logs.Attach", "docker.Start", "cgroups.Migrate 42", "pidfile.Write 42",
				"notify.Ready 42 ready=true", "pidfile.Remove 42", "notify.Reclaim", "docker.Remove"},
			noCalls: []string{"docker.Stop", "notify.Stopping", "docker.Wait"},
		},
		{
			name: "the pidfd sees the exit first, then Docker's die event",
			spec: base,
			cues: []cue{{Watch, []Input{endedIn}}, {Exiting, []Input{endedIn, diedIn(5)}}},
			want: []step{{Lookup, EvNotFound, Create}, {Create, EvCreated, Start}, {Start, EvStarted, MigrateCgroups},
				{MigrateCgroups, EvMigrated, Notify}, {Notify, EvNotified, Watch}, {Watch, EvProcessEnded, Exiting},
				{Exiting, EvExited, Remove}, {Remove, EvRemoved, Done}},
			wantState: Done, wantCode: 5, wantExited: true,
			// The main-process role is taken back while Docker's word is due.
			wantCalls: []string{"notify.Ready 42", "notify.Reclaim", "docker.Remove"},
			noCalls:   []string{"docker.Wait", "docker.Stop"},
		},
		{
			name: "docker restart within the window: the new process is supervised",
			spec: base,
			cues: []cue{{Watch, []Input{killSeenIn, diedIn(143)}}, {Restarting, []Input{diedIn(143), startedIn}},
				{Watch, []Input{diedIn(3)}}},
			want: []step{{Lookup, EvNotFound, Create}, {Create, EvCreated, Start}, {Start, EvStarted, MigrateCgroups},
				{MigrateCgroups, EvMigrated, Notify}, {Notify, EvNotified, Watch}, {Watch, EvDiedAfterKill, Restarting},
				{Restarting, EvRestarted, Start}, {Start, EvStarted, MigrateCgroups}, {MigrateCgroups, EvMigrated, Notify},
				{Notify, EvNotified, Watch}, {Watch, EvExited, Remove}, {Remove, EvRemoved, Done}},
			// The first run's 143 is not the second run's code.
			wantState: Done, wantCode: 3, wantExited: true,
			wantCalls: []string{"docker.Start " + longID, "notify.Ready 42", "logs.Attach " + longID,
				"cgroups.Migrate 42", "notify.Ready 42", "docker.Remove"},
			noCalls: []string{"docker.Stop", "docker.Wait"},
		},
		{
			name: "stop requested in the restart window",
			spec: base,
			cues: []cue{{Watch, []Input{killSeenIn, diedIn(143)}}, {Restarting, []Input{stopIn}}},
			want: []step{{Lookup, EvNotFound, Create}, {Create, EvCreated, Start}, {Start, EvStarted, MigrateCgroups},
				{MigrateCgroups, EvMigrated, Notify}, {Notify, EvNotified, Watch}, {Watch, EvDiedAfterKill, Restarting},
				{Restarting, EvStop, Stop}, {Stop, EvStopped, Remove}, {Remove, EvRemoved, Done}},
			wantState: Done, wantCode: 143,
			wantCalls: []string{"notify.Stopping", "docker.Stop " + longID, "docker.Remove"},
		},
		{
			name: "systemd's watchdog fires while the exit is being decided",
			spec: base,
			cues: []cue{{Watch, []Input{endedIn}}, {Exiting, []Input{watchdogIn}}},
			want: []step{{Lookup, EvNotFound, Create}, {Create, EvCreated, Start}, {Start, EvStarted, MigrateCgroups},
				{MigrateCgroups, EvMigrated, Notify}, {Notify, EvNotified, Watch}, {Watch, EvProcessEnded, Exiting},
				{Exiting, EvWatchdog, Kill}, {Kill, EvKilled, Failed}},
			wantState: Failed, wantCode: 3,
			wantCalls: []string{"notify.Reclaim", "docker.Kill " + longID + " KILL", "docker.Wait", "docker.Remove"},
		},
		{
			name: "stop requested while watching",
			spec: base,
			cues: []cue{{Watch, []Input{stopIn}}},
			want: []step{{Lookup, EvNotFound, Create}, {Create, EvCreated, Start}, {Start, EvStarted, MigrateCgroups},
				{MigrateCgroups, EvMigrated, Notify}, {Notify, EvNotified, Watch}, {Watch, EvStop, Stop},
				{Stop, EvStopped, Remove}, {Remove, EvRemoved, Done}},
			wantState: Done, wantCode: 3,
			// The main-process role back before STOPPING=1: our exit
			// status, the container's code, is then the unit's.
			wantCalls: []string{"notify.Ready", "notify.Reclaim", "notify.Stopping", "docker.Stop " + longID, "docker.Wait", "docker.Remove"},
		},
		{
			name: "systemd's watchdog fires while watching: kill at once, remove, failed",
			spec: base,
			cues: []cue{{Watch, []Input{watchdogIn}}},
			want: []step{{Lookup, EvNotFound, Create}, {Create, EvCreated, Start}, {Start, EvStarted, MigrateCgroups},
				{MigrateCgroups, EvMigrated, Notify}, {Notify, EvNotified, Watch}, {Watch, EvWatchdog, Kill},
				{Kill, EvKilled, Failed}},
			wantState: Failed, wantCode: 3,
			wantCalls: []string{"notify.Ready", "notify.Stopping", "docker.Kill " + longID + " KILL", "docker.Wait", "pidfile.Remove 42", "docker.Remove"},
			noCalls:   []string{"notify.Reclaim", "docker.Stop"},
		},
		{
			name: "systemd's watchdog fires during a graceful stop: killed at once",
			spec: base,
			cues: []cue{{Watch, []Input{stopIn}}, {Stop, []Input{watchdogIn}}},
			want: []step{{Lookup, EvNotFound, Create}, {Create, EvCreated, Start}, {Start, EvStarted, MigrateCgroups},
				{MigrateCgroups, EvMigrated, Notify}, {Notify, EvNotified, Watch}, {Watch, EvStop, Stop},
				{Stop, EvWatchdog, Kill}, {Kill, EvKilled, Failed}},
			wantState: Failed, wantCode: 3,
			wantCalls: []string{"notify.Stopping", "docker.Stop " + longID, "docker.Kill " + longID + " KILL", "docker.Wait", "docker.Remove"},
		},
		{
			name: "container exits during migration",
			spec: base,
			cues: []cue{{Lookup, []Input{diedIn(9)}}, {MigrateCgroups, []Input{endedIn}}},
			want: []step{{Lookup, EvNotFound, Create}, {Create, EvCreated, Start}, {Start, EvStarted, MigrateCgroups},
				{MigrateCgroups, EvExited, Remove}, {Remove, EvRemoved, Done}},
			wantState: Done, wantCode: 3, wantExited: true,
			// Never announced: systemd's main process is still us; exit 3
			// without READY=1 fails the start with the container's code.
			wantCalls: []string{"docker.Start", "docker.Wait", "docker.Remove"},
			noCalls:   []string{"notify.Ready", "notify.Reclaim", "docker.Stop"},
		},
		{
			name:  "migration fails: abort, stop, remove",
			spec:  base,
			setup: func(w *world) { w.cgroups.Err = errBoom },
			want: []step{{Lookup, EvNotFound, Create}, {Create, EvCreated, Start}, {Start, EvStarted, MigrateCgroups},
				{MigrateCgroups, EvAbort, Stop}, {Stop, EvStopped, Remove}, {Remove, EvRemoved, Done}},
			wantState: Done, wantCode: 3, wantErr: true, wantFailed: MigrateCgroups,
			wantCalls: []string{"cgroups.Migrate", "docker.Inspect " + longID, "notify.Stopping", "docker.Stop " + longID,
				"docker.Wait", "docker.Remove"},
			noCalls: []string{"notify.Ready", "pidfile.Write"},
		},
		{
			name: "create fails: nothing to clean up",
			spec: base,
			setup: func(w *world) {
				w.docker.CreateErr = errBoom
			},
			want:      []step{{Lookup, EvNotFound, Create}, {Create, EvFail, Failed}},
			wantState: Failed, wantErr: true, wantFailed: Create,
			noCalls: []string{"docker.Start", "docker.Stop", "docker.Remove"},
		},
		{
			name: "detach",
			spec: Spec{Name: "web", Detach: true, ArgsHash: "h1", Invocation: "inv", Create: CreateSpec{Image: "nginx"}},
			want: []step{{Lookup, EvNotFound, Create}, {Create, EvCreated, Start}, {Start, EvStarted, MigrateCgroups},
				{MigrateCgroups, EvMigrated, Notify}, {Notify, EvDetached, Done}},
			wantState: Done,
			wantCalls: []string{"docker.Start", "cgroups.Migrate 42", "notify.Ready 42 ready=true", "notify.Barrier"},
			noCalls:   []string{"logs.Attach", "docker.Wait", "docker.Stop", "docker.Remove", "notify.Reclaim", "pidfile.Write"},
		},
		{
			name:  "adopt a running container",
			spec:  base,
			setup: func(w *world) { w.docker.Containers = map[string]Container{"web": running, longID: running} },
			cues:  []cue{{Watch, []Input{diedIn(3)}}},
			want: []step{{Lookup, EvAdopt, Start}, {Start, EvStarted, MigrateCgroups},
				{MigrateCgroups, EvMigrated, Notify}, {Notify, EvNotified, Watch}, {Watch, EvExited, Remove}, {Remove, EvRemoved, Done}},
			wantState: Done, wantCode: 3, wantExited: true,
			wantCalls: []string{"docker.Inspect web", "logs.Attach " + longID, "cgroups.Migrate 42", "docker.Remove"},
			noCalls:   []string{"docker.Create", "docker.Start"},
		},
		{
			name: "stale container is replaced",
			spec: base,
			setup: func(w *world) {
				w.docker.Containers = map[string]Container{"web": {ID: "old", Running: true, Pid: 7,
					Labels: map[string]string{LabelArgs: "h0"}}}
			},
			cues: []cue{{Watch, []Input{diedIn(3)}}},
			want: []step{{Lookup, EvStale, CleanupStale}, {CleanupStale, EvCleaned, Create}, {Create, EvCreated, Start},
				{Start, EvStarted, MigrateCgroups}, {MigrateCgroups, EvMigrated, Notify}, {Notify, EvNotified, Watch},
				{Watch, EvExited, Remove}, {Remove, EvRemoved, Done}},
			wantState: Done, wantCode: 3, wantExited: true,
			wantCalls: []string{"docker.Stop old", "docker.Remove old", "docker.Create", "docker.Start " + longID,
				"docker.Remove " + longID},
		},
		{
			name:      "stop before anything was created",
			spec:      base,
			cues:      []cue{{Lookup, []Input{stopIn}}},
			want:      []step{{Lookup, EvStop, Stop}, {Stop, EvStopped, Remove}, {Remove, EvRemoved, Done}},
			wantState: Done,
			wantCalls: []string{"docker.FindByLabel " + LabelInvocation + "=inv"},
			noCalls:   []string{"docker.Stop", "docker.Remove", "docker.Wait"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newWorld()
			w.docker.CreateID = longID
			w.docker.AfterStart = &running
			w.docker.WaitResult = Container{ID: longID, ExitCode: 3}
			if tt.setup != nil {
				tt.setup(w)
			}
			var seen, seen2 []step
			var lastAt time.Time
			m := New(tt.spec, w.ports(),
				func(tr Transition, f *Facts) {
					seen = append(seen, step{tr.From, tr.Event, tr.To})
					if tr.At.Before(lastAt) || tr.At.IsZero() {
						t.Errorf("transition %v at %v, before the previous one (%v)", tr, tr.At, lastAt)
					}
					lastAt = tr.At
				},
				func(tr Transition, _ *Facts) { seen2 = append(seen2, step{tr.From, tr.Event, tr.To}) })
			drive(t, m, tt.cues)

			if !slices.Equal(seen, tt.want) {
				t.Errorf("transitions:\n got  %v\n want %v", seen, tt.want)
			}
			if !slices.Equal(seen2, seen) {
				t.Errorf("second observer saw %v, first %v", seen2, seen)
			}
			if m.State() != tt.wantState {
				t.Errorf("ended in %q, want %q", m.State(), tt.wantState)
			}
			f := m.Facts()
			if f.ExitCode != tt.wantCode {
				t.Errorf("ExitCode = %d, want %d", f.ExitCode, tt.wantCode)
			}
			if (f.Err != nil) != tt.wantErr || f.FailedIn != tt.wantFailed {
				t.Errorf("Err %v FailedIn %q, want error %t in %q", f.Err, f.FailedIn, tt.wantErr, tt.wantFailed)
			}
			if tt.wantErr && !errors.Is(f.Err, errBoom) {
				t.Errorf("Err = %v, want it to wrap %v", f.Err, errBoom)
			}
			if f.Exited != tt.wantExited {
				t.Errorf("Exited = %t, want %t", f.Exited, tt.wantExited)
			}
			calls := w.rec.Calls()
			pos := -1
			for _, want := range tt.wantCalls {
				i := slices.IndexFunc(calls[pos+1:], func(c string) bool { return len(c) >= len(want) && c[:len(want)] == want })
				if i < 0 {
					t.Errorf("no call %q after position %d in %q", want, pos, calls)
					break
				}
				pos += 1 + i
			}
			for _, no := range tt.noCalls {
				if n := w.rec.count(no); n != 0 {
					t.Errorf("%d calls %q, want none: %q", n, no, calls)
				}
			}
		})
	}
}

func TestRestartedContainerIsStartedAgainWithoutDockerStart(t *testing.T) {
	w := newWorld()
	m := w.machineIn(Spec{Logs: true}, Restarting)
	m.facts.ContainerID, m.facts.Pid, m.facts.Started = longID, 42, true
	if ev := m.Resolve("", context.Canceled, EvRestarted); ev != EvRestarted {
		t.Fatalf("Resolve = %q, want restarted", ev)
	}
	if err := m.Fire(EvRestarted); err != nil {
		t.Fatal(err)
	}
	if m.State() != Start || m.facts.Restarts != 1 {
		t.Fatalf("state %q restarts %d, want start and 1", m.State(), m.facts.Restarts)
	}
	restartedAt := time.Date(2026, 11, 28, 15, 0, 0, 0, time.UTC)
	w.docker.Containers[longID] = Container{ID: longID, Running: true, Pid: 77, FinishedAt: restartedAt}
	ev, err := m.Act(context.Background())
	if err != nil || ev != EvStarted {
		t.Fatalf("start after a restart: %q, %v", ev, err)
	}
	if m.facts.Pid != 77 {
		t.Errorf("pid %d, want the new process 77", m.facts.Pid)
	}
	// Its logs are followed from its new start, so its first lines are kept.
	checkCalls(t, w.rec, []string{"docker.Inspect " + longID,
		"logs.Attach " + longID + " tty=false since=2026-11-28T15:00:00Z", "docker.Inspect " + longID})
}
