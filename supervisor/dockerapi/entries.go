package dockerapi

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/docker/docker/pkg/stdcopy"
)

// Entry is one line Docker logged, as Replay streams it.
type Entry struct {
	Stderr bool
	// Time is when Docker read the line from the container.
	Time time.Time
	// Line is the text with its newline; a line Docker split (16 KiB and
	// more) comes in parts, all but the last without one. Valid only
	// during the callback.
	Line []byte
}

// Entries calls fn with each entry of a Replay stream until the stream
// ends (nil) or fn fails. Without a tty each entry is one of Docker's
// stdout/stderr frames; with a tty the raw stream is cut at newlines.
func (s *Stream) Entries(tty bool, fn func(Entry) error) error {
	if !tty {
		_, err := stdcopy.StdCopy(entryWriter{fn: fn}, entryWriter{stderr: true, fn: fn}, s.r)
		return err
	}
	r := bufio.NewReaderSize(s.r, 64<<10)
	for {
		line, err := r.ReadBytes('\n')
		if len(line) > 0 {
			e, perr := ParseEntry(line)
			if perr != nil {
				return perr
			}
			if ferr := fn(e); ferr != nil {
				return ferr
			}
		}
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

// entryWriter receives one stdcopy frame per Write: one entry.
type entryWriter struct {
	stderr bool
	fn     func(Entry) error
}

func (w entryWriter) Write(p []byte) (int, error) {
	e, err := ParseEntry(p)
	if err != nil {
		return 0, err
	}
	e.Stderr = w.stderr
	if err := w.fn(e); err != nil {
		return 0, err
	}
	return len(p), nil
}

// ParseEntry splits "2026-11-28T17:05:24.019665808Z text" (the logs API
// with timestamps) into time and text.
func ParseEntry(p []byte) (Entry, error) {
	sp := bytes.IndexByte(p, ' ')
	if sp < 0 {
		return Entry{}, fmt.Errorf("log entry without a timestamp: %.40q", p)
	}
	t, err := time.Parse(time.RFC3339Nano, string(p[:sp]))
	if err != nil {
		return Entry{}, fmt.Errorf("log entry timestamp %.40q: %w", p[:sp], err)
	}
	return Entry{Time: t, Line: p[sp+1:]}, nil
}
