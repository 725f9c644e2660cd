package unitgen

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/systemd-docker/systemd-docker/unitgen/unitfile"
)

func TestWriteUnitsAndLinks(t *testing.T) {
	srcs, probs := Load([]string{"testdata/cases/install"})
	units, more := Generate(srcs, Options{Binary: "/usr/bin/systemd-docker"})
	if len(probs)+len(more) > 0 {
		t.Fatal(probs, more)
	}
	out := t.TempDir()
	if p := Write(out, units); len(p) > 0 {
		t.Fatal(p)
	}
	for link, target := range map[string]string{
		"multi-user.target.wants/app.service":   "../app.service",
		"app-stack.target.requires/app.service": "../app.service",
		"application.service":                   "app.service",
		"app.service.wants/cache.service":       "../cache.service",
	} {
		got, err := os.Readlink(filepath.Join(out, link))
		if err != nil || got != target {
			t.Errorf("%s -> %q (%v), want %s", link, got, err, target)
		}
		if _, err := os.Stat(filepath.Join(out, link)); err != nil {
			t.Errorf("%s dangles: %v", link, err)
		}
	}
	b, err := os.ReadFile(filepath.Join(out, "app.service"))
	if err != nil || !strings.Contains(string(b), "ExecStart=/usr/bin/systemd-docker run --rm") {
		t.Errorf("app.service: %v\n%s", err, b)
	}
	// A second unit claiming the same alias cannot be written over the first.
	if p := Write(out, units[:1]); len(p) == 0 {
		t.Error("writing a link twice was no problem")
	}
}

func TestLoadFilesAndUnreadable(t *testing.T) {
	srcs, probs := LoadFiles([]string{"testdata/cases/keys/other.container", "testdata/cases/keys/db.container", "x.txt", "missing.container"}, nil)
	if len(srcs) != 2 || len(probs) != 2 {
		t.Fatalf("srcs %d, problems %v", len(srcs), probs)
	}
	if !strings.Contains(probs[0].Error(), "x.txt: not a .container") || !strings.Contains(probs[1].Error(), "missing.container: open") {
		t.Errorf("problems: %v", probs)
	}
	// other.container's references resolve among the files given and Known.
	if units, more := Generate(srcs, Options{Binary: "/b"}); len(units) != 1 || len(more) != 2 {
		t.Errorf("without Known: units %d, problems %v", len(units), more)
	}
	known, _ := Load([]string{"testdata/cases/keys"})
	units, more := Generate(srcs, Options{Binary: "/b", Known: known})
	if len(units) != 2 || len(more) > 0 {
		t.Errorf("units %d, problems %v", len(units), more)
	}
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "locked"), 0o000); err != nil {
		t.Fatal(err)
	}
	if os.Geteuid() != 0 {
		if _, probs := Load([]string{filepath.Join(dir, "locked")}); len(probs) != 1 {
			t.Errorf("an unreadable search directory: %v", probs)
		}
	}
}

// FuzzGenerate: no input makes the generator panic, and every unit it
// writes parses as a unit file.
func FuzzGenerate(f *testing.F) {
	for _, name := range []string{"keys/all.container", "keys/other.container", "malformed/values.container", "install/app.container"} {
		b, err := os.ReadFile("testdata/cases/" + name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(string(b))
	}
	f.Fuzz(func(t *testing.T, in string) {
		dir := t.TempDir()
		for name, text := range map[string]string{"x.container": in, "x.network": "[Network]\n", "x.volume": "[Volume]\n"} {
			if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		srcs, _ := Load([]string{dir})
		units, _ := Generate(srcs, Options{Binary: "/usr/bin/systemd-docker"})
		for _, u := range units {
			if _, err := unitfile.Parse("unit", strings.NewReader(u.Text)); err != nil {
				t.Fatalf("%s does not parse: %v\n%s", u.Name, err, u.Text)
			}
		}
	})
}
