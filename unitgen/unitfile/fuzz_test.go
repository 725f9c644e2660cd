package unitfile

import (
	"bytes"
	"reflect"
	"strings"
	"testing"
)

// FuzzParse: any input parses or fails with a positioned error, and what
// parses writes back to text that parses to the same assignments.
func FuzzParse(f *testing.F) {
	for _, s := range []string{"[A]\nK=v\n", "[Container]\nExec=a \\\n b\n# c\n", "[A\n", "K=v", "[A]\nK=\"x\\\n"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		u, err := Parse("f", strings.NewReader(in))
		if err != nil {
			if _, ok := err.(*Error); !ok {
				t.Fatalf("error of type %T: %v", err, err)
			}
			return
		}
		var b bytes.Buffer
		if err := u.Write(&b); err != nil {
			t.Fatal(err)
		}
		back, err := Parse("f", &b)
		if err != nil {
			t.Fatalf("written text does not parse: %v\n%s", err, b.String())
		}
		if !reflect.DeepEqual(strip(u), strip(back)) {
			t.Fatalf("round trip changed the file:\n%q\n%q", strip(u), strip(back))
		}
		for _, s := range u.Sections {
			for _, e := range s.Entries {
				_, _ = Split(e.Value)
			}
		}
	})
}

// strip drops positions.
func strip(f *File) map[string][][2]string {
	m := map[string][][2]string{}
	for _, s := range f.Sections {
		for _, e := range s.Entries {
			m[s.Name] = append(m[s.Name], [2]string{e.Key, e.Value})
		}
		if len(s.Entries) == 0 {
			m[s.Name] = nil
		}
	}
	return m
}
