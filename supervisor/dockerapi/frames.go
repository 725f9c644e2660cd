package dockerapi

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// Docker multiplexes a container's stdout and stderr (no tty) into frames:
// an 8-byte header — the stream (0 stdin, 1 stdout, 2 stderr, 3 the
// daemon's own error), three zero bytes, the size as a big-endian uint32 —
// then that many bytes.
const (
	frameStdin  = 0
	frameStdout = 1
	frameStderr = 2
	frameSystem = 3
	frameHeader = 8
)

// demux writes each frame of r to stdout or stderr, one Write per frame,
// until r ends. A frame cut short by the end of r is not written, as the
// docker CLI does not; a frame of the daemon's own is its error.
func demux(stdout, stderr io.Writer, r io.Reader) error {
	var head [frameHeader]byte
	buf := make([]byte, 32<<10)
	for {
		if err := readFull(r, head[:]); err != nil {
			return endOfFrames(err)
		}
		size := int(binary.BigEndian.Uint32(head[4:]))
		if size > cap(buf) {
			buf = make([]byte, size)
		}
		frame := buf[:size]
		if err := readFull(r, frame); err != nil {
			return endOfFrames(err)
		}
		var w io.Writer
		switch head[0] {
		case frameStdin, frameStdout:
			w = stdout
		case frameStderr:
			w = stderr
		case frameSystem:
			return fmt.Errorf("error from daemon in stream: %s", frame)
		default:
			return fmt.Errorf("container output: unknown stream %d in a frame header", head[0])
		}
		if _, err := w.Write(frame); err != nil {
			return err
		}
	}
}

// readFull fills p; it returns r's own error, io.EOF included, where
// io.ReadFull would turn a late io.EOF into io.ErrUnexpectedEOF: a stream
// that ends is not one that breaks (a chunked body cut short).
func readFull(r io.Reader, p []byte) error {
	for n := 0; n < len(p); {
		m, err := r.Read(p[n:])
		n += m
		if err != nil && n < len(p) {
			return err
		}
	}
	return nil
}

// endOfFrames is nil for the end of the stream, wherever it falls.
func endOfFrames(err error) error {
	if errors.Is(err, io.EOF) {
		return nil
	}
	return err
}

// FrameWriter writes each Write to w as one frame of stream 1 (stdout) or
// 2 (stderr): what the daemon sends, for tests that play it.
func FrameWriter(w io.Writer, stderr bool) io.Writer { return frameWriter{w: w, stderr: stderr} }

type frameWriter struct {
	w      io.Writer
	stderr bool
}

func (f frameWriter) Write(p []byte) (int, error) {
	frame := make([]byte, frameHeader, frameHeader+len(p))
	frame[0] = frameStdout
	if f.stderr {
		frame[0] = frameStderr
	}
	binary.BigEndian.PutUint32(frame[4:], uint32(len(p)))
	if _, err := f.w.Write(append(frame, p...)); err != nil {
		return 0, err
	}
	return len(p), nil
}
