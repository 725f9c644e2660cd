package watchers

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"os/signal"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"testing/synctest"
	"time"
)

// collector is an Emit that never blocks and can be waited on.
type collector struct {
	ch chan Event
}

func newCollector() *collector { return &collector{ch: make(chan Event, 64)} }

func (c *collector) emit(e Event) {
	select {
	case c.ch <- e:
	default:
	}
}

// next waits for the next event, or fails after timeout.
func (c *collector) next(t *testing.T, timeout time.Duration) Event {
	t.Helper()
	select {
	case e := <-c.ch:
		return e
	case <-time.After(timeout):
		t.Fatalf("no event within %v", timeout)
		return Event{}
	}
}

func (c *collector) none(t *testing.T) {
	t.Helper()
	select {
	case e := <-c.ch:
		t.Errorf("unexpected event %+v", e)
	default:
	}
}

// run starts w in a goroutine; the returned channel closes when it returns.
func run(ctx context.Context, w func(context.Context, Emit), emit Emit) <-chan struct{} {
	done := make(chan struct{})
	go func() {
		defer close(done)
		w(ctx, emit)
	}()
	return done
}

func waitDone(t *testing.T, done <-chan struct{}, within time.Duration) {
	t.Helper()
	select {
	case <-done:
	case <-time.After(within):
		t.Fatalf("Run did not return within %v", within)
	}
}

// sleeper starts `sleep 30` and makes sure it is gone after the test.
func sleeper(t *testing.T) *exec.Cmd {
	t.Helper()
	cmd := exec.Command("sleep", "30")
	if err := cmd.Start(); err != nil {
		t.Fatalf("start sleep: %v", err)
	}
	waited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(waited) }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-waited
	})
	return cmd
}

func TestPidExitOnKill(t *testing.T) {
	cmd := sleeper(t)
	c := newCollector()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := run(ctx, PidExit{Pid: cmd.Process.Pid}.Run, c.emit)

	c.none(t) // alive: no exit yet
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	if e := c.next(t, 5*time.Second); e.Kind != Exit || e.Source != "pidfd" {
		t.Errorf("event %+v, want Exit from pidfd", e)
	}
	waitDone(t, done, 5*time.Second)
	c.none(t)
}

func TestPidExitCancel(t *testing.T) {
	cmd := sleeper(t)
	c := newCollector()
	ctx, cancel := context.WithCancel(context.Background())
	confirmed := make(chan struct{})
	w := PidExit{Pid: cmd.Process.Pid, Confirm: func(context.Context, int) (bool, error) {
		close(confirmed)
		return true, nil
	}}
	done := run(ctx, w.Run, c.emit)
	select {
	case <-confirmed: // the pidfd is open; Run is about to wait
	case <-time.After(5 * time.Second):
		t.Fatal("Confirm not called")
	}
	start := time.Now()
	cancel()
	waitDone(t, done, time.Second)
	if d := time.Since(start); d > 500*time.Millisecond {
		t.Errorf("Run took %v to return after cancel", d)
	}
	c.none(t)
}

func TestPidExitGoneOrNotOurs(t *testing.T) {
	// A pid that no longer exists: a child we have reaped.
	gone := exec.Command("true")
	if err := gone.Run(); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		pid     func(t *testing.T) int
		confirm func(context.Context, int) (bool, error)
	}{
		{name: "no such pid", pid: func(*testing.T) int { return gone.Process.Pid }},
		{name: "confirm says not ours", pid: func(t *testing.T) int { return sleeper(t).Process.Pid },
			confirm: func(context.Context, int) (bool, error) { return false, nil }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newCollector()
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			done := run(ctx, PidExit{Pid: tt.pid(t), Confirm: tt.confirm}.Run, c.emit)
			if e := c.next(t, 5*time.Second); e.Kind != Exit {
				t.Errorf("event %+v, want Exit", e)
			}
			waitDone(t, done, 5*time.Second)
		})
	}
}

