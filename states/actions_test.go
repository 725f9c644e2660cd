package states

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"testing/synctest"
	"time"
)

var errBoom = errors.New("boom")

// checkErr fails unless err is nil when want is empty, or contains every
// string of want.
func checkErr(t *testing.T, err error, want ...string) {
	t.Helper()
	if len(want) == 0 {
		if err != nil {
			t.Fatalf("unexpected error: %v", err)
		}
		return
	}
	if err == nil {
		t.Fatalf("no error, want one containing %q", want)
	}
	for _, w := range want {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error %q does not contain %q", err, w)
		}
	}
}

func checkCalls(t *testing.T, rec *recorder, want []string) {
	t.Helper()
	if got := rec.Calls(); !slices.Equal(got, want) {
		t.Errorf("calls:\n got  %q\n want %q", got, want)
	}
}

const (
	longID  = "0123456789abcdef0123456789abcdef"
	shortID = "0123456789ab"
)

func TestLookup(t *testing.T) {
	spec := Spec{Name: "web", ArgsHash: "h1", Invocation: "inv"}
	running := func(hash string) Container {
		return Container{ID: longID, Running: true, Pid: 42, Labels: map[string]string{LabelArgs: hash}}
	}
	tests := []struct {
		name        string
		spec        Spec
		containers  map[string]Container
		inspectErr  error
		want        Event
		wantErr     []string
		wantAdopted bool
		wantStale   bool
		wantCalls   []string
	}{
		{name: "no name", spec: Spec{ArgsHash: "h1"}, want: EvNotFound, wantCalls: nil},
		{name: "not found", spec: spec, want: EvNotFound, wantCalls: []string{"docker.Inspect web"}},
		{name: "running, same arguments", spec: spec, containers: map[string]Container{"web": running("h1")},
			want: EvAdopt, wantAdopted: true, wantCalls: []string{"docker.Inspect web"}},
		{name: "running, other arguments", spec: spec, containers: map[string]Container{"web": running("h0")},
			want: EvStale, wantStale: true, wantCalls: []string{"docker.Inspect web"}},
		{name: "running, no label", spec: spec, containers: map[string]Container{"web": {ID: longID, Running: true, Pid: 42}},
			want: EvStale, wantStale: true, wantCalls: []string{"docker.Inspect web"}},
		{name: "running, both hashes empty", spec: Spec{Name: "web"}, containers: map[string]Container{"web": running("")},
			want: EvStale, wantStale: true, wantCalls: []string{"docker.Inspect web"}},
		{name: "stopped, same arguments", spec: spec,
			containers: map[string]Container{"web": {ID: longID, Labels: map[string]string{LabelArgs: "h1"}}},
			want:       EvStale, wantStale: true, wantCalls: []string{"docker.Inspect web"}},
		{name: "inspect error", spec: spec, inspectErr: errBoom, wantErr: []string{`"web"`, "boom"},
			wantCalls: []string{"docker.Inspect web"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newWorld()
			if tt.containers != nil {
				w.docker.Containers = tt.containers
			}
			w.docker.InspectErr = tt.inspectErr
			m := w.machineIn(tt.spec, Lookup)
			ev, err := m.Act(context.Background())
			checkErr(t, err, tt.wantErr...)
			if ev != tt.want {
				t.Errorf("event %q, want %q", ev, tt.want)
			}
			f := m.Facts()
			if f.Adopted != tt.wantAdopted {
				t.Errorf("Adopted = %t, want %t", f.Adopted, tt.wantAdopted)
			}
			if tt.wantAdopted && f.ContainerID != longID {
				t.Errorf("ContainerID = %q, want %q", f.ContainerID, longID)
			}
			if !tt.wantAdopted && f.ContainerID != "" {
				t.Errorf("ContainerID = %q for a container not ours", f.ContainerID)
			}
			if tt.wantStale != (m.stale.ID == longID) {
				t.Errorf("stale = %+v, want stale %t", m.stale, tt.wantStale)
			}
			checkCalls(t, w.rec, tt.wantCalls)
		})
	}
}

