package supervisor

import (
	"errors"
	"strings"
	"syscall"
	"testing"
	"testing/synctest"
	"time"

	"go.uber.org/zap/zapcore"

	"github.com/systemd-docker/systemd-docker/states"
	"github.com/systemd-docker/systemd-docker/supervisor/dockerapi"
	"github.com/systemd-docker/systemd-docker/watchers"
)

// The engine on fakes of its ports (fakes_test.go), in a synctest bubble:
// the test plays the world (signals, Docker's events, the process's end)
// and reads what the engine did from the fakes' call log, the transitions
// and run's Result.

// TestEngineDockerRestart: `docker restart` (kill, the process ends, die,
// start) is followed, not taken for the end: the new process is announced
// and watched, and Docker is not asked to start the container again.
func TestEngineDockerRestart(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newTestEngine(t, webSpec())
		w.wantState(states.Watch)
		w.dockerEvent("kill", "")
		w.exit(testPid)
		w.wantState(states.Exiting)
		w.dockerEvent("die", "143")
		w.wantState(states.Restarting)

		const newPid = 77
		w.docker.set(func(c *states.Container) { c.Running, c.Pid, c.FinishedAt = true, newPid, time.Now() })
		w.dockerEvent("start", "")
		w.wantState(states.Watch)
		if n := w.count("notify.Ready 77 ready=true "); n != 1 {
			t.Errorf("MAINPID=77 with READY=1 announced %d times, want once", n)
		}
		if n := w.count("process.WatchExit 77"); n != 1 {
			t.Errorf("%d exit watches for pid 77, want 1", n)
		}
		w.exit(newPid) // the new watch is live
		w.wantState(states.Exiting)
		w.dockerEvent("die", "0")

		if r := w.result(); r != (Result{Code: 0}) {
			t.Errorf("Result = %+v, want code 0", r)
		}
		const want = "lookup -not-found-> create -created-> start -started-> migrate-cgroups -migrated-> notify " +
			"-notified-> watch -process-ended-> exiting -died-after-kill-> restarting -restarted-> start " +
			"-started-> migrate-cgroups -migrated-> notify -notified-> watch -process-ended-> exiting " +
			"-exited-> remove -removed-> done"
		if got := w.path(); got != want {
			t.Errorf("path:\n got %s\nwant %s", got, want)
		}
		if n := w.count("docker.Start "); n != 1 {
			t.Errorf("docker start called %d times, want once: Docker restarted the container itself", n)
		}
		if n := w.count("docker.Events "); n != 1 {
			t.Errorf("%d docker event streams, want one for every run", n)
		}
		if n := w.count("logs.Attach "); n != 2 {
			t.Errorf("%d attaches, want 2: the new run's output is followed too", n)
		}
	})
}

// TestEngineExitStands: an exit Docker does not take back ends the run,
// exactly when its window closes: no start after a docker stop (within
// RestartWindow), no die event from a daemon that is gone (within
// DieGrace, the code then from docker wait).
func TestEngineExitStands(t *testing.T) {
	tests := []struct {
		name     string
		world    func(w *world)
		in       states.State // the window
		window   time.Duration
		want     Result
		wantWait bool // the code comes from docker wait, not the die event
	}{
		{name: "docker stop: kill, die",
			world: func(w *world) { w.dockerEvent("kill", ""); w.dockerEvent("die", "143") },
			in:    states.Restarting, window: states.RestartWindow, want: Result{Code: 143}},
		{name: "docker stop: kill, the process ends, die",
			world: func(w *world) { w.dockerEvent("kill", ""); w.exit(testPid); w.dockerEvent("die", "143") },
			in:    states.Restarting, window: states.RestartWindow, want: Result{Code: 143}},
		{name: "dockerd gone: the process ends, no die",
			world: func(w *world) { w.exit(testPid) },
			in:    states.Exiting, window: states.DieGrace, want: Result{Code: 137}, wantWait: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				w := newTestEngine(t, webSpec(), withExitCode(137))
				w.wantState(states.Watch)
				tt.world(w)
				w.wantState(tt.in)
				w.after(tt.window - time.Nanosecond)
				w.wantState(tt.in)
				w.after(time.Nanosecond)

				if r := w.result(); r != tt.want {
					t.Errorf("Result = %+v, want %+v", r, tt.want)
				}
				if !w.took(tt.in, states.EvSettled, states.Remove) {
					t.Errorf("no %s -settled-> remove; path: %s", tt.in, w.path())
				}
				if got := w.count("docker.Wait ") == 1; got != tt.wantWait {
					t.Errorf("docker wait called: %v, want %v", got, tt.wantWait)
				}
				if n := w.count("docker.Remove " + testID); n != 1 {
					t.Errorf("docker rm called %d times, want once (--rm)", n)
				}
			})
		})
	}
}

