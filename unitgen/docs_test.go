package unitgen

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// The documents that describe the keys, from this package's directory.
const (
	keysManPage = "../docs/systemd-docker.container.5"
	readmeFile  = "../README.md"
	examplesDir = "../examples"
)

// docTables are the key tables the documents must list, by section.
var docTables = []struct {
	section string
	keys    []Key
}{{"Container", ContainerKeys}, {"Network", NetworkKeys}, {"Volume", VolumeKeys}}

// docEntry is one key as a document describes it.
type docEntry struct {
	list    bool   // marked as a list key
	refused bool   // listed among the keys Docker cannot honour
	text    string // what the document says of it, whitespace collapsed
}

// collapse turns every run of white space into one space.
func collapse(s string) string { return strings.Join(strings.Fields(s), " ") }

// keysManText returns systemd-docker.container(5) with the roff escapes it
// uses undone: \- is -, font changes and \& vanish, \(aq is ', \(dq is ",
// \e is \, and the glyphs … → — are themselves.
func keysManText(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(keysManPage)
	if err != nil {
		t.Fatal(err)
	}
	return strings.NewReplacer(`\-`, "-", `\fB`, "", `\fI`, "", `\fR`, "", `\fP`, "", `\&`, "",
		`\(aq`, "'", `\(dq`, `"`, `\[u2026]`, "…", `\(->`, "→", `\(em`, "—", `\e`, `\`).Replace(string(b))
}

// manEntries reads the key list of the man page's section "[SECTION] KEYS":
// each key is a .TP paragraph tagged ".B Key=" (or ".BR Key= " (list)"");
// those after the section's .SS subsection are the refused ones.
func manEntries(t *testing.T, man, section string) map[string]docEntry {
	t.Helper()
	header := "\n.SH \"[" + strings.ToUpper(section) + "] KEYS\"\n"
	_, body, ok := strings.Cut(man, header)
	if !ok {
		t.Fatalf("%s has no section %q", keysManPage, strings.TrimSpace(header))
	}
	body, _, _ = strings.Cut(body, "\n.SH ")
	tag := regexp.MustCompile(`^\.BR? ([A-Za-z0-9]+)=( " \(list\)")?$`)
	entries := map[string]docEntry{}
	lines := strings.Split(body, "\n")
	refused := false
	for i := 0; i < len(lines); i++ {
		if strings.HasPrefix(lines[i], ".SS ") {
			refused = true
			continue
		}
		if lines[i] != ".TP" || i+1 >= len(lines) {
			continue
		}
		m := tag.FindStringSubmatch(lines[i+1])
		if m == nil {
			t.Errorf("%s: [%s] KEYS: a .TP paragraph tagged %q, not .B KEY=", keysManPage, section, lines[i+1])
			continue
		}
		var text []string
		j := i + 2
		for ; j < len(lines); j++ {
			l := lines[j]
			if l == ".TP" || l == ".PP" || strings.HasPrefix(l, ".SS ") || strings.HasPrefix(l, ".SH ") {
				break
			}
			if strings.HasPrefix(l, ".") { // a font macro: its words are text
				_, l, _ = strings.Cut(l, " ")
				l = strings.ReplaceAll(l, `"`, "")
			}
			text = append(text, l)
		}
		if _, dup := entries[m[1]]; dup {
			t.Errorf("%s: [%s] KEYS lists %s= twice", keysManPage, section, m[1])
		}
		entries[m[1]] = docEntry{list: m[2] != "", refused: refused, text: collapse(strings.Join(text, " "))}
		i = j - 1
	}
	return entries
}

// readmeEntries reads the tables under README's heading "### [SECTION] keys":
// rows | `Key=` | becomes | list | of the keys, and | `Key=` | why | of the
// refused ones. Backticks are dropped from the text.
func readmeEntries(t *testing.T, readme, section string) map[string]docEntry {
	t.Helper()
	header := "\n### [" + section + "] keys\n"
	_, body, ok := strings.Cut(readme, header)
	if !ok {
		t.Fatalf("%s has no heading %q", readmeFile, strings.TrimSpace(header))
	}
	if i := regexp.MustCompile(`\n#{1,3} `).FindStringIndex(body); i != nil {
		body = body[:i[0]]
	}
	row := regexp.MustCompile("^\\| `([A-Za-z0-9]+)=` \\|(.*)\\|$")
	entries := map[string]docEntry{}
	for _, l := range strings.Split(body, "\n") {
		m := row.FindStringSubmatch(l)
		if m == nil {
			continue
		}
		cells := strings.Split(m[2], " | ")
		e := docEntry{refused: len(cells) == 1, text: collapse(strings.ReplaceAll(cells[0], "`", ""))}
		switch {
		case len(cells) == 2:
			e.list = strings.TrimSpace(cells[1]) == "yes"
		case len(cells) > 2:
			t.Errorf("%s: [%s] keys: row %q has more than three cells", readmeFile, section, l)
		}
		if _, dup := entries[m[1]]; dup {
			t.Errorf("%s: [%s] keys lists %s= twice", readmeFile, section, m[1])
		}
		entries[m[1]] = e
	}
	return entries
}

