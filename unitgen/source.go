package unitgen

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"github.com/systemd-docker/systemd-docker/unitgen/unitfile"
)

// The kinds of file the generator reads, by extension.
const (
	KindContainer = "container"
	KindNetwork   = "network"
	KindVolume    = "volume"
)

var kinds = []string{KindContainer, KindNetwork, KindVolume}

// DefaultSearchPath is where the generator looks for files, highest
// precedence first: a file found in an earlier directory hides one of the
// same name in a later one. SearchPathEnv, when set, replaces it.
var DefaultSearchPath = []string{"/run/systemd-docker/units", "/etc/systemd-docker/units", "/usr/share/systemd-docker/units"}

// SearchPathEnv names the environment variable that replaces
// DefaultSearchPath: directories separated by ":".
const SearchPathEnv = "SYSTEMD_DOCKER_UNIT_PATH"

// SearchPath returns the directories to read, given $SYSTEMD_DOCKER_UNIT_PATH.
func SearchPath(env string) []string {
	if env == "" {
		return DefaultSearchPath
	}
	var dirs []string
	for _, d := range strings.Split(env, ":") {
		if d != "" {
			dirs = append(dirs, d)
		}
	}
	return dirs
}

// Source is one declarative file, merged with its drop-ins.
type Source struct {
	Name string // the file name without its extension: web, web@, web@a
	Kind string // KindContainer, KindNetwork or KindVolume
	Path string // the file read
	File *unitfile.File
}

// Unit is the name of the unit generated from s.
func (s *Source) Unit() string {
	if s.Kind == KindContainer {
		return s.Name + ".service"
	}
	return s.Name + "-" + s.Kind + ".service"
}

// template returns the template's name (web@) and the instance (a) of a
// file called web@a; ok is false for a file that is no template.
func (s *Source) template() (tmpl, instance string, ok bool) {
	prefix, inst, ok := strings.Cut(s.Name, "@")
	return prefix + "@", inst, ok
}

// unitName is what systemd accepts before ".service" (an instance may be empty: a template).
var unitName = regexp.MustCompile(`^[A-Za-z0-9:_.\\-]+(@[A-Za-z0-9:_.\\-]*)?$`)

// Load reads every file in dirs (highest precedence first) with its
// drop-ins. A file that cannot be read or parsed is a problem and is left
// out; the others are returned in name order.
func Load(dirs []string) ([]*Source, []Problem) {
	var srcs []*Source
	tree, probs := list(dirs)
	seen := map[string]bool{}
	for i, dir := range dirs {
		for _, e := range tree.entries[i] {
			name := e.Name()
			if seen[name] || e.IsDir() || !slices.Contains(kinds, strings.TrimPrefix(filepath.Ext(name), ".")) {
				continue
			}
			seen[name] = true
			src, p := loadOne(tree, filepath.Join(dir, name))
			probs = append(probs, p...)
			if src != nil {
				srcs = append(srcs, src)
			}
		}
	}
	slices.SortFunc(srcs, func(a, b *Source) int { return strings.Compare(a.Name+"."+a.Kind, b.Name+"."+b.Kind) })
	return srcs, probs
}

// LoadFiles reads the given files with their drop-ins, looked for in the
// files' own directories and then in dirs.
func LoadFiles(files, dirs []string) ([]*Source, []Problem) {
	var srcs []*Source
	var probs []Problem
	for _, f := range files {
		kind := strings.TrimPrefix(filepath.Ext(f), ".")
		if !slices.Contains(kinds, kind) {
			probs = append(probs, Problem{Pos: unitfile.Pos{Path: f}, Msg: "not a .container, .network or .volume file"})
			continue
		}
		tree, _ := list(append([]string{filepath.Dir(f)}, dirs...)) // an unreadable directory adds no drop-ins
		src, p := loadOne(tree, f)
		probs = append(probs, p...)
		if src != nil {
			srcs = append(srcs, src)
		}
	}
	return srcs, probs
}

// searchTree is the search path, each directory listed once.
type searchTree struct {
	dirs    []string
	entries [][]os.DirEntry
	has     []map[string]bool
}