func TestCleanupStale(t *testing.T) {
	tests := []struct {
		name      string
		stale     Container
		stopErr   error
		removeErr error
		want      Event
		wantErr   []string
		wantCalls []string
	}{
		{name: "running: stop then remove", stale: Container{ID: longID, Running: true},
			want: EvCleaned, wantCalls: []string{"docker.Stop " + longID, "docker.Remove " + longID}},
		{name: "stopped: remove only", stale: Container{ID: longID},
			want: EvCleaned, wantCalls: []string{"docker.Remove " + longID}},
		{name: "stop fails", stale: Container{ID: longID, Running: true}, stopErr: errBoom,
			wantErr: []string{`"web"`, shortID, "boom"}, wantCalls: []string{"docker.Stop " + longID}},
		{name: "remove fails", stale: Container{ID: longID}, removeErr: errBoom,
			wantErr:   []string{`"web"`, shortID, "boom", "docker rm -f web"},
			wantCalls: []string{"docker.Remove " + longID}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newWorld()
			w.docker.StopErr, w.docker.RemoveErr = tt.stopErr, tt.removeErr
			m := w.machineIn(Spec{Name: "web"}, CleanupStale)
			m.stale = tt.stale
			ev, err := m.Act(context.Background())
			checkErr(t, err, tt.wantErr...)
			if ev != tt.want {
				t.Errorf("event %q, want %q", ev, tt.want)
			}
			checkCalls(t, w.rec, tt.wantCalls)
			if err == nil && m.stale.ID != "" {
				t.Errorf("stale container still remembered after cleanup: %+v", m.stale)
			}
			if m.Facts().ContainerID != "" {
				t.Errorf("the stale container became ours: %q", m.Facts().ContainerID)
			}
		})
	}
}

func TestCreate(t *testing.T) {
	userLabels := map[string]string{"a": "1", LabelUnit: "web.service"}
	spec := Spec{Name: "web", ArgsHash: "h1", Invocation: "inv1",
		Create: CreateSpec{Image: "nginx:1", Options: []string{"--name", "web"}, Labels: userLabels, Command: []string{"sh"}}}
	tests := []struct {
		name    string
		spec    Spec
		err     error
		want    Event
		wantErr []string
		wantID  string
		labels  map[string]string
	}{
		{name: "ok", spec: spec, want: EvCreated, wantID: longID,
			labels: map[string]string{"a": "1", LabelUnit: "web.service", LabelArgs: "h1", LabelInvocation: "inv1"}},
		{name: "no labels of the user", spec: Spec{ArgsHash: "h2", Invocation: "inv2", Create: CreateSpec{Image: "alpine"}},
			want: EvCreated, wantID: longID, labels: map[string]string{LabelArgs: "h2", LabelInvocation: "inv2"}},
		{name: "error names the image", spec: spec, err: errBoom, wantErr: []string{`"nginx:1"`, "boom"},
			labels: map[string]string{"a": "1", LabelUnit: "web.service", LabelArgs: "h1", LabelInvocation: "inv1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newWorld()
			w.docker.CreateID, w.docker.CreateErr = longID, tt.err
			m := w.machineIn(tt.spec, Create)
			ev, err := m.Act(context.Background())
			checkErr(t, err, tt.wantErr...)
			if ev != tt.want {
				t.Errorf("event %q, want %q", ev, tt.want)
			}
			if got := m.Facts().ContainerID; got != tt.wantID {
				t.Errorf("ContainerID = %q, want %q", got, tt.wantID)
			}
			if len(w.docker.created) != 1 {
				t.Fatalf("Create called %d times", len(w.docker.created))
			}
			got := w.docker.created[0]
			if !mapsEqual(got.Labels, tt.labels) {
				t.Errorf("labels %v, want %v", got.Labels, tt.labels)
			}
			if got.Image != tt.spec.Create.Image || !slices.Equal(got.Options, tt.spec.Create.Options) ||
				!slices.Equal(got.Command, tt.spec.Create.Command) {
				t.Errorf("create spec %+v, want %+v", got, tt.spec.Create)
			}
			if _, leaked := m.spec.Create.Labels[LabelArgs]; leaked {
				t.Errorf("create wrote its labels into the spec's map: %v", m.spec.Create.Labels)
			}
		})
	}
}

