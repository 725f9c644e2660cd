package supervisor

import (
	"os"
	"path/filepath"
	"testing"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/systemd-docker/systemd-docker/supervisor/runargs"
)

func TestStdinUsable(t *testing.T) {
	open := func(t *testing.T, path string) *os.File {
		t.Helper()
		f, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { f.Close() })
		return f
	}
	regular := filepath.Join(t.TempDir(), "input")
	if err := os.WriteFile(regular, []byte("x\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	closed := open(t, regular)
	closed.Close()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	// /dev/null under another name, as systemd and shells hand it over: "/dev/stdin".
	null := os.NewFile(open(t, os.DevNull).Fd(), "/dev/stdin")

	for _, tc := range []struct {
		name string
		f    *os.File
		want bool
	}{
		{"/dev/null", open(t, os.DevNull), false},
		{"/dev/null named /dev/stdin", null, false},
		{"closed", closed, false},
		{"pipe", r, true},
		{"regular file", open(t, regular), true},
		{"/dev/zero", open(t, "/dev/zero"), true},
	} {
		if got := stdinUsable(tc.f); got != tc.want {
			t.Errorf("stdinUsable(%s) = %v, want %v", tc.name, got, tc.want)
		}
	}
}

// TestNoteIgnored: what a unit written for the original (run -d, -it with
// StandardInput=null, --sig-proxy) gets is a note each, never a refusal.
func TestNoteIgnored(t *testing.T) {
	parse := func(args ...string) runargs.Args {
		a, err := runargs.Parse(args)
		if err != nil {
			t.Fatal(err)
		}
		return a
	}
	for _, tc := range []struct {
		name  string
		run   runargs.Args
		stdin bool
		want  []string // one INFO line each, in order
	}{
		{"nothing to say", parse("-t", "img"), false, nil},
		{"-d", parse("-d", "img"), false, []string{"docker run -d is ignored"}},
		{"-it, no stdin", parse("-it", "img"), false,
			[]string{"docker run -i: the container is created with an open standard input, and none is attached: systemd-docker's standard input is /dev/null"}},
		{"-i, a stdin", parse("-i", "img"), true,
			[]string{"and none is attached: systemd-docker never forwards its standard input"}},
		{"-dit --sig-proxy=false", parse("-dit", "--sig-proxy=false", "img"), false,
			[]string{"docker run -d is ignored", "left out", "docker run -i:"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			core, logs := observer.New(zapcore.DebugLevel)
			noteIgnored(zap.New(core), tc.run, tc.stdin)
			assertLines(t, logs, zapcore.InfoLevel, tc.want...)
		})
	}
	core, logs := observer.New(zapcore.DebugLevel)
	noteIgnored(zap.New(core), parse("--sig-proxy=false", "--detach-keys", "ctrl-x", "img"), false)
	if f := logs.All()[0].ContextMap()["dropped"]; f != "--sig-proxy=false --detach-keys ctrl-x" {
		t.Errorf("dropped = %q, want the flags as given", f)
	}
}
