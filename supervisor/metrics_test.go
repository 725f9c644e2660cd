package supervisor

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

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
	f := newMetricsFile(metrics.New("web.service", nil), dir, zap.New(core))
	write := func(n int) {
		for range n {
			f.writeNow()
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

// TestMetricsTransitionWrites: a transition asks for a write, except one
// into a terminal state, which finish (flush) writes next.
func TestMetricsTransitionWrites(t *testing.T) {
	tests := []struct {
		tr    states.Transition
		asked bool
	}{
		{states.Transition{From: states.Exiting, Event: states.EvExited, To: states.Remove}, true},
		{states.Transition{From: states.Remove, Event: states.EvRemoved, To: states.Done}, false},
		{states.Transition{From: states.Lookup, Event: states.EvFail, To: states.Failed}, false},
	}
	for _, tt := range tests {
		t.Run(string(tt.tr.To), func(t *testing.T) {
			f := newMetricsFile(metrics.New("web.service", nil), t.TempDir(), zap.NewNop())
			f.transition(tt.tr, &states.Facts{}, ports{})
			if asked := len(f.wanted) == 1; asked != tt.asked {
				t.Errorf("write asked for: %t, want %t", asked, tt.asked)
			}
		})
	}
}

// TestMetricsFlushWritesFinalFigures: flush has the file written with
// what was recorded last, and run ends after it.
func TestMetricsFlushWritesFinalFigures(t *testing.T) {
	dir := t.TempDir()
	f := newMetricsFile(metrics.New("web.service", nil), dir, zap.NewNop())
	go f.run()
	f.m.Transition(states.Transition{From: states.Remove, Event: states.EvRemoved, To: states.Done})
	f.m.Exited(3, false)
	f.flush(5 * time.Second)
	select {
	case <-f.ended:
	default:
		t.Fatal("run has not ended after flush")
	}
	data, err := os.ReadFile(filepath.Join(dir, "web.service.prom"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`systemd_docker_state{state="done",unit="web.service"} 1`, `systemd_docker_exit_code{unit="web.service"} 3`} {
		if !strings.Contains(string(data), want) {
			t.Errorf("the file lacks %s:\n%s", want, data)
		}
	}
}

// TestMetricsStalledWriteBlocksNothing: while a write is stuck (a stalled
// disk), transitions and watchdog ticks go on
// without waiting, their asks make one write, and flush gives up after
// its wait with a warning instead of holding up the exit.
func TestMetricsStalledWriteBlocksNothing(t *testing.T) {
	dir := t.TempDir()
	core, logs := observer.New(zapcore.WarnLevel)
	f := newMetricsFile(metrics.New("web.service", nil), dir, zap.New(core))
	stalled, back := make(chan struct{}, 1), make(chan struct{})
	write := f.writeFile
	f.writeFile = func(dir string) error { // the disk stalls until back is closed
		select {
		case stalled <- struct{}{}:
		default:
		}
		<-back
		return write(dir)
	}
	go f.run()
	f.write()
	<-stalled // run took it and is stuck in the write
	returned := make(chan struct{})
	go func() {
		for range 100 {
			f.transition(states.Transition{From: states.Exiting, Event: states.EvExited, To: states.Remove}, &states.Facts{}, ports{})
			f.write()
		}
		close(returned)
	}()
	select {
	case <-returned:
	case <-time.After(5 * time.Second):
		t.Fatal("transitions and ticks waited for the stuck write")
	}
	if n := len(f.wanted); n != 1 {
		t.Errorf("%d writes pending, want 1: asks during a write make one write after it", n)
	}
	start := time.Now()
	f.flush(100 * time.Millisecond)
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("flush took %s with the write stuck, want about its 100ms wait", d)
	}
	assertLines(t, logs, zapcore.WarnLevel, "metrics not written: the last write did not end in time")
	close(back) // the disk comes back: the pending write, then the last one
	select {
	case <-f.ended:
	case <-time.After(5 * time.Second):
		t.Fatal("run did not end once the disk came back")
	}
	if _, err := os.Stat(filepath.Join(dir, "web.service.prom")); err != nil {
		t.Errorf("no file once the disk came back: %v", err)
	}
}
