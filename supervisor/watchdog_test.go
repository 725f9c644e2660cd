package supervisor

import (
	"testing"
	"time"

	"github.com/systemd-docker/systemd-docker/watchers"
)

func TestDaemonAwayExcuse(t *testing.T) {
	t0 := time.Date(2026, 11, 28, 17, 0, 0, 0, time.UTC)
	away := watchers.Health{Reason: "the docker daemon did not answer: refused", DaemonAway: true}
	wedged := watchers.Health{Reason: "the docker daemon did not answer: context deadline exceeded"}
	unhealthy := watchers.Health{Status: "unhealthy", Reason: "unhealthy"}
	ok := watchers.Health{OK: true, Status: "none"}
	type tick struct {
		h    watchers.Health
		at   time.Duration // after t0
		want bool
	}
	tests := []struct {
		name  string
		ticks []tick
	}{
		{"a present daemon is never excused", []tick{{ok, 0, false}, {unhealthy, time.Second, false}}},
		{"a wedged daemon is not excused", []tick{{wedged, 0, false}}},
		{"away: excused within the grace", []tick{
			{away, 0, true}, {away, 29 * time.Second, true}, {away, 30 * time.Second, false}}},
		{"back, then away again: the grace starts over", []tick{
			{away, 0, true}, {ok, 20 * time.Second, false}, {away, 40 * time.Second, true},
			{away, 69 * time.Second, true}, {away, 70 * time.Second, false}}},
		{"unhealthy in between ends the absence too", []tick{
			{away, 0, true}, {unhealthy, 10 * time.Second, false}, {away, 45 * time.Second, true}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var d daemonAway
			for i, tk := range tt.ticks {
				if got := d.excuse(tk.h, t0.Add(tk.at), 30*time.Second); got != tk.want {
					t.Errorf("tick %d (%s after start): excused %v, want %v", i, tk.at, got, tk.want)
				}
			}
		})
	}
}
