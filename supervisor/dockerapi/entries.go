package dockerapi

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"time"
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
// stdout/stderr frames; with a tty the raw stream is cut at newlines and
// where a part of a long line ends (see nextStamp).
func (s *Stream) Entries(tty bool, fn func(Entry) error) error {
	if !tty {
		return demux(entryWriter{fn: fn}, entryWriter{stderr: true, fn: fn}, s.r)
	}
	r := bufio.NewReaderSize(s.r, 64<<10)
	for {
		line, err := r.ReadBytes('\n')
		for len(line) > 0 {
			e, perr := ParseEntry(line)
			if perr != nil {
				return perr
			}
			// A part of a long line has no newline: the next entry's
			// time follows it directly.
			line = nil
			if i := nextStamp(e.Line); i > 0 {
				e.Line, line = e.Line[:i], e.Line[i:]
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

// entryWriter receives one frame per Write (demux): one entry.
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

// minPart is the least size of a part of a long line: Docker's log copier
// cuts a line only when its buffer (16 KiB by default) is full, and reads
// 2 KiB at a time.
const minPart = 2 << 10

// stampLen is the length of Docker's timestamp and its space:
// "2026-11-28T17:05:24.019665808Z ".
const stampLen = len("2006-01-02T15:04:05.000000000Z ")

// nextStamp finds, in a raw (tty) line of at least minPart, where a
// timestamp of the next entry begins; 0 if none does.
func nextStamp(p []byte) int {
	for i := minPart; i+stampLen <= len(p); i++ {
		if c := p[i:]; c[4] == '-' && c[10] == 'T' && c[19] == '.' && c[29] == 'Z' && c[30] == ' ' {
			if _, err := time.Parse(time.RFC3339Nano, string(c[:29+1])); err == nil {
				return i
			}
		}
	}
	return 0
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