// TestEngineWatchdogPings: WATCHDOG=1 goes out at each tick while the
// container deserves it: healthy, and the daemon answers or is away (not
// running) for less than dockerapi.DaemonRestartGrace. Withholding, a
// daemon's absence and the pings' return are each said once.
func TestEngineWatchdogPings(t *testing.T) {
	health := func(status string) func(*fakeDocker) {
		return func(d *fakeDocker) { d.set(func(c *states.Container) { c.Health = status }) }
	}
	inspectFails := func(err error) func(*fakeDocker) { return func(d *fakeDocker) { d.fail(err) } }
	wedged := errors.New("context deadline exceeded")
	grace := dockerapi.DaemonRestartGrace
	inGrace := int(grace / time.Second) // ticks excused, one a second

	// What was said since the engine started.
	type said struct{ pings, withheld, resumed, away int }
	// A phase changes the world (do), lets wait pass, and counts.
	type phase struct {
		do   func(*fakeDocker)
		wait time.Duration
		said
	}
	tests := []struct {
		name   string
		phases []phase
	}{
		{name: "health decides", phases: []phase{
			{wait: 3500 * time.Millisecond, said: said{pings: 3}},
			{do: health("unhealthy"), wait: 3 * time.Second, said: said{pings: 3, withheld: 1}},
			{do: health("healthy"), wait: time.Second, said: said{pings: 4, withheld: 1, resumed: 1}},
			{wait: 2 * time.Second, said: said{pings: 6, withheld: 1, resumed: 1}},
		}},
		{name: "daemon away: pings go on for the grace, then stop", phases: []phase{
			{do: inspectFails(errDaemonAway), wait: 1500 * time.Millisecond, said: said{pings: 1, away: 1}},
			{wait: grace - time.Second, said: said{pings: inGrace, away: 1}},
			{wait: time.Second, said: said{pings: inGrace, away: 1, withheld: 1}},
			{do: inspectFails(nil), wait: time.Second, said: said{pings: inGrace + 1, away: 1, withheld: 1, resumed: 1}},
		}},
		{name: "wedged daemon: no ping at once", phases: []phase{
			{do: inspectFails(wedged), wait: 1500 * time.Millisecond, said: said{withheld: 1}},
			{wait: grace, said: said{withheld: 1}},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				w := newTestEngine(t, webSpec(), withWatchdog(time.Second), withHealth("healthy"))
				w.wantState(states.Watch)
				for i, p := range tt.phases {
					if p.do != nil {
						p.do(w.docker)
					}
					w.after(p.wait)
					got := said{
						pings:    w.count("notify.Send WATCHDOG=1"),
						withheld: len(w.lines(zapcore.WarnLevel, "withholding watchdog pings")),
						resumed:  len(w.lines(zapcore.InfoLevel, "watchdog pings resume")),
						away:     len(w.lines(zapcore.InfoLevel, "dockerd is not running")),
					}
					if want := p.said; got != want {
						t.Errorf("phase %d: pings %d, withheld %d, resumed %d, daemon away %d; want %d, %d, %d, %d",
							i, got.pings, got.withheld, got.resumed, got.away, want.pings, want.withheld, want.resumed, want.away)
					}
					if n := w.count("notify.Status watchdog pings withheld: "); n != p.withheld {
						t.Errorf("phase %d: STATUS=watchdog pings withheld sent %d times, want %d", i, n, p.withheld)
					}
					if n := w.count("notify.Status running, pid 42, "); n != p.resumed {
						t.Errorf("phase %d: STATUS=running sent %d times at resumption, want %d", i, n, p.resumed)
					}
				}
				w.signal(watchers.Stop, syscall.SIGTERM)
				w.result()
			})
		})
	}
}