// list reads the search directories; one that does not exist is empty.
func list(dirs []string) (searchTree, []Problem) {
	t := searchTree{dirs: dirs, entries: make([][]os.DirEntry, len(dirs)), has: make([]map[string]bool, len(dirs))}
	var probs []Problem
	for i, dir := range dirs {
		entries, err := os.ReadDir(dir)
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			probs = append(probs, Problem{Pos: unitfile.Pos{Path: dir}, Msg: "cannot list the directory: " + err.Error()})
		}
		t.entries[i], t.has[i] = entries, map[string]bool{}
		for _, e := range entries {
			t.has[i][e.Name()] = e.IsDir() || e.Type()&fs.ModeSymlink != 0
		}
	}
	return t, probs
}

// loadOne parses path and merges its drop-ins found in tree.
func loadOne(tree searchTree, path string) (*Source, []Problem) {
	base := filepath.Base(path)
	ext := filepath.Ext(base)
	src := &Source{Name: strings.TrimSuffix(base, ext), Kind: ext[1:], Path: path}
	if !unitName.MatchString(src.Name) {
		return nil, []Problem{{Pos: unitfile.Pos{Path: path}, Msg: "the file name makes no unit name: use letters, digits and : _ . - (and one @ for a template)"}}
	}
	f, err := parseFile(path)
	if err != nil {
		return nil, []Problem{asProblem(path, err)}
	}
	src.File = f
	if _, _, tmpl := src.template(); tmpl && src.Kind != KindContainer {
		return nil, []Problem{{Pos: unitfile.Pos{Path: path}, Msg: "templates (NAME@.network, NAME@.volume) are for .container files only"}}
	}
	for _, d := range dropIns(tree, src) {
		df, err := parseFile(d)
		if err != nil {
			return nil, []Problem{asProblem(d, err)}
		}
		src.File.Merge(df)
	}
	return src, nil
}

func parseFile(path string) (*unitfile.File, error) {
	b, err := readFile(path)
	if err != nil {
		return nil, err
	}
	return unitfile.Parse(path, bytes.NewReader(b))
}

func asProblem(path string, err error) Problem {
	var se *unitfile.Error
	if errors.As(err, &se) {
		return Problem{Pos: se.Pos, Msg: se.Msg}
	}
	return Problem{Pos: unitfile.Pos{Path: path}, Msg: err.Error()}
}

// dropIns lists the drop-in files of src in the order they apply (by file
// name): from NAME.KIND.d/, TEMPLATE.KIND.d/, the dash prefixes'
// PREFIX-.KIND.d/ and KIND.d/ in every search directory; of two with the same file name, the one in the more specific
// directory, then the earlier search directory, wins.
func dropIns(tree searchTree, src *Source) []string {
	names := []string{src.Name + "." + src.Kind + ".d"}
	base := src.Name
	if tmpl, inst, ok := src.template(); ok {
		if inst != "" {
			names = append(names, tmpl+"."+src.Kind+".d")
		}
		base = strings.TrimSuffix(tmpl, "@")
	}
	// As systemd does for units: foo-bar-baz also reads foo-bar-.KIND.d
	// and foo-.KIND.d, the longer prefix first.
	for i := len(base) - 1; i > 0; i-- {
		if base[i-1] == '-' {
			names = append(names, base[:i]+"."+src.Kind+".d")
		}
	}
	names = append(names, src.Kind+".d")
	chosen := map[string]string{}
	for _, n := range names {
		for i, dir := range tree.dirs {
			if !tree.has[i][n] {
				continue
			}
			entries, _ := os.ReadDir(filepath.Join(dir, n)) // unreadable: nothing to add
			for _, e := range entries {
				if _, ok := chosen[e.Name()]; !ok && !e.IsDir() && strings.HasSuffix(e.Name(), ".conf") {
					chosen[e.Name()] = filepath.Join(dir, n, e.Name())
				}
			}
		}
	}
	keys := make([]string, 0, len(chosen))
	for k := range chosen {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	out := make([]string, len(keys))
	for i, k := range keys {
		out[i] = chosen[k]
	}
	return out
}
