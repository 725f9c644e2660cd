package output

import (
	"bytes"
	"errors"
	"regexp"
	"strings"
	"testing"

	"go.uber.org/zap"
)

func TestNewLogger(t *testing.T) {
	tests := []struct {
		level string
		log   func(l *zap.Logger)
		want  string // the whole output
	}{
		{"info", func(l *zap.Logger) { l.Info("hello") }, "INFO hello\n"},
		{"info", func(l *zap.Logger) { l.Debug("hidden") }, ""},
		{"debug", func(l *zap.Logger) { l.Debug("shown") }, "DEBUG shown\n"},
		{"warn", func(l *zap.Logger) { l.Info("hidden"); l.Warn("careful") }, "WARN careful\n"},
		{"error", func(l *zap.Logger) { l.Error("failed", zap.Int("code", 3)) }, "ERROR failed {\"code\": 3}\n"},
		{"INFO", func(l *zap.Logger) { l.Info("upper-case level") }, "INFO upper-case level\n"},
	}
	timestamp := regexp.MustCompile(`\d{4}-\d{2}-\d{2}|\d{2}:\d{2}:\d{2}|\d{10}`)
	for _, tt := range tests {
		t.Run(tt.level+"/"+tt.want, func(t *testing.T) {
			var buf bytes.Buffer
			l, err := NewLogger(tt.level, &buf)
			if err != nil {
				t.Fatalf("NewLogger(%q): %v", tt.level, err)
			}
			tt.log(l)
			_ = l.Sync()
			got := buf.String()
			if got != tt.want {
				t.Errorf("output %q, want %q", got, tt.want)
			}
			if timestamp.MatchString(got) {
				t.Errorf("output %q has a timestamp; the journal adds its own", got)
			}
			if strings.HasPrefix(got, "<") {
				t.Errorf("output %q has a journal priority prefix, but w is not stderr", got)
			}
		})
	}
}

func TestNewLoggerBadLevel(t *testing.T) {
	for _, level := range []string{"verbose", "", "3"} {
		l, err := NewLogger(level, &bytes.Buffer{})
		if level == "" {
			// zapcore.ParseLevel("") is info; say so rather than guess.
			if err != nil || l == nil {
				t.Errorf("NewLogger(%q) = %v, %v; want the default level", level, l, err)
			}
			continue
		}
		if err == nil || l != nil {
			t.Errorf("NewLogger(%q) = %v, %v; want an error", level, l, err)
		}
	}
}

type longStringer int

func (n longStringer) String() string { return strings.Repeat("s", int(n)) }

// Our lines echo input of any length (a 10 kB --name, an image name,
// docker's output in an error): the message and each value are capped, in
// the logger itself, saying how much was left out.
func TestNewLoggerCapsValues(t *testing.T) {
	long := strings.Repeat("n", 10_000)
	cut := strings.Repeat("n", maxLogValue) + "…(7952 bytes more)"
	tests := []struct {
		name string
		log  func(l *zap.Logger)
		want string
	}{
		{"message", func(l *zap.Logger) { l.Info(long) }, "INFO " + cut + "\n"},
		{"string field", func(l *zap.Logger) { l.Info("m", zap.String("name", long)) }, `INFO m {"name": "` + cut + `"}` + "\n"},
		{"error field", func(l *zap.Logger) { l.Error("m", zap.Error(errors.New(long))) }, `ERROR m {"error": "` + cut + `"}` + "\n"},
		{"named error", func(l *zap.Logger) { l.Warn("m", zap.NamedError("cause", errors.New(long))) }, `WARN m {"cause": "` + cut + `"}` + "\n"},
		{"byte string", func(l *zap.Logger) { l.Info("m", zap.ByteString("b", []byte(long))) }, `INFO m {"b": "` + cut + `"}` + "\n"},
		{"stringer", func(l *zap.Logger) { l.Info("m", zap.Stringer("s", longStringer(2049))) },
			`INFO m {"s": "` + strings.Repeat("s", maxLogValue) + `…(1 bytes more)"}` + "\n"},
		{"strings", func(l *zap.Logger) { l.Info("m", zap.Strings("list", []string{"a", long})) }, `INFO m {"list": ["a", "` + cut + `"]}` + "\n"},
		{"with", func(l *zap.Logger) { l.With(zap.String("name", long)).Info("m") }, `INFO m {"name": "` + cut + `"}` + "\n"},
		{"any", func(l *zap.Logger) { l.Info("m", zap.Any("v", struct{ A string }{long})) },
			`INFO m {"v": "` + strings.ReplaceAll(capValue(`{"A":"`+long+`"}`), `"`, `\"`) + `"}` + "\n"},
		// Short values are untouched, numbers too.
		{"short", func(l *zap.Logger) { l.Info("m", zap.String("a", "b"), zap.Int("n", 5), zap.Error(errors.New("e"))) },
			`INFO m {"a": "b", "n": 5, "error": "e"}` + "\n"},
		{"at the cap", func(l *zap.Logger) { l.Info(strings.Repeat("x", maxLogValue)) }, "INFO " + strings.Repeat("x", maxLogValue) + "\n"},
		// A newline in the message would start a journal line of its own.
		{"newline in message", func(l *zap.Logger) { l.Info("bad name x\n<0>forged\r\nline") }, `INFO bad name x\n<0>forged\nline` + "\n"},
		{"newline in field", func(l *zap.Logger) { l.Info("m", zap.String("name", "x\n<0>y")) }, `INFO m {"name": "x\n<0>y"}` + "\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			l, err := NewLogger("info", &buf)
			if err != nil {
				t.Fatal(err)
			}
			tt.log(l)
			if got := buf.String(); got != tt.want {
				t.Errorf("output (%d bytes)\n%.300q…\nwant (%d bytes)\n%.300q…", len(got), got, len(tt.want), tt.want)
			}
			if n := strings.Count(buf.String(), "\n"); n != 1 {
				t.Errorf("%d lines, want 1", n)
			}
		})
	}
}

func TestCapValue(t *testing.T) {
	for _, tt := range []struct {
		in, want string
	}{
		{"", ""},
		{strings.Repeat("a", maxLogValue), strings.Repeat("a", maxLogValue)},
		{strings.Repeat("a", maxLogValue+1), strings.Repeat("a", maxLogValue) + "…(1 bytes more)"},
		// Never within a character: "é" is 2 bytes, cut before it.
		{strings.Repeat("a", maxLogValue-1) + "éz", strings.Repeat("a", maxLogValue-1) + "…(3 bytes more)"},
	} {
		if got := capValue(tt.in); got != tt.want {
			t.Errorf("capValue(%d bytes) = %.40q… (%d bytes), want %d bytes", len(tt.in), got, len(got), len(tt.want))
		}
	}
}