func mapsEqual(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if bv, ok := b[k]; !ok || bv != v {
			return false
		}
	}
	return true
}

func TestStart(t *testing.T) {
	started := time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)
	runningC := Container{ID: longID, Running: true, Pid: 42, StartedAt: started}
	tests := []struct {
		name       string
		spec       Spec
		adopted    bool
		before     map[string]Container // before Start
		after      *Container           // after Start
		attachErr  error
		startErr   error
		inspectErr error
		want       Event
		wantErr    []string
		wantPid    int
		wantStart  bool // facts.Started
		wantCalls  []string
	}{
		{name: "attach before start", spec: Spec{Logs: true, TTY: true}, after: &runningC,
			want: EvStarted, wantPid: 42, wantStart: true,
			wantCalls: []string{"logs.Attach " + longID + " tty=true", "docker.Start " + longID, "docker.Inspect " + longID}},
		{name: "no logs: no attach", spec: Spec{}, after: &runningC,
			want: EvStarted, wantPid: 42, wantStart: true,
			wantCalls: []string{"docker.Start " + longID, "docker.Inspect " + longID}},
		{name: "adopted: attach, no start", spec: Spec{Logs: true}, adopted: true,
			before: map[string]Container{longID: runningC},
			want:   EvStarted, wantPid: 42, wantStart: true,
			wantCalls: []string{"logs.Attach " + longID + " tty=false", "docker.Inspect " + longID}},
		{name: "not running after start", spec: Spec{}, after: &Container{ID: longID, ExitCode: 1},
			want: EvExited, wantStart: true,
			wantCalls: []string{"docker.Start " + longID, "docker.Inspect " + longID}},
		{name: "running without a pid", spec: Spec{}, after: &Container{ID: longID, Running: true},
			want: EvExited, wantStart: true,
			wantCalls: []string{"docker.Start " + longID, "docker.Inspect " + longID}},
		{name: "attach fails", spec: Spec{Logs: true}, attachErr: errBoom, wantErr: []string{"attach", shortID, "boom"},
			wantCalls: []string{"logs.Attach " + longID + " tty=false"}},
		{name: "start fails", spec: Spec{}, startErr: errBoom, wantErr: []string{"start container " + shortID, "boom"},
			wantCalls: []string{"docker.Start " + longID}},
		{name: "inspect fails", spec: Spec{}, after: &runningC, inspectErr: errBoom, wantStart: true,
			wantErr: []string{shortID, "boom"}, wantCalls: []string{"docker.Start " + longID, "docker.Inspect " + longID}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newWorld()
			if tt.before != nil {
				w.docker.Containers = tt.before
			}
			w.docker.AfterStart = tt.after
			w.docker.StartErr, w.docker.InspectErr = tt.startErr, tt.inspectErr
			w.logs.Err = tt.attachErr
			m := w.machineIn(tt.spec, Start)
			m.facts.ContainerID = longID
			m.facts.Adopted = tt.adopted
			ev, err := m.Act(context.Background())
			checkErr(t, err, tt.wantErr...)
			if ev != tt.want {
				t.Errorf("event %q, want %q", ev, tt.want)
			}
			f := m.Facts()
			if f.Pid != tt.wantPid {
				t.Errorf("Pid = %d, want %d", f.Pid, tt.wantPid)
			}
			if f.Started != tt.wantStart {
				t.Errorf("Started = %t, want %t", f.Started, tt.wantStart)
			}
			if tt.wantPid != 0 && !f.StartedAt.Equal(started) {
				t.Errorf("StartedAt = %v, want %v", f.StartedAt, started)
			}
			checkCalls(t, w.rec, tt.wantCalls)
		})
	}
}

