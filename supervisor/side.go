package supervisor

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"syscall"
	"time"

	"go.uber.org/zap"
	"golang.org/x/sys/unix"

	"github.com/systemd-docker/systemd-docker/states"
	"github.com/systemd-docker/systemd-docker/supervisor/dockerapi"
	"github.com/systemd-docker/systemd-docker/watchers"
)

// sideJobs does, in one goroutine, what is no lifecycle: watchdog ticks,
// health changes, forwarded signals. It knows the machine only through
// the view observe leaves it.
func (s *supervisor) sideJobs(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case e := <-s.side:
			switch e.Kind {
			case watchers.Tick:
				s.tick(e.Health)
			case watchers.HealthChanged:
				s.log.Info("container health", zap.String("status", e.Health.Status))
				s.ports.metrics.m.Health(e.Health.Status)
			case watchers.Forward:
				s.forward(e.Signal)
			}
		}
	}
}

// running is where the container's process runs and is ours to signal
// and to vouch for.
func running(st states.State) bool {
	return st == states.MigrateCgroups || st == states.Notify || st == states.Watch
}

// forward passes a signal on to the container's init process, as docker
// kill does, through a pidfd: no daemon round trip, and no kill event
// that could be taken for an operator's docker kill.
func (s *supervisor) forward(sig syscall.Signal) {
	st, pid := s.state(), s.containerPid()
	if pid == 0 || (!running(st) && st != states.Stop) {
		s.log.Debug("signal not forwarded: no container process", zap.String("signal", sig.String()))
		return
	}
	if err := s.ports.process.Signal(pid, sig); err != nil {
		s.log.Warn("forward signal to the container", zap.String("signal", sig.String()), zap.Int("pid", pid), zap.Error(err))
	}
}

func signalPid(pid int, sig syscall.Signal) error {
	fd, err := unix.PidfdOpen(pid, 0)
	if errors.Is(err, unix.ESRCH) {
		return nil // it ended: nothing to signal
	}
	if err != nil {
		return fmt.Errorf("pidfd_open %d: %w", pid, err)
	}
	defer unix.Close(fd)
	if err := unix.PidfdSendSignal(fd, sig, nil, 0); err != nil && !errors.Is(err, unix.ESRCH) {
		return fmt.Errorf("pidfd_send_signal %d: %w", pid, err)
	}
	return nil
}

// health is a watchdog tick's look at the container, within ctx's deadline.
func (s *supervisor) health(ctx context.Context, id string) watchers.Health {
	c, err := s.ports.docker.Inspect(ctx, id)
	switch {
	case err != nil:
		return watchers.Health{Reason: "the docker daemon did not answer: " + err.Error(), DaemonAway: s.ports.docker.Unreachable(err)}
	case !c.Running:
		return watchers.Health{Reason: "the container is not running"}
	case c.Health == "unhealthy":
		return watchers.Health{Status: c.Health, Reason: "the container's health check says unhealthy"}
	case c.Health == "":
		return watchers.Health{OK: true, Status: "none"}
	}
	return watchers.Health{OK: true, Status: c.Health}
}

// tick pings systemd's watchdog when the container deserves it: it runs,
// is not unhealthy, and the daemon answers, or is restarting (see
// daemonAway). A container that sends its own WATCHDOG=1 (--notify) feeds
// the watchdog itself.
func (s *supervisor) tick(h watchers.Health) {
	if s.ports.proxy != nil && s.ports.proxy.WatchdogSeen() {
		return
	}
	if h.Status != "" {
		s.ports.metrics.m.Health(h.Status)
	}
	if !running(s.state()) {
		return
	}
	if s.dog.away.excuse(h, time.Now(), dockerapi.DaemonRestartGrace) {
		if !s.dog.away.said {
			s.dog.away.said = true
			s.log.Info("dockerd is not running (restarting?) while the container's process runs: watchdog pings go on meanwhile",
				zap.Duration("at_most", dockerapi.DaemonRestartGrace))
		}
		h.OK = true
	}
	if h.OK {
		s.ping(s.containerPid(), h.Status)
	} else {
		s.withhold(h.Reason)
	}
	s.ports.metrics.write()
}

func (s *supervisor) ping(pid int, status string) {
	if err := s.ports.notifier.Send("WATCHDOG=1"); err != nil {
		s.log.Warn("watchdog ping", zap.Error(err))
	}
	s.ports.metrics.m.WatchdogPing(true)
	if s.dog.withheld() {
		s.dog.setWithheld("")
		s.log.Info("watchdog pings resume", zap.String("health", status))
		_ = s.ports.notifier.Status(fmt.Sprintf("running, pid %d, %s", pid, status))
	}
}

func (s *supervisor) withhold(reason string) {
	s.ports.metrics.m.WatchdogPing(false)
	if s.dog.why() != reason {
		s.dog.setWithheld(reason)
		s.log.Warn("withholding watchdog pings: systemd will act on WatchdogSec=", zap.String("reason", reason))
		_ = s.ports.notifier.Status("watchdog pings withheld: " + reason)
	}
}

// watchdogFeeder is what the side goroutine knows of the watchdog.
type watchdogFeeder struct {
	reason atomicString // why pings are withheld; "" while they flow (read when the watchdog fires)
	away   daemonAway
}

func (d *watchdogFeeder) withheld() bool         { return d.reason.Load() != "" }
func (d *watchdogFeeder) setWithheld(why string) { d.reason.Store(why) }

// why says why pings were withheld, for the line that says the watchdog fired.
func (d *watchdogFeeder) why() string {
	if r := d.reason.Load(); r != "" {
		return r
	}
	return "no ping was withheld: the container asked for it (WATCHDOG=trigger), or systemd-docker was starved of CPU"
}

// daemonAway excuses watchdog ticks that failed only because dockerd is
// not running: restarted with --live-restore, the container runs on, and
// its process (watched through a pidfd) is what the watchdog is about. A
// daemon that accepts requests but does not answer (wedged) is not
// excused, nor one away for longer than the grace.
type daemonAway struct {
	since time.Time // when the current absence began; zero while present
	said  bool      // the absence was logged
}

// excuse reports whether the tick h is to count as OK; it is only asked
// while the container's process runs.
func (d *daemonAway) excuse(h watchers.Health, now time.Time, grace time.Duration) bool {
	if h.OK || !h.DaemonAway {
		d.since, d.said = time.Time{}, false
		return false
	}
	if d.since.IsZero() {
		d.since = now
	}
	return now.Sub(d.since) < grace
}

// atomicString is a string read and written from several goroutines.
type atomicString struct{ p atomic.Pointer[string] }

func (a *atomicString) Load() string {
	if p := a.p.Load(); p != nil {
		return *p
	}
	return ""
}

func (a *atomicString) Store(s string) { a.p.Store(&s) }
