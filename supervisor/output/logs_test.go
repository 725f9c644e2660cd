package output

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/systemd-docker/systemd-docker/states"
	"github.com/systemd-docker/systemd-docker/supervisor/dockerapi"
)

// fakeLogs is a container's output as Docker has it: the attach stream
// (a pipe the test writes into) and the log with Docker's times.
type fakeLogs struct {
	t   *testing.T
	tty bool

	mu      sync.Mutex
	log     []dockerapi.Entry
	state   states.Container
	badLook int   // Inspect fails this many more times (daemon down)
	replErr error // Replay fails with it
	// onReplay runs at each Replay (before it answers): a test's hook.
	onReplay func(since, until time.Time, follow bool)
	calls    []string

	attachR *io.PipeReader
	attachW *io.PipeWriter
}

func newFakeLogs(t *testing.T, tty bool) *fakeLogs {
	r, w := io.Pipe()
	return &fakeLogs{t: t, tty: tty, attachR: r, attachW: w,
		state: states.Container{Running: true, Pid: 42, StartedAt: time.Now().Add(-time.Minute)}}
}

func (f *fakeLogs) record(format string, args ...any) {
	f.mu.Lock()
	f.calls = append(f.calls, fmt.Sprintf(format, args...))
	f.mu.Unlock()
}

func (f *fakeLogs) Calls() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.calls...)
}

func (f *fakeLogs) Attach(ctx context.Context, id string) (*dockerapi.Stream, error) {
	f.record("attach")
	r := f.attachR
	return dockerapi.NewStream(r, func() { r.Close() }), nil
}

func (f *fakeLogs) Inspect(ctx context.Context, id string) (states.Container, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, "inspect")
	if f.badLook > 0 {
		f.badLook--
		return states.Container{}, errors.New("Cannot connect to the Docker daemon at unix:///fake.sock")
	}
	return f.state, nil
}

