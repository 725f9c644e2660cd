package metrics

import (
	"bytes"
	"flag"
	"math"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/systemd-docker/systemd-docker/states"
)

var update = flag.Bool("update", false, "rewrite testdata/*.prom")

const unit = "web@1.service"

// clock is a fake clock that tests move by hand.
type clock struct{ t time.Time }

func (c *clock) now() time.Time                    { return c.t }
func (c *clock) advance(d time.Duration) time.Time { c.t = c.t.Add(d); return c.t }

func newClock() *clock { return &clock{t: time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)} }

// step moves m through ev after spending d in the current state.
func step(m *Metrics, c *clock, from, to states.State, ev states.Event, d time.Duration) {
	m.Transition(states.Transition{From: from, To: to, Event: ev, At: c.advance(d)})
}

func scenarioFresh(*testing.T) *Metrics { return New(unit, newClock().now) }

func scenarioLifecycle(*testing.T) *Metrics {
	c := newClock()
	m := New(unit, c.now)
	m.PullSeconds(2500 * time.Millisecond)
	step(m, c, states.Lookup, states.Create, states.EvNotFound, 3*time.Millisecond)
	step(m, c, states.Create, states.Start, states.EvCreated, 40*time.Millisecond)
	step(m, c, states.Start, states.MigrateCgroups, states.EvStarted, 700*time.Millisecond)
	m.ContainerStarted(c.t)
	m.PidsMigrated(3)
	step(m, c, states.MigrateCgroups, states.Notify, states.EvMigrated, 8*time.Millisecond)
	step(m, c, states.Notify, states.Watch, states.EvNotified, 500*time.Microsecond)
	m.Health("starting")
	m.WatchdogPing(false)
	m.Health("healthy")
	m.WatchdogPing(true)
	m.WatchdogPing(true)
	m.LogBytes("stdout", 4096)
	m.LogBytes("stdout", 100)
	m.LogBytes("stderr", 17)
	m.Restart()
	step(m, c, states.Watch, states.Stop, states.EvStop, 2*time.Hour)
	step(m, c, states.Stop, states.Remove, states.EvStopped, 12*time.Second)
	m.Exited(0, false)
	step(m, c, states.Remove, states.Done, states.EvRemoved, 90*time.Millisecond)
	return m
}

func scenarioFailure(*testing.T) *Metrics {
	c := newClock()
	m := New(unit, c.now)
	step(m, c, states.Lookup, states.Create, states.EvNotFound, 2*time.Millisecond)
	step(m, c, states.Create, states.Start, states.EvCreated, 30*time.Millisecond)
	step(m, c, states.Start, states.Stop, states.EvAbort, 5*time.Second)
	m.Exited(137, true)
	step(m, c, states.Stop, states.Failed, states.EvFail, 45*time.Second)
	return m
}

func TestGolden(t *testing.T) {
	for _, tt := range []struct {
		name     string
		scenario func(*testing.T) *Metrics
		state    states.State
	}{
		{"fresh", scenarioFresh, states.Lookup},
		{"lifecycle", scenarioLifecycle, states.Done},
		{"failure", scenarioFailure, states.Failed},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			if err := tt.scenario(t).WriteFile(dir); err != nil {
				t.Fatal(err)
			}
			got, err := os.ReadFile(filepath.Join(dir, "web@1.service.prom"))
			if err != nil {
				t.Fatal(err)
			}
			golden := filepath.Join("testdata", tt.name+".prom")
			if *update {
				if err := os.WriteFile(golden, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test -update to create it)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("output differs from %s (go test -update rewrites it):\n%s", golden, got)
			}
			checkParsed(t, got, tt.state)
		})
	}
}

