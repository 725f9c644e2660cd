package supervisor

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/systemd-docker/systemd-docker/metrics"
	"github.com/systemd-docker/systemd-docker/states"
)

// TestPrepareUnusableMetricsDir: a --metrics-dir that cannot be created is
// one warning, not a failed start. prepare then fails on the missing docker
// CLI, the next thing it checks, not on the metrics.
func TestPrepareUnusableMetricsDir(t *testing.T) {
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(file, "metrics")
	core, logs := observer.New(zapcore.InfoLevel)
	_, err := prepare(context.Background(), Config{MetricsDir: dir, DockerCLI: "/nonexistent/docker"},
		Options{Log: zap.New(core)})
	if err == nil || strings.Contains(err.Error(), "metrics") || !strings.Contains(err.Error(), "/nonexistent/docker") {
		t.Errorf("prepare = %v, want the docker CLI's error, not the metrics'", err)
	}
	assertLines(t, logs, zapcore.WarnLevel, "running without metrics")
	if e := logs.All()[0].ContextMap()["error"]; e == nil || !strings.Contains(e.(string), dir) {
		t.Errorf("the warning's error %v does not name %s", e, dir)
	}
}

// TestWriteMetricsWarnsOnce: a failing write warns once per kind of
// failure, not at every state change and tick; repeats are debug lines.
func TestWriteMetricsWarnsOnce(t *testing.T) {
	base := t.TempDir()
	dir := filepath.Join(base, "metrics")
	core, logs := observer.New(zapcore.DebugLevel)
	f := &metricsFile{m: metrics.New("web.service", nil), dir: dir, log: zap.New(core)}
	write := func(n int) {
		for range n {
			f.write()
		}
	}
	write(3) // missing directory
	if err := os.WriteFile(dir, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	write(3) // a file where the directory should be: another kind
	if err := os.Remove(dir); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	write(2) // works
	if _, err := os.Stat(filepath.Join(dir, "web.service.prom")); err != nil {
		t.Errorf("once the directory exists: %v", err)
	}
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	write(2) // missing again: already reported

	var warns []string
	debugs := 0
	for _, e := range logs.All() {
		switch e.Level {
		case zapcore.WarnLevel:
			warns = append(warns, e.ContextMap()["error"].(string))
		case zapcore.DebugLevel:
			debugs++
		}
	}
	if len(warns) != 2 || !strings.Contains(warns[0], "no such file") || !strings.Contains(warns[1], "not a directory") {
		t.Errorf("warnings %q, want two: the missing directory, then the file in its place", warns)
	}
	if debugs != 6 {
		t.Errorf("%d debug lines, want 6 (the repeats)", debugs)
	}
}

// TestMetricsTransitionWrites: a transition writes the file, except one
// into a terminal state, which finish writes next.
func TestMetricsTransitionWrites(t *testing.T) {
	tests := []struct {
		tr    states.Transition
		wrote bool
	}{
		{states.Transition{From: states.Exiting, Event: states.EvExited, To: states.Remove}, true},
		{states.Transition{From: states.Remove, Event: states.EvRemoved, To: states.Done}, false},
		{states.Transition{From: states.Lookup, Event: states.EvFail, To: states.Failed}, false},
	}
	for _, tt := range tests {
		t.Run(string(tt.tr.To), func(t *testing.T) {
			dir := t.TempDir()
			f := &metricsFile{m: metrics.New("web.service", nil), dir: dir, log: zap.NewNop()}
			f.transition(tt.tr, &states.Facts{}, ports{})
			_, err := os.Stat(filepath.Join(dir, "web.service.prom"))
			if wrote := err == nil; wrote != tt.wrote {
				t.Errorf("file written: %t, want %t (%v)", wrote, tt.wrote, err)
			}
		})
	}
}