func TestMigrateCgroups(t *testing.T) {
	tests := []struct {
		name       string
		migrateErr error
		containers map[string]Container
		want       Event
		wantErr    []string
	}{
		{name: "ok", want: EvMigrated},
		{name: "error, container still running", migrateErr: errBoom,
			containers: map[string]Container{longID: {ID: longID, Running: true, Pid: 42}},
			wantErr:    []string{shortID, "pid 42", "cgroups", "boom"}},
		{name: "error, inspect fails too", migrateErr: errBoom,
			wantErr: []string{shortID, "pid 42", "boom"}},
		{name: "error, container gone", migrateErr: errBoom,
			containers: map[string]Container{longID: {ID: longID, ExitCode: 2}}, want: EvExited},
		// Docker has not seen the exit yet, the kernel has.
		{name: "process gone, Docker says running", migrateErr: errors.Join(errBoom, ErrProcessGone),
			containers: map[string]Container{longID: {ID: longID, Running: true, Pid: 42}}, want: EvExited},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newWorld()
			w.cgroups.Err = tt.migrateErr
			if tt.containers != nil {
				w.docker.Containers = tt.containers
			}
			m := w.machineIn(Spec{}, MigrateCgroups)
			m.facts.ContainerID, m.facts.Pid = longID, 42
			ev, err := m.Act(context.Background())
			checkErr(t, err, tt.wantErr...)
			if ev != tt.want {
				t.Errorf("event %q, want %q", ev, tt.want)
			}
			if got := w.rec.Calls(); len(got) == 0 || got[0] != "cgroups.Migrate 42 "+longID {
				t.Errorf("calls %q, want cgroups.Migrate 42 %s first", got, longID)
			}
		})
	}
}

func TestNotify(t *testing.T) {
	tests := []struct {
		name      string
		spec      Spec
		adopted   bool
		pidErr    error
		readyErr  error
		health    string // the container's health status, for WaitHealthy
		healthErr error
		barrier   error
		want      Event
		wantErr   []string
		wantCalls []string
	}{
		{name: "ready, pid file first", spec: Spec{WritePid: true}, want: EvNotified,
			wantCalls: []string{"pidfile.Write 42", "notify.Ready 42 ready=true running, pid 42"}},
		{name: "no pid file", spec: Spec{}, want: EvNotified,
			wantCalls: []string{"notify.Ready 42 ready=true running, pid 42"}},
		{name: "--notify: the container says READY", spec: Spec{Notify: true}, want: EvNotified,
			wantCalls: []string{"notify.Ready 42 ready=false started, pid 42, waiting for the container's READY=1"}},
		{name: "--notify, adopted: already ready", spec: Spec{Notify: true}, adopted: true, want: EvNotified,
			wantCalls: []string{"notify.Ready 42 ready=true running, pid 42"}},
		{name: "detach waits for systemd", spec: Spec{Detach: true}, want: EvDetached,
			wantCalls: []string{"notify.Ready 42 ready=true running, pid 42", "notify.Barrier"}},
		{name: "detach, barrier fails: still detached", spec: Spec{Detach: true}, barrier: errBoom, want: EvDetached,
			wantCalls: []string{"notify.Ready 42 ready=true running, pid 42", "notify.Barrier"}},
		{name: "--ready=healthy: MAINPID, then READY once healthy", spec: Spec{WaitHealthy: true}, health: "starting",
			want: EvNotified, wantCalls: []string{"docker.Inspect " + longID,
				"notify.Ready 42 ready=false running, pid 42, waiting for a healthy health check",
				"docker.WaitHealthy " + longID, "notify.Ready 0 ready=true running, healthy, pid 42"}},
		{name: "--ready=healthy without a health check", spec: Spec{WaitHealthy: true}, health: "",
			wantErr: []string{"no health check", "--health-cmd", "--ready=running"}, wantCalls: []string{"docker.Inspect " + longID}},
		{name: "--ready=healthy, the container stops first", spec: Spec{WaitHealthy: true}, health: "starting", healthErr: errBoom,
			wantErr: []string{"healthy", "boom"}, wantCalls: []string{"docker.Inspect " + longID,
				"notify.Ready 42 ready=false running, pid 42, waiting for a healthy health check", "docker.WaitHealthy " + longID}},
		{name: "--ready=healthy, adopted: already ready", spec: Spec{WaitHealthy: true}, adopted: true, want: EvNotified,
			wantCalls: []string{"notify.Ready 42 ready=true running, pid 42"}},
		{name: "pid file fails", spec: Spec{WritePid: true}, pidErr: errBoom, wantErr: []string{"boom"},
			wantCalls: []string{"pidfile.Write 42"}},
		{name: "ready fails", spec: Spec{}, readyErr: errBoom, wantErr: []string{"pid 42", "boom"},
			wantCalls: []string{"notify.Ready 42 ready=true running, pid 42"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newWorld()
			w.pidfile.Err, w.notifier.ReadyErr, w.notifier.BarrierErr = tt.pidErr, tt.readyErr, tt.barrier
			m := w.machineIn(tt.spec, Notify)
			m.facts.ContainerID, m.facts.Pid, m.facts.Adopted = longID, 42, tt.adopted
			w.docker.Containers[longID] = Container{ID: longID, Running: true, Pid: 42, Health: tt.health}
			w.docker.HealthyErr = tt.healthErr
			ev, err := m.Act(context.Background())
			checkErr(t, err, tt.wantErr...)
			if ev != tt.want {
				t.Errorf("event %q, want %q", ev, tt.want)
			}
			checkCalls(t, w.rec, tt.wantCalls)
		})
	}
}