// checkParsed parses out as node_exporter would, and checks names, labels,
// timestamps and that exactly the state want is 1.
func checkParsed(t *testing.T, out []byte, want states.State) {
	t.Helper()
	p := expfmt.NewTextParser(model.UTF8Validation)
	mfs, err := p.TextToMetricFamilies(bytes.NewReader(out))
	if err != nil {
		t.Fatalf("output does not parse: %v", err)
	}
	// state_duration_seconds appears once a state has been left.
	wantFamilies := 12
	if want == states.Lookup {
		wantFamilies = 11
	}
	if len(mfs) != wantFamilies {
		t.Errorf("%d families, want %d", len(mfs), wantFamilies)
	}
	for name, mf := range mfs {
		if !strings.HasPrefix(name, "systemd_docker_") {
			t.Errorf("family %s lacks the prefix systemd_docker_", name)
		}
		if mf.GetHelp() == "" {
			t.Errorf("family %s has no HELP", name)
		}
		for _, m := range mf.Metric {
			if v := label(m, "unit"); v != unit {
				t.Errorf("%s%v: unit label %q, want %q", name, m.Label, v, unit)
			}
			if m.TimestampMs != nil {
				t.Errorf("%s%v has a timestamp", name, m.Label)
			}
		}
	}
	st := mfs["systemd_docker_state"]
	if st == nil || len(st.Metric) != len(states.AllStates) {
		t.Fatalf("systemd_docker_state: want one series per state, got %v", st)
	}
	for _, m := range st.Metric {
		s := states.State(label(m, "state"))
		wantV := 0.0
		if s == want {
			wantV = 1
		}
		if v := m.GetGauge().GetValue(); v != wantV {
			t.Errorf("state{state=%q} = %v, want %v", s, v, wantV)
		}
	}
}

func label(m *dto.Metric, name string) string {
	for _, l := range m.Label {
		if l.GetName() == name {
			return l.GetValue()
		}
	}
	return ""
}

func TestWriteFileReplacesSymlink(t *testing.T) {
	dir := t.TempDir()
	victim := filepath.Join(t.TempDir(), "victim")
	if err := os.WriteFile(victim, []byte("keep"), 0o600); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, FileName(unit))
	if err := os.Symlink(victim, path); err != nil {
		t.Fatal(err)
	}
	if err := New(unit, newClock().now).WriteFile(dir); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Lstat(path)
	if err != nil {
		t.Fatal(err)
	}
	if !fi.Mode().IsRegular() {
		t.Errorf("%s is %v, want a regular file", path, fi.Mode())
	}
	if fi.Mode().Perm() != 0o644 {
		t.Errorf("mode %v, want 0644", fi.Mode().Perm())
	}
	if b, _ := os.ReadFile(victim); string(b) != "keep" {
		t.Errorf("symlink target was written: %q", b)
	}
}

// TestWriteFileAtomic reads the file while it is rewritten: every read must
// be a whole file, and the directory must hold no leftovers.
func TestWriteFileAtomic(t *testing.T) {
	dir := t.TempDir()
	c := newClock()
	m := New(unit, c.now)
	if err := m.WriteFile(dir); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, FileName(unit))
	// Hold the first file open: its inode cannot be reused by a later
	// temp file, so SameFile below really tells replaced from rewritten.
	held, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer held.Close()
	before, err := held.Stat()
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	stop := make(chan struct{})
	wg.Go(func() {
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			m.LogBytes("stdout", i)
			if err := m.WriteFile(dir); err != nil {
				t.Error(err)
				return
			}
		}
	})
	last := "systemd_docker_watchdog_pings_total{result=\"skipped\",unit=\"web@1.service\"} 0\n"
	for range 300 {
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasSuffix(string(b), last) {
			t.Fatalf("partial file (%d bytes), ends %q", len(b), b[max(0, len(b)-80):])
		}
	}
	close(stop)
	wg.Wait()
	after, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if os.SameFile(before, after) {
		t.Error("the file was rewritten in place, not replaced")
	}
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(ents) != 1 {
		var names []string
		for _, e := range ents {
			names = append(names, e.Name())
		}
		t.Errorf("directory holds %v, want only %s", names, FileName(unit))
	}
}

func TestWriteFileMissingDir(t *testing.T) {
	err := New(unit, nil).WriteFile(filepath.Join(t.TempDir(), "nope"))
	if err == nil || !strings.Contains(err.Error(), "nope") {
		t.Errorf("err = %v, want one naming the path", err)
	}
}

