package dockerapi

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
)

// recorder keeps each Write apart: demux writes one frame per Write.
type recorder struct{ writes []string }

func (r *recorder) Write(p []byte) (int, error) {
	r.writes = append(r.writes, string(p))
	return len(p), nil
}

func TestDemux(t *testing.T) {
	big := strings.Repeat("x", 100<<10) // more than demux's first buffer
	frame := func(stderr bool, s string) string {
		var b bytes.Buffer
		FrameWriter(&b, stderr).Write([]byte(s))
		return b.String()
	}
	tests := []struct {
		name, in       string
		stdout, stderr []string
		err            string
	}{
		{"both streams, a frame per write", frame(false, "a\n") + frame(true, "b\n") + frame(false, "c"), []string{"a\n", "c"}, []string{"b\n"}, ""},
		{"stdin goes to stdout", "\x00\x00\x00\x00\x00\x00\x00\x02in", []string{"in"}, nil, ""},
		{"a frame larger than the buffer", frame(true, big), nil, []string{big}, ""},
		{"cut in a header: the end", frame(false, "a") + "\x01\x00\x00", []string{"a"}, nil, ""},
		{"cut in a frame: not written", frame(false, "a") + frame(false, "bcd")[:10], []string{"a"}, nil, ""},
		{"the daemon's own error", frame(false, "a") + "\x03\x00\x00\x00\x00\x00\x00\x04boom", []string{"a"}, nil, "error from daemon in stream: boom"},
		{"unknown stream", "\x07\x00\x00\x00\x00\x00\x00\x01z", nil, nil, "unknown stream 7"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errw recorder
			err := demux(&out, &errw, strings.NewReader(tt.in))
			if (err == nil) != (tt.err == "") || err != nil && !strings.Contains(err.Error(), tt.err) {
				t.Errorf("err = %v, want %q", err, tt.err)
			}
			if strings.Join(out.writes, "|") != strings.Join(tt.stdout, "|") || strings.Join(errw.writes, "|") != strings.Join(tt.stderr, "|") {
				t.Errorf("stdout writes %q, stderr writes %q; want %q, %q", out.writes, errw.writes, tt.stdout, tt.stderr)
			}
		})
	}
}

// A stream that breaks (a chunked body cut short) is an error, not the
// stream's end: the log copier then reconnects.
func TestDemuxBrokenStream(t *testing.T) {
	var out recorder
	r := io.MultiReader(strings.NewReader("\x01\x00\x00\x00\x00\x00\x00\x05ab"), errReader{io.ErrUnexpectedEOF})
	if err := demux(&out, &out, r); !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("err = %v, want io.ErrUnexpectedEOF", err)
	}
}

type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) { return 0, e.err }
