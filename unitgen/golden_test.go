package unitgen

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/cases")

// TestGolden runs the generator over each directory in testdata/cases and
// compares what --dry-run would print, and the problems, with CASE.golden.
// A case with subdirectories uses them, in name order, as the search path.
func TestGolden(t *testing.T) {
	cases, err := filepath.Glob("testdata/cases/*")
	if err != nil {
		t.Fatal(err)
	}
	for _, dir := range cases {
		if strings.HasSuffix(dir, ".golden") {
			continue
		}
		t.Run(filepath.Base(dir), func(t *testing.T) {
			got := runCase(t, dir)
			golden := dir + ".golden"
			if *update {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test ./unitgen -run TestGolden -update to write it)", err)
			}
			if got != string(want) {
				t.Errorf("%s differs; got:\n%s", golden, got)
			}
		})
	}
}

// runCase generates the units of dir as text: the units as --dry-run
// prints them, then one line per problem; dir is written CASE.
func runCase(t *testing.T, dir string) string {
	t.Helper()
	dir, err := filepath.Abs(dir) // as the generator's paths are
	if err != nil {
		t.Fatal(err)
	}
	dirs := []string{dir}
	if subs, _ := filepath.Glob(filepath.Join(dir, "*", "")); len(subs) > 0 {
		dirs = nil
		for _, s := range subs {
			if fi, err := os.Stat(s); err == nil && fi.IsDir() && !strings.Contains(filepath.Base(s), ".") {
				dirs = append(dirs, s)
			}
		}
		if len(dirs) == 0 {
			dirs = []string{dir}
		}
	}
	srcs, probs := Load(dirs)
	units, more := Generate(srcs, Options{Binary: "/usr/bin/systemd-docker"})
	var b bytes.Buffer
	if err := Print(&b, units); err != nil {
		t.Fatal(err)
	}
	for _, p := range append(probs, more...) {
		b.WriteString("problem: " + p.Error() + "\n")
	}
	return strings.ReplaceAll(b.String(), dir+"/", "CASE/")
}
