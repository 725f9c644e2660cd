package output

import (
	"context"
	"errors"
	"io"
	"os"
	"sync"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/systemd-docker/systemd-docker/metrics"
	"github.com/systemd-docker/systemd-docker/states"
	"github.com/systemd-docker/systemd-docker/supervisor/dockerapi"
	"github.com/systemd-docker/systemd-docker/watchers"
)

// Source is what the copier needs of Docker (a *dockerapi.Adapter).
type Source interface {
	Attach(ctx context.Context, id string) (*dockerapi.Stream, error)
	Replay(ctx context.Context, id string, since, until time.Time, follow bool) (*dockerapi.Stream, error)
	Inspect(ctx context.Context, id string) (states.Container, error)
}

// NewCopier copies the container's output to stdout and stderr, counting
// the bytes of each in m (nil: no metrics); pid tells the container's main
// process once known (0 before), to tell a broken stream from an ended one.
func NewCopier(docker Source, stdout, stderr io.Writer, m *metrics.Metrics, log *zap.Logger, pid func() int) *Copier {
	return &Copier{docker: docker, stdout: countingWriter{stdout, "stdout", m}, stderr: countingWriter{stderr, "stderr", m},
		log: log, pid: pid, ended: func(pid int) bool { return watchers.Exited(pid, endWait) }, retry: 250 * time.Millisecond}
}

// Copier copies the container's output to ours (the journal, under
// systemd). It implements states.Logs.
//
// The stream may break while the container runs: dockerd restarted with
// --live-restore keeps its containers but drops every connection. The
// copier then reconnects with backoff and replays Docker's log from where
// the stream broke (see lineTail), so that no line is lost or written
// twice, and follows it from then on.
type Copier struct {
	docker         Source
	stdout, stderr io.Writer
	log            *zap.Logger
	// pid is the container's main process once known (0 before).
	pid func() int
	// ended reports whether process pid has exited; the default looks
	// through a pidfd, waiting up to endWait for the exit.
	ended func(pid int) bool
	// retry is the first pause between reconnection attempts; it doubles
	// up to maxRetry.
	retry time.Duration
	// lines keeps our log lines and the container's apart (stdLines when
	// nil: our stdout and stderr).
	lines *lineGuard

	mu  sync.Mutex
	cur *logSession
}

const (
	endWait  = 200 * time.Millisecond
	maxRetry = 4 * time.Second
)

// logSession is the copying of one run of the container: from Attach
// until the output ends, across reconnections.
type logSession struct {
	c    *Copier
	id   string
	tty  bool
	from time.Time // no line before it is of this run
	tail *lineTail

	// Once the stream broke, the copier reads Docker's log with times:
	// last is the time of the last line written.
	stamped bool
	last    time.Time
	// partOpen says, per stream, that the line the stream broke in was
	// not in the replayed span: its first entry in the log completes it.
	partOpen [2]bool

	ctx    context.Context // ends reconnecting and replay streams
	cancel context.CancelFunc
	done   chan struct{}

	mu     sync.Mutex
	stream *dockerapi.Stream
}

func (l *Copier) Attach(ctx context.Context, id string, tty bool, since time.Time) error {
	sctx, cancel := context.WithCancel(context.Background())
	s := &logSession{c: l, id: id, tty: tty, from: since, tail: newLineTail(),
		ctx: sctx, cancel: cancel, done: make(chan struct{})}
	l.mu.Lock()
	prev := l.cur
	l.cur = s
	l.mu.Unlock()
	if prev != nil {
		s.continueFrom(prev)
	}
	var st *dockerapi.Stream
	var err error
	if since.IsZero() {
		s.from = time.Now() // attached before the start: every line is later
		st, err = l.docker.Attach(ctx, id)
	} else {
		// A new run of the container (docker restart), running already:
		// its log since the old run ended, where the old run's last
		// lines may show again.
		stop := context.AfterFunc(ctx, cancel)
		if !s.stamped {
			_, _, err = s.catchUp()
			s.partOpen = [2]bool{} // the old run's line ended with it
		}
		if err == nil {
			st, err = s.openLog(true)
		}
		stop()
	}
	if err != nil {
		cancel()
		close(s.done) // nothing to drain
		return err
	}
	s.setStream(st)
	go s.run(st)
	return nil
}

// continueFrom takes over what the previous session wrote, once its
// stream has ended (at once, mostly: its run is over), and ends it.
func (s *logSession) continueFrom(prev *logSession) {
	select {
	case <-prev.done:
		// Read with times, the old run's last line is exactly known.
		s.tail, s.stamped = prev.tail, prev.stamped
		s.last = s.from.Add(-time.Nanosecond)
		if prev.stamped && prev.last.After(s.last) {
			s.last = prev.last
		}
	case <-time.After(time.Second):
		s.c.log.Debug("the previous run's output has not ended; a line of it may show twice")
	}
	prev.cancel()
}

