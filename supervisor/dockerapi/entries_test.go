package dockerapi

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"testing"
	"testing/iotest"
	"time"
)

var entryBase = time.Date(2026, 11, 28, 17, 0, 0, 0, time.UTC)

// stamp formats entryBase+d as the logs API does (nanoseconds, trailing
// zeros kept).
func stamp(d time.Duration) string {
	return entryBase.Add(d).Format("2006-01-02T15:04:05.000000000Z07:00")
}

// gotEntry is an Entry with its line copied out of the callback.
type gotEntry struct {
	stderr bool
	at     time.Duration // after entryBase
	line   string
}

func (e gotEntry) String() string { return fmt.Sprintf("{stderr=%v %v %.60q}", e.stderr, e.at, e.line) }

// collect runs Entries and returns what the callback saw.
func collect(r io.Reader, tty bool) ([]gotEntry, error) {
	var got []gotEntry
	err := NewStream(r, func() {}).Entries(tty, func(e Entry) error {
		got = append(got, gotEntry{e.Stderr, e.Time.Sub(entryBase), string(e.Line)})
		return nil
	})
	return got, err
}

func TestParseEntry(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    time.Time
		line    string
		wantErr string
	}{
		{name: "a line", in: "2026-11-28T17:05:24.019665808Z hello world\n",
			want: time.Date(2026, 11, 28, 17, 5, 24, 19665808, time.UTC), line: "hello world\n"},
		{name: "trailing zeros", in: stamp(time.Second) + " x\n", want: entryBase.Add(time.Second), line: "x\n"},
		{name: "no fraction", in: "2026-11-28T17:00:00Z x", want: entryBase, line: "x"},
		{name: "an offset", in: "2026-11-28T18:00:00.5+01:00 x\n", want: entryBase.Add(500 * time.Millisecond), line: "x\n"},
		{name: "an empty line", in: stamp(0) + " \n", want: entryBase, line: "\n"},
		{name: "an unfinished part", in: stamp(0) + "  two  spaces", want: entryBase, line: " two  spaces"},
		{name: "nothing", in: "", wantErr: "without a timestamp"},
		{name: "no space", in: "2026-11-28T17:00:00Z\n", wantErr: "without a timestamp"},
		{name: "not a timestamp", in: "hello world\n", wantErr: "timestamp"},
		{name: "a date alone", in: "2026-11-28 17:00:00Z x\n", wantErr: "timestamp"},
		{name: "an empty timestamp", in: " x\n", wantErr: "timestamp"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, err := ParseEntry([]byte(tt.in))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("ParseEntry(%q) = %v, %v; want an error containing %q", tt.in, e, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseEntry(%q): %v", tt.in, err)
			}
			if !e.Time.Equal(tt.want) || string(e.Line) != tt.line || e.Stderr {
				t.Errorf("ParseEntry(%q) = {%v %v %q}, want {false %v %q}", tt.in, e.Stderr, e.Time, e.Line, tt.want, tt.line)
			}
		})
	}
}

// frames is Docker's multiplexed logs stream of the given entries, one
// frame each.
func frames(t *testing.T, entries ...gotEntry) []byte {
	t.Helper()
	var b bytes.Buffer
	out, errs := FrameWriter(&b, false), FrameWriter(&b, true)
	for _, e := range entries {
		w := out
		if e.stderr {
			w = errs
		}
		if _, err := w.Write([]byte(stamp(e.at) + " " + e.line)); err != nil {
			t.Fatal(err)
		}
	}
	return b.Bytes()
}

func TestEntriesFramed(t *testing.T) {
	ms := time.Millisecond
	tests := []struct {
		name    string
		entries []gotEntry
	}{
		{name: "nothing"},
		{name: "stdout and stderr", entries: []gotEntry{
			{false, 1 * ms, "out 1\n"}, {true, 2 * ms, "err 1\n"}, {false, 3 * ms, "out 2\n"}, {true, 4 * ms, "err 2\n"}}},
		{name: "parts of a long line, one entry each", entries: []gotEntry{
			{false, 1 * ms, strings.Repeat("a", 16384)}, {true, 2 * ms, "err\n"},
			{false, 1 * ms, strings.Repeat("b", 16384)}, {false, 1 * ms, "c\n"}}},
		{name: "an unfinished last part", entries: []gotEntry{{false, 1 * ms, "a\n"}, {true, 2 * ms, "half"}}},
		{name: "several lines in one entry stay one", entries: []gotEntry{{false, 1 * ms, "a\nb\n"}}},
	}
	for _, tt := range tests {
		for _, oneByte := range []bool{false, true} {
			name := tt.name
			if oneByte {
				name += ", read a byte at a time"
			}
			t.Run(name, func(t *testing.T) {
				var r io.Reader = bytes.NewReader(frames(t, tt.entries...))
				if oneByte {
					r = iotest.OneByteReader(r)
				}
				got, err := collect(r, false)
				if err != nil {
					t.Fatal(err)
				}
				if !slices.Equal(got, tt.entries) {
					t.Errorf("entries = %v, want %v", got, tt.entries)
				}
			})
		}
	}
}

// smallReads returns 1, 2, 3, 1, 2, 3 … bytes per Read.
type smallReads struct {
	r io.Reader
	n int
}

func (s *smallReads) Read(p []byte) (int, error) {
	s.n = s.n%3 + 1
	return s.r.Read(p[:min(len(p), s.n)])
}

