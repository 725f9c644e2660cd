package supervisor

import (
	"context"
	"io"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/systemd-docker/systemd-docker/metrics"
	"github.com/systemd-docker/systemd-docker/supervisor/dockerapi"
)

// logCopier copies the container's output to ours (the journal, under
// systemd). It implements states.Logs.
type logCopier struct {
	docker         *dockerapi.Adapter
	stdout, stderr io.Writer
	log            *zap.Logger

	mu     sync.Mutex
	stream *dockerapi.Stream
	done   chan struct{}
}

func (l *logCopier) Attach(ctx context.Context, id string, tty bool, since time.Time) error {
	var s *dockerapi.Stream
	var err error
	if since.IsZero() {
		s, err = l.docker.Attach(ctx, id)
	} else {
		s, err = l.docker.Follow(ctx, id, since)
	}
	if err != nil {
		return err
	}
	done := make(chan struct{})
	l.mu.Lock()
	l.stream, l.done = s, done
	l.mu.Unlock()
	go func() {
		defer close(done)
		if err := s.Copy(l.stdout, l.stderr, tty); err != nil {
			l.log.Debug("container output stream ended", zap.Error(err))
		}
	}()
	return nil
}

// Drain waits until the output stream has ended (the container exited and
// Docker sent its last bytes) or timeout passes; then it closes the stream.
// It reports whether everything was copied.
func (l *logCopier) Drain(timeout time.Duration) bool {
	l.mu.Lock()
	s, done := l.stream, l.done
	l.mu.Unlock()
	if s == nil {
		return true
	}
	defer s.Close()
	select {
	case <-done:
		return true
	case <-time.After(timeout):
		return false
	}
}

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