func TestPidExitConfirmErrorKeepsWatching(t *testing.T) {
	cmd := sleeper(t)
	c := newCollector()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	confirmed := make(chan struct{})
	w := PidExit{Pid: cmd.Process.Pid, Confirm: func(context.Context, int) (bool, error) {
		defer close(confirmed)
		return false, errors.New("daemon unreachable")
	}}
	done := run(ctx, w.Run, c.emit)
	select {
	case <-confirmed:
	case <-time.After(5 * time.Second):
		t.Fatal("Confirm not called")
	}
	c.none(t) // an error is not an exit
	_ = cmd.Process.Kill()
	if e := c.next(t, 5*time.Second); e.Kind != Exit {
		t.Errorf("event %+v, want Exit", e)
	}
	waitDone(t, done, 5*time.Second)
}

// TestSignals sends signals to ourselves. A guard channel catches them too,
// so that a SIGTERM arriving while Signals.Run is not listening does not
// kill the test binary; it is never stopped, for the same reason.
func TestSignals(t *testing.T) {
	guard := make(chan os.Signal, 64)
	signal.Notify(guard, syscall.SIGTERM, syscall.SIGINT, syscall.SIGUSR1, syscall.SIGHUP, syscall.SIGABRT)
	go func() {
		for range guard {
		}
	}()

	tests := []struct {
		sig  syscall.Signal
		want Kind
	}{
		{syscall.SIGUSR1, Forward},
		{syscall.SIGHUP, Forward},
		{syscall.SIGTERM, Stop},
		{syscall.SIGINT, Stop},
		{syscall.SIGABRT, WatchdogFired},
	}
	for _, tt := range tests {
		t.Run(tt.sig.String(), func(t *testing.T) {
			c := newCollector()
			ctx, cancel := context.WithCancel(context.Background())
			done := run(ctx, Signals{}.Run, c.emit)
			// Run installs its handler at some point after it starts: send
			// until it answers.
			var got Event
			deadline := time.After(5 * time.Second)
		send:
			for {
				if err := syscall.Kill(os.Getpid(), tt.sig); err != nil {
					t.Fatal(err)
				}
				select {
				case got = <-c.ch:
					if got.Signal == tt.sig { // not a late one from an earlier case
						break send
					}
				case <-time.After(10 * time.Millisecond):
				case <-deadline:
					t.Fatalf("no event for %v within 5s", tt.sig)
				}
			}
			if got.Kind != tt.want || got.Signal != tt.sig || got.Source != "signal" {
				t.Errorf("event %+v, want %v with %v from signal", got, tt.want, tt.sig)
			}
			cancel()
			waitDone(t, done, 5*time.Second)
		})
	}
}

func TestKindString(t *testing.T) {
	for k, want := range map[Kind]string{Stop: "stop", Forward: "forward", Exit: "exit", OOM: "oom", 0: "unknown"} {
		if got := k.String(); got != want {
			t.Errorf("Kind(%d).String() = %q, want %q", int(k), got, want)
		}
	}
}

// fakeEvents hands out one scripted stream per subscription.
type fakeEvents struct {
	mu      sync.Mutex
	subs    atomic.Int32
	streams []stream
	ids     []string
	at      []time.Time // when each subscription came
	subbed  chan int    // receives the subscription count
}

type stream struct {
	msgs chan ContainerEvent
	errs chan error
}

func newFakeEvents(n int) *fakeEvents {
	f := &fakeEvents{subbed: make(chan int, 64)}
	for range n {
		f.streams = append(f.streams, stream{make(chan ContainerEvent), make(chan error, 1)})
	}
	return f
}

func (f *fakeEvents) Events(ctx context.Context, id string) (<-chan ContainerEvent, <-chan error) {
	f.mu.Lock()
	f.ids = append(f.ids, id)
	f.at = append(f.at, time.Now())
	f.mu.Unlock()
	i := int(f.subs.Add(1)) - 1
	f.subbed <- i + 1
	if i >= len(f.streams) {
		return nil, nil // blocks forever, until ctx ends
	}
	return f.streams[i].msgs, f.streams[i].errs
}

func (f *fakeEvents) waitSub(t *testing.T, n int) {
	t.Helper()
	deadline := time.After(5 * time.Second)
	for {
		select {
		case got := <-f.subbed:
			if got == n {
				return
			}
			if got > n {
				t.Fatalf("subscription %d, want %d", got, n)
			}
		case <-deadline:
			t.Fatalf("no subscription %d within 5s (have %d)", n, f.subs.Load())
		}
	}
}