// TestEngineStopInEveryState: a stop request leaves every state that can
// be held by `stop`; the container, if there is one, is stopped with its
// own signal and timeout, and removed (--rm). The Result is the
// container's code once it was announced as the main process (it exits 0
// here, having handled SIGTERM), else the signal.
func TestEngineStopInEveryState(t *testing.T) {
	const staleID = "5a1e5a1e5a1e5a1e"
	stale := func(w *world) { w.docker.c = states.Container{ID: staleID} }
	bySignal := Result{Code: 128 + int(syscall.SIGTERM), Signal: syscall.SIGTERM}
	tests := []struct {
		in          states.State
		opts        []option
		waitHealthy bool
		world       func(w *world) // after watch is reached
		container   bool           // there is a container to stop and remove
		want        Result
		noWait      bool // its code is the die event's
	}{
		{in: states.Lookup, opts: []option{hold("docker.Inspect")}, want: bySignal},
		{in: states.CleanupStale, opts: []option{stale, hold("docker.Remove")}, want: bySignal},
		// docker create made it, but was cut short before it said so.
		{in: states.Create, opts: []option{hold("docker.Create")}, container: true, want: bySignal},
		{in: states.Start, opts: []option{hold("docker.Start")}, container: true, want: bySignal},
		{in: states.MigrateCgroups, opts: []option{hold("cgroups.Migrate")}, container: true, want: bySignal},
		{in: states.Notify, opts: []option{withHealth("starting"), hold("docker.WaitHealthy")}, waitHealthy: true,
			container: true, want: Result{Code: 0}},
		{in: states.Watch, container: true, want: Result{Code: 0}},
		{in: states.Exiting, world: func(w *world) { w.exit(testPid) }, container: true, want: Result{Code: 0}},
		{in: states.Restarting, world: func(w *world) { w.dockerEvent("kill", ""); w.dockerEvent("die", "143") },
			container: true, want: Result{Code: 143}, noWait: true},
	}
	for _, tt := range tests {
		t.Run(string(tt.in), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				spec := webSpec()
				spec.WaitHealthy = tt.waitHealthy
				w := newTestEngine(t, spec, append(tt.opts, withExitCode(0))...)
				if tt.world != nil {
					w.wantState(states.Watch)
					tt.world(w)
				}
				w.wantState(tt.in)
				w.signal(watchers.Stop, syscall.SIGTERM)

				if r := w.result(); r != tt.want {
					t.Errorf("Result = %+v, want %+v", r, tt.want)
				}
				if want := string(tt.in) + " -stop-> stop -stopped-> remove -removed-> done"; !strings.HasSuffix(w.path(), want) {
					t.Errorf("path %s, want it to end with %s", w.path(), want)
				}
				n := 0
				if tt.container {
					n = 1
				}
				if got := w.count("docker.Stop " + testID); got != n || w.count("docker.Stop ") != n {
					t.Errorf("docker stop with the container's own signal and timeout called %d times (%d in all), want %d",
						got, w.count("docker.Stop "), n)
				}
				if got := w.count("docker.Remove " + testID); got != n {
					t.Errorf("docker rm called %d times, want %d", got, n)
				}
				if tt.noWait && w.count("docker.Wait ") != 0 {
					t.Error("docker wait called: the die event had the code")
				}
				lines := w.lines(zapcore.InfoLevel, "stopping the container")
				if len(lines) != 1 || lines[0].ContextMap()["state"] != string(tt.in) {
					t.Errorf("stop logged as %v, want once, naming state %s", lines, tt.in)
				}
			})
		})
	}
}

// TestEngineForwardsSignals: a signal to pass on goes to the container's
// process once it runs, and nowhere before.
func TestEngineForwardsSignals(t *testing.T) {
	tests := []struct {
		in   states.State
		opts []option
		want int // signals sent to the container's process
	}{
		{in: states.Create, opts: []option{hold("docker.Create")}},
		{in: states.Watch, want: 1},
	}
	for _, tt := range tests {
		t.Run(string(tt.in), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				w := newTestEngine(t, webSpec(), tt.opts...)
				w.wantState(tt.in)
				w.signal(watchers.Forward, syscall.SIGHUP)
				if got := w.count("process.Signal 42 hangup"); got != tt.want || w.count("process.Signal ") != tt.want {
					t.Errorf("SIGHUP sent to pid 42 %d times (%d signals in all), want %d",
						got, w.count("process.Signal "), tt.want)
				}
				w.wantState(tt.in) // a forwarded signal is no lifecycle
				w.signal(watchers.Stop, syscall.SIGTERM)
				w.result()
			})
		})
	}
}

// TestEngineDrainTimeout: output that does not end in time is a warning,
// not a hang nor a failure.
func TestEngineDrainTimeout(t *testing.T) {
	for _, ok := range []bool{true, false} {
		name := map[bool]string{true: "drained", false: "not drained"}[ok]
		t.Run(name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				w := newTestEngine(t, webSpec(), drained(ok))
				w.wantState(states.Watch)
				w.exit(testPid)
				w.dockerEvent("die", "0")
				if r := w.result(); r != (Result{Code: 0}) {
					t.Errorf("Result = %+v, want code 0", r)
				}
				if n := w.count("logs.Drain 10s"); n != 1 {
					t.Errorf("drained %d times with the drain timeout, want once", n)
				}
				warned := len(w.lines(zapcore.WarnLevel, "did not end in time"))
				if warned != map[bool]int{true: 0, false: 1}[ok] {
					t.Errorf("%d warnings that the output did not end in time, drained: %v", warned, ok)
				}
			})
		})
	}
}

