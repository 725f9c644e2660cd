package unit

import (
	"strings"
	"testing"
	"time"
)

func TestParseTimespan(t *testing.T) {
	for in, want := range map[string]time.Duration{
		"15s": 15 * time.Second, "1min 30s": 90 * time.Second, "500ms": 500 * time.Millisecond,
		"1h 2min 3s": time.Hour + 2*time.Minute + 3*time.Second, "infinity": 0, "90": 90 * time.Second,
		"1.5s": 1500 * time.Millisecond, "2d": 48 * time.Hour, "100us": 100 * time.Microsecond,
	} {
		got, err := parseTimespan(in)
		if err != nil || got != want {
			t.Errorf("parseTimespan(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, bad := range []string{"abc", "5 parsecs", "s5"} {
		if _, err := parseTimespan(bad); err == nil {
			t.Errorf("parseTimespan(%q) succeeded", bad)
		}
	}
}

func TestStopTimeoutWarning(t *testing.T) {
	if msg := stopTimeoutWarning("x.service", 15*time.Second, 10*time.Second); msg != "" {
		t.Errorf("15s > 10s warned: %s", msg)
	}
	msg := stopTimeoutWarning("x.service", 5*time.Second, 10*time.Second)
	for _, want := range []string{"TimeoutStopSec=5s", "x.service", "10s", "raise TimeoutStopSec="} {
		if !strings.Contains(msg, want) {
			t.Errorf("warning %q lacks %q", msg, want)
		}
	}
	if msg := stopTimeoutWarning("x.service", 10*time.Second, 10*time.Second); msg == "" {
		t.Error("equal timeouts not warned")
	}
	if msg := stopTimeoutWarning("x.service", 5*time.Second, -time.Second); msg != "" {
		t.Error("--stop-timeout=-1 (wait forever) cannot be beaten; no warning expected")
	}
}