func TestDockerEvents(t *testing.T) {
	send := func(t *testing.T, s stream, action string) {
		t.Helper()
		select {
		case s.msgs <- ContainerEvent{Action: action}:
		case <-time.After(5 * time.Second):
			t.Fatalf("watcher did not take %q", action)
		}
	}
	src := newFakeEvents(3)
	c := newCollector()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := run(ctx, DockerEvents{Source: src, ID: "abc", Backoff: time.Millisecond}.Run, c.emit)

	src.waitSub(t, 1)
	s := src.streams[0]
	for _, a := range []string{"attach", "exec_start: sh", "pause"} {
		send(t, s, a)
	}
	send(t, s, "kill")
	if e := c.next(t, 5*time.Second); e.Kind != Killed {
		t.Errorf("event %+v, want Killed", e)
	}
	send(t, s, "start")
	if e := c.next(t, 5*time.Second); e.Kind != Started {
		t.Errorf("event %+v, want Started", e)
	}
	send(t, s, "health_status: unhealthy")
	if e := c.next(t, 5*time.Second); e.Kind != HealthChanged || e.Health.Status != "unhealthy" {
		t.Errorf("event %+v, want HealthChanged unhealthy", e)
	}
	send(t, s, "oom")
	if e := c.next(t, 5*time.Second); e.Kind != OOM || e.Source != "docker events" {
		t.Errorf("event %+v, want OOM from docker events", e)
	}
	send(t, s, "die")
	if e := c.next(t, 5*time.Second); e.Kind != Exit {
		t.Errorf("event %+v, want Exit", e)
	}
	c.none(t) // "start" and the others emitted nothing

	// The stream breaks with an error: subscribe again.
	s.errs <- errors.New("daemon restarted")
	src.waitSub(t, 2)
	s = src.streams[1]
	send(t, s, "die")
	if e := c.next(t, 5*time.Second); e.Kind != Exit {
		t.Errorf("after resubscribing: event %+v, want Exit", e)
	}

	// The stream ends (channel closed): subscribe again.
	close(s.msgs)
	src.waitSub(t, 3)
	send(t, src.streams[2], "oom")
	if e := c.next(t, 5*time.Second); e.Kind != OOM {
		t.Errorf("after resubscribing: event %+v, want OOM", e)
	}

	cancel()
	waitDone(t, done, 5*time.Second)
	if n := src.subs.Load(); n != 3 {
		t.Errorf("%d subscriptions, want 3", n)
	}
	src.mu.Lock()
	for _, id := range src.ids {
		if id != "abc" {
			t.Errorf("subscribed for %q, want abc", id)
		}
	}
	src.mu.Unlock()
}

func TestDockerEventsCancelWhileWaiting(t *testing.T) {
	tests := []struct {
		name  string
		setup func(src *fakeEvents)
	}{
		{name: "during a stream", setup: func(*fakeEvents) {}},
		{name: "during the backoff", setup: func(src *fakeEvents) { src.streams[0].errs <- errors.New("broken") }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := newFakeEvents(1)
			tt.setup(src)
			ctx, cancel := context.WithCancel(context.Background())
			done := run(ctx, DockerEvents{Source: src, ID: "abc", Backoff: time.Hour}.Run, newCollector().emit)
			src.waitSub(t, 1)
			cancel()
			waitDone(t, done, 5*time.Second)
			if n := src.subs.Load(); n != 1 {
				t.Errorf("%d subscriptions, want 1", n)
			}
		})
	}
}

// A broken stream is subscribed again after 100 ms, 200 ms … up to 5 s;
// an event that comes through starts the pauses over.
func TestDockerEventsBackoff(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		src := newFakeEvents(8)
		ctx, cancel := context.WithCancel(context.Background())
		done := run(ctx, DockerEvents{Source: src, ID: "abc"}.Run, newCollector().emit)
		breakStream := func(i int) {
			if n := <-src.subbed; n != i+1 { // the fake clock runs until then
				t.Fatalf("subscription %d, want %d", n, i+1)
			}
			src.streams[i].errs <- errors.New("broken")
		}
		for i := range 6 {
			breakStream(i)
		}
		<-src.subbed
		src.streams[6].msgs <- ContainerEvent{Action: "attach"}
		src.streams[6].errs <- errors.New("broken")
		<-src.subbed
		cancel()
		<-done

		src.mu.Lock()
		defer src.mu.Unlock()
		var got []time.Duration
		for i := 1; i < len(src.at); i++ {
			got = append(got, src.at[i].Sub(src.at[i-1]))
		}
		const ms = time.Millisecond
		want := []time.Duration{100 * ms, 200 * ms, 400 * ms, 800 * ms, 1600 * ms, 3200 * ms, 100 * ms}
		if !slices.Equal(got, want) {
			t.Errorf("pauses between subscriptions %v, want %v", got, want)
		}
	})
}

