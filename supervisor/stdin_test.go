package supervisor

import (
	"os"
	"path/filepath"
	"testing"
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