// Drain waits until the output stream has ended (the container exited and
// Docker sent its last bytes) or timeout passes; then it closes the stream.
// It reports whether everything was copied.
func (l *Copier) Drain(timeout time.Duration) bool {
	l.mu.Lock()
	s := l.cur
	l.mu.Unlock()
	if s == nil {
		return true
	}
	defer s.close()
	select {
	case <-s.done:
		return true
	case <-time.After(timeout):
		return false
	}
}

func (s *logSession) close() {
	s.cancel()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stream != nil {
		s.stream.Close()
	}
}

func (s *logSession) setStream(st *dockerapi.Stream) {
	s.mu.Lock()
	s.stream = st
	s.mu.Unlock()
	if s.ctx.Err() != nil {
		st.Close() // closed meanwhile
	}
}

// run copies stream after stream until the output has ended.
func (s *logSession) run(st *dockerapi.Stream) {
	defer close(s.done)
	defer s.endLines() // before done: Drain returns with the lines ended
	for st != nil {
		final := false
		var err error
		if s.stamped {
			err = st.Entries(s.tty, s.writeEntry)
		} else {
			err = st.Copy(tailWriter{s, stdoutIdx}, tailWriter{s, stderrIdx}, s.tty)
		}
		st.Close()
		if s.ctx.Err() != nil || !s.broken() {
			s.c.log.Debug("container output stream ended", zap.Error(err))
			return
		}
		s.c.log.Warn("lost the stream of the container's output while it runs (dockerd restarting?); reconnecting",
			zap.String("container", states.ShortID(s.id)), zap.NamedError("cause", err))
		st, final = s.reconnect(time.Now())
		if final && st != nil {
			// The container stopped meanwhile: copy the rest of its log.
			if err := st.Entries(s.tty, s.writeEntry); err != nil {
				s.c.log.Warn("the container's last output", zap.Error(err))
			}
			st.Close()
			return
		}
	}
}

// broken tells a stream that broke from one that ended with the container.
func (s *logSession) broken() bool {
	if pid := s.c.pid(); pid > 0 {
		return !s.c.ended(pid)
	}
	// Not started yet, or it ended at once: ask Docker.
	ctx, cancel := context.WithTimeout(s.ctx, dockerapi.CallTimeout)
	defer cancel()
	c, err := s.c.docker.Inspect(ctx, s.id)
	return err == nil && c.Running
}

// reconnect waits for Docker and replays its log from the break: then it
// returns the stream to follow, or with final the rest of the log of a
// container that stopped meanwhile. nil: nothing more to copy.
func (s *logSession) reconnect(broke time.Time) (st *dockerapi.Stream, final bool) {
	pause := watchers.Backoff{First: s.c.retry, Max: maxRetry}
	for attempt := 1; ; attempt++ {
		c, err := s.c.docker.Inspect(s.ctx, s.id)
		switch {
		case s.ctx.Err() != nil:
			return nil, false
		case errors.Is(err, states.ErrNotFound):
			s.c.log.Warn("the container is gone; its output ends here", zap.String("container", states.ShortID(s.id)))
			return nil, false
		case err == nil && c.StartedAt.After(broke):
			return nil, false // a new run (docker restart): its own Attach follows it
		case err == nil:
			st, err = s.resume(c.Running)
			if err == nil {
				return st, !c.Running
			}
			if dockerapi.Refused(err) {
				s.c.log.Warn("cannot read the container's log after dockerd lost the stream; its output is no longer copied "+
					"(give it a log driver Docker can read back: json-file, local or journald)",
					zap.String("container", states.ShortID(s.id)), zap.Error(err))
				return nil, false
			}
		}
		s.c.log.Debug("reconnecting to the container's output", zap.Int("attempt", attempt), zap.Error(err))
		if !pause.Wait(s.ctx) {
			return nil, false
		}
	}
}

// resume writes what Docker logged around the break that we did not get,
// the first time the stream breaks, and opens Docker's log from the last
// line written on.
func (s *logSession) resume(running bool) (*dockerapi.Stream, error) {
	if !s.stamped {
		written, skipped, err := s.catchUp()
		if err != nil {
			return nil, err
		}
		s.c.log.Info("following the container's output again", zap.String("container", states.ShortID(s.id)),
			zap.Int("replayed_lines", written), zap.Int("already_written", skipped))
	}
	return s.openLog(running)
}

// catchUp writes what Docker logged from shortly before the tail's newest
// line on (from s.from) that the tail does not show as written already.
// From then on the session reads Docker's log, with times. On error
// nothing was written.
func (s *logSession) catchUp() (written, skipped int, err error) {
	last := s.from.Add(-time.Nanosecond)
	if !s.tail.empty() {
		since, until := s.tail.window(s.from)
		last = since.Add(-time.Nanosecond)
		st, err := s.c.docker.Replay(s.ctx, s.id, since, until, false)
		if err != nil {
			return 0, 0, err
		}
		var entries []dockerapi.Entry
		err = st.Entries(s.tty, func(e dockerapi.Entry) error {
			e.Line = append([]byte(nil), e.Line...)
			entries = append(entries, e)
			return nil
		})
		st.Close()
		if err != nil {
			return 0, 0, err
		}
		lines := joinEntries(entries)
		skip := s.tail.skipWritten(lines)
		for st := range s.partOpen {
			s.partOpen[st] = s.tail.partLen[st] > 0
		}
		for i, l := range lines {
			if skip[i] < len(l.text) {
				s.partOpen[l.stream] = false // the cut is before this line
			}
			if skip[i] == len(l.text) {
				skipped++
				continue
			}
			s.write(l.stream, l.text[skip[i]:])
			written++
		}
		for _, e := range entries {
			if e.Time.After(last) {
				last = e.Time
			}
		}
	}
	s.stamped, s.last = true, last
	return written, skipped, nil
}