// checkEntries compares what a document says of each key with the table:
// every key is there, with the same Maps (or Refused reason) text, in the
// right list, marked as a list key exactly when it is one; no other key is.
func checkEntries(t *testing.T, doc, section string, keys []Key, entries map[string]docEntry) {
	t.Helper()
	for _, k := range keys {
		e, ok := entries[k.Name]
		if !ok {
			t.Errorf("%s does not describe [%s] %s=", doc, section, k.Name)
			continue
		}
		want, what := k.Maps, "what it maps to"
		if k.Refused != "" {
			want, what = k.Refused, "why it is refused"
		}
		if !strings.Contains(e.text, collapse(want)) {
			t.Errorf("%s: [%s] %s=: the text does not say %s as the table does:\n got: %s\nwant: %s", doc, section, k.Name, what, e.text, want)
		}
		if e.refused != (k.Refused != "") {
			t.Errorf("%s: [%s] %s= is in the wrong list (refused: %v, table: %q)", doc, section, k.Name, e.refused, k.Refused)
		}
		if !e.refused && e.list != k.Multi {
			t.Errorf("%s: [%s] %s=: marked as a list key: %v; the table says %v", doc, section, k.Name, e.list, k.Multi)
		}
	}
	for name := range entries {
		if !slices.ContainsFunc(keys, func(k Key) bool { return k.Name == name }) {
			t.Errorf("%s describes [%s] %s=, which the table does not have", doc, section, name)
		}
	}
}

// TestDocsListEveryKey keeps systemd-docker.container(5) and README's key
// tables in step with ContainerKeys, NetworkKeys and VolumeKeys.
func TestDocsListEveryKey(t *testing.T) {
	man := keysManText(t)
	b, err := os.ReadFile(readmeFile)
	if err != nil {
		t.Fatal(err)
	}
	readme := string(b)
	for _, tbl := range docTables {
		checkEntries(t, keysManPage, tbl.section, tbl.keys, manEntries(t, man, tbl.section))
		checkEntries(t, readmeFile, tbl.section, tbl.keys, readmeEntries(t, readme, tbl.section))
	}
	for _, s := range []string{"systemd-docker (1)", "systemd.unit (5)", "systemd.generator (7)", "podman-systemd.unit (5)"} {
		if _, see, _ := strings.Cut(man, "\n.SH \"SEE ALSO\"\n"); !strings.Contains(see, s) {
			t.Errorf("%s: SEE ALSO lacks %s", keysManPage, s)
		}
	}
	for _, dir := range append([]string{SearchPathEnv}, DefaultSearchPath...) {
		if !strings.Contains(man, dir) || !strings.Contains(readme, dir) {
			t.Errorf("%s or %s does not name %s", keysManPage, readmeFile, dir)
		}
	}
}

// exampleFiles are the .container, .network and .volume files of examples/.
func exampleFiles(t *testing.T) []string {
	t.Helper()
	entries, err := os.ReadDir(examplesDir)
	if err != nil {
		t.Fatal(err)
	}
	var files []string
	for _, e := range entries {
		if slices.Contains(kinds, strings.TrimPrefix(filepath.Ext(e.Name()), ".")) {
			files = append(files, e.Name())
		}
	}
	if len(files) == 0 {
		t.Fatalf("no .container, .network or .volume files in %s", examplesDir)
	}
	return files
}

// TestExamplesGenerate translates the example files, copied into a search
// directory of their own, and expects a unit from each and no problem.
func TestExamplesGenerate(t *testing.T) {
	dir := t.TempDir()
	files := exampleFiles(t)
	for _, f := range files {
		b, err := os.ReadFile(filepath.Join(examplesDir, f))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, f), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	srcs, probs := Load([]string{dir})
	units, more := Generate(srcs, Options{Binary: "/usr/local/bin/systemd-docker"})
	for _, p := range append(probs, more...) {
		t.Errorf("examples/%s", strings.TrimPrefix(p.Error(), dir+"/"))
	}
	for _, f := range files {
		if !slices.ContainsFunc(units, func(u Unit) bool { return u.Source == filepath.Join(dir, f) }) {
			t.Errorf("examples/%s: no unit generated", f)
		}
	}
}

// TestExamplesInDocs: the examples the man page and README show are the
// files in examples/ (without their leading comment lines).
func TestExamplesInDocs(t *testing.T) {
	man := keysManText(t)
	b, err := os.ReadFile(readmeFile)
	if err != nil {
		t.Fatal(err)
	}
	readme := string(b)
	for _, f := range exampleFiles(t) {
		b, err := os.ReadFile(filepath.Join(examplesDir, f))
		if err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(strings.TrimSpace(string(b)), "\n")
		for len(lines) > 0 && strings.HasPrefix(lines[0], "#") {
			lines = lines[1:]
		}
		body := strings.Join(lines, "\n") + "\n"
		if !strings.Contains(man, "\n"+body) {
			t.Errorf("%s does not show examples/%s as it is", keysManPage, f)
		}
		if !strings.Contains(readme, "\n"+body) {
			t.Errorf("%s does not show examples/%s as it is", readmeFile, f)
		}
	}
}

// TestKeysManPageFormats has groff check the page when it is installed.
func TestKeysManPageFormats(t *testing.T) {
	groff, err := exec.LookPath("groff")
	if err != nil {
		t.Skip("groff not installed")
	}
	path, _ := filepath.Abs(keysManPage)
	out, err := exec.Command(groff, "-man", "-Tutf8", "-ww", "-z", path).CombinedOutput()
	if err != nil || len(out) > 0 {
		t.Errorf("groff -man -ww %s: %v\n%s", keysManPage, err, out)
	}
}