func (f *fakeLogs) Replay(ctx context.Context, id string, since, until time.Time, follow bool) (*dockerapi.Stream, error) {
	f.record("replay follow=%v", follow)
	if f.onReplay != nil {
		f.onReplay(since, until, follow)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.replErr != nil {
		return nil, f.replErr
	}
	var buf bytes.Buffer
	out, errw := io.Writer(&buf), io.Writer(&buf)
	if !f.tty {
		out, errw = dockerapi.FrameWriter(&buf, false), dockerapi.FrameWriter(&buf, true)
	}
	for _, e := range f.log {
		if e.Time.Before(since) || (!until.IsZero() && e.Time.After(until)) {
			continue
		}
		w := out
		if e.Stderr {
			w = errw
		}
		fmt.Fprintf(w, "%s %s", e.Time.UTC().Format(time.RFC3339Nano), e.Line)
	}
	return dockerapi.NewStream(&buf, func() {}), nil
}

// logged adds a line to Docker's log, stamped now, without sending it.
func (f *fakeLogs) logged(stderr bool, line string) { f.loggedAt(stderr, line, time.Now()) }

func (f *fakeLogs) loggedAt(stderr bool, line string, at time.Time) {
	f.mu.Lock()
	f.log = append(f.log, dockerapi.Entry{Stderr: stderr, Time: at, Line: []byte(line)})
	f.mu.Unlock()
}

// send logs a line and sends it down the attach stream, as dockerd does.
func (f *fakeLogs) send(stderr bool, line string) {
	f.logged(stderr, line)
	var err error
	switch {
	case f.tty:
		_, err = io.WriteString(f.attachW, line)
	case stderr:
		_, err = io.WriteString(dockerapi.FrameWriter(f.attachW, true), line)
	default:
		_, err = io.WriteString(dockerapi.FrameWriter(f.attachW, false), line)
	}
	if err != nil {
		f.t.Fatalf("send %q: %v", line, err)
	}
}

// syncBuffer is a bytes.Buffer for concurrent use.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

type copierUnderTest struct {
	*Copier
	fake           *fakeLogs
	stdout, stderr *syncBuffer
	logs           *observer.ObservedLogs
	ended          atomic.Bool // the container's process has exited
	pid            atomic.Int64
}

func newCopierUnderTest(t *testing.T, tty bool) *copierUnderTest {
	return newCopierWith(t, tty, nil)
}

// newCopierWith is newCopierUnderTest with configure run before Attach.
func newCopierWith(t *testing.T, tty bool, configure func(*Copier)) *copierUnderTest {
	core, logs := observer.New(zapcore.DebugLevel)
	c := &copierUnderTest{fake: newFakeLogs(t, tty), stdout: &syncBuffer{}, stderr: &syncBuffer{}, logs: logs}
	c.pid.Store(42)
	c.Copier = &Copier{docker: c.fake, stdout: c.stdout, stderr: c.stderr, log: zap.New(core),
		pid:   func() int { return int(c.pid.Load()) },
		ended: func(int) bool { return c.ended.Load() },
		retry: time.Millisecond, lines: &lineGuard{}}
	if configure != nil {
		configure(c.Copier)
	}
	if err := c.Attach(context.Background(), "c0ffee", tty, time.Time{}); err != nil {
		t.Fatal(err)
	}
	return c
}

// sendPart sends stdout bytes without a newline, as a line's beginning.
func (c *copierUnderTest) sendPart(t *testing.T, part string) {
	t.Helper()
	if _, err := io.WriteString(dockerapi.FrameWriter(c.fake.attachW, false), part); err != nil {
		t.Fatal(err)
	}
}

// breakStream ends the attach stream as a dying dockerd does.
func (c *copierUnderTest) breakStream() { c.fake.attachW.Close() }

func (c *copierUnderTest) drain(t *testing.T) {
	t.Helper()
	if !c.Drain(5 * time.Second) {
		t.Fatal("Drain timed out")
	}
}

func (c *copierUnderTest) messages(level zapcore.Level) []string {
	var out []string
	for _, e := range c.logs.All() {
		if e.Level == level {
			out = append(out, e.Message)
		}
	}
	return out
}

func lines(prefix string, from, to int) string {
	var b strings.Builder
	for i := from; i <= to; i++ {
		fmt.Fprintf(&b, "%s%d\n", prefix, i)
	}
	return b.String()
}

func sendLines(c *copierUnderTest, stderr bool, prefix string, from, to int) {
	for i := from; i <= to; i++ {
		c.fake.send(stderr, fmt.Sprintf("%s%d\n", prefix, i))
	}
}

func TestLogsEndWithTheContainer(t *testing.T) {
	c := newCopierUnderTest(t, false)
	sendLines(c, false, "out", 1, 3)
	sendLines(c, true, "err", 1, 2)
	c.ended.Store(true)
	c.breakStream()
	c.drain(t)
	if got, want := c.stdout.String(), lines("out", 1, 3); got != want {
		t.Errorf("stdout %q, want %q", got, want)
	}
	if got, want := c.stderr.String(), lines("err", 1, 2); got != want {
		t.Errorf("stderr %q, want %q", got, want)
	}
	if calls := c.fake.Calls(); len(calls) != 1 {
		t.Errorf("calls %v, want only the attach: an ended stream is not replayed", calls)
	}
	if w := c.messages(zapcore.WarnLevel); len(w) != 0 {
		t.Errorf("warnings %q", w)
	}
}

// A break while the container runs: the lines Docker logged but did not
// send, and those logged while it was down, are written once each.
func TestLogsReplayAfterABreak(t *testing.T) {
	for _, tty := range []bool{false, true} {
		t.Run(fmt.Sprintf("tty=%v", tty), func(t *testing.T) {
			c := newCopierUnderTest(t, tty)
			errOut := !tty // with a tty everything is one stream
			sendLines(c, false, "out", 1, 5)
			sendLines(c, errOut, "err", 1, 3)
			c.fake.logged(false, "out6\n") // read by dockerd as it died
			c.fake.logged(errOut, "err4\n")
			c.fake.badLook = 2 // down for two attempts
			c.fake.onReplay = func(since, until time.Time, follow bool) {
				if follow {
					c.fake.logged(false, "out7\n") // after it came back
					c.ended.Store(true)            // and then the container ends
				}
			}
			c.breakStream()
			c.drain(t)

			want := lines("out", 1, 7)
			wantErr := lines("err", 1, 4)
			if tty {
				want, wantErr = "", ""
				for _, l := range []string{"out1", "out2", "out3", "out4", "out5", "err1", "err2", "err3", "out6", "err4", "out7"} {
					want += l + "\n"
				}
			}
			if got := c.stdout.String(); got != want {
				t.Errorf("stdout\n%s\nwant\n%s", got, want)
			}
			if got := c.stderr.String(); got != wantErr {
				t.Errorf("stderr\n%s\nwant\n%s", got, wantErr)
			}
			calls := strings.Join(c.fake.Calls(), ",")
			if want := "attach,inspect,inspect,inspect,replay follow=false,replay follow=true"; calls != want {
				t.Errorf("calls %s, want %s", calls, want)
			}
			if w := c.messages(zapcore.WarnLevel); len(w) != 1 || !strings.Contains(w[0], "reconnecting") {
				t.Errorf("warnings %q, want one about reconnecting", w)
			}
			if i := c.messages(zapcore.InfoLevel); len(i) != 1 || !strings.Contains(i[0], "again") {
				t.Errorf("infos %q, want one about following again", i)
			}
		})
	}
}

// A line cut by the break is completed, not written twice.
func TestLogsReplayCompletesABrokenLine(t *testing.T) {
	c := newCopierUnderTest(t, false)
	sendLines(c, false, "out", 1, 2)
	c.sendPart(t, "hel")
	c.fake.logged(false, "hello\n")
	c.fake.onReplay = func(_, _ time.Time, follow bool) { c.ended.Store(follow) }
	c.breakStream()
	c.drain(t)
	if got, want := c.stdout.String(), "out1\nout2\nhello\n"; got != want {
		t.Errorf("stdout %q, want %q", got, want)
	}
}

// A line cut by the break and finished after the replayed span is
// completed from the log that follows, not written whole.
func TestLogsFollowCompletesABrokenLine(t *testing.T) {
	c := newCopierUnderTest(t, false)
	sendLines(c, true, "err", 1, 1)
	c.sendPart(t, "hel")
	c.fake.loggedAt(false, "hello\n", time.Now().Add(time.Second)) // finished long after
	c.fake.loggedAt(false, "hello\n", time.Now().Add(2*time.Second))
	c.fake.onReplay = func(_, _ time.Time, follow bool) { c.ended.Store(follow) }
	c.breakStream()
	c.drain(t)
	if got, want := c.stdout.String(), "hello\nhello\n"; got != want {
		t.Errorf("stdout %q, want %q: the first line completed, the second whole", got, want)
	}
}

// After the first replay the copier follows the log with times: a second
// break resumes after the last line written, without lining up again.
func TestLogsSecondBreak(t *testing.T) {
	c := newCopierUnderTest(t, false)
	sendLines(c, false, "out", 1, 2)
	var sinces []time.Time
	follows := 0
	c.fake.onReplay = func(since, _ time.Time, follow bool) {
		sinces = append(sinces, since)
		if follow {
			follows++
			c.fake.logged(false, fmt.Sprintf("more%d\n", follows))
			c.ended.Store(follows == 2)
		}
	}
	c.breakStream()
	c.drain(t)
	if got, want := c.stdout.String(), "out1\nout2\nmore1\nmore2\n"; got != want {
		t.Errorf("stdout %q, want %q", got, want)
	}
	calls := strings.Join(c.fake.Calls(), ",")
	if want := "attach,inspect,replay follow=false,replay follow=true,inspect,replay follow=true"; calls != want {
		t.Fatalf("calls %s, want %s", calls, want)
	}
	c.fake.mu.Lock()
	more1 := c.fake.log[2].Time
	c.fake.mu.Unlock()
	if want := more1.Add(time.Nanosecond); !sinces[2].Equal(want) {
		t.Errorf("second resume since %v, want just after more1's time %v", sinces[2], want)
	}
}

// Docker restarted the container: the run whose stream broke is over, and
// the machine attaches to the new one itself.
func TestLogsNewRunIsNotReplayed(t *testing.T) {
	c := newCopierUnderTest(t, false)
	sendLines(c, false, "out", 1, 1)
	c.fake.state.StartedAt = time.Now().Add(time.Hour)
	c.breakStream()
	c.drain(t)
	if calls := strings.Join(c.fake.Calls(), ","); calls != "attach,inspect" {
		t.Errorf("calls %s, want attach,inspect", calls)
	}
}

// The container stopped while dockerd was away: the rest of its log is
// copied, and the copier ends.
func TestLogsStoppedWhileAway(t *testing.T) {
	c := newCopierUnderTest(t, false)
	sendLines(c, false, "out", 1, 2)
	c.fake.logged(false, "out3\n")
	c.fake.state.Running = false
	c.breakStream()
	c.drain(t)
	if got, want := c.stdout.String(), lines("out", 1, 3); got != want {
		t.Errorf("stdout %q, want %q", got, want)
	}
	if calls := strings.Join(c.fake.Calls(), ","); calls != "attach,inspect,replay follow=false,replay follow=false" {
		t.Errorf("calls %s", calls)
	}
}

func TestLogsUnreadableLogDriver(t *testing.T) {
	c := newCopierUnderTest(t, false)
	sendLines(c, false, "out", 1, 1)
	c.fake.replErr = &dockerapi.APIError{Status: http.StatusNotImplemented, Message: "configured logging driver does not support reading"}
	c.breakStream()
	c.drain(t)
	w := c.messages(zapcore.WarnLevel)
	if len(w) != 2 || !strings.Contains(w[1], "cannot read the container's log") {
		t.Errorf("warnings %q, want the break, then that the log cannot be read", w)
	}
}

func TestLogsGoneContainer(t *testing.T) {
	c := newCopierUnderTest(t, false)
	c.fake.onReplay = nil
	c.fake.state = states.Container{}
	c.Copier.docker = notFoundLogs{c.fake}
	c.breakStream()
	c.drain(t)
	if w := c.messages(zapcore.WarnLevel); len(w) != 2 || !strings.Contains(w[1], "gone") {
		t.Errorf("warnings %q", w)
	}
}

type notFoundLogs struct{ *fakeLogs }

func (notFoundLogs) Inspect(context.Context, string) (states.Container, error) {
	return states.Container{}, states.ErrNotFound
}

// Drain while dockerd stays away: it gives up after its timeout and the
// reconnecting ends with it.
func TestLogsDrainWhileDockerdIsAway(t *testing.T) {
	c := newCopierUnderTest(t, false)
	c.fake.badLook = 1 << 30
	s := c.cur
	c.breakStream()
	if c.Drain(50 * time.Millisecond) {
		t.Fatal("Drain reported the output complete while dockerd is away")
	}
	select {
	case <-s.done:
	case <-time.After(5 * time.Second):
		t.Fatal("the copier still reconnects after Drain")
	}
}

// A stream that ends before the pid is known ends with the container
// unless Docker says it runs.
func TestLogsEndBeforeThePidIsKnown(t *testing.T) {
	c := newCopierUnderTest(t, false)
	c.pid.Store(0)
	c.fake.state.Running = false
	c.breakStream()
	c.drain(t)
	if calls := strings.Join(c.fake.Calls(), ","); calls != "attach,inspect" {
		t.Errorf("calls %s, want attach,inspect", calls)
	}
	if w := c.messages(zapcore.WarnLevel); len(w) != 0 {
		t.Errorf("warnings %q", w)
	}
}

// A new Attach (the container restarted) stops the old run's reconnecting.
func TestLogsNewAttachEndsTheOldSession(t *testing.T) {
	c := newCopierUnderTest(t, false)
	c.fake.badLook = 1 << 30
	old := c.cur
	c.breakStream()
	for deadline := time.Now().Add(5 * time.Second); len(c.messages(zapcore.WarnLevel)) == 0; {
		if time.Now().After(deadline) {
			t.Fatal("the old session does not reconnect")
		}
		time.Sleep(time.Millisecond)
	}
	c.ended.Store(true) // the new run's log ends with it
	if err := c.Attach(context.Background(), "c0ffee", false, time.Now()); err != nil {
		t.Fatal(err)
	}
	select {
	case <-old.done:
	case <-time.After(5 * time.Second):
		t.Fatal("the old session still reconnects")
	}
	c.drain(t)
}

// docker restart: the new run's log, followed from the old run's end, may
// begin with the old run's last line, which the old stream brought already.
func TestLogsRestartSkipsTheOldRunsLastLine(t *testing.T) {
	c := newCopierUnderTest(t, false)
	sendLines(c, false, "out", 1, 3)
	finished := time.Now()
	sendLines(c, false, "term", 1, 1) // read by Docker after the run ended
	c.ended.Store(true)
	c.breakStream()
	c.fake.logged(false, "run2\n")
	c.fake.attachR, c.fake.attachW = io.Pipe()
	if err := c.Attach(context.Background(), "c0ffee", false, finished); err != nil {
		t.Fatal(err)
	}
	c.drain(t)
	if got, want := c.stdout.String(), "out1\nout2\nout3\nterm1\nrun2\n"; got != want {
		t.Errorf("stdout %q, want %q", got, want)
	}
	if calls := strings.Join(c.fake.Calls(), ","); calls != "attach,replay follow=false,replay follow=true" {
		t.Errorf("calls %s", calls)
	}
}

// A restart after a reconnection: the old run was read with times, so the
// new one's log starts right after its last line, without lining up.
func TestLogsRestartAfterAReconnection(t *testing.T) {
	c := newCopierUnderTest(t, false)
	sendLines(c, false, "out", 1, 2)
	c.fake.onReplay = func(_, _ time.Time, follow bool) {
		if follow {
			c.ended.Store(true)
		}
	}
	c.breakStream() // reconnects, reads the (empty) rest with times, ends
	old := c.cur
	<-old.done
	finished := time.Now()
	c.fake.logged(false, "run2\n")
	var since time.Time
	c.fake.onReplay = func(s, _ time.Time, _ bool) { since = s }
	if err := c.Attach(context.Background(), "c0ffee", false, finished); err != nil {
		t.Fatal(err)
	}
	c.drain(t)
	if got, want := c.stdout.String(), "out1\nout2\nrun2\n"; got != want {
		t.Errorf("stdout %q, want %q", got, want)
	}
	if !since.Equal(finished) {
		t.Errorf("the new run's log read from %v, want its start %v", since, finished)
	}
	if calls := c.fake.Calls(); calls[len(calls)-1] != "replay follow=true" || calls[len(calls)-2] == "replay follow=false" {
		t.Errorf("calls %v: want one follow for the new run, no lining up", calls)
	}
}

func TestLogsAttachFailureLeavesNothingToDrain(t *testing.T) {
	c := newCopierUnderTest(t, false)
	sendLines(c, false, "out", 1, 1)
	c.ended.Store(true)
	c.breakStream()
	c.drain(t)
	c.fake.replErr = errors.New("boom")
	if err := c.Attach(context.Background(), "c0ffee", false, time.Now()); err == nil {
		t.Fatal("Attach did not fail")
	}
	if !c.Drain(time.Second) {
		t.Error("Drain waits for a session that never started")
	}
}

// Output that ends without a newline gets one, per stream, so that our own
// next line (on the same journal stream) is not glued to it; with -t there
// is one stream. Complete lines get none (TestLogsEndWithTheContainer).
func TestLogsEndTheLastLine(t *testing.T) {
	tests := []struct {
		name         string
		tty          bool
		out, err     []string // sent, in order per stream
		wantOut      string
		wantErr      string
		replayFollow []string // logged while away, when set: the stream breaks first
	}{
		{name: "stdout", out: []string{"out1\n", "partial-tail-no-newline"}, wantOut: "out1\npartial-tail-no-newline\n"},
		{name: "stderr", err: []string{"err1\n", "err-tail"}, wantErr: "err1\nerr-tail\n"},
		{name: "both", out: []string{"o"}, err: []string{"e"}, wantOut: "o\n", wantErr: "e\n"},
		{name: "stdout ended, stderr not", out: []string{"o\n"}, err: []string{"e"}, wantOut: "o\n", wantErr: "e\n"},
		{name: "tty", tty: true, out: []string{"out1\n", "tail"}, wantOut: "out1\ntail\n"},
		{name: "tty ended", tty: true, out: []string{"out1\n"}, wantOut: "out1\n"},
		{name: "nothing", wantOut: ""},
		// The stream breaks within "hel"; Docker's log completes the line
		// and ends without a newline after the resume.
		{name: "resumed", out: []string{"out1\n"}, replayFollow: []string{"hello\n", "bye"}, wantOut: "out1\nhello\nbye\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newCopierUnderTest(t, tt.tty)
			for _, s := range tt.out {
				c.fake.send(false, s)
			}
			for _, s := range tt.err {
				c.fake.send(true, s)
			}
			if tt.replayFollow != nil {
				c.sendPart(t, "hel")
				c.fake.logged(false, tt.replayFollow[0])
				c.fake.onReplay = func(_, _ time.Time, follow bool) {
					if follow {
						for _, l := range tt.replayFollow[1:] {
							c.fake.logged(false, l)
						}
						c.ended.Store(true)
					}
				}
			} else {
				c.ended.Store(true)
			}
			c.breakStream()
			c.drain(t)
			if got := c.stdout.String(); got != tt.wantOut {
				t.Errorf("stdout %q, want %q", got, tt.wantOut)
			}
			if got := c.stderr.String(); got != tt.wantErr {
				t.Errorf("stderr %q, want %q", got, tt.wantErr)
			}
		})
	}
}