// tickLog collects watchdog events across goroutines.
type tickLog struct {
	mu  sync.Mutex
	got []Event
}

func (l *tickLog) emit(e Event) { l.mu.Lock(); l.got = append(l.got, e); l.mu.Unlock() }

func (l *tickLog) events() []Event {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]Event(nil), l.got...)
}

func TestWatchdogTicks(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var healthy atomic.Bool
		healthy.Store(true)
		w := Watchdog{Interval: time.Second, Check: func(ctx context.Context) Health {
			if !healthy.Load() {
				return Health{Status: "unhealthy", Reason: "unhealthy"}
			}
			return Health{OK: true, Status: "healthy"}
		}}
		var log tickLog
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { w.Run(ctx, log.emit); close(done) }()
		time.Sleep(2500 * time.Millisecond) // fake clock: two ticks
		synctest.Wait()
		if got := log.events(); len(got) != 2 || !got[0].Health.OK || got[0].Kind != Tick {
			t.Fatalf("after 2.5 s: %+v, want two OK ticks", got)
		}
		healthy.Store(false)
		time.Sleep(time.Second)
		synctest.Wait()
		if got := log.events(); len(got) != 3 || got[2].Health.OK || got[2].Health.Reason != "unhealthy" {
			t.Fatalf("after unhealthy: %+v", got)
		}
		cancel()
		<-done
	})
}

func TestWatchdogWedgedDaemon(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		// A Check that only returns when its deadline passes, claiming OK:
		// a daemon that does not answer in time must not earn a ping.
		w := Watchdog{Interval: time.Second, Check: func(ctx context.Context) Health {
			<-ctx.Done()
			return Health{OK: true}
		}}
		var log tickLog
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { w.Run(ctx, log.emit); close(done) }()
		time.Sleep(2100 * time.Millisecond)
		synctest.Wait()
		if got := log.events(); len(got) != 1 || got[0].Health.OK || !strings.Contains(got[0].Health.Reason, "did not answer") {
			t.Fatalf("got %+v, want one tick that is not OK, naming the daemon", got)
		}
		cancel()
		<-done
	})
}

func TestDockerEventsDieCarriesExitCode(t *testing.T) {
	src := newFakeEvents(1)
	c := newCollector()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := run(ctx, DockerEvents{Source: src, ID: "abc", Backoff: time.Millisecond}.Run, c.emit)
	src.waitSub(t, 1)
	for _, ev := range []ContainerEvent{{Action: "die", ExitCode: "7"}, {Action: "die"}} {
		select {
		case src.streams[0].msgs <- ev:
		case <-time.After(5 * time.Second):
			t.Fatal("watcher did not take the event")
		}
	}
	if e := c.next(t, 5*time.Second); e.Kind != Exit || !e.HasExitCode || e.ExitCode != 7 {
		t.Errorf("event %+v, want Exit with exit code 7", e)
	}
	if e := c.next(t, 5*time.Second); e.Kind != Exit || e.HasExitCode {
		t.Errorf("event %+v, want Exit without an exit code", e)
	}
	cancel()
	waitDone(t, done, 5*time.Second)
}

func TestExited(t *testing.T) {
	if Exited(os.Getpid(), 50*time.Millisecond) {
		t.Error("our own process counts as ended")
	}
	cmd := exec.Command("sleep", "0.1")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	pid := cmd.Process.Pid
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	// Ends within the wait: seen as ended.
	if !Exited(pid, 5*time.Second) {
		t.Errorf("pid %d, which ended within the wait, counts as running", pid)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if !Exited(pid, time.Millisecond) {
		t.Errorf("pid %d, reaped, counts as running", pid)
	}
}