func TestWatchEndsOnlyWithItsContext(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		m := newWorld().machineIn(Spec{}, Watch)
		ctx, cancel := context.WithCancelCause(context.Background())
		type result struct {
			ev  Event
			err error
		}
		done := make(chan result, 1)
		go func() {
			ev, err := m.Act(ctx)
			done <- result{ev, err}
		}()
		synctest.Wait() // the action is blocked for good
		select {
		case r := <-done:
			t.Fatalf("watch returned before its context ended: %q, %v", r.ev, r.err)
		default:
		}
		cause := errors.New("container exited")
		cancel(cause)
		synctest.Wait()
		select {
		case r := <-done:
			if r.ev != "" || !errors.Is(r.err, cause) {
				t.Errorf("watch = %q, %v; want \"\", %v", r.ev, r.err, cause)
			}
		default:
			t.Fatal("watch did not return after its context was cancelled")
		}
	})
}

func TestStop(t *testing.T) {
	timeout := 7
	tests := []struct {
		name      string
		spec      Spec
		id        string
		findIDs   []string
		findErr   error
		stopErr   error
		stoppingE error
		announced bool
		reclaimE  error
		wait      Container
		waitErr   error
		want      Event
		wantErr   []string
		wantID    string
		wantCode  int
		wantOOM   bool
		wantCalls []string
	}{
		{name: "stop and collect the exit code", spec: Spec{Invocation: "inv"}, id: longID,
			wait: Container{ExitCode: 143}, want: EvStopped, wantID: longID, wantCode: 143,
			wantCalls: []string{"notify.Stopping stopping (its stop signal)", "docker.Stop " + longID, "docker.Wait " + longID}},
		{name: "status names the stop signal and timeout", spec: Spec{StopSignal: "SIGQUIT", StopTimeout: &timeout}, id: longID,
			wait: Container{ExitCode: 137, OOMKilled: true}, want: EvStopped, wantID: longID, wantCode: 137, wantOOM: true,
			wantCalls: []string{"notify.Stopping stopping (SIGQUIT, 7s)", "docker.Stop " + longID, "docker.Wait " + longID}},
		{name: "Stopping fails: stop anyway", spec: Spec{}, id: longID, stoppingE: errBoom, want: EvStopped, wantID: longID,
			wantCalls: []string{"notify.Stopping stopping (its stop signal)", "docker.Stop " + longID, "docker.Wait " + longID}},
		{name: "announced: the main-process role back first", spec: Spec{}, id: longID, announced: true,
			wait: Container{ExitCode: 7}, want: EvStopped, wantID: longID, wantCode: 7,
			wantCalls: []string{"notify.Reclaim", "notify.Stopping stopping (its stop signal)", "docker.Stop " + longID, "docker.Wait " + longID}},
		{name: "announced, reclaim fails: stop anyway", spec: Spec{}, id: longID, announced: true, reclaimE: errBoom,
			wait: Container{ExitCode: 7}, want: EvStopped, wantID: longID, wantCode: 7,
			wantCalls: []string{"notify.Reclaim", "notify.Stopping stopping (its stop signal)", "docker.Stop " + longID, "docker.Wait " + longID}},
		{name: "no ID: found by invocation", spec: Spec{Invocation: "inv"}, findIDs: []string{longID},
			wait: Container{ExitCode: 1}, want: EvStopped, wantID: longID, wantCode: 1,
			wantCalls: []string{"docker.FindByLabel " + LabelInvocation + "=inv", "notify.Stopping stopping (its stop signal)",
				"docker.Stop " + longID, "docker.Wait " + longID}},
		{name: "no ID, none found: nothing to stop", spec: Spec{Invocation: "inv"}, want: EvStopped,
			wantCalls: []string{"docker.FindByLabel " + LabelInvocation + "=inv"}},
		{name: "find fails", spec: Spec{Invocation: "inv"}, findErr: errBoom, wantErr: []string{"boom"},
			wantCalls: []string{"docker.FindByLabel " + LabelInvocation + "=inv"}},
		{name: "stop fails", spec: Spec{}, id: longID, stopErr: errBoom, wantErr: []string{shortID, "boom"}, wantID: longID,
			wantCalls: []string{"notify.Stopping stopping (its stop signal)", "docker.Stop " + longID}},
		{name: "wait fails", spec: Spec{}, id: longID, waitErr: errBoom, wantErr: []string{shortID, "boom"}, wantID: longID,
			wantCalls: []string{"notify.Stopping stopping (its stop signal)", "docker.Stop " + longID, "docker.Wait " + longID}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newWorld()
			w.docker.FindIDs, w.docker.FindErr, w.docker.StopErr = tt.findIDs, tt.findErr, tt.stopErr
			w.docker.WaitResult, w.docker.WaitErr = tt.wait, tt.waitErr
			w.notifier.StoppingErr, w.notifier.ReclaimErr = tt.stoppingE, tt.reclaimE
			m := w.machineIn(tt.spec, Stop)
			m.facts.ContainerID, m.facts.Announced = tt.id, tt.announced
			ev, err := m.Act(context.Background())
			checkErr(t, err, tt.wantErr...)
			if ev != tt.want {
				t.Errorf("event %q, want %q", ev, tt.want)
			}
			f := m.Facts()
			if f.ContainerID != tt.wantID || f.ExitCode != tt.wantCode || f.OOMKilled != tt.wantOOM {
				t.Errorf("facts ID %q code %d oom %t, want %q %d %t", f.ContainerID, f.ExitCode, f.OOMKilled,
					tt.wantID, tt.wantCode, tt.wantOOM)
			}
			checkCalls(t, w.rec, tt.wantCalls)
		})
	}
}

