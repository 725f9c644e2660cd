package supervisor

import (
	"io"
	"os"

	"github.com/coreos/go-systemd/v22/journal"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

// NewLogger logs to w, one line per entry, without timestamps (the journal
// adds its own). When w is stderr and stderr is the journal, each line
// starts with the sd-daemon(3) priority prefix ("<3>"), so that
// `journalctl -p err` finds our errors.
func NewLogger(level string, w io.Writer) (*zap.Logger, error) {
	lvl, err := zapcore.ParseLevel(level)
	if err != nil {
		return nil, err
	}
	journald := false
	if f, ok := w.(*os.File); ok && f == os.Stderr {
		journald, _ = journal.StderrIsJournalStream()
	}
	enc := zapcore.EncoderConfig{
		MessageKey:       "msg",
		LevelKey:         "level",
		NameKey:          "logger",
		EncodeLevel:      zapcore.CapitalLevelEncoder,
		ConsoleSeparator: " ",
		EncodeDuration:   zapcore.StringDurationEncoder,
	}
	if journald {
		enc.EncodeLevel = journalLevel
	}
	core := zapcore.NewCore(zapcore.NewConsoleEncoder(enc), zapcore.Lock(zapcore.AddSync(w)), lvl)
	return zap.New(core), nil
}

func journalLevel(l zapcore.Level, enc zapcore.PrimitiveArrayEncoder) {
	prio := map[zapcore.Level]string{
		zapcore.DebugLevel: "<7>", zapcore.InfoLevel: "<6>", zapcore.WarnLevel: "<4>",
		zapcore.ErrorLevel: "<3>", zapcore.DPanicLevel: "<2>", zapcore.PanicLevel: "<2>", zapcore.FatalLevel: "<2>",
	}[l]
	enc.AppendString(prio + l.CapitalString())
}
