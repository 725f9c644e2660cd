package unitgen

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

func TestRawIO(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "a.service")
	big := bytes.Repeat([]byte("x"), 10000) // more than one read
	if err := writeFile(p, big); err != nil {
		t.Fatal(err)
	}
	if err := writeFile(p, big[:5000]); err != nil { // replaced, truncated
		t.Fatal(err)
	}
	got, err := readFile(p)
	if err != nil || !bytes.Equal(got, big[:5000]) {
		t.Fatalf("read back %d bytes, %v", len(got), err)
	}
	if fi, _ := os.Stat(p); fi.Mode().Perm() != 0o644&^umask() {
		t.Errorf("mode %v", fi.Mode())
	}
	if _, err := readFile(filepath.Join(dir, "missing")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
	// Never written through a link.
	if err := os.Symlink(p, filepath.Join(dir, "link.service")); err != nil {
		t.Fatal(err)
	}
	if err := writeFile(filepath.Join(dir, "link.service"), []byte("x")); err == nil {
		t.Error("wrote through a symlink")
	}
	if err := os.WriteFile(filepath.Join(dir, "huge"), make([]byte, maxUnitFile+1), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := readFile(filepath.Join(dir, "huge")); err == nil {
		t.Error("read a file over the bound")
	}
}

func umask() os.FileMode {
	old := syscall.Umask(0)
	syscall.Umask(old)
	return os.FileMode(old)
}