func TestKill(t *testing.T) {
	tests := []struct {
		name      string
		spec      Spec
		id        string
		findIDs   []string
		killErr   error
		running   bool // Inspect after a failed kill: it still runs
		waitErr   error
		removeErr error
		want      Event
		wantErr   []string
		wantCode  int
		wantCalls []string
	}{
		{name: "kill at once, collect the code, remove with --rm", spec: Spec{Remove: true}, id: longID, want: EvKilled, wantCode: 137,
			wantCalls: []string{"notify.Stopping systemd's watchdog fired: killing the container", "docker.Kill " + longID + " KILL",
				"docker.Wait " + longID, "docker.Remove " + longID}},
		{name: "without --rm the container stays", spec: Spec{}, id: longID, want: EvKilled, wantCode: 137,
			wantCalls: []string{"notify.Stopping systemd's watchdog fired: killing the container", "docker.Kill " + longID + " KILL",
				"docker.Wait " + longID}},
		{name: "no ID: found by invocation", spec: Spec{Invocation: "inv", Remove: true}, findIDs: []string{longID}, want: EvKilled,
			wantCode: 137, wantCalls: []string{"docker.FindByLabel " + LabelInvocation + "=inv", "notify.Stopping systemd's watchdog fired: killing the container",
				"docker.Kill " + longID + " KILL", "docker.Wait " + longID, "docker.Remove " + longID}},
		{name: "no container yet: nothing to kill", spec: Spec{Invocation: "inv", Remove: true}, want: EvKilled,
			wantCalls: []string{"docker.FindByLabel " + LabelInvocation + "=inv"}},
		{name: "kill fails", spec: Spec{Remove: true}, id: longID, killErr: errBoom, running: true, wantErr: []string{"kill container " + shortID, "boom"},
			wantCalls: []string{"notify.Stopping systemd's watchdog fired: killing the container", "docker.Kill " + longID + " KILL", "docker.Inspect " + longID}},
		{name: "kill refused: it ended already", spec: Spec{Remove: true}, id: longID, killErr: errBoom, want: EvKilled, wantCode: 137,
			wantCalls: []string{"notify.Stopping systemd's watchdog fired: killing the container", "docker.Kill " + longID + " KILL",
				"docker.Inspect " + longID, "docker.Wait " + longID, "docker.Remove " + longID}},
		{name: "wait fails", spec: Spec{Remove: true}, id: longID, waitErr: errBoom, wantErr: []string{shortID, "boom"},
			wantCalls: []string{"notify.Stopping systemd's watchdog fired: killing the container", "docker.Kill " + longID + " KILL", "docker.Wait " + longID}},
		{name: "remove fails: says how", spec: Spec{Remove: true, Name: "web"}, id: longID, removeErr: errBoom, wantCode: 137,
			wantErr: []string{"remove container " + shortID, "docker rm -f"},
			wantCalls: []string{"notify.Stopping systemd's watchdog fired: killing the container", "docker.Kill " + longID + " KILL",
				"docker.Wait " + longID, "docker.Remove " + longID}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newWorld()
			w.docker.FindIDs, w.docker.KillErr, w.docker.RemoveErr = tt.findIDs, tt.killErr, tt.removeErr
			w.docker.WaitResult, w.docker.WaitErr = Container{ExitCode: 137}, tt.waitErr
			if tt.running {
				w.docker.Containers[longID] = Container{ID: longID, Running: true, Pid: 42}
			}
			m := w.machineIn(tt.spec, Kill)
			m.facts.ContainerID = tt.id
			ev, err := m.Act(context.Background())
			checkErr(t, err, tt.wantErr...)
			if ev != tt.want {
				t.Errorf("event %q, want %q", ev, tt.want)
			}
			if got := m.Facts().ExitCode; got != tt.wantCode {
				t.Errorf("exit code %d, want %d", got, tt.wantCode)
			}
			checkCalls(t, w.rec, tt.wantCalls)
		})
	}
}

