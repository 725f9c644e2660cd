// Package unitfile reads and writes systemd's unit-file syntax
// (systemd.syntax(7)): [Section] headers, Key=Value lines, comments,
// backslash continuations, and the word splitting and quoting of values.
//
// A parsed File keeps every assignment in order with where it came from,
// so a drop-in can be appended to it and a message can name file:line.
package unitfile

import (
	"bufio"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"
)

// maxLine bounds one logical line (continuations joined), as systemd's
// LONG_LINE_MAX does.
const maxLine = 1 << 20

// Pos is where an assignment was read.
type Pos struct {
	Path string
	Line int
}

func (p Pos) String() string {
	if p.Line == 0 {
		return p.Path // the file as a whole
	}
	return fmt.Sprintf("%s:%d", p.Path, p.Line)
}

// Entry is one Key=Value assignment.
type Entry struct {
	Key   string
	Value string
	Pos   Pos
}

// Section is one [Name] group, with its assignments in file order
// (drop-ins appended after the main file's).
type Section struct {
	Name    string
	Entries []Entry
}

// File is a parsed unit file.
type File struct {
	Path     string
	Sections []*Section
}

// Error is a syntax error at Pos.
type Error struct {
	Pos Pos
	Msg string
}

func (e *Error) Error() string { return e.Pos.String() + ": " + e.Msg }

// Parse reads a unit file; path is used in positions and messages.
func Parse(path string, r io.Reader) (*File, error) {
	f := &File{Path: path}
	var cur *Section
	err := logicalLines(path, r, func(line string, pos Pos) error {
		switch {
		case line[0] == '[':
			name, ok := strings.CutSuffix(line[1:], "]")
			if !ok || name == "" || strings.ContainsAny(name, "[]") {
				return &Error{pos, fmt.Sprintf("bad section header %q: write [Name]", line)}
			}
			cur = f.section(name)
			return nil
		case cur == nil:
			return &Error{pos, fmt.Sprintf("assignment %q before any [Section] header", clip(line))}
		}
		key, value, ok := strings.Cut(line, "=")
		key = strings.TrimSpace(key)
		if !ok || !validKey(key) {
			return &Error{pos, fmt.Sprintf("bad line %q: write Key=Value", clip(line))}
		}
		value = strings.TrimSpace(value)
		if strings.HasSuffix(value, `\`) {
			// Only a continuation at the end of the file leaves one; written
			// back, the value would continue onto the next line.
			return &Error{pos, fmt.Sprintf("%s= ends in a backslash with no line to continue onto: remove it, or write \\\\ inside quotes", key)}
		}
		cur.Entries = append(cur.Entries, Entry{Key: key, Value: value, Pos: pos})
		return nil
	})
	if err != nil {
		return nil, err
	}
	return f, nil
}

// logicalLines calls fn for each non-empty, non-comment line with
// continuations joined, at the position of its first physical line.
func logicalLines(path string, r io.Reader, fn func(string, Pos) error) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 4096), maxLine)
	var acc strings.Builder
	start, n := 0, 0
	for sc.Scan() {
		n++
		raw := sc.Text()
		if !utf8.ValidString(raw) || strings.ContainsRune(raw, 0) {
			return &Error{Pos{path, n}, "the line is not UTF-8 text"}
		}
		line := strings.TrimSpace(raw)
		if line == "" && acc.Len() == 0 || strings.HasPrefix(line, "#") || strings.HasPrefix(line, ";") {
			continue // inside a continuation, comment lines are skipped too
		}
		if acc.Len() == 0 {
			start = n
		}
		body, cont := strings.CutSuffix(line, `\`)
		acc.WriteString(body)
		if acc.Len() > maxLine {
			return &Error{Pos{path, start}, "the line is longer than 1 MiB"}
		}
		if cont {
			acc.WriteByte(' ')
			continue
		}
		if err := flush(&acc, Pos{path, start}, fn); err != nil {
			return err
		}
	}
	if err := sc.Err(); err != nil {
		return &Error{Pos{path, n + 1}, "read: " + err.Error()}
	}
	return flush(&acc, Pos{path, start}, fn)
}

func flush(acc *strings.Builder, pos Pos, fn func(string, Pos) error) error {
	line := strings.TrimSpace(acc.String())
	acc.Reset()
	if line == "" {
		return nil
	}
	return fn(line, pos)
}

// validKey: systemd's keys are letters, digits, "-" and "_" (X- extensions included).
func validKey(k string) bool {
	if k == "" {
		return false
	}
	for _, r := range k {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.') {
			return false
		}
	}
	return true
}

func clip(s string) string {
	if len(s) > 60 {
		return s[:60] + "…"
	}
	return s
}

// section returns the section called name, adding it at the end when new.
func (f *File) section(name string) *Section {
	if s := f.Section(name); s != nil {
		return s
	}
	s := &Section{Name: name}
	f.Sections = append(f.Sections, s)
	return s
}

// Section returns the section called name, or nil.
func (f *File) Section(name string) *Section {
	for _, s := range f.Sections {
		if s.Name == name {
			return s
		}
	}
	return nil
}

// Merge appends a drop-in's assignments to f, section by section, after
// f's own: a later single value wins, and an empty one resets a list.
func (f *File) Merge(d *File) {
	for _, ds := range d.Sections {
		s := f.section(ds.Name)
		s.Entries = append(s.Entries, ds.Entries...)
	}
}

// Add appends Key=Value to the section called name (added when new).
func (f *File) Add(section, key, value string) {
	s := f.section(section)
	s.Entries = append(s.Entries, Entry{Key: key, Value: value})
}

// Last returns the last value of key in s and whether it is set (an empty
// assignment unsets it).
func (s *Section) Last(key string) (Entry, bool) {
	if s == nil {
		return Entry{}, false
	}
	for i := len(s.Entries) - 1; i >= 0; i-- {
		if s.Entries[i].Key == key {
			return s.Entries[i], s.Entries[i].Value != ""
		}
	}
	return Entry{}, false
}

// Has reports whether key is assigned in s at all (even to "").
func (s *Section) Has(key string) bool {
	for _, e := range s.All() {
		if e.Key == key {
			return true
		}
	}
	return false
}

// All returns the assignments of s; nil for a missing section.
func (s *Section) All() []Entry {
	if s == nil {
		return nil
	}
	return s.Entries
}

// Write writes f in unit-file syntax, one Key=Value per line, sections
// separated by a blank line.
func (f *File) Write(w io.Writer) error {
	var b strings.Builder
	for i, s := range f.Sections {
		if i > 0 {
			b.WriteByte('\n')
		}
		fmt.Fprintf(&b, "[%s]\n", s.Name)
		for _, e := range s.Entries {
			fmt.Fprintf(&b, "%s=%s\n", e.Key, e.Value)
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}
