package supervisor

import (
	"bytes"
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
