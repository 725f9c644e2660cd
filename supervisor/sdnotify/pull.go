package sdnotify

import (
	"context"
	"fmt"
	"sync"
	"time"

	"go.uber.org/zap"
)

// PullKeeper keeps a slow create (an image pull) from hitting
// TimeoutStartSec=: while docker create makes progress it sends
// EXTEND_TIMEOUT_USEC= and a STATUS= with the latest progress line. A
// pull that prints nothing for a whole grace period (--pull-progress-timeout)
// is not extended, so systemd's timeout still ends a hung start. Docker's
// CLI prints a line per layer state change when its output is not a
// terminal, not a progress bar: one layer downloading for longer than the
// grace looks stalled. See sd_notify(3).
type PullKeeper struct {
	image  string
	every  time.Duration // how often to extend
	grace  time.Duration // progress must show within it, or no more extensions
	extend time.Duration // EXTEND_TIMEOUT_USEC: the start may go on this long after each message
	notify func(lines ...string) error
	log    *zap.Logger

	mu       sync.Mutex
	last     string
	lastSeen time.Time
}

// NewPullKeeper keeps the start of a container from image alive while
// docker create prints progress, through notify; grace is
// --pull-progress-timeout (60 s when zero or less).
func NewPullKeeper(image string, grace time.Duration, notify func(lines ...string) error, log *zap.Logger) *PullKeeper {
	if grace <= 0 {
		grace = 60 * time.Second
	}
	return &PullKeeper{image: image, every: time.Second, grace: grace, extend: 10 * time.Second, notify: notify, log: log}
}

// Progress records a line the CLI printed.
func (p *PullKeeper) Progress(line string) {
	p.mu.Lock()
	p.last, p.lastSeen = line, time.Now()
	p.mu.Unlock()
}

// Run extends the start timeout until ctx ends (create is over).
func (p *PullKeeper) Run(ctx context.Context) {
	start := time.Now()
	p.mu.Lock()
	p.lastSeen = start
	p.mu.Unlock()
	t := time.NewTicker(p.every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			p.mu.Lock()
			line, seen := p.last, p.lastSeen
			p.mu.Unlock()
			if now.Sub(seen) > p.grace {
				continue // stalled: let systemd's timeout decide
			}
			status := fmt.Sprintf("creating the container from %s (%s so far)", p.image, now.Sub(start).Round(time.Second))
			if line != "" {
				status += ": " + line
			}
			err := p.notify(fmt.Sprintf("EXTEND_TIMEOUT_USEC=%d", p.extend.Microseconds()), "STATUS="+status)
			if err != nil {
				p.log.Debug("extend the start timeout", zap.Error(err))
			}
		}
	}
}
