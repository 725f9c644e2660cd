package supervisor

import (
	"sync"

	"go.uber.org/zap"

	"github.com/systemd-docker/systemd-docker/metrics"
	"github.com/systemd-docker/systemd-docker/states"
)

// metricsFile keeps the metrics and writes them to DIR/<unit>.prom, from
// the machine's goroutine (transitions) and the side jobs' (watchdog
// ticks). Without --metrics-dir m is nil and nothing is written.
type metricsFile struct {
	m   *metrics.Metrics
	dir string
	log *zap.Logger
	mu  sync.Mutex
}

// transition records t and writes the file.
func (f *metricsFile) transition(t states.Transition, facts *states.Facts, p ports) {
	if f.m == nil {
		return
	}
	f.m.Transition(t)
	switch {
	case t.To == states.Notify:
		f.m.PidsMigrated(p.cgroups.Moved())
	case t.To == states.Watch:
		f.m.ContainerStarted(facts.StartedAt)
	case t.Event == states.EvRestarted:
		f.m.Restart()
	}
	if t.From == states.Create {
		f.m.PullSeconds(p.docker.PullDuration())
	}
	if t.To.Terminal() {
		// finish writes the file next, with how the container ended:
		// one write (and fsync) less between Docker's die and our exit.
		return
	}
	f.write()
}

// write writes the file; a failure is a warning once per kind (step and
// errno), not at every state change and tick: metrics never take the
// service down.
func (f *metricsFile) write() {
	if f.m == nil {
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	err := f.m.WriteFile(f.dir)
	switch {
	case err == nil:
	case f.m.NewFailure(err):
		f.log.Warn("metrics not written: fix --metrics-dir (its permissions, free space); later failures of this kind are logged at debug level", zap.Error(err))
	default:
		f.log.Debug("metrics not written", zap.Error(err))
	}
}
