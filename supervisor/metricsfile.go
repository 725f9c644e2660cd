package supervisor

import (
	"time"

	"go.uber.org/zap"

	"github.com/systemd-docker/systemd-docker/metrics"
	"github.com/systemd-docker/systemd-docker/states"
)

// metricsFile keeps the metrics and has them written to DIR/<unit>.prom
// by a goroutine of its own (run). Transitions (the machine's goroutine)
// and watchdog ticks (the side jobs') only ask for a write and go on: a
// directory on a disk that stalls delays the file, never a state change
// or a watchdog ping, and the exit waits for it at most lastWriteWait
// (the kernel may hold the process longer: a thread blocked in a write to
// a frozen file system cannot be interrupted). Without --metrics-dir m is
// nil and nothing is written.
type metricsFile struct {
	m   *metrics.Metrics
	dir string
	log *zap.Logger
	// writeFile is m.WriteFile; tests stall it.
	writeFile func(dir string) error
	// wanted holds one request: the asks that come while a write is
	// under way make one write after it, with the newest figures.
	wanted chan struct{}
	// last, closed by flush, asks for the final write; run closes ended
	// after it.
	last, ended chan struct{}
}

// lastWriteWait is how long our exit waits for the final write.
const lastWriteWait = 2 * time.Second

func newMetricsFile(m *metrics.Metrics, dir string, log *zap.Logger) *metricsFile {
	return &metricsFile{m: m, dir: dir, log: log, writeFile: m.WriteFile,
		wanted: make(chan struct{}, 1), last: make(chan struct{}), ended: make(chan struct{})}
}

// start starts run, which the engine's run ends with flush.
func (f *metricsFile) start() {
	if f.m != nil {
		go f.run()
	}
}

// run writes the file whenever asked, until flush.
func (f *metricsFile) run() {
	defer close(f.ended)
	for {
		select {
		case <-f.wanted:
			f.writeNow()
		case <-f.last:
			f.writeNow()
			return
		}
	}
}

// flush has the file written once more, with the final figures, and waits
// for that at most wait: a write stuck on the disk does not hold up our
// exit.
func (f *metricsFile) flush(wait time.Duration) {
	if f.m == nil {
		return
	}
	close(f.last)
	select {
	case <-f.ended:
	case <-time.After(wait):
		f.log.Warn("metrics not written: the last write did not end in time (is the disk of --metrics-dir stalled?); exiting without it",
			zap.String("dir", f.dir), zap.Duration("waited", wait))
	}
}

// transition records t and asks for a write.
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
		// flush writes the file next, with how the container ended:
		// one write (and fsync) less between Docker's die and our exit.
		return
	}
	f.write()
}

// write asks run for a write; it never waits.
func (f *metricsFile) write() {
	if f.m == nil {
		return
	}
	select {
	case f.wanted <- struct{}{}:
	default: // one is pending already: it will carry these figures too
	}
}

// writeNow writes the file, from run only; a failure is a warning once
// per kind (its error), not at every state change and tick: metrics never
// take the service down.
func (f *metricsFile) writeNow() {
	err := f.writeFile(f.dir)
	switch {
	case err == nil:
	case f.m.NewFailure(err):
		f.log.Warn("metrics not written: fix --metrics-dir (its permissions, free space); later failures of this kind are logged at debug level", zap.Error(err))
	default:
		f.log.Debug("metrics not written", zap.Error(err))
	}
}