// openLog opens Docker's log after the last line written; follow keeps it
// open until the container stops.
func (s *logSession) openLog(follow bool) (*dockerapi.Stream, error) {
	st, err := s.c.docker.Replay(s.ctx, s.id, s.last.Add(time.Nanosecond), time.Time{}, follow)
	if err != nil {
		return nil, err
	}
	s.setStream(st)
	return st, nil
}

func (s *logSession) writeEntry(e dockerapi.Entry) error {
	stream := stdoutIdx
	if e.Stderr {
		stream = stderrIdx
	}
	line := e.Line
	if s.partOpen[stream] {
		s.partOpen[stream] = false
		if n := s.tail.partLen[stream]; len(line) >= n && s.tail.sameAsPart(stream, line[:n]) {
			line = line[n:]
		}
	}
	s.write(stream, line)
	s.last = e.Time
	return nil
}

func (s *logSession) write(stream int, p []byte) {
	_, _ = s.c.guard().write(stream, s.writer(stream), p)
}

func (s *logSession) writer(stream int) io.Writer {
	if stream == stderrIdx {
		return s.c.stderr
	}
	return s.c.stdout
}

// endLines ends the last line of each stream that stopped within one
// (printf without \n), at the end of the output: a break and a resume end
// no line. With -t there is one stream, stdout. The newline is ours: it is
// not in the tail, which stays lined up with Docker's log.
func (s *logSession) endLines() {
	for stream := range 2 {
		s.c.guard().end(stream, s.writer(stream))
	}
}

func (l *Copier) guard() *lineGuard {
	if l.lines != nil {
		return l.lines
	}
	return &stdLines
}

// tailWriter writes one stream of the attach stream and remembers its
// lines.
type tailWriter struct {
	s      *logSession
	stream int
}

func (t tailWriter) Write(p []byte) (int, error) {
	n, err := t.s.c.guard().write(t.stream, t.s.writer(t.stream), p)
	t.s.tail.add(t.stream, p[:n], time.Now())
	return n, err
}

// stdLines is the lineGuard of our stdout and stderr: the copier's output
// and our own log lines (NewLogger on stderr) go through it.
var stdLines lineGuard

// lineGuard knows whether the container's output stopped within a line,
// and keeps our log lines off such a line. Under systemd stdout and stderr
// are one file, the unit's journal stream (a terminal is one too): a line
// of ours written after "partial" would read "partial<6>INFO …", the
// container's line, with our priority lost. Writes through it are
// serialized.
type lineGuard struct {
	mu sync.Mutex
	// shared: stdout and stderr are one file, with one line state.
	shared bool
	// mid says, per stream (per file when shared), that the last byte
	// written was not a newline.
	mid [2]bool
}

func (g *lineGuard) slot(stream int) int {
	if g.shared {
		return 0
	}
	return stream
}

// write writes p, container output of stream, to w.
func (g *lineGuard) write(stream int, w io.Writer, p []byte) (int, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	n, err := w.Write(p)
	if n > 0 {
		g.mid[g.slot(stream)] = p[n-1] != '\n'
	}
	return n, err
}

// end writes a newline to w when stream stopped within a line.
func (g *lineGuard) end(stream int, w io.Writer) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if i := g.slot(stream); g.mid[i] {
		_, _ = w.Write([]byte("\n"))
		g.mid[i] = false
	}
}

// ours returns the sink of our log lines, on stderr (f); shared says that
// stdout is the same file. Before a line of ours it ends the container's
// line on f if that stopped within one: the container's line goes on as
// a line of its own.
func (g *lineGuard) ours(f *os.File, shared bool) zapcore.WriteSyncer {
	g.mu.Lock()
	g.shared = shared
	g.mu.Unlock()
	return guardedSink{g: g, f: f}
}

type guardedSink struct {
	g *lineGuard
	f *os.File
}

func (s guardedSink) Write(p []byte) (int, error) {
	s.g.mu.Lock()
	defer s.g.mu.Unlock()
	if i := s.g.slot(stderrIdx); s.g.mid[i] {
		_, _ = s.f.Write([]byte("\n"))
		s.g.mid[i] = false
	}
	return s.f.Write(p)
}

func (s guardedSink) Sync() error { return s.f.Sync() }

// countingWriter counts the bytes of one stream for the metrics.
type countingWriter struct {
	w       io.Writer
	stream  string
	metrics *metrics.Metrics // nil: count nothing
}

func (c countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.metrics.LogBytes(c.stream, n)
	return n, err
}