func TestRemove(t *testing.T) {
	tests := []struct {
		name       string
		spec       Spec
		id         string
		pid        int
		exited     bool
		announced  bool // MAINPID went to the container
		wait       Container
		waitErr    error
		reclaimErr error
		removeErr  error
		want       Event
		wantErr    []string
		wantCode   int
		wantNot    string // must not be in the error
		wantCalls  []string
	}{
		{name: "exited, --rm: exit code, reclaim, remove", spec: Spec{Remove: true}, id: longID, pid: 42, exited: true, announced: true,
			wait: Container{ExitCode: 3}, want: EvRemoved, wantCode: 3,
			wantCalls: []string{"notify.Reclaim", "docker.Wait " + longID, "docker.Remove " + longID}},
		{name: "exited, no --rm: no remove", spec: Spec{}, id: longID, pid: 42, exited: true, announced: true,
			wait: Container{ExitCode: 3}, want: EvRemoved, wantCode: 3,
			wantCalls: []string{"notify.Reclaim", "docker.Wait " + longID}},
		{name: "exited before it was announced, failing: nothing to tell", spec: Spec{Remove: true}, id: longID, exited: true,
			wait: Container{ExitCode: 1}, want: EvRemoved, wantCode: 1,
			wantCalls: []string{"docker.Wait " + longID, "docker.Remove " + longID}},
		{name: "completed before it was announced: READY=1, so exit 0 is clean under Type=notify",
			spec: Spec{Remove: true}, id: longID, exited: true,
			wait: Container{ExitCode: 0}, want: EvRemoved, wantCode: 0,
			wantCalls: []string{"docker.Wait " + longID, "notify.Ready 0 ready=true the container ran to completion before it was ready",
				"notify.Barrier", "docker.Remove " + longID}},
		{name: "reclaim fails: carry on", spec: Spec{Remove: true}, id: longID, pid: 42, exited: true, announced: true, reclaimErr: errBoom,
			wait: Container{ExitCode: 4}, want: EvRemoved, wantCode: 4,
			wantCalls: []string{"notify.Reclaim", "docker.Wait " + longID, "docker.Remove " + longID}},
		{name: "stopped (exit code known): remove only", spec: Spec{Remove: true}, id: longID, pid: 42,
			want: EvRemoved, wantCalls: []string{"docker.Remove " + longID}},
		{name: "no container: nothing to do", spec: Spec{Remove: true}, want: EvRemoved, wantCalls: nil},
		{name: "wait fails", spec: Spec{Remove: true}, id: longID, pid: 42, exited: true, waitErr: errBoom,
			wantErr: []string{shortID, "boom"}, wantCalls: []string{"docker.Wait " + longID}},
		{name: "remove fails: says how", spec: Spec{Name: "web", Remove: true}, id: longID, removeErr: errBoom,
			wantErr:   []string{shortID, "boom", "removed at the next start", "docker rm -f " + shortID},
			wantCalls: []string{"docker.Remove " + longID}},
		{name: "remove fails, named: removed at the next start", spec: Spec{Name: "web", Remove: true}, id: longID,
			removeErr: errBoom, wantErr: []string{"next start", "docker rm -f"},
			wantCalls: []string{"docker.Remove " + longID}},
		// Without --name, lookup is skipped (lookup.go) and nothing else
		// sweeps old containers: promising removal at the next start is false.
		{name: "remove fails, unnamed: no false promise", spec: Spec{Remove: true}, id: longID, removeErr: errBoom,
			wantErr: []string{"docker rm -f " + shortID}, wantNot: "next start",
			wantCalls: []string{"docker.Remove " + longID}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newWorld()
			w.docker.WaitResult, w.docker.WaitErr, w.docker.RemoveErr = tt.wait, tt.waitErr, tt.removeErr
			w.notifier.ReclaimErr = tt.reclaimErr
			m := w.machineIn(tt.spec, Remove)
			m.facts.ContainerID, m.facts.Pid, m.facts.Exited = tt.id, tt.pid, tt.exited
			m.facts.Announced = tt.announced
			ev, err := m.Act(context.Background())
			checkErr(t, err, tt.wantErr...)
			if tt.wantNot != "" && err != nil && strings.Contains(err.Error(), tt.wantNot) {
				t.Errorf("error %q says %q", err, tt.wantNot)
			}
			if ev != tt.want {
				t.Errorf("event %q, want %q", ev, tt.want)
			}
			if got := m.Facts().ExitCode; got != tt.wantCode {
				t.Errorf("ExitCode = %d, want %d", got, tt.wantCode)
			}
			checkCalls(t, w.rec, tt.wantCalls)
		})
	}
}

func TestTerminalStatesHaveNoAction(t *testing.T) {
	for _, s := range []State{Done, Failed} {
		w := newWorld()
		m := w.machineIn(Spec{}, s)
		ev, err := m.Act(context.Background())
		if err == nil || ev != "" {
			t.Errorf("Act in %q = %q, %v; want an error", s, ev, err)
		}
		checkCalls(t, w.rec, nil)
	}
}

func TestNotifyAnnouncesOnlyWhenSystemdWasTold(t *testing.T) {
	for _, readyErr := range []error{nil, errBoom} {
		w := newWorld()
		w.notifier.ReadyErr = readyErr
		m := w.machineIn(Spec{}, Notify)
		m.facts.ContainerID, m.facts.Pid = longID, 42
		_, _ = m.Act(context.Background())
		if want := readyErr == nil; m.facts.Announced != want {
			t.Errorf("Ready error %v: Announced = %t, want %t", readyErr, m.facts.Announced, want)
		}
	}
}