// The container stopped while dockerd was away, its last line without a
// newline: the rest of its log is copied and that line ended.
func TestLogsStoppedWhileAwayEndsTheLastLine(t *testing.T) {
	c := newCopierUnderTest(t, false)
	sendLines(c, false, "out", 1, 1)
	c.fake.logged(false, "last")
	c.fake.logged(true, "err-last")
	c.fake.state.Running = false
	c.breakStream()
	c.drain(t)
	if got, want := c.stdout.String(), "out1\nlast\n"; got != want {
		t.Errorf("stdout %q, want %q", got, want)
	}
	if got, want := c.stderr.String(), "err-last\n"; got != want {
		t.Errorf("stderr %q, want %q", got, want)
	}
}

// Our log lines and the container's output share one file under systemd
// (the unit's journal stream gets stdout and stderr): a line of ours never
// continues a line of the container's that stopped midway, whether the
// container goes on later or ends there.
func TestLogsOurLinesStartALine(t *testing.T) {
	shared, err := os.CreateTemp(t.TempDir(), "journal-stream")
	if err != nil {
		t.Fatal(err)
	}
	defer shared.Close()
	stdout, stderr := os.Stdout, os.Stderr
	os.Stdout, os.Stderr = shared, shared
	t.Cleanup(func() { os.Stdout, os.Stderr = stdout, stderr })
	stdLines.mu.Lock()
	stdLines.mid = [2]bool{}
	stdLines.mu.Unlock()
	t.Cleanup(func() {
		stdLines.mu.Lock()
		stdLines.mid, stdLines.shared = [2]bool{}, false
		stdLines.mu.Unlock()
	})

	log, err := NewLogger("info", os.Stderr)
	if err != nil {
		t.Fatal(err)
	}
	c := newCopierWith(t, false, func(l *Copier) { l.stdout, l.stderr, l.lines = os.Stdout, os.Stderr, nil })
	wait := func(want string) {
		t.Helper()
		for deadline := time.Now().Add(5 * time.Second); ; {
			b, _ := os.ReadFile(shared.Name())
			if strings.HasSuffix(string(b), want) {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("the shared file ends %q, want it to end with %q", b, want)
			}
			time.Sleep(time.Millisecond)
		}
	}
	c.fake.send(false, "partial-out")
	wait("partial-out")
	log.Info("container running")
	c.fake.send(false, "-rest\n")
	c.fake.send(true, "partial-err")
	wait("partial-err")
	log.Warn("careful")
	c.fake.send(false, "tail-")
	c.fake.send(true, "no-newline") // on the same file: the same line
	c.ended.Store(true)
	c.breakStream()
	c.drain(t)
	log.Info("container ended")
	b, err := os.ReadFile(shared.Name())
	if err != nil {
		t.Fatal(err)
	}
	want := "partial-out\nINFO container running\n-rest\npartial-err\nWARN careful\ntail-no-newline\nINFO container ended\n"
	if string(b) != want {
		t.Errorf("the shared file reads\n%q\nwant\n%q", b, want)
	}
}
