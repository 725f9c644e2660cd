package output

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/systemd-docker/systemd-docker/supervisor/sdnotify"
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
	sink := zapcore.Lock(zapcore.AddSync(w))
	if f, ok := w.(*os.File); ok && f == os.Stderr {
		journald = sdnotify.StderrIsJournal()
		// Our lines start on a line of their own, also after output of the
		// container that stopped within one (see lineGuard).
		sink = stdLines.ours(f, sameFile(os.Stdout, os.Stderr))
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
	core := zapcore.NewCore(zapcore.NewConsoleEncoder(enc), sink, lvl)
	return zap.New(cappedCore{core}), nil
}

// maxLogValue bounds what one of our log lines echoes: the message and
// each field value (a 10 kB --name, an image name, docker's output in an
// error) are cut there, saying how much was left out.
const maxLogValue = 2048

// cappedCore caps the message and the field values of every entry (see
// maxLogValue), and keeps the message on one line: a newline in it (from
// user input, say) would start a journal entry of its own, with a priority
// prefix of the input's choosing. Field values are JSON-quoted already.
// Only our own lines pass here, never the container's output.
type cappedCore struct{ zapcore.Core }

func (c cappedCore) With(fields []zapcore.Field) zapcore.Core {
	return cappedCore{c.Core.With(capFields(fields))}
}

func (c cappedCore) Check(ent zapcore.Entry, ce *zapcore.CheckedEntry) *zapcore.CheckedEntry {
	if c.Enabled(ent.Level) {
		return ce.AddCore(ent, c)
	}
	return ce
}

func (c cappedCore) Write(ent zapcore.Entry, fields []zapcore.Field) error {
	ent.Message = oneLine(capValue(ent.Message))
	return c.Core.Write(ent, capFields(fields))
}

// capValue cuts s after maxLogValue bytes (at a character boundary).
func capValue(s string) string {
	if len(s) <= maxLogValue {
		return s
	}
	cut := maxLogValue
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…(" + strconv.Itoa(len(s)-cut) + " bytes more)"
}

var lineBreaks = strings.NewReplacer("\r\n", `\n`, "\n", `\n`, "\r", `\r`)

func oneLine(s string) string {
	if !strings.ContainsAny(s, "\r\n") {
		return s
	}
	return lineBreaks.Replace(s)
}

// capFields returns fields with their values capped; it copies the slice
// only when a field changes.
func capFields(fields []zapcore.Field) []zapcore.Field {
	out := fields
	copied := false
	for i, f := range fields {
		g, changed := capField(f)
		if !changed {
			continue
		}
		if !copied {
			out, copied = slices.Clone(fields), true
		}
		out[i] = g
	}
	return out
}

// capField caps a field's value: strings, byte strings, errors and
// Stringers as text, the strings in arrays and objects (zap.Strings)
// one by one, reflected values (zap.Any) by their JSON. Numbers, bools
// and durations are short already.
func capField(f zapcore.Field) (zapcore.Field, bool) {
	switch f.Type {
	case zapcore.StringType:
		if len(f.String) > maxLogValue {
			f.String = capValue(f.String)
			return f, true
		}
	case zapcore.ByteStringType:
		if b, ok := f.Interface.([]byte); ok && len(b) > maxLogValue {
			return zap.String(f.Key, capValue(string(b))), true
		}
	case zapcore.ErrorType, zapcore.StringerType:
		if s, ok := text(f.Interface); ok && len(s) > maxLogValue {
			// Without the error's %+v detail (errorVerbose): it is longer.
			return zap.String(f.Key, capValue(s)), true
		}
	case zapcore.ArrayMarshalerType:
		if a, ok := f.Interface.(zapcore.ArrayMarshaler); ok {
			return zap.Array(f.Key, cappedArray{a}), true
		}
	case zapcore.ObjectMarshalerType, zapcore.InlineMarshalerType:
		if o, ok := f.Interface.(zapcore.ObjectMarshaler); ok {
			f.Interface = cappedObject{o}
			return f, true
		}
	case zapcore.ReflectType:
		if b, err := json.Marshal(f.Interface); err == nil && len(b) > maxLogValue {
			return zap.String(f.Key, capValue(string(b))), true
		}
	}
	return f, false
}

// text is an error's or a Stringer's text; false when it has none or
// panics (a nil pointer in an interface): zap then reports that itself.
func text(v any) (s string, ok bool) {
	defer func() {
		if recover() != nil {
			s, ok = "", false
		}
	}()
	switch v := v.(type) {
	case error:
		return v.Error(), true
	case fmt.Stringer:
		return v.String(), true
	}
	return "", false
}

type cappedArray struct{ zapcore.ArrayMarshaler }

func (a cappedArray) MarshalLogArray(enc zapcore.ArrayEncoder) error {
	return a.ArrayMarshaler.MarshalLogArray(cappedArrayEncoder{enc})
}

type cappedArrayEncoder struct{ zapcore.ArrayEncoder }

func (e cappedArrayEncoder) AppendString(s string) { e.ArrayEncoder.AppendString(capValue(s)) }
func (e cappedArrayEncoder) AppendByteString(b []byte) {
	e.ArrayEncoder.AppendString(capValue(string(b)))
}

type cappedObject struct{ zapcore.ObjectMarshaler }

func (o cappedObject) MarshalLogObject(enc zapcore.ObjectEncoder) error {
	return o.ObjectMarshaler.MarshalLogObject(cappedObjectEncoder{enc})
}

type cappedObjectEncoder struct{ zapcore.ObjectEncoder }

func (e cappedObjectEncoder) AddString(k, v string) { e.ObjectEncoder.AddString(k, capValue(v)) }
func (e cappedObjectEncoder) AddByteString(k string, v []byte) {
	e.ObjectEncoder.AddString(k, capValue(string(v)))
}

// sameFile tells whether a and b are the same open file (a socket, a
// terminal): systemd gives a unit's stdout and stderr one journal stream.
func sameFile(a, b *os.File) bool {
	ia, err1 := a.Stat()
	ib, err2 := b.Stat()
	return err1 == nil && err2 == nil && os.SameFile(ia, ib)
}

func journalLevel(l zapcore.Level, enc zapcore.PrimitiveArrayEncoder) {
	prio := map[zapcore.Level]string{
		zapcore.DebugLevel: "<7>", zapcore.InfoLevel: "<6>", zapcore.WarnLevel: "<4>",
		zapcore.ErrorLevel: "<3>", zapcore.DPanicLevel: "<2>", zapcore.PanicLevel: "<2>", zapcore.FatalLevel: "<2>",
	}[l]
	enc.AppendString(prio + l.CapitalString())
}
