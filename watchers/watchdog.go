package watchers

import (
	"context"
	"time"
)

// Health is what a watchdog tick learnt about the container.
type Health struct {
	// OK: the container runs and is not unhealthy, and the daemon answered.
	OK bool
	// Status is Docker's health status: "starting", "healthy",
	// "unhealthy", or "none" without a health check; "" when unknown.
	Status string
	// Reason says why not OK.
	Reason string
	// DaemonAway: not OK only because nothing answered on the daemon's
	// socket (dockerd not running, or restarting).
	DaemonAway bool
}

// Watchdog emits a Tick every Interval, carrying the result of Check,
// which is given Interval as its deadline: a daemon that does not answer
// in time makes the tick not OK. See sd_watchdog_enabled(3): systemd wants
// WATCHDOG=1 at least every WATCHDOG_USEC; we tick at half of it.
type Watchdog struct {
	Interval time.Duration
	Check    func(ctx context.Context) Health
}

// Run implements a watcher.
func (w Watchdog) Run(ctx context.Context, emit Emit) {
	t := time.NewTicker(w.Interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		cctx, cancel := context.WithTimeout(ctx, w.Interval)
		h := w.Check(cctx)
		if cctx.Err() != nil && ctx.Err() == nil && h.OK {
			h = Health{Reason: "the docker daemon did not answer within " + w.Interval.String()}
		}
		cancel()
		if ctx.Err() != nil {
			return
		}
		emit(Event{Kind: Tick, Source: "watchdog", Health: h})
	}
}