// TestEngineWatchersNotAwaited: the end is reported and run returns while
// a watcher (the signal catcher here) has not ended yet; it is told to end
// once run returns.
func TestEngineWatchersNotAwaited(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		release := make(chan struct{})
		defer close(release)
		w := newTestEngine(t, webSpec(), lingering(release))
		w.wantState(states.Watch)
		w.exit(testPid)
		w.dockerEvent("die", "0")
		if r := w.result(); r != (Result{Code: 0}) {
			t.Errorf("Result = %+v, want code 0", r)
		}
		if n := len(w.lines(zapcore.InfoLevel, "container ended")); n != 1 {
			t.Errorf("%d \"container ended\" lines, want 1", n)
		}
		synctest.Wait()
		if n := w.count("process.CatchSignals ended"); n != 1 {
			t.Errorf("the signal watcher saw its end %d times once run returned, want once", n)
		}
	})
}

// TestEngineWatchdogFired: systemd's watchdog signal kills the container
// at once (SIGKILL, no stop timeout) and removes it; the unit has failed,
// and the ERROR line says why pings were withheld.
func TestEngineWatchdogFired(t *testing.T) {
	tests := []struct {
		health string
		why    string // in the ERROR line
	}{
		{health: "unhealthy", why: "the container's health check says unhealthy"},
		{health: "healthy", why: "no ping was withheld"},
	}
	for _, tt := range tests {
		t.Run(tt.health, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				w := newTestEngine(t, webSpec(), withWatchdog(time.Second), withHealth(tt.health), withExitCode(137))
				w.wantState(states.Watch)
				w.after(1500 * time.Millisecond) // one tick
				w.signal(watchers.WatchdogFired, syscall.SIGABRT)

				if r := w.result(); r != (Result{Code: 137}) {
					t.Errorf("Result = %+v, want the killed container's 137", r)
				}
				if want := "watch -watchdog-> kill -killed-> failed"; !strings.HasSuffix(w.path(), want) {
					t.Errorf("path %s, want it to end with %s", w.path(), want)
				}
				if n := w.count("docker.Kill " + testID + " KILL"); n != 1 || w.count("docker.Stop ") != 0 {
					t.Errorf("docker kill -s KILL called %d times (%d graceful stops), want once and none",
						n, w.count("docker.Stop "))
				}
				if n := w.count("docker.Remove " + testID); n != 1 {
					t.Errorf("docker rm called %d times, want once (--rm)", n)
				}
				lines := w.lines(zapcore.ErrorLevel, "systemd's watchdog fired")
				if len(lines) != 1 {
					t.Fatalf("%d ERROR lines saying the watchdog fired, want 1", len(lines))
				}
				if why, _ := lines[0].ContextMap()["pings_withheld_because"].(string); !strings.Contains(why, tt.why) {
					t.Errorf("pings_withheld_because = %q, want %q", why, tt.why)
				}
			})
		})
	}
}

// Bugs found while writing these tests, each pinned by the test that
// failed before its fix.

// TestEngineForwardNeedsAProcess: in stop, a container that never ran
// (its create or start was cut short) has no process: nothing to signal.
// The engine signalled pid 0, which the kernel port turned into a warning
// ("pidfd_open 0: invalid argument").
func TestEngineForwardNeedsAProcess(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newTestEngine(t, webSpec(), hold("docker.Create"), hold("docker.Stop"))
		w.wantState(states.Create)
		w.signal(watchers.Stop, syscall.SIGTERM)
		w.wantState(states.Stop) // docker stop of the container create left
		w.signal(watchers.Forward, syscall.SIGHUP)
		if n := w.count("process.Signal "); n != 0 {
			t.Errorf("%d signals sent with no container process (pid 0)", n)
		}
	})
}

// TestEngineRestartIgnoresTheOldProcess: after Docker's start event
// (docker restart), the old process's pidfd exit, arriving late (its
// watcher still confirming the pid with a busy daemon, say), is no exit of
// the new run. The machine took it for one (restarting -restarted-> start
// -exited-> remove): it handed MAINPID back and waited in remove, in docker
// wait, for a container that ran on unsupervised.
func TestEngineRestartIgnoresTheOldProcess(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newTestEngine(t, webSpec())
		w.wantState(states.Watch)
		w.dockerEvent("kill", "")
		w.dockerEvent("die", "143") // before the pidfd says so
		w.wantState(states.Restarting)
		w.docker.set(func(c *states.Container) { c.Running, c.Pid = true, 77 })
		w.hold("docker.Inspect") // a busy daemon: start learns the new pid late
		w.dockerEvent("start", "")
		w.wantState(states.Start)
		w.exit(testPid)
		w.wantState(states.Start)
	})
}
