package supervisor

import (
	"strings"
	"testing"

	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"
)

// assertLines checks that logs holds exactly one line per want, in order,
// each at level and containing its want.
func assertLines(t *testing.T, logs *observer.ObservedLogs, level zapcore.Level, want ...string) {
	t.Helper()
	got := logs.All()
	if len(got) != len(want) {
		t.Fatalf("%d lines, want %d: %v", len(got), len(want), got)
	}
	for i, w := range want {
		if got[i].Level != level || !strings.Contains(got[i].Message, w) {
			t.Errorf("line %d = %s %q, want %s containing %q", i, got[i].Level, got[i].Message, level, w)
		}
	}
}