func TestEntriesTTY(t *testing.T) {
	ms := time.Millisecond
	long := strings.Repeat("x", 100<<10) + "\r\n" // longer than the reader's buffer
	part := strings.Repeat("p", 16<<10)
	tests := []struct {
		name string
		in   string
		want []gotEntry
	}{
		{name: "nothing"},
		{name: "lines", in: stamp(1*ms) + " a b\r\n" + stamp(2*ms) + " \r\n" + stamp(3*ms) + " c\r\n",
			want: []gotEntry{{false, 1 * ms, "a b\r\n"}, {false, 2 * ms, "\r\n"}, {false, 3 * ms, "c\r\n"}}},
		{name: "a last line without a newline", in: stamp(1*ms) + " a\n" + stamp(2*ms) + " end",
			want: []gotEntry{{false, 1 * ms, "a\n"}, {false, 2 * ms, "end"}}},
		{name: "a line longer than the buffer", in: stamp(1*ms) + " " + long + stamp(2*ms) + " b\n",
			want: []gotEntry{{false, 1 * ms, long}, {false, 2 * ms, "b\n"}}},
		// Docker cut a 16 KiB line into parts: the next part's time
		// follows the first one without a newline.
		{name: "parts of a long line", in: stamp(1*ms) + " " + part + stamp(2*ms) + " " + part + stamp(3*ms) + " end\n",
			want: []gotEntry{{false, 1 * ms, part}, {false, 2 * ms, part}, {false, 3 * ms, "end\n"}}},
		{name: "a time inside a short line is text", in: stamp(1*ms) + " at " + stamp(5*ms) + " done\n",
			want: []gotEntry{{false, 1 * ms, "at " + stamp(5*ms) + " done\n"}}},
	}
	readers := []struct {
		name string
		wrap func(io.Reader) io.Reader
	}{
		{"whole", func(r io.Reader) io.Reader { return r }},
		{"one byte at a time", iotest.OneByteReader},
		{"1-3 bytes at a time", func(r io.Reader) io.Reader { return &smallReads{r: r} }},
	}
	for _, tt := range tests {
		for _, rd := range readers {
			t.Run(tt.name+", "+rd.name, func(t *testing.T) {
				got, err := collect(rd.wrap(strings.NewReader(tt.in)), true)
				if err != nil {
					t.Fatal(err)
				}
				if !slices.Equal(got, tt.want) {
					t.Errorf("entries = %v, want %v", got, tt.want)
				}
			})
		}
	}
}

func TestEntriesErrors(t *testing.T) {
	errStop := errors.New("stop")
	errRead := errors.New("read failed")
	ms := time.Millisecond
	three := []gotEntry{{false, 1 * ms, "a\n"}, {true, 2 * ms, "b\n"}, {false, 3 * ms, "c\n"}}
	ttyThree := stamp(1*ms) + " a\n" + stamp(2*ms) + " b\n" + stamp(3*ms) + " c\n"
	tests := []struct {
		name    string
		tty     bool
		in      func(t *testing.T) io.Reader
		stopAt  int // the callback fails on this entry (1-based); 0: never
		calls   int
		wantErr error  // matched with errors.Is
		errText string // else a part of the message
	}{
		{name: "callback error stops, framed", stopAt: 2, calls: 2, wantErr: errStop,
			in: func(t *testing.T) io.Reader { return bytes.NewReader(frames(t, three...)) }},
		{name: "callback error stops, tty", tty: true, stopAt: 2, calls: 2, wantErr: errStop,
			in: func(*testing.T) io.Reader { return strings.NewReader(ttyThree) }},
		{name: "callback error on a last line without newline, tty", tty: true, stopAt: 1, calls: 1, wantErr: errStop,
			in: func(*testing.T) io.Reader { return strings.NewReader(stamp(0) + " end") }},
		{name: "read error, framed", calls: 3, wantErr: errRead,
			in: func(t *testing.T) io.Reader {
				return io.MultiReader(bytes.NewReader(frames(t, three...)), iotest.ErrReader(errRead))
			}},
		{name: "read error, tty", tty: true, calls: 3, wantErr: errRead,
			in: func(*testing.T) io.Reader {
				return io.MultiReader(strings.NewReader(ttyThree), iotest.ErrReader(errRead))
			}},
		{name: "entry without a timestamp, framed", calls: 1, errText: "without a timestamp",
			in: func(t *testing.T) io.Reader {
				return io.MultiReader(bytes.NewReader(frames(t, three[0])), bytes.NewReader(frameOf(t, "no-timestamp\n")),
					bytes.NewReader(frames(t, three[1])))
			}},
		{name: "entry without a timestamp, tty", tty: true, calls: 1, errText: "without a timestamp",
			in: func(*testing.T) io.Reader {
				return strings.NewReader(stamp(0) + " a\nno-timestamp\n" + stamp(0) + " b\n")
			}},
		{name: "bad timestamp, tty", tty: true, errText: "timestamp",
			in: func(*testing.T) io.Reader { return strings.NewReader("yesterday a\n") }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			calls := 0
			err := NewStream(tt.in(t), func() {}).Entries(tt.tty, func(Entry) error {
				calls++
				if calls == tt.stopAt {
					return errStop
				}
				return nil
			})
			switch {
			case tt.wantErr != nil && !errors.Is(err, tt.wantErr):
				t.Errorf("Entries = %v, want %v", err, tt.wantErr)
			case tt.errText != "" && (err == nil || !strings.Contains(err.Error(), tt.errText)):
				t.Errorf("Entries = %v, want an error containing %q", err, tt.errText)
			}
			if calls != tt.calls {
				t.Errorf("%d callbacks, want %d", calls, tt.calls)
			}
		})
	}
}

// frameOf is one stdout frame of raw text.
func frameOf(t *testing.T, text string) []byte {
	t.Helper()
	var b bytes.Buffer
	if _, err := FrameWriter(&b, false).Write([]byte(text)); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}