func TestFileName(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"web.service", "web.service.prom"},
		{"getty@tty1.service", "getty@tty1.service.prom"},
		{"my-app_2", "my-app_2.prom"},
		{"a/b", "a_b.prom"},
		{"../../etc/passwd", ".._.._etc_passwd.prom"},
		{"with space:colon", "with_space_colon.prom"},
		{`x\x2dy`, "x_x2dy.prom"},
		{"héllo", "h_llo.prom"},
		{"\xff", "_.prom"},
		{"", "_.prom"},
	} {
		if got := FileName(tt.in); got != tt.want {
			t.Errorf("FileName(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestHealth(t *testing.T) {
	m := New(unit, nil)
	for _, tt := range []struct{ status, want string }{
		{"healthy", "healthy"},
		{"", "none"},
		{"unhealthy", "unhealthy"},
		{"bogus", ""},
	} {
		m.Health(tt.status)
		var out bytes.Buffer
		if err := m.Encode(&out); err != nil {
			t.Fatal(err)
		}
		p := expfmt.NewTextParser(model.UTF8Validation)
		mfs, err := p.TextToMetricFamilies(&out)
		if err != nil {
			t.Fatal(err)
		}
		mf := mfs["systemd_docker_health_status"]
		if mf == nil || len(mf.Metric) != len(healthStatuses) {
			t.Fatalf("after Health(%q): health_status %v, want one series per status", tt.status, mf)
		}
		for _, s := range mf.Metric {
			want := 0.0
			if label(s, "status") == tt.want {
				want = 1
			}
			if v := s.GetGauge().GetValue(); v != want {
				t.Errorf("after Health(%q): %s = %v, want %v", tt.status, label(s, "status"), v, want)
			}
		}
	}
}

// TestNil checks that a nil *Metrics is a no-op.
func TestNil(t *testing.T) {
	var m *Metrics
	m.Transition(states.Transition{From: states.Lookup, To: states.Create, Event: states.EvNotFound})
	m.ContainerStarted(time.Now())
	m.Exited(1, true)
	m.Restart()
	m.Health("healthy")
	m.WatchdogPing(true)
	m.PullSeconds(time.Second)
	m.LogBytes("stdout", 1)
	m.PidsMigrated(1)
	if err := m.WriteFile(t.TempDir()); err != nil {
		t.Error(err)
	}
}

// TestConcurrent runs every method at once, for the race detector.
func TestConcurrent(t *testing.T) {
	m := New(unit, time.Now)
	dir := t.TempDir()
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for i := range 200 {
				m.LogBytes("stderr", i)
				m.Health("healthy")
				m.WatchdogPing(i%2 == 0)
				m.Transition(states.Transition{From: states.Watch, To: states.Watch, Event: states.EvNotified})
				if i%50 == 0 {
					if err := m.WriteFile(dir); err != nil {
						t.Error(err)
					}
				}
			}
		})
	}
	wg.Wait()
}

func BenchmarkLogBytes(b *testing.B) {
	m := New(unit, nil)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		if i%2 == 0 {
			m.LogBytes("stdout", 32*1024)
		} else {
			m.LogBytes("stderr", 512)
		}
	}
	if a := testing.AllocsPerRun(100, func() { m.LogBytes("stdout", 1) }); a != 0 {
		b.Errorf("LogBytes allocates %v times per call", a)
	}
}

// The text format's escapes and the histogram's +Inf bucket, as a parser
// reads them: a unit name with a quote, a backslash, a newline and a byte
// that is not UTF-8, and a state that lasted longer than the last bucket.
func TestEncodeEscapesAndOverflow(t *testing.T) {
	c := newClock()
	m := New("a\"b\\c\nd\xff", c.now)
	step(m, c, states.Lookup, states.Create, states.EvNotFound, 2*time.Hour)
	var out bytes.Buffer
	if err := m.Encode(&out); err != nil {
		t.Fatal(err)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	mfs, err := p.TextToMetricFamilies(bytes.NewReader(out.Bytes()))
	if err != nil {
		t.Fatalf("output does not parse: %v\n%s", err, out.String())
	}
	for name, mf := range mfs {
		for _, s := range mf.Metric {
			if got := label(s, "unit"); got != "a\"b\\c\nd\uFFFD" {
				t.Fatalf("%s: unit label %q", name, got)
			}
		}
	}
	h := mfs["systemd_docker_state_duration_seconds"].GetMetric()[0].GetHistogram()
	b := h.GetBucket()
	hour, inf := b[len(b)-2], b[len(b)-1]
	if h.GetSampleCount() != 1 || h.GetSampleSum() != 7200 || hour.GetUpperBound() != 3600 || hour.GetCumulativeCount() != 0 ||
		!math.IsInf(inf.GetUpperBound(), 1) || inf.GetCumulativeCount() != 1 {
		t.Errorf("histogram: count %d sum %v, buckets %v; want 1, 7200, le=3600 count 0, le=+Inf count 1",
			h.GetSampleCount(), h.GetSampleSum(), b[len(b)-2:])
	}
}
