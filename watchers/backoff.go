package watchers

import (
	"context"
	"time"
)

// Backoff is the pause between attempts of a loop that reconnects or
// retries: First, doubled after each pause up to Max. Max zero means no
// bound (for a loop with few attempts); First == Max is a fixed pause.
// First must be positive.
type Backoff struct {
	First, Max time.Duration
	next       time.Duration // 0: First
}

// Wait pauses for the current delay and makes the next one twice as long.
// It returns false, without pausing further, once ctx ends: the caller
// gives up.
func (b *Backoff) Wait(ctx context.Context) bool {
	if ctx.Err() != nil {
		return false
	}
	d := b.next
	if d == 0 {
		d = b.First
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
	}
	b.next = 2 * d
	if b.Max > 0 && b.next > b.Max {
		b.next = b.Max
	}
	return true
}

// Reset makes the next pause First again: after an attempt that worked.
func (b *Backoff) Reset() { b.next = 0 }
