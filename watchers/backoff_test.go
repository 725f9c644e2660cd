package watchers

import (
	"context"
	"slices"
	"testing"
	"testing/synctest"
	"time"
)

// pauses runs Wait n times on the fake clock and returns how long each took.
func pauses(t *testing.T, b *Backoff, n int) []time.Duration {
	t.Helper()
	var got []time.Duration
	for range n {
		t0 := time.Now()
		if !b.Wait(context.Background()) {
			t.Fatal("Wait = false without a cancelled ctx")
		}
		got = append(got, time.Since(t0))
	}
	return got
}

func TestBackoffPauses(t *testing.T) {
	const ms = time.Millisecond
	tests := []struct {
		name       string
		first, max time.Duration
		want       []time.Duration
	}{
		{"doubles up to Max", 100 * ms, time.Second, []time.Duration{100 * ms, 200 * ms, 400 * ms, 800 * ms, time.Second, time.Second}},
		{"Max not a power of two of First", 250 * ms, 4 * time.Second, []time.Duration{250 * ms, 500 * ms, time.Second, 2 * time.Second, 4 * time.Second, 4 * time.Second}},
		{"no Max: no bound", 10 * ms, 0, []time.Duration{10 * ms, 20 * ms, 40 * ms, 80 * ms, 160 * ms, 320 * ms}},
		{"First == Max: fixed", 500 * ms, 500 * ms, []time.Duration{500 * ms, 500 * ms, 500 * ms}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				b := Backoff{First: tt.first, Max: tt.max}
				if got := pauses(t, &b, len(tt.want)); !slices.Equal(got, tt.want) {
					t.Errorf("pauses %v, want %v", got, tt.want)
				}
			})
		})
	}
}

func TestBackoffReset(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := Backoff{First: time.Second, Max: time.Minute}
		pauses(t, &b, 3) // 1 s, 2 s, 4 s
		b.Reset()
		want := []time.Duration{time.Second, 2 * time.Second}
		if got := pauses(t, &b, 2); !slices.Equal(got, want) {
			t.Errorf("after Reset: pauses %v, want %v", got, want)
		}
	})
}

func TestBackoffCancel(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := Backoff{First: time.Hour, Max: time.Hour}
		ctx, cancel := context.WithCancel(context.Background())
		var ok bool
		var took time.Duration
		done := make(chan struct{})
		go func() {
			t0 := time.Now()
			ok = b.Wait(ctx)
			took = time.Since(t0)
			close(done)
		}()
		time.Sleep(time.Minute)
		cancel()
		<-done
		if ok || took != time.Minute {
			t.Errorf("cancelled after 1m: Wait = %v after %v, want false at once", ok, took)
		}

		t0 := time.Now()
		if b.Wait(ctx) || time.Since(t0) != 0 {
			t.Errorf("ended ctx: Wait = true or paused %v, want false at once", time.Since(t0))
		}
		// A pause cut short does not count: the next one is still First.
		if got := pauses(t, &b, 1); got[0] != time.Hour {
			t.Errorf("after cancelled pauses: %v, want 1h", got[0])
		}
	})
}
